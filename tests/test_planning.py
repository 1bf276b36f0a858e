"""How the driver cuts the record stream into shards and work chunks: what resume and the workers' start depend on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from t2vid.config import SynthConfig
from t2vid.pipeline import CHUNK_RECORDS, CHUNK_WORK, ShardTask, chunks_of, read_shard, text_work
from t2vid.run import RunSummary, _plan
from t2vid.sources import RawRecord, SourceRef
from t2vid.writer import OutputDir


def records_of(texts: list[str]) -> list[RawRecord]:
    return [RawRecord(i, SourceRef("data", "train", i), {"context": text}) for i, text in enumerate(texts)]


class Counted:
    """A record stream that counts how far it has been read."""

    def __init__(self, records: list[RawRecord]):
        self.records, self.pulled = records, 0

    def __iter__(self):
        return self

    def __next__(self) -> RawRecord:
        if self.pulled == len(self.records):
            raise StopIteration
        self.pulled += 1
        return self.records[self.pulled - 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, CHUNK_WORK + 10), min_size=1, max_size=3 * CHUNK_RECORDS))
def test_chunks_cover_the_shard_in_order_and_only_the_last_says_so(sizes):
    records = records_of(["x" * size for size in sizes])
    chunks = list(chunks_of(7, iter(records)))
    assert [raw for chunk in chunks for raw in chunk.records] == records
    assert [chunk.last for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    assert {chunk.shard for chunk in chunks} == {7}
    for chunk in chunks[:-1]:  # cut as soon as a chunk holds enough work or records, never earlier
        work = [text_work(raw.record["context"]) for raw in chunk.records]
        assert sum(work) >= CHUNK_WORK or len(work) == CHUNK_RECORDS
        assert sum(work[:-1]) < CHUNK_WORK and len(work) <= CHUNK_RECORDS


def test_a_streamed_shard_has_the_digest_of_the_same_shard_read_whole():
    texts = [f"record {i} " * 50 for i in range(30)]
    streamed, whole = ShardTask(0), ShardTask(0)
    for _ in chunks_of(0, read_shard(iter(records_of(texts)), streamed, 20)):
        pass
    tuple(read_shard(iter(records_of(texts)), whole, 20))
    assert streamed.input_sha256 == whole.input_sha256 != ShardTask(0).input_sha256
    other = ShardTask(0)
    tuple(read_shard(iter(records_of(texts[:19] + ["changed"])), other, 20))
    assert other.input_sha256 != whole.input_sha256


def plan(tmp_path, stream: Counted, shard_size: int):
    out = OutputDir(tmp_path / "out")
    out.prepare()
    config = SynthConfig(sources=("data.jsonl",), output=str(out.root), shard_size=shard_size)
    planned: dict[int, ShardTask] = {}
    return out, planned, _plan(config, out, RunSummary(), stream, planned)


def test_a_new_shards_first_chunk_leaves_before_the_shard_is_read(tmp_path):
    """Workers start on a shard with nothing to resume while the driver is still reading it."""
    quarter = "word " * (CHUNK_WORK // 20)  # ~a quarter of a chunk's work
    stream = Counted(records_of([quarter] * 600))
    _, planned, chunks = plan(tmp_path, stream, shard_size=500)
    first = next(chunks)
    assert len(first.records) == 4 and not first.last
    assert stream.pulled == 5  # the chunk and one record read ahead
    rest = list(chunks)
    assert [c.shard for c in rest if c.last] == [0, 1] and stream.pulled == 600
    assert all(len(task.input_sha256) == 64 for task in planned.values())


def mark_done(out: OutputDir, texts: list[str]) -> None:
    """Shard 0 complete, as a run on `texts` left it."""
    done = ShardTask(0)
    tuple(read_shard(iter(records_of(texts)), done, len(texts)))
    out.commit_lines(out.shard_path(0), [])
    out.commit_lines(out.rejects_path(0), [])
    out.commit_marker(0, {"read": len(texts), "input_sha256": done.input_sha256})


def test_a_complete_shard_is_counted_from_its_marker_when_its_input_is_unchanged(tmp_path):
    texts = [f"record {i} " * 40 for i in range(12)]
    stream = Counted(records_of(texts))
    out, planned, chunks = plan(tmp_path, stream, shard_size=10)
    mark_done(out, texts[:10])
    rest = list(chunks)
    assert [c.shard for c in rest] == [1] and rest[0].last and list(planned) == [1]


def test_a_complete_shard_whose_input_changed_is_read_whole_then_redone(tmp_path):
    texts = [f"record {i} " * 40 for i in range(12)]
    stream = Counted(records_of(texts[:9] + ["changed"] + texts[10:]))
    out, planned, chunks = plan(tmp_path, stream, shard_size=10)
    mark_done(out, texts[:10])
    first = next(chunks)
    assert first.shard == 0 and first.last and stream.pulled == 10  # the digest needs every record of the shard
    assert [c.shard for c in chunks] == [1]

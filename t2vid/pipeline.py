"""The work on records: raw records -> read -> adapt -> segment -> render -> write -> sample lines.

A shard is a fixed range of input positions (`shard_size` records), so its
content never depends on how many workers run or in which order work finishes.
Engines run `process_chunk` on slices of a shard (a plain function of
picklable arguments, so local processes and Ray share it unchanged); the
driver commits the shard with `commit_shard` when its last chunk is back.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

from t2vid.adapt import Adapter
from t2vid.config import SynthConfig
from t2vid.errors import OutputWriteError, writing_out
from t2vid.rejects import INTERNAL, Reject, reject_line
from t2vid.sources import RawRecord
from t2vid.stages import SampleStages, Written
from t2vid.writer import FrameHandOff, FrameSet, OutputDir, failpoint


@dataclass
class ShardTask:
    """A shard being planned: its digest and reading time are complete once its records have all been read (`read_shard`)."""

    number: int
    input_sha256: str = ""  # identifies the shard's input, so a resume redoes a shard whose records changed
    read_seconds: float = 0.0  # spent reading these records in the driver (runtime)


def read_shard(records: Iterator[RawRecord], task: ShardTask, size: int) -> Iterator[RawRecord]:
    """The next `size` records of the stream, digested into `task` as they are read: a new shard's records reach workers without waiting for the whole shard."""
    digest = hashlib.sha256()
    for _ in range(size):
        started = time.perf_counter()
        raw = next(records, None)
        if raw is None:
            break
        digest.update(json.dumps([raw.source.dataset, raw.source.index, raw.record, raw.raw], sort_keys=True, default=repr).encode("utf-8", "surrogatepass"))
        task.read_seconds += time.perf_counter() - started
        yield raw
    task.input_sha256 = digest.hexdigest()


@dataclass
class Counts:
    """What a shard, or a whole run, read and wrote."""

    read: int = 0
    samples: int = 0
    frames: int = 0
    frame_files_written: int = 0
    frames_reused: int = 0
    words: int = 0
    rejected: Counter = field(default_factory=Counter)  # by reject code
    missing_glyphs: Counter = field(default_factory=Counter)
    stages: dict[str, Counter] = field(default_factory=dict)  # step name -> records in, out, rejected
    stage_seconds: Counter = field(default_factory=Counter)  # step name -> seconds (runtime: never in a marker)

    def stage(self, name: str) -> Counter:
        counts = self.stages.get(name)
        if counts is None:
            counts = self.stages[name] = Counter({"in": 0, "out": 0, "rejected": 0})
        return counts

    def add(self, other: "Counts") -> None:
        for name in ("read", "samples", "frames", "frame_files_written", "frames_reused", "words"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.update(other.rejected)
        self.missing_glyphs.update(other.missing_glyphs)
        for name, counts in other.stages.items():
            self.stage(name).update(counts)
        self.stage_seconds.update(other.stage_seconds)

    def stage_counts(self) -> dict[str, dict[str, int]]:
        return {name: {key: counts[key] for key in ("in", "out", "rejected")} for name, counts in self.stages.items()}


@dataclass
class ShardResult(Counts):
    number: int = 0
    seconds: float = 0.0

    def counts(self) -> dict:
        data = asdict(self)
        for runtime in ("seconds", "frame_files_written", "frames_reused", "stage_seconds"):  # depend on the machine or on which worker came first
            data.pop(runtime)
        data["rejected"] = dict(sorted(self.rejected.items()))
        data["missing_glyphs"] = dict(sorted(self.missing_glyphs.items()))
        data["stages"] = self.stage_counts()
        return data

    @classmethod
    def from_counts(cls, counts: dict) -> "ShardResult":
        counts = {k: v for k, v in counts.items() if k != "input_sha256"}
        counts["rejected"] = Counter(counts.get("rejected", {}))
        counts["missing_glyphs"] = Counter(counts.get("missing_glyphs", {}))
        counts["stages"] = {name: Counter(value) for name, value in counts.get("stages", {}).items()}
        return cls(**counts)


CHUNK_RECORDS = 256  # at most, per engine task
CHUNK_WORK = 60_000  # `text_work` per engine task, ~0.1 s of English or ~0.4 s of Chinese: workers finish close together


def text_work(text: str) -> int:
    """How much drawing a text makes, cheaply, from its UTF-8 length: 1 per ASCII character, 5 per CJK one (3 per other letter).

    A CJK character is a word, as ~6 ASCII characters are. Chunks cut by
    characters alone held 6x more work in Chinese, and the last one kept one
    worker busy for seconds while the other waited.
    """
    return 2 * len(text.encode("utf-8", "surrogatepass")) - len(text)


@dataclass(frozen=True)
class WorkChunk:
    """What an engine runs: a slice of one shard's records (the shard is committed when its last chunk is back)."""

    shard: int
    records: tuple[RawRecord, ...]
    last: bool


def chunks_of(shard: int, records: Iterable[RawRecord]) -> Iterator[WorkChunk]:
    """Slices of about CHUNK_WORK, each yielded as soon as it is full; how a shard is sliced never changes what is written.

    One record is read ahead, to know which slice is the shard's last.
    """
    records = iter(records)
    piece: list[RawRecord] = []
    size = 0
    raw = next(records, None)
    while raw is not None:
        piece.append(raw)
        record = raw.record if isinstance(raw.record, dict) else {}
        size += sum(text_work(v) for v in record.values() if isinstance(v, str)) + len(raw.raw or "")
        following = next(records, None)
        if following is None or size >= CHUNK_WORK or len(piece) >= CHUNK_RECORDS:
            yield WorkChunk(shard, tuple(piece), following is None)
            piece, size = [], 0
        raw = following


@dataclass
class ChunkResult(Counts):
    """A chunk's sample and reject lines, in input order, and its counts."""

    shard: int = 0
    last: bool = False
    lines: list[str] = field(default_factory=list)  # JSON, one record each, without newlines
    reject_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    node: str = ""  # the Ray node that ran it (run.nodes in the manifest); never written to a shard
    frame_sets: dict[str, FrameSet] = field(default_factory=dict)  # --ray-storage driver: frames for the driver to write, by key


def commit_frame_sets(out: OutputDir, result: ChunkResult) -> None:
    """Write the frames a chunk brought back (--ray-storage driver), as its worker would have, and let go of their bytes.

    Called as each chunk arrives, so the driver holds one chunk's frames at a
    time and a shard's frames are all in place before its JSONL is written.
    """
    for key, frame_set in result.frame_sets.items():
        with writing_out():
            committed = out.commit_frames(key, list(frame_set.frames), frame_set.extension)
        if not committed:
            result.frame_files_written -= len(frame_set.frames)  # counted as new by the worker, which cannot see OUT
            result.frames_reused += len(frame_set.frames)
    result.frame_sets.clear()


def commit_shard(out: OutputDir, task: ShardTask, results: list[ChunkResult]) -> ShardResult:
    """Write a shard's JSONL, its rejects, then its completion marker (its frames are already in place)."""
    shard = ShardResult(number=task.number)
    for result in results:
        shard.add(result)
        shard.seconds += result.seconds
    shard.stage_seconds["read"] += task.read_seconds
    failpoint("frames-committed")
    with writing_out():
        out.commit_lines(out.shard_path(task.number), [line for r in results for line in r.lines])
        out.commit_lines(out.rejects_path(task.number), [line for r in results for line in r.reject_lines])
        out.commit_marker(task.number, {**shard.counts(), "input_sha256": task.input_sha256})
    return shard


class ShardWorker:
    """Per-process state: the steps of one run, whose fonts, layout and mask caches survive across shards.

    Every record goes through `steps` under one guard: a step returns its
    result or a Reject, and an unexpected exception becomes an `internal`
    reject naming the step, so no single record can stop a run. Only a failed
    write to OUT (OutputWriteError) does.
    """

    def __init__(self, config: SynthConfig, dataset_names: tuple[str, ...]):
        self.config = config
        self.out = FrameHandOff(config.output) if config.engine == "ray" and config.ray_storage == "driver" else OutputDir(config.output)
        self.adapter = Adapter(config, dataset_names)
        self.stages = SampleStages(config, self.out)
        self.steps: tuple[tuple[str, Callable[[Any], Any]], ...] = (
            ("read", read),
            ("adapt", self.adapter),
            ("segment", self.stages.segment),
            *((("tasks", self.stages.tasks),) if config.tasks else ()),
            ("render", self.stages.render),
            ("write", self.stages.write),
        )

    def process(self, chunk: WorkChunk) -> ChunkResult:
        started = time.perf_counter()
        result = ChunkResult(shard=chunk.shard, last=chunk.last, read=len(chunk.records))
        for name, _ in self.steps:  # every step listed, in pipeline order, even when no record reaches it
            result.stage(name)
            result.stage_seconds[name] += 0.0
        for raw in chunk.records:
            outcome = self._run_steps(raw, result)
            if isinstance(outcome, Reject):
                result.rejected[outcome.code] += 1
                record = raw.raw if raw.error else raw.record
                result.reject_lines.append(_json_line(reject_line(outcome, raw.position, asdict(raw.source), record)))
            else:
                result.samples += 1
                result.frames += outcome.frames
                result.words += outcome.words
                result.frame_files_written += outcome.frame_files_written
                result.frames_reused += outcome.frames_reused
                for char in outcome.missing_glyphs:
                    result.missing_glyphs[char] += 1
                result.lines.append(_json_line(outcome.record))
        if isinstance(self.out, FrameHandOff):
            result.frame_sets = self.out.take()
        result.seconds = time.perf_counter() - started
        return result

    def _run_steps(self, raw: RawRecord, result: ChunkResult) -> Written | Reject:
        """The record through every step, counted and timed per step; the per-record guard."""
        value: Any = raw
        for name, step in self.steps:
            counts = result.stages[name]
            counts["in"] += 1
            clock = time.perf_counter()
            try:
                value = step(value)
            except OutputWriteError:
                raise
            except Exception as exc:  # noqa: BLE001 - one record's failure is that record's reject
                value = Reject(name, INTERNAL, f"{type(exc).__name__}: {str(exc).strip() or 'no message'}")
            result.stage_seconds[name] += time.perf_counter() - clock
            if isinstance(value, Reject):
                counts["rejected"] += 1
                return value
            counts["out"] += 1
        return value


def read(raw: RawRecord) -> RawRecord | Reject:
    """The read stage's verdict, made when the record was parsed (sources.py): a record that could not be read is rejected here."""
    return raw.error or raw


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_line(value: dict) -> str:
    """One JSONL line, without its newline (commit_lines adds it); lone surrogates from the input become U+FFFD instead of failing the shard.

    Only a line that has one is re-encoded, and the newline is not appended
    here: for a huge record each copy of its line is ~10 MB more at the peak.
    """
    line = json.dumps(value, ensure_ascii=False, default=repr)
    if LONE_SURROGATE.search(line):
        line = line.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return line


_WORKER: ShardWorker | None = None
_WORKER_KEY: str | None = None


def process_chunk(config: SynthConfig, dataset_names: tuple[str, ...], chunk: WorkChunk) -> ChunkResult:
    """Entry point for engines: reuse this process's worker (fonts, caches) for the same run."""
    global _WORKER, _WORKER_KEY
    key = json.dumps([asdict(config), dataset_names], sort_keys=True, default=str)
    if _WORKER is None or _WORKER_KEY != key:
        _WORKER, _WORKER_KEY = ShardWorker(config, dataset_names), key
    return _WORKER.process(chunk)


def release_worker() -> None:
    """Let go of this process's worker (its segmentations, measurements and masks): an in-process run is over, the caller's process goes on. Layout's per-process word caches stay (bounded)."""
    global _WORKER, _WORKER_KEY
    _WORKER = _WORKER_KEY = None

"""The work on records: raw records -> adapt -> segment -> render -> sample lines.

A shard is a fixed range of input positions (`shard_size` records), so its
content never depends on how many workers run or in which order work finishes.
Engines run `process_chunk` on slices of a shard (a plain function of
picklable arguments, so local processes and Ray share it unchanged); the
driver commits the shard with `commit_shard` when its last chunk is back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator

from t2vid.adapt import Adapter, Reject, Sample
from t2vid.budget import Budget
from t2vid.config import SynthConfig
from t2vid.layout import Layouter
from t2vid.render import Renderer
from t2vid.segment import Segmentation, segment
from t2vid.sources import RawRecord
from t2vid.output import reason_kind
from t2vid.style import RenderStyle, StyleJitter
from t2vid.writer import OutputDir, failpoint

FIT_BUDGET_SCALES = (0.9, 0.8, 0.7)  # font-size steps tried by --fit-budget, with the `fit` segmenter


@dataclass(frozen=True)
class ShardTask:
    number: int
    records: tuple[RawRecord, ...]
    input_sha256: str  # see input_digest


def input_digest(records: tuple[RawRecord, ...]) -> str:
    """Identifies a shard's input, so a resume redoes a shard whose records changed."""
    digest = hashlib.sha256()
    for raw in records:
        digest.update(json.dumps([raw.source.dataset, raw.source.index, raw.record, raw.raw], sort_keys=True, default=repr).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass
class Counts:
    """What a shard, or a whole run, read and wrote."""

    read: int = 0
    samples: int = 0
    frames: int = 0
    frame_files_written: int = 0
    frames_reused: int = 0
    words: int = 0
    rejected: Counter = field(default_factory=Counter)
    missing_glyphs: Counter = field(default_factory=Counter)

    def add(self, other: "Counts") -> None:
        for name in ("read", "samples", "frames", "frame_files_written", "frames_reused", "words"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.update(other.rejected)
        self.missing_glyphs.update(other.missing_glyphs)


@dataclass
class ShardResult(Counts):
    number: int = 0
    seconds: float = 0.0

    def counts(self) -> dict:
        data = asdict(self)
        for runtime in ("seconds", "frame_files_written", "frames_reused"):  # depend on which worker came first
            data.pop(runtime)
        data["rejected"] = dict(sorted(self.rejected.items()))
        data["missing_glyphs"] = dict(sorted(self.missing_glyphs.items()))
        return data

    @classmethod
    def from_counts(cls, counts: dict) -> "ShardResult":
        counts = {k: v for k, v in counts.items() if k != "input_sha256"}
        counts["rejected"] = Counter(counts.get("rejected", {}))
        counts["missing_glyphs"] = Counter(counts.get("missing_glyphs", {}))
        return cls(**counts)


CHUNK_RECORDS = 256  # at most, per engine task
CHUNK_TEXT = 100_000  # characters of text per engine task, ~0.3 s of work: keeps every worker busy on long contexts


@dataclass(frozen=True)
class WorkChunk:
    """What an engine runs: a slice of one shard's records (the shard is committed when its last chunk is back)."""

    shard: int
    records: tuple[RawRecord, ...]
    last: bool


def chunks_of(task: ShardTask) -> Iterator[WorkChunk]:
    """Slices of about CHUNK_TEXT characters; how a shard is sliced never changes what is written."""
    start, size = 0, 0
    for end, raw in enumerate(task.records, 1):
        record = raw.record if isinstance(raw.record, dict) else {}
        size += sum(len(v) for v in record.values() if isinstance(v, str)) + len(raw.raw or "")
        if size >= CHUNK_TEXT or end - start >= CHUNK_RECORDS or end == len(task.records):
            yield WorkChunk(task.number, task.records[start:end], end == len(task.records))
            start, size = end, 0


@dataclass
class ChunkResult(Counts):
    """A chunk's sample and reject lines, in input order, and its counts."""

    shard: int = 0
    last: bool = False
    lines: list[str] = field(default_factory=list)
    reject_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0


def commit_shard(out: OutputDir, task: ShardTask, results: list[ChunkResult]) -> ShardResult:
    """Write a shard's JSONL, its rejects, then its completion marker (its frames are already in place)."""
    shard = ShardResult(number=task.number)
    for result in results:
        shard.add(result)
        shard.seconds += result.seconds
    failpoint("frames-committed")
    out.commit_lines(out.shard_path(task.number), [line for r in results for line in r.lines])
    out.commit_lines(out.rejects_path(task.number), [line for r in results for line in r.reject_lines])
    out.commit_marker(task.number, {**shard.counts(), "input_sha256": task.input_sha256})
    return shard


class ShardWorker:
    """Per-process state: fonts, layout and mask caches survive across shards."""

    def __init__(self, config: SynthConfig, dataset_names: tuple[str, ...]):
        self.config = config
        self.out = OutputDir(config.output)
        self.adapter = Adapter(config, dataset_names)
        self.budget = Budget(config.profile, config.max_frames, config.min_frames, config.tokenizer, (config.style.width, config.style.height))
        self.jitter = StyleJitter(config.jitter_fonts, config.jitter_font_sizes) if config.style_jitter else None
        self._engines: dict[RenderStyle, tuple[Layouter, Renderer]] = {}
        self._segmented: OrderedDict[tuple, Segmentation] = OrderedDict()

    def engines(self, style: RenderStyle) -> tuple[Layouter, Renderer]:
        pair = self._engines.get(style)
        if pair is None:
            if len(self._engines) > 64:
                self._engines.clear()
            pair = self._engines[style] = (Layouter(style, self.config.font_fallback), Renderer(style))
        return pair

    def segment(self, context: str, style: RenderStyle, segmenter: str) -> Segmentation:
        """Same context and style -> one segmentation (LongAlpaca asks many questions per paper)."""
        key = (hashlib.sha256(context.encode("utf-8", "surrogatepass")).digest(), style, segmenter)
        cached = self._segmented.get(key)
        if cached is None:
            cached = segment(context, self.engines(style)[0], segmenter, self.config.words_per_frame, self.config.overlap)
            self._segmented[key] = cached
            if len(self._segmented) > 32:
                self._segmented.popitem(last=False)
        return cached

    def process(self, chunk: WorkChunk) -> ChunkResult:
        started = time.perf_counter()
        result = ChunkResult(shard=chunk.shard, last=chunk.last, read=len(chunk.records))
        for raw in chunk.records:
            outcome = self.adapter(raw)
            if isinstance(outcome, Sample):
                rendered = self._render(outcome, result)
                outcome = Reject(raw.position, raw.source, rendered, raw.record) if isinstance(rendered, str) else rendered
            if isinstance(outcome, Reject):
                result.rejected[reason_kind(outcome.reason)] += 1
                result.reject_lines.append(_json_line({"index": outcome.source.index, "position": outcome.position, "source": asdict(outcome.source), "reason": outcome.reason, "record": outcome.record}))
            else:
                result.lines.append(_json_line(outcome))
        result.seconds = time.perf_counter() - started
        return result

    def _render(self, sample: Sample, result: ChunkResult) -> dict | str:
        """The output record, or the reason the sample is over its budget."""
        config = self.config
        style = self.jitter.pick(config.style, config.seed, sample.id) if self.jitter else config.style
        texts = [sample.instruction, sample.answer] + [t[k] for t in sample.turns for k in ("instruction", "answer")]
        segmenter = config.segmenter
        seg = self.segment(sample.context, style, segmenter)
        if not seg.frames:
            missing = "".join(seg.missing_glyphs)
            return "no drawable text in the context" + (f" (no installed font has {missing[:20]!r})" if missing else " (only invisible characters)")
        reason = self.budget.over(texts, len(seg.frames))
        if reason and config.fit_budget:
            for scale in FIT_BUDGET_SCALES:
                denser = replace(style, font_size=max(8, round(style.font_size * scale)))
                candidate = self.segment(sample.context, denser, "fit")
                if self.budget.over(texts, len(candidate.frames)) is None:
                    style, seg, segmenter, reason = denser, candidate, "fit", None
                    break
        reason = reason or self.budget.under(len(seg.frames))
        if reason:
            return reason
        frame_texts = seg.texts
        key = hashlib.sha256(json.dumps([style.key(), segmenter, config.words_per_frame, config.overlap, frame_texts], ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()[:24]
        extension = style.image_format
        names = [self.out.frame_name(i, len(frame_texts), extension) for i in range(len(frame_texts))]
        if self.out.has_frames(key):
            result.frames_reused += len(frame_texts)
        else:
            layouter, renderer = self.engines(style)
            encoded = [renderer.encode(renderer.draw(frame)) for frame in seg.frames]
            if self.out.commit_frames(key, encoded, extension):
                result.frame_files_written += len(encoded)
            else:
                result.frames_reused += len(encoded)
        folder = self.out.frame_dir(key).relative_to(self.out.root).as_posix()
        result.samples += 1
        result.frames += len(frame_texts)
        result.words += sum(frame.new_words for frame in seg.frames)
        for char in seg.missing_glyphs:
            result.missing_glyphs[char] += 1
        record = {
            "id": sample.id,
            "images": [f"{folder}/{name}" for name in names],
            "instruction": sample.instruction,
            "answer": sample.answer,
            "texts": frame_texts,
            "num_frames": len(frame_texts),
            "source": asdict(sample.source),
            "missing_glyphs": list(seg.missing_glyphs),
            "width": style.width,
            "height": style.height,
        }
        if config.overlap:
            record["overlap_lines"] = [frame.overlap_lines for frame in seg.frames]
        if sample.turns:
            record["turns"] = list(sample.turns)
        if sample.meta:
            record["meta"] = sample.meta
        if style != config.style:
            record["style"] = {"font": style.font, "font_size": style.font_size, "fg": style.fg, "bg": style.bg}
        return record


def _json_line(value: dict) -> str:
    """One JSONL line; lone surrogates from the input become U+FFFD instead of failing the shard."""
    return json.dumps(value, ensure_ascii=False, default=repr).encode("utf-8", "surrogatepass").decode("utf-8", "replace") + "\n"


_WORKER: ShardWorker | None = None
_WORKER_KEY: str | None = None


def process_chunk(config: SynthConfig, dataset_names: tuple[str, ...], chunk: WorkChunk) -> ChunkResult:
    """Entry point for engines: reuse this process's worker (fonts, caches) for the same run."""
    global _WORKER, _WORKER_KEY
    key = json.dumps([asdict(config), dataset_names], sort_keys=True, default=str)
    if _WORKER is None or _WORKER_KEY != key:
        _WORKER, _WORKER_KEY = ShardWorker(config, dataset_names), key
    return _WORKER.process(chunk)

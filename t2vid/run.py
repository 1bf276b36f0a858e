"""`synth` (the run of a whole pipeline): plan shards from the record stream, run them on an engine, keep the manifest.

Resuming is the normal path: a shard with a completion marker is read back
instead of redone, so re-running a killed command finishes the job.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from itertools import chain, count
from pathlib import Path
from typing import Iterator

from t2vid import __version__
from t2vid.adapt import Adapter
from t2vid.budget import Budget
from t2vid.config import RUNTIME_KEYS, SynthConfig
from t2vid.engines import get_engine
from t2vid.errors import OutputWriteError, SynthError, UsageError, writing_out
from t2vid.fonts import font_package_for
from t2vid.pipeline import (
    ChunkResult,
    Counts,
    ShardResult,
    ShardTask,
    WorkChunk,
    chunks_of,
    commit_frame_sets,
    commit_shard,
    read_shard,
)
from t2vid.png import deflate_encoder
from t2vid.progress import SynthProgress
from t2vid.sources import BUILTIN_SAMPLE, RawRecord, ReadMeter, iter_records, resolve_sources
from t2vid.writer import MANIFEST, OutputDir, claim_folder, own_files, remove_own_files, shard_name


@dataclass
class RunSummary(Counts):
    output: str = ""
    shards: list[str] = field(default_factory=list)
    shards_resumed: int = 0
    frames_resumed: int = 0
    seconds: float = 0.0
    nodes: Counter = field(default_factory=Counter)  # chunks each Ray node ran in this run

    def rate(self, seconds: float) -> float:
        """Frames per second drawn by this run (resumed shards were drawn before)."""
        return (self.frames - self.frames_resumed) / seconds if seconds else 0.0


def synth(config: SynthConfig) -> RunSummary:
    """Run the whole pipeline for `config`; the Python API behind `t2vid synth`."""
    config.validate()  # a SynthConfig built in Python gets the checks build_config gives the flags
    config = replace(config, output=str(Path(config.output).resolve()))  # workers may run elsewhere (Ray)
    sources = resolve_sources(config.sources, exclude=config.output)
    names = tuple(s.name for s in sources)
    Adapter(config, names)  # fail on a bad preset before touching OUT
    Budget(config.profile, config.max_frames, config.min_frames, config.tokenizer)
    out = OutputDir(config.output)
    created = not out.root.exists()  # a usage error before anything is committed leaves OUT as it was: gone, or empty
    was_empty = created or (out.root.is_dir() and not any(out.root.iterdir()))
    repair = _claim_output(out, config)
    if not config.quiet and not config.sources:
        print(f"t2vid: no SOURCE given; using the built-in sample dataset ({BUILTIN_SAMPLE})", file=sys.stderr)
    summary = RunSummary(output=config.output)
    started = time.perf_counter()
    manifest = _manifest(config, summary, status="running")
    try:
        _write_manifest(out, manifest)
        meter = ReadMeter.of(sources)
        progress = SynthProgress(config.quiet, meter, config.limit)
        planned: dict[int, ShardTask] = {}
        chunks = _plan(config, out, summary, iter_records(sources, config.split, config.subset, config.limit, meter), planned, repair)
        pending: list[ChunkResult] = []
        for chunk_result in get_engine(config.engine)(config, names, chunks):
            commit_frame_sets(out, chunk_result)
            pending.append(chunk_result)
            if chunk_result.node:
                summary.nodes[chunk_result.node] += 1
            if chunk_result.last:
                result = commit_shard(out, planned.pop(chunk_result.shard), pending)
                pending = []
                summary.add(result)
                summary.shards.append(f"shards/{shard_name(result.number)}.jsonl")
                summary.seconds = time.perf_counter() - started
                _write_manifest(out, _manifest(config, summary, status="running"))
            progress.update(chunk_result, summary, summary.frames_resumed)
        progress.close()
        summary.shards.sort()
        with writing_out():
            if not was_empty:  # into an empty OUT nothing is stale: no need to read every shard back
                _remove_stale(out, summary)
            files = len(own_files(out.root, "frames"))
        summary.frames_reused, summary.frame_files_written = summary.frames - files, files
        summary.seconds = time.perf_counter() - started
        _write_manifest(out, _manifest(config, summary, status="complete"))
    except OutputWriteError as exc:  # only failed writes to OUT: a record's own problems are its rejects
        raise SynthError(f"cannot write to {config.output}: {exc}") from None
    except UsageError:  # e.g. a source that fails partway: chunks read before it may have drawn frames already
        if not own_files(out.root, "shards"):  # nothing to resume: leave no manifest that would refuse the corrected command
            (out.root / MANIFEST).unlink(missing_ok=True)
            if was_empty:  # every frame in OUT is this run's, and no shard of it was committed
                remove_own_files(out.root, own_files(out.root, "frames"))
                out.withdraw(remove_root=created)
        raise
    except (SynthError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - a worker died or raised: one line, exit 1
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        raise SynthError(f"a worker failed ({type(exc).__name__}: {first}); re-run the same command to resume") from None
    return summary


def _write_manifest(out: OutputDir, manifest: dict) -> None:
    with writing_out():
        out.write_manifest(manifest)


def _claim_output(out: OutputDir, config: SynthConfig) -> bool:
    """Start, resume or refuse: OUT must be t2vid's (see writer.claim_folder), and two configurations never mix in one.

    Returns whether frames must be checked (a complete OUT now holds fewer frame files than it recorded).
    """
    root = out.root
    try:
        claim_folder(root, "synth", "output directory")
        if not out.lock():  # taken before anything is deleted: --overwrite must not pull OUT from under a running job
            raise UsageError(f"another t2vid synth is writing to {root}")
        existing = out.read_manifest()
        committed = bool(own_files(root, "shards"))  # nothing committed: nothing to resume or lose
        if existing is None and committed and not config.overwrite:
            raise UsageError(f"{root} holds committed shards but no readable manifest, so their settings are unknown; use --overwrite to start over or pick another -o")
        if existing is not None and committed and not config.overwrite:
            before = _flatten(existing.get("config", {}) if isinstance(existing.get("config"), dict) else {})
            now = _flatten(config_for_manifest(config))
            differs = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
            if existing.get("png_deflate") != _png_deflate(config):  # same pixels, other bytes: a clean run would differ
                differs.append("png_deflate")
            if differs:
                raise UsageError(f"{root} holds a run with different settings ({', '.join(differs[:8])}); use --overwrite to start over or pick another -o")
        if config.overwrite:
            remove_own_files(root, [MANIFEST, *own_files(root, "shards"), *own_files(root, "rejects"), *own_files(root, "frames")])
        out.prepare()
        out.clear_temporary()
    except OSError as exc:
        raise UsageError(f"cannot write to output directory {root}: {exc.strerror or exc}") from None
    if config.repair:
        return True
    recorded = existing.get("frame_files") if existing and not config.overwrite and existing.get("status") == "complete" else None
    return isinstance(recorded, int) and len(own_files(root, "frames")) < recorded


def _remove_stale(out: OutputDir, summary: RunSummary) -> None:
    """After a rerun on changed or shorter input: shards past the end and frames no record uses go.

    They are t2vid's own files from the earlier input; removing them makes OUT
    what a clean run on the current input writes. Frames are only looked at
    when a shard was (re)done or removed, since a pure resume cannot orphan any.
    """
    root = out.root
    current = {name for shard in summary.shards for name in (shard, shard.replace("shards/", "rejects/"), shard.replace(".jsonl", ".done.json"))}
    stale = [name for name in own_files(root, "shards") + own_files(root, "rejects") if name not in current]
    remove_own_files(root, stale)
    if not stale and summary.shards_resumed == len(summary.shards):
        return
    used = {image for shard in summary.shards for image in out.images_of(shard)}
    remove_own_files(root, [name for name in own_files(root, "frames") if name not in used])


def _flatten(settings: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def config_for_manifest(config: SynthConfig) -> dict:
    """The settings that decide the output, as JSON values (runtime settings go under `run`)."""
    data = asdict(config)
    for key in RUNTIME_KEYS:
        data.pop(key)
    data["sources"] = list(config.sources) or [BUILTIN_SAMPLE]
    return json.loads(json.dumps(data))


def _plan(config: SynthConfig, out: OutputDir, summary: RunSummary, records: Iterator[RawRecord], planned: dict[int, ShardTask], repair: bool = False) -> Iterator[WorkChunk]:
    """Cut the stream into shards and shards into engine work; `planned` keeps each shard's task until its last chunk is back.

    A shard with no completion marker has nothing to resume: its chunks go to
    the engine while it is read. A shard with one is read whole first, and
    counted from its marker instead of redone when its input is unchanged.
    With `repair`, such a shard whose records name a frame file that is gone
    is redone (its incomplete frame folders removed first, so they are drawn
    again).
    """
    for number in count():
        task = ShardTask(number)
        reading = read_shard(records, task, config.shard_size)
        first = next(reading, None)
        if first is None:
            return
        planned[number] = task
        shard = chain([first], reading)
        counts = out.read_marker(number)
        if counts is not None:
            shard = tuple(shard)
            if counts.get("input_sha256") == task.input_sha256 and not (repair and out.repair_frames(number)):
                del planned[number]
                summary.add(ShardResult.from_counts(counts))
                summary.shards.append(f"shards/{shard_name(number)}.jsonl")
                summary.shards_resumed += 1
                summary.frames_resumed += counts.get("frames", 0)
                continue
        yield from chunks_of(number, shard)


def _png_deflate(config: SynthConfig) -> str | None:
    """Which deflate writes this run's PNG frames (see png.deflate_encoder); None for other formats."""
    return deflate_encoder(config.style.png_compress_level) if config.style.image_format == "png" else None


def _manifest(config: SynthConfig, summary: RunSummary, status: str) -> dict:
    return {
        "t2vid_version": __version__,
        "status": status,
        "samples": summary.samples,
        "frames": summary.frames,
        "frame_files": summary.frame_files_written,
        "frames_reused": summary.frames_reused,
        "words": summary.words,
        "read": summary.read,
        "rejected": sum(summary.rejected.values()),
        "rejected_by_reason": dict(sorted(summary.rejected.items())),
        "stages": summary.stage_counts(),
        "missing_glyphs": dict(sorted(summary.missing_glyphs.items())),
        "shards": sorted(summary.shards),
        "rejects": [s.replace("shards/", "rejects/") for s in sorted(summary.shards)],
        "config": config_for_manifest(config),
        "png_deflate": _png_deflate(config),
        "run": {"seconds": round(summary.seconds, 3), "workers": config.workers, "engine": config.engine, "ray_address": config.ray_address, "ray_storage": config.ray_storage if config.engine == "ray" else None, "output": config.output, "shards_resumed": summary.shards_resumed, "nodes": dict(sorted(summary.nodes.items())), "stage_seconds": {name: round(seconds, 3) for name, seconds in summary.stage_seconds.items()}},
    }


def format_summary(summary: RunSummary) -> str:
    """The one-screen report printed at the end of `t2vid synth`."""
    rate = summary.rate(summary.seconds)
    lines = [
        f"t2vid synth -> {summary.output}",
        f"  records read      {summary.read}",
        f"  samples written   {summary.samples}",
        f"  frames            {summary.frames} ({summary.frame_files_written} distinct files, {summary.frames_reused} shared)",
        f"  rejected          {sum(summary.rejected.values())}",
    ]
    for reason, count in sorted(summary.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    {count:>6}  {reason}")
    if summary.missing_glyphs:
        by_package: dict[str, list[str]] = {}
        for char in sorted(summary.missing_glyphs):
            by_package.setdefault(font_package_for(char), []).append(char)
        lines.append(f"  missing glyphs    {len(summary.missing_glyphs)} distinct characters left out (no installed font has them)")
        for package, chars in sorted(by_package.items()):
            shown = " ".join(f"{c} U+{ord(c):04X}" for c in chars[:8]) + (" ..." if len(chars) > 8 else "")
            lines.append(f"    {shown}  -> install {package}")
    if summary.shards_resumed:
        lines.append(f"  resumed           {summary.shards_resumed} complete shard(s) kept")
    lines.append(f"  wall time         {summary.seconds:.1f} s ({rate:.0f} frames/s)")
    return "\n".join(lines)

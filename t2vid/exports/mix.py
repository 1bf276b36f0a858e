"""Mix real video instruction data with synthetic samples into one shuffled training file.

Real rows come in the target format or in the LLaVA / Video-ChatGPT shape
({"video", "conversations"}); both are read back to Items and written again by
the target format, so every row of the file has the same shape. Their files
are read by synth's own reader (JSON arrays element by element, JSONL line by
line); a row that is not JSON is a one-line error naming it. Sampling is
without replacement: asking for more rows than a source holds is an error.
One seeded `random.Random` draws both samples and the final order, so the
same inputs and seed give the same file.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from t2vid.errors import UsageError
from t2vid.exports.base import ExportOptions, Frames, Item, RowFormat, RowWriter, VideoFile, write_json
from t2vid.exports.items import iter_items
from t2vid.exports.registry import check_options, load_format, progress_bar

REPORT = "mix_report.json"


@dataclass
class MixReport:
    format: str
    seed: int
    rows: int
    video: dict
    synthetic: dict
    files: list[str]

    def summary(self) -> str:
        return (
            f"t2vid mix: {self.rows} rows ({self.video['used']} video, {self.synthetic['used']} synthetic) "
            f"-> {', '.join(self.files)}"
        )


def parse_pair(text: str, option: str) -> tuple[int, int]:
    """'20000:10000' -> (20000, 10000)."""
    try:
        video, synthetic = (int(part) for part in text.split(":"))
    except ValueError:
        raise UsageError(f"{option} must look like VIDEO:SYNTHETIC (e.g. 2:1), not {text!r}") from None
    if video < 0 or synthetic < 0 or video + synthetic == 0:
        raise UsageError(f"{option} needs non-negative numbers, not both 0: {text!r}")
    return video, synthetic


def sizes(counts: str | None, ratio: str | None, video_available: int, synthetic_available: int) -> tuple[int, int]:
    """Rows to take from each source: --counts exactly, or the most that --ratio allows."""
    if (counts is None) == (ratio is None):
        raise UsageError("give exactly one of --counts VIDEO:SYNTHETIC and --ratio VIDEO:SYNTHETIC")
    if counts is not None:
        video, synthetic = parse_pair(counts, "--counts")
        for wanted, available, what in ((video, video_available, "video"), (synthetic, synthetic_available, "synthetic")):
            if wanted > available:
                raise UsageError(f"--counts asks for {wanted} {what} rows but only {available} are available")
        return video, synthetic
    video, synthetic = parse_pair(ratio, "--ratio")
    scale = min(available // part for part, available in ((video, video_available), (synthetic, synthetic_available)) if part)
    if scale == 0:
        raise UsageError(f"--ratio {ratio}: not enough rows ({video_available} video, {synthetic_available} synthetic) for one of each part")
    return video * scale, synthetic * scale


def read_rows(path: str) -> Iterator[tuple[int, Any]]:
    """(row number from 1, row) of a JSON array (.json) or JSONL file, streamed."""
    from t2vid.sources import iter_records, resolve_sources

    if not Path(path).is_file():
        raise UsageError(f"--video {path}: no such file")
    for raw in iter_records(resolve_sources([path])):
        if raw.error:
            raise UsageError(f"{path}: {raw.error.detail}")
        yield raw.source.index + 1, raw.record


def rooted(item: Item, video_root: str | None) -> Item:
    """Real media paths under --video-root, made absolute: right whatever root folder the trainer joins to them."""
    if not video_root:
        return item

    def under_root(path: str) -> str:
        return os.path.abspath(os.path.join(video_root, path))

    if isinstance(item.media, VideoFile):
        return replace(item, media=VideoFile(under_root(item.media.path)))
    return replace(item, media=Frames(tuple(under_root(path) for path in item.media.paths)))


def media_paths(item: Item) -> tuple:
    return (item.media.path,) if isinstance(item.media, VideoFile) else item.media.paths


def real_items(files: tuple[str, ...], fmt: RowFormat, video_root: str | None) -> list[Item]:
    llava = load_format("llava")
    items = []
    for path in files:
        for number, row in read_rows(path):
            item = (fmt.parse(row) or llava.parse(row)) if isinstance(row, dict) else None
            if item is None:
                raise UsageError(f"{path}: row {number} is neither a {fmt.name} row nor a LLaVA {{\"video\", \"conversations\"}} row")
            items.append(rooted(item, video_root))
    return items


def mix(
    synthetic: str,
    video_files: tuple[str, ...],
    format_name: str,
    options: ExportOptions,
    seed: int,
    counts: str | None = None,
    ratio: str | None = None,
    video_root: str | None = None,
    progress: bool = True,
) -> tuple[MixReport, list[str]]:
    """Write the mixed file and mix_report.json; returns the report and the missing real media paths."""
    from t2vid.output import make_dir, read_manifest

    fmt = load_format(format_name)
    if not isinstance(fmt, RowFormat):
        raise UsageError(f"mix writes one training file; --to {format_name} is not a row format")
    check_options(fmt, options)
    real = real_items(video_files, fmt, video_root)
    synthetic_available = int(read_manifest(synthetic).get("samples") or 0)
    video_count, synthetic_count = sizes(counts, ratio, len(real), synthetic_available)
    rng = random.Random(seed)
    chosen_real = [real[index] for index in rng.sample(range(len(real)), video_count)]
    chosen_synthetic = set(rng.sample(range(synthetic_available), synthetic_count))
    missing = [path for item in chosen_real for path in media_paths(item) if not os.path.exists(path)]

    encode_synthetic = fmt.uniform_media and not options.as_images and any(isinstance(item.media, VideoFile) for item in chosen_real)
    if encode_synthetic:  # one media kind per file: synthetic frames become videos like the real rows
        from t2vid.exports.mp4 import VideoEncoder, import_av

        import_av()
        encoder = VideoEncoder(options.dest, options.fps, options.workers)
    else:
        encoder = fmt.media_encoder(options)
    make_dir(options.dest)
    writer = RowWriter(fmt, options, encoder)
    try:
        rows = [writer.make_row(item) for item in chosen_real]
        with progress_bar(synthetic_count, "mix synthetic", progress) as bar:
            for index, item in enumerate(iter_items(Path(synthetic)) if chosen_synthetic else ()):
                if index in chosen_synthetic:
                    rows.append(writer.make_row(item))
                    bar.update()
        rng.shuffle(rows)
        for row in rows:
            writer.write_row(row)
        files = [os.path.relpath(path, options.dest) for path in writer.close()] + [REPORT]
    except BaseException:
        writer.abort()
        raise
    report = MixReport(
        format=format_name,
        seed=seed,
        rows=len(rows),
        video={"files": list(video_files), "root": video_root, "available": len(real), "used": video_count, "missing_media": len(missing)},
        synthetic={
            "output": str(synthetic),
            "available": synthetic_available,
            "used": synthetic_count,
            "media": "mp4" if encode_synthetic or format_name == "llava" else "frames",
        },
        files=files,
    )
    write_json(options.dest / REPORT, asdict(report))
    return report, missing

"""`t2vid validate`: check an output against the contract trainers rely on.

A data loader that meets a missing frame, a short `texts` list or a
duplicated id fails hours into training, or worse, silently trains on the
wrong pairs. This reads every record, marker, reject and frame once, up front,
and names the file and line of each problem.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import click

# field -> type; a bool is not accepted where an int is meant
REQUIRED_FIELDS: dict[str, type] = {
    "id": str,
    "images": list,
    "instruction": str,
    "answer": str,
    "texts": list,
    "num_frames": int,
    "source": dict,
    "missing_glyphs": list,
    "width": int,
    "height": int,
}
OPTIONAL_FIELDS: dict[str, type] = {"turns": list, "meta": dict, "overlap_lines": list, "style": dict}
SOURCE_FIELDS: dict[str, type] = {"dataset": str, "split": str, "index": int}


@dataclass(frozen=True)
class Problem:
    where: str  # "path:line" or a path
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class FrameUse:
    """The first record that names a frame file, and the size it states."""

    size: tuple[int, int] | None
    where: str


@dataclass
class Validation:
    samples: int = 0
    frames: int = 0
    frame_files: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: str | Path, message: str) -> None:
        self.problems.append(Problem(str(where), message))


def _is_type(value, expected: type) -> bool:
    return isinstance(value, expected) and not (isinstance(value, bool) and expected is int)


def record_problems(record) -> list[str]:
    """What is wrong with one sample record, judged on its own."""
    if not isinstance(record, dict):
        return [f"record is a {type(record).__name__}, not an object"]
    found = []
    for name, expected in REQUIRED_FIELDS.items():
        if name not in record:
            found.append(f"missing field {name!r}")
        elif not _is_type(record[name], expected):
            found.append(f"field {name!r} is {type(record[name]).__name__}, not {expected.__name__}")
    for name, expected in OPTIONAL_FIELDS.items():
        if name in record and not _is_type(record[name], expected):
            found.append(f"field {name!r} is {type(record[name]).__name__}, not {expected.__name__}")
    if found:
        return found
    if not record["id"]:
        found.append("empty id")
    for name in ("images", "texts", "missing_glyphs"):
        if not all(isinstance(item, str) for item in record[name]):
            found.append(f"{name} holds a non-string item")
    counts = (len(record["images"]), len(record["texts"]), record["num_frames"])
    if counts[0] != counts[1] or counts[1] != counts[2]:
        found.append(f"len(images)={counts[0]}, len(texts)={counts[1]} and num_frames={counts[2]} differ")
    if record["num_frames"] < 1:
        found.append(f"num_frames is {record['num_frames']}")
    if "overlap_lines" in record and len(record["overlap_lines"]) != record["num_frames"]:
        found.append(f"overlap_lines has {len(record['overlap_lines'])} entries for {record['num_frames']} frames")
    for name, expected in SOURCE_FIELDS.items():
        if not _is_type(record["source"].get(name), expected):
            found.append(f"source.{name} is missing or not {expected.__name__}")
    for n, turn in enumerate(record.get("turns", [])):
        if not (isinstance(turn, dict) and isinstance(turn.get("instruction"), str) and isinstance(turn.get("answer"), str)):
            found.append(f"turns[{n}] needs string instruction and answer")
    for path in record["images"]:
        if isinstance(path, str) and (PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts or not path.startswith("frames/")):
            found.append(f"image path {path!r} is not under frames/ of this output")
    return found


class OutputChecker:
    """Walks one output; keeps what later checks need (ids seen, frames referenced)."""

    def __init__(self, out: str | Path, decode: bool = True):
        from t2vid.output import read_manifest

        self.root = Path(out)
        self.manifest = read_manifest(self.root)
        self.manifest_path = self.root / "manifest.json"
        self.decode = decode
        self.result = Validation()
        self.ids: dict[str, str] = {}
        self.frame_uses: dict[str, FrameUse] = {}

    def run(self) -> Validation:
        manifest = self.manifest
        if not isinstance(manifest, dict):
            self.result.add(self.manifest_path, "is not a JSON object")
            return self.result
        if manifest.get("status") != "complete":
            self.result.add(self.manifest_path, f"status is {manifest.get('status')!r}, not 'complete' (an interrupted run: re-run the same synth command to finish it)")
        shards, rejects = manifest.get("shards"), manifest.get("rejects")
        if not (isinstance(shards, list) and isinstance(rejects, list) and all(isinstance(p, str) for p in shards + rejects)):
            self.result.add(self.manifest_path, "shards and rejects must be lists of paths")
            return self.result
        for shard in shards:
            self.check_shard(shard)
        rejected, reasons = self.check_rejects(rejects)
        self.check_markers(shards)
        self.check_unlisted(shards, rejects)
        self.check_frames()
        on_disk = self.check_orphans()
        samples = self.result.samples
        actual = {"samples": samples, "frames": self.result.frames, "rejected": rejected, "read": samples + rejected, "rejected_by_reason": reasons, "frame_files": on_disk}
        for name, value in actual.items():
            if name in manifest and manifest[name] != value:
                self.result.add(self.manifest_path, f"{name} is {manifest[name]!r} but the output holds {value!r}")
        self.result.frame_files = len(self.frame_uses)
        return self.result

    def check_shard(self, shard: str) -> None:
        path = self.root / shard
        if not path.is_file():
            self.result.add(path, "shard listed in the manifest is missing")
            return
        for where, record in self._json_lines(path):
            self.result.samples += 1
            for message in record_problems(record):
                self.result.add(where, message)
            if isinstance(record, dict):
                self._note_record(where, record)

    def _note_record(self, where: str, record: dict) -> None:
        if _is_type(record.get("num_frames"), int):
            self.result.frames += record["num_frames"]
        sample_id = record.get("id")
        if isinstance(sample_id, str):
            if sample_id in self.ids:
                self.result.add(where, f"id {sample_id!r} already used at {self.ids[sample_id]}")
            else:
                self.ids[sample_id] = where
        size = (record.get("width"), record.get("height"))
        stated = size if all(_is_type(v, int) for v in size) else None
        images = record.get("images")
        for image in images if isinstance(images, list) else ():
            if isinstance(image, str):
                first = self.frame_uses.setdefault(image, FrameUse(stated, where))
                if stated is not None and first.size is not None and first.size != stated:
                    self.result.add(where, f"{image} is also used by {first.where}, which states another size")

    def _json_lines(self, path: Path):
        """(location, parsed value) per non-blank line; a broken line is reported, not raised."""
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line_number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{path}:{line_number}"
                try:
                    yield where, json.loads(line)
                except ValueError as exc:
                    self.result.add(where, f"not valid JSON: {exc}")

    def check_rejects(self, rejects: list[str]) -> tuple[int, dict[str, int]]:
        """Count rejects and group their reasons the way synth groups them for the manifest."""
        from t2vid.output import reason_kind

        count, reasons = 0, Counter()
        for name in rejects:
            path = self.root / name
            if not path.is_file():
                self.result.add(path, "rejects file listed in the manifest is missing")
                continue
            for where, reject in self._json_lines(path):
                count += 1
                if not (isinstance(reject, dict) and isinstance(reject.get("reason"), str)):
                    self.result.add(where, "reject has no string 'reason'")
                    continue
                reasons[reason_kind(reject["reason"])] += 1
        return count, dict(sorted(reasons.items()))

    def check_markers(self, shards: list[str]) -> None:
        """Each shard's completion marker must exist and agree with what the shard holds."""
        for shard in shards:
            marker = self.root / str(PurePosixPath(shard).with_suffix(".done.json"))
            try:
                counts = json.loads(marker.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self.result.add(marker, "completion marker missing (the shard was never committed)")
                continue
            except (OSError, ValueError) as exc:
                self.result.add(marker, f"unreadable completion marker: {exc}")
                continue
            if not isinstance(counts, dict):
                self.result.add(marker, "completion marker is not a JSON object")
                continue
            shard_path, rejects_path = self.root / shard, self.root / "rejects" / PurePosixPath(shard).name
            if shard_path.is_file() and counts.get("samples") != _count_lines(shard_path):
                self.result.add(marker, f"says {counts.get('samples')} samples but {shard} holds {_count_lines(shard_path)}")
            rejected = counts.get("rejected")
            if isinstance(rejected, dict) and rejects_path.is_file() and sum(rejected.values()) != _count_lines(rejects_path):
                self.result.add(marker, f"says {sum(rejected.values())} rejects but {rejects_path.relative_to(self.root).as_posix()} holds {_count_lines(rejects_path)}")

    def check_unlisted(self, shards: list[str], rejects: list[str]) -> None:
        listed = {str(PurePosixPath(p)) for p in shards + rejects}
        for folder in ("shards", "rejects"):
            for path in sorted((self.root / folder).glob("*.jsonl")):
                if path.relative_to(self.root).as_posix() not in listed:
                    self.result.add(path, "not listed in the manifest (left from another run?)")

    def check_frames(self) -> None:
        """Every referenced frame exists, decodes, and has the size its record states."""
        from PIL import Image
        from tqdm import tqdm

        for image in tqdm(sorted(self.frame_uses), unit=" frames", disable=None, desc="frames"):
            use = self.frame_uses[image]
            path = self.root / image
            try:
                with Image.open(path) as frame:
                    size = frame.size
                    if self.decode:
                        frame.load()
            except FileNotFoundError:
                self.result.add(use.where, f"frame {image} does not exist")
                continue
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                self.result.add(path, f"does not decode: {exc} (used by {use.where})")
                continue
            if use.size is not None and size != use.size:
                self.result.add(path, f"is {size[0]}x{size[1]}, record {use.where} states {use.size[0]}x{use.size[1]}")

    def check_orphans(self) -> int:
        """Frame files no record uses: wasted space, or records lost. Returns how many files there are."""
        files = 0
        for folder, _, names in sorted(os.walk(self.root / "frames")):
            for name in sorted(names):
                files += 1
                relative = (Path(folder) / name).relative_to(self.root).as_posix()
                if relative not in self.frame_uses:
                    self.result.add(Path(folder) / name, "orphan frame: no record uses it")
        return files


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


@contextmanager
def read_errors_as_usage_error(path: str | Path):
    """For commands that read data: a missing shard or a broken line is one line, not a traceback."""
    from t2vid.config import UsageError

    try:
        yield
    except UsageError:
        raise
    except (OSError, ValueError) as exc:
        hint = f" (`t2vid validate {path}` lists every problem)" if Path(path).is_dir() else ""
        raise UsageError(f"cannot read {path}: {exc}{hint}") from None


def validate_output(out: str | Path, decode: bool = True) -> Validation:
    """Every check of `t2vid validate`; problems come in the order files are read."""
    return OutputChecker(out, decode).run()


@click.command("validate")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--quick", is_flag=True, help="Read image headers only (size), skip the full decode.")
def validate_command(out, quick):
    """Check OUT against the output contract; exit 1 and list each problem if any.

    \b
    Checks: record fields and types, unique ids, len(images) == len(texts) ==
    num_frames, source fields; every frame exists, decodes and has the stated
    size; no orphan frame files; manifest counts; shard markers; status.
    """
    with read_errors_as_usage_error(out):
        result = validate_output(out, decode=not quick)
    for problem in result.problems:
        click.echo(str(problem))
    if result.problems:
        click.echo(f"t2vid validate: {len(result.problems)} problem(s) in {out} ({result.samples} samples, {result.frame_files} frame files checked)", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {result.samples} samples, {result.frames} frames ({result.frame_files} files) checked")

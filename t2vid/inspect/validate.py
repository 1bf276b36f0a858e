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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from t2vid.errors import UsageError
from t2vid.output import (
    ManifestError,
    frame_path,
    is_frame_path,
    is_type,
    json_lines,
    manifest_json,
    manifest_problems,
    path_problem,
    record_problems,
    reject_problems,
)
from t2vid.writer import MANIFEST


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


class OutputChecker:
    """Walks one output; keeps what later checks need (ids seen, frames referenced)."""

    def __init__(self, out: str | Path, decode: bool = True):
        self.root = Path(out)
        self.manifest_path = self.root / MANIFEST
        try:
            self.manifest = manifest_json(self.root)
            self.unreadable = None
        except ManifestError as exc:
            self.manifest, self.unreadable = None, str(exc)
        self.decode = decode
        self.result = Validation()
        self.ids: dict[str, str] = {}
        self.frame_uses: dict[str, FrameUse] = {}

    def run(self) -> Validation:
        manifest = self.manifest
        if self.unreadable:
            self.result.add(self.manifest_path, self.unreadable)
            return self.result
        shape = manifest_problems(manifest, self.root)
        for problem in shape:
            self.result.add(self.manifest_path, problem)
        if shape:
            return self.result
        if manifest.get("status") != "complete":
            self.result.add(self.manifest_path, f"status is {manifest.get('status')!r}, not 'complete' (an interrupted run: re-run the same synth command to finish it)")
        shards, rejects = manifest["shards"], manifest.get("rejects", [])
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
        for line in self._parsed(path):
            self.result.samples += 1
            for message in record_problems(line.value):
                self.result.add(line.where, message)
            if isinstance(line.value, dict):
                self._note_record(line.where, line.value)

    def _note_record(self, where: str, record: dict) -> None:
        if is_type(record.get("num_frames"), int):
            self.result.frames += record["num_frames"]
        sample_id = record.get("id")
        if isinstance(sample_id, str):
            if sample_id in self.ids:
                self.result.add(where, f"id {sample_id!r} already used at {self.ids[sample_id]}")
            else:
                self.ids[sample_id] = where
        size = (record.get("width"), record.get("height"))
        stated = size if all(is_type(v, int) for v in size) else None
        images = record.get("images")
        for image in images if isinstance(images, list) else ():
            if is_frame_path(image):  # a path outside frames/ is reported by record_problems and never opened
                first = self.frame_uses.setdefault(image, FrameUse(stated, where))
                if stated is not None and first.size is not None and first.size != stated:
                    self.result.add(where, f"{image} is also used by {first.where}, which states another size")

    def _parsed(self, path: Path):
        """The lines of a JSONL file that parse; a broken line is reported, not raised."""
        for line in json_lines(path):
            if line.error:
                self.result.add(line.where, line.error)
            else:
                yield line

    def check_rejects(self, rejects: list[str]) -> tuple[int, dict[str, int]]:
        """Count rejects and group them by code, as synth does for the manifest."""
        count, reasons = 0, Counter()
        for name in rejects:
            path = self.root / name
            if not path.is_file():
                self.result.add(path, "rejects file listed in the manifest is missing")
                continue
            for line in self._parsed(path):
                count += 1
                problems = reject_problems(line.value)
                for message in problems:
                    self.result.add(line.where, message)
                if not problems:
                    reasons[line.value["code"]] += 1
        return count, dict(sorted(reasons.items()))

    def check_markers(self, shards: list[str]) -> None:
        """Each shard's completion marker must exist and agree with what the shard holds."""
        for shard in shards:
            relative = str(PurePosixPath(shard).with_suffix(".done.json"))
            marker = self.root / relative
            problem = path_problem(self.root, relative, "shards")
            if problem:
                self.result.add(marker, problem)
                continue
            try:
                counts = json.loads(marker.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self.result.add(marker, "completion marker missing (the shard was never committed)")
                continue
            except (OSError, ValueError, RecursionError) as exc:
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

        real_folders: set[str] = set()
        for image in tqdm(sorted(self.frame_uses), unit=" frames", disable=None, desc="frames"):
            use = self.frame_uses[image]
            try:
                path = frame_path(self.root, image, real_folders)
            except UsageError as exc:
                self.result.add(use.where, str(exc).split("; run ")[0])
                continue
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


def validate_output(out: str | Path, decode: bool = True) -> Validation:
    """Every check of `t2vid validate`; problems come in the order files are read."""
    return OutputChecker(out, decode).run()

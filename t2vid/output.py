"""Read a synth output back: the manifest, its samples and rejects, and the rules every reader shares.

Exports, inspection and verification all read OUT, and a manifest or a
shard line can be edited, truncated or written by something else. So the
manifest's shape, the record contract (the fields and types trainers rely
on) and the rule for paths inside OUT (relative, under their folder, never
`..`, no symbolic link on the way, a regular file) live here, and the readers
refuse what breaks them with one line naming the file: an export must never
copy a file from outside OUT, or read a device, because a record says so.
"""

from __future__ import annotations

import json
import os
import random
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeVar

from t2vid.errors import UsageError
from t2vid.writer import MANIFEST

FRAMES_PREFIX = "frames/"

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
OPTIONAL_FIELDS: dict[str, type] = {"turns": list, "meta": dict, "overlap_lines": list, "style": dict, "tasks": list}
SOURCE_FIELDS: dict[str, type] = {"dataset": str, "split": str, "index": int}

MANIFEST_LISTS = {"shards": "shards", "rejects": "rejects"}  # manifest key -> the folder its paths must be under
MANIFEST_COUNTS = ("samples", "frames", "frame_files", "frames_reused", "words", "read", "rejected")
MAX_MANIFEST_BYTES = 256 << 20

T = TypeVar("T")


class ManifestError(UsageError):
    """OUT's manifest.json is there but cannot be read as JSON (validate lists it as a problem)."""


def manifest_json(out: str | Path) -> Any:
    """OUT's manifest.json parsed, shape unchecked; a missing, non-regular, oversized or non-JSON file is a UsageError."""
    from t2vid.files import kind_of, read_small_text

    path = Path(out) / MANIFEST
    if kind_of(path) == "missing":
        raise UsageError(f"{out} is not a t2vid output (no {MANIFEST})")
    try:
        text = read_small_text(path, "manifest", MAX_MANIFEST_BYTES)
    except UsageError as exc:
        raise ManifestError(str(exc)) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ManifestError(f"{path} is not a t2vid manifest: nested too deeply") from None
    except ValueError as exc:
        raise ManifestError(f"{path} is not valid JSON: {exc}") from None


def manifest_problems(manifest: Any, out: str | Path) -> list[str]:
    """What is wrong with a manifest's shape: the one check every reader of OUT relies on."""
    if not isinstance(manifest, dict):
        return [f"is a JSON {type(manifest).__name__}, not an object"]
    found = []
    for key, folder in MANIFEST_LISTS.items():
        paths = manifest.get(key, [])
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            found.append(f"{key!r} must be a list of paths")
            continue
        for relative in paths:
            problem = path_problem(out, relative, folder)
            if problem:
                found.append(f"{key} entry {relative!r} {problem}")
    if "shards" not in manifest:
        found.append("has no 'shards' list")
    for key in MANIFEST_COUNTS:
        if key in manifest and not (is_type(manifest[key], int) and manifest[key] >= 0):
            found.append(f"{key!r} is {manifest[key]!r}, not a count")
    for key in ("status", "t2vid_version"):
        if key in manifest and not isinstance(manifest[key], str):
            found.append(f"{key!r} is not a string")
    return found


def read_manifest(out: str | Path) -> dict:
    """OUT's manifest, its shape checked and every path it lists confined to OUT; else one UsageError line."""
    manifest = manifest_json(out)
    problems = manifest_problems(manifest, out)
    if problems:
        raise UsageError(f"{Path(out) / MANIFEST}: {problems[0]}; run `t2vid validate {out}` to list every problem")
    return manifest


def path_problem(out: str | Path, relative: str, folder: str, real_folders: set[str] | None = None) -> str | None:
    """Why OUT/`relative` may not be read (it could leave OUT, or is not a file), or None.

    Relative, under `folder`/, no `..`, no symbolic link on the way (a link
    could point anywhere), and, when it exists, a regular file (a device or a
    FIFO would never end). A missing file is left to the reader to report.
    A caller checking many paths in one pass keeps `real_folders`: the folders
    found to be real folders, each then checked once rather than once per file
    in it. Plain string work: with pathlib, checking 11,700 frame paths took
    most of `validate --quick` and of an export.
    """
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if not relative or relative.startswith("/") or "\\" in relative or ".." in parts:
        return "could leave the output (absolute, empty or with ..)"
    if len(parts) < 2 or parts[0] != folder:
        return f"is not under {folder}/"
    path = os.fspath(out)
    for depth, part in enumerate(parts, 1):
        path = os.path.join(path, part)
        if real_folders is not None and path in real_folders:
            mode = stat.S_IFDIR  # found to be a real folder earlier in this pass
            continue
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot be checked ({exc.strerror})"
        if stat.S_ISLNK(mode):
            return "is or passes through a symbolic link; t2vid does not follow links inside OUT"
        if real_folders is not None and depth < len(parts) and stat.S_ISDIR(mode):
            real_folders.add(path)
    return None if stat.S_ISREG(mode) else "is not a regular file"


def is_frame_path(relative: object) -> bool:
    """The one rule for a record's image path: relative, under frames/, with no `..` part."""
    return isinstance(relative, str) and relative.startswith(FRAMES_PREFIX) and "/../" not in f"/{relative}/"


def frame_path(out: str | Path, relative: str, real_folders: set[str] | None = None) -> Path:
    """Where an image path of a record points inside OUT; refuses any path that could leave OUT (see path_problem)."""
    if not is_frame_path(relative):
        raise UsageError(f"image path {relative!r} is not under {FRAMES_PREFIX} of {out}; run `t2vid validate {out}`")
    problem = path_problem(out, relative, FRAMES_PREFIX.rstrip("/"), real_folders)
    if problem:
        raise UsageError(f"frame {relative} of {out} {problem}; run `t2vid validate {out}`")
    return Path(out) / relative


def is_type(value: Any, expected: type) -> bool:
    return isinstance(value, expected) and not (isinstance(value, bool) and expected is int)


def record_problems(record: Any) -> list[str]:
    """What is wrong with one sample record, judged on its own (the output contract)."""
    if not isinstance(record, dict):
        return [f"record is a {type(record).__name__}, not an object"]
    found = []
    for name, expected in REQUIRED_FIELDS.items():
        if name not in record:
            found.append(f"missing field {name!r}")
        elif not is_type(record[name], expected):
            found.append(f"field {name!r} is {type(record[name]).__name__}, not {expected.__name__}")
    for name, expected in OPTIONAL_FIELDS.items():
        if name in record and not is_type(record[name], expected):
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
        if not is_type(record["source"].get(name), expected):
            found.append(f"source.{name} is missing or not {expected.__name__}")
    for n, turn in enumerate(record.get("turns", [])):
        if not (isinstance(turn, dict) and isinstance(turn.get("instruction"), str) and isinstance(turn.get("answer"), str)):
            found.append(f"turns[{n}] needs string instruction and answer")
    answers = [record["answer"]] + [t.get("answer") if isinstance(t, dict) else None for t in record.get("turns", [])]
    turns = len(answers)
    for n, task in enumerate(record.get("tasks", [])):
        if not (isinstance(task, dict) and isinstance(task.get("kind"), str) and isinstance(task.get("answer"), str) and is_type(task.get("turn"), int) and 0 <= task["turn"] < turns):
            found.append(f"tasks[{n}] needs a string kind and answer and a turn within the sample's {turns} turns")
        elif answers[task["turn"]] != task["answer"]:
            found.append(f"tasks[{n}] answer differs from the answer of turn {task['turn']}")
        elif not (isinstance(task.get("frames"), list) and all(is_type(f, int) and 0 <= f < record["num_frames"] for f in task["frames"])):
            found.append(f"tasks[{n}] frames must be frame indices below num_frames")
    for path in record["images"]:
        if isinstance(path, str) and not is_frame_path(path):
            found.append(f"image path {path!r} is not under {FRAMES_PREFIX} of this output")
    return found


def reject_problems(reject: Any) -> list[str]:
    """What is wrong with one reject record: stats and validate group rejects by their code."""
    fields = reject if isinstance(reject, dict) else {}
    return [f"reject has no string {name!r}" for name in ("reason", "stage", "code") if not isinstance(fields.get(name), str)]


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSONL file: its value, or why it could not be parsed."""

    path: Path
    number: int  # 1-based, blank lines included, as an editor shows it
    value: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.number}"


def json_lines(path: Path) -> Iterator[JsonLine]:
    """Every non-blank line of a JSONL file; a broken line is reported in `error`, not raised."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield JsonLine(path, number, json.loads(line))
            except ValueError as exc:  # bad JSON or bad UTF-8
                yield JsonLine(path, number, error=f"not valid JSON ({str(exc)[:200]})")
            except RecursionError:
                yield JsonLine(path, number, error="JSON nested too deeply to be a record")


def _objects(out: Path, path: Path, problems) -> Iterator[dict]:
    """The lines of a shard or rejects file; the first broken one stops the read with its location."""
    for line in json_lines(path):
        found = [line.error] if line.error else problems(line.value)
        if found:
            raise UsageError(f"{line.where}: {found[0]}; run `t2vid validate {out}` to list every problem")
        yield line.value


def read_shard(out: str | Path, shard: str) -> Iterator[dict]:
    """The sample records of one shard (a path relative to OUT), each checked against the contract."""
    root = Path(out)
    problem = path_problem(root, shard, "shards")
    if problem:
        raise UsageError(f"shard {shard!r} of {out} {problem}")
    yield from _objects(root, root / shard, record_problems)


def read_output(out: str | Path) -> Iterator[dict]:
    """Every sample record of a `t2vid synth` output, in shard order; image paths stay relative to OUT.

    A line that is not JSON or breaks the output contract raises UsageError
    naming the file and line; `t2vid validate` lists every such problem.
    """
    for shard in read_manifest(out)["shards"]:
        yield from read_shard(out, shard)


def read_rejects(out: str | Path) -> Iterator[dict]:
    """Every reject record of an output (`index`, `position`, `source`, `reason`, `record`), in shard order."""
    root = Path(out)
    for name in read_manifest(root).get("rejects") or []:
        yield from _objects(root, root / name, reject_problems)


def reservoir_sample(items: Iterable[T], count: int, seed: int) -> tuple[list[T], int]:
    """`count` items drawn uniformly with `seed`, in their original order, and how many items there were.

    One pass with `count` items in memory, however long the stream; the same
    items and seed always give the same choice, so a preview or an OCR check
    can be repeated exactly.
    """
    rng, kept, seen = random.Random(seed), [], 0
    for seen, item in enumerate(items, 1):
        if seen <= count:
            kept.append((seen, item))
        elif (slot := rng.randrange(seen)) < count:
            kept[slot] = (seen, item)
    return [item for _, item in sorted(kept, key=lambda pair: pair[0])], seen


def make_dir(path: str | Path) -> Path:
    """Create a destination directory, or fail with one line (exit 2) before any work is done."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"cannot create directory {path}: a file of that name is in the way") from None
    except OSError as exc:
        raise UsageError(f"cannot create directory {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to directory {path}: permission denied")
    return path


@contextmanager
def read_errors_as_usage_error(out: str | Path):
    """For commands that read OUT: a missing shard, an unreadable frame or a failed write is one line, not a traceback."""
    try:
        yield
    except UsageError:
        raise
    except (OSError, ValueError) as exc:
        filename = getattr(exc, "filename", None)
        if filename and not _inside(filename, out):  # not OUT's: a file the command was given or writes
            raise UsageError(f"{filename}: {exc.strerror or exc}") from None
        hint = f" (`t2vid validate {out}` lists every problem)" if Path(out).is_dir() else ""
        raise UsageError(f"cannot read {out}: {exc}{hint}") from None


def _inside(path: str | os.PathLike, root: str | Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root))

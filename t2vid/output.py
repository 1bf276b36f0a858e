"""Read a synth output back: the manifest, its samples and rejects, and the rules every reader shares.

Exports, inspection and verification all read OUT, and a shard line can be
edited, truncated or written by something else. So the record contract (the
fields and types trainers rely on) and the rule for image paths (relative,
under `frames/`, never `..`) live here, and the readers refuse a line that
breaks them with one line naming its file and line number: an export must
never copy a file from outside OUT because a record says so.
"""

from __future__ import annotations

import json
import os
import random
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
OPTIONAL_FIELDS: dict[str, type] = {"turns": list, "meta": dict, "overlap_lines": list, "style": dict}
SOURCE_FIELDS: dict[str, type] = {"dataset": str, "split": str, "index": int}

T = TypeVar("T")


def read_manifest(out: str | Path) -> dict:
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{out} is not a t2vid output (no {MANIFEST})") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None


def is_frame_path(relative: object) -> bool:
    """The one rule for a record's image path: relative, under frames/, with no `..` part."""
    return isinstance(relative, str) and relative.startswith(FRAMES_PREFIX) and "/../" not in f"/{relative}/"


def frame_path(out: str | Path, relative: str) -> Path:
    """Where an image path of a record points inside OUT; refuses any path that could leave OUT."""
    if not is_frame_path(relative):
        raise UsageError(f"image path {relative!r} is not under {FRAMES_PREFIX} of {out}; run `t2vid validate {out}`")
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
                yield JsonLine(path, number, error=f"not valid JSON ({exc})")


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

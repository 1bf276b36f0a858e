"""What every export format shares: the format-neutral data model and the writer interfaces.

A format turns format-neutral `Item`s (media + QA turns) into the files its
trainer's loader reads. Media paths are `Path`s when t2vid knows the file (a
frame of OUT, an mp4 it encoded): they are written absolute or relative to DEST
as asked. They are `str`s when the user gave them (real video rows in `mix`):
those pass through untouched, because only the user knows what they are
relative to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence, Union

from t2vid.errors import UsageError
from t2vid.writer import StagedFile, write_atomic


class ExportError(Exception):
    """The data cannot be exported as asked (a frame file is gone, a row cannot be read)."""


@dataclass(frozen=True)
class Frames:
    paths: tuple[Union[Path, str], ...]


@dataclass(frozen=True)
class VideoFile:
    path: Union[Path, str]


Media = Union[Frames, VideoFile]


@dataclass(frozen=True)
class Item:
    """One training example: media, the (user, assistant) turns over it, and the synth record if any."""

    id: str
    media: Media
    turns: tuple[tuple[str, str], ...]
    record: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ExportOptions:
    dest: Path
    paths: str | None = None  # None: the format's default (where its trainer resolves relative paths)
    as_images: bool = False
    fps: float = 1.0
    shard_size: int = 1000
    name: str = "t2vid"
    workers: int = 1  # processes encoding mp4s


@dataclass
class ExportReport:
    format: str
    dest: str
    samples: int
    files: list[str]
    length: Any = None  # limits.LengthReport of an export with a length limit

    def summary(self) -> str:
        line = f"t2vid export: {self.samples} samples -> {self.dest} ({self.format}): {', '.join(self.files)}"
        return f"{line}\nt2vid export: {self.length.summary()}" if self.length is not None else line


class Placer:
    """Writes media paths: t2vid's files absolute or relative to DEST, the user's as given.

    A sample's frames share a folder and come one after another, so the
    folder's placed form is worked out once per sample, not per frame (half
    the time of an export was this path arithmetic).
    """

    def __init__(self, dest: Path, style: str):
        self.dest = Path(os.path.abspath(dest))
        self.style = style
        self._folder: tuple[str, str] = ("", "")  # the last folder seen, placed

    def __call__(self, path: Union[Path, str]) -> str:
        if isinstance(path, str):
            return path
        folder, name = os.path.split(os.path.abspath(path))
        if folder != self._folder[0]:
            self._folder = (folder, folder if self.style == "absolute" else os.path.relpath(folder, self.dest))
        placed = self._folder[1]
        return (name if placed == os.curdir else os.path.join(placed, name)).replace(os.sep, "/")


class Format:
    """One trainer's layout. Subclasses set `name`, `default_paths` and implement `open`."""

    name = ""
    default_paths = "relative"  # "absolute" where the trainer opens paths from its working directory
    supports_as_images = False  # --as-images: frames as image tokens instead of one video

    def check(self, options: ExportOptions) -> None:
        """Options this format cannot use -> UsageError (--as-images is checked by the registry, which knows every format)."""
        if options.fps <= 0:
            raise UsageError(f"--fps must be above 0, not {options.fps:g}")
        if options.shard_size < 1:
            raise UsageError(f"--shard-size must be at least 1, not {options.shard_size}")
        if options.workers < 1:
            raise UsageError(f"--workers must be at least 1, not {options.workers}")

    def placer(self, options: ExportOptions) -> Placer:
        return Placer(options.dest, options.paths or self.default_paths)

    def open(self, options: ExportOptions) -> "Writer":
        raise NotImplementedError


class MediaEncoder(Protocol):
    """Turns an Item's frames into a video file (t2vid.exports.mp4.VideoEncoder); handed to a RowWriter."""

    def __call__(self, item: Item) -> Item: ...

    def finish(self) -> None: ...

    def abort(self) -> None: ...


class Writer:
    def write(self, item: Item) -> None:
        raise NotImplementedError

    def close(self) -> list[Path]:
        """Finish the files; returns what was written (side files included)."""
        raise NotImplementedError

    def abort(self) -> None:
        """After an error or ^C: remove temporary files; finished files stay."""
        raise NotImplementedError


class RowFormat(Format):
    """Formats whose trainer reads one annotation file of rows (JSONL, or a JSON array)."""

    data_file = "train.jsonl"
    uniform_media = False  # the loader types columns (HF datasets): one media kind per file
    reads_video_files = True  # False: the trainer reads frames only; mix turns real videos into frame folders
    video_frame_factor = 1  # 2: the reader samples a video file's frames in pairs; mix pads encoded videos to even counts

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        raise NotImplementedError

    def parse(self, row: dict) -> Item | None:
        """A row of this format back to an Item (media paths as strings); None if it is not one."""
        raise NotImplementedError

    def media_encoder(self, options: ExportOptions) -> MediaEncoder | None:
        """For formats that need video files rather than frames (LLaVA)."""
        return None

    def side_files(self, options: ExportOptions, data_path: Path, rows: int, keys: set[str]) -> dict[str, object]:
        """Extra JSON files the trainer needs, by file name; `keys` are the row keys used."""
        return {}

    def open(self, options: ExportOptions) -> "RowWriter":
        return RowWriter(self, options, self.media_encoder(options))


class RowWriter(Writer):
    """Streams rows to DEST/<data_file> under a temporary name; side files on close. DEST must exist.

    `encoder`, when given, turns frames into video files before a row is made.
    """

    def __init__(self, fmt: RowFormat, options: ExportOptions, encoder: MediaEncoder | None = None):
        self.fmt = fmt
        self.options = options
        self.place = fmt.placer(options)
        self.encoder = encoder
        self.path = options.dest / fmt.data_file
        self.staged = StagedFile(self.path)
        self.handle = open(self.staged.temporary, "w", encoding="utf-8")
        self.as_array = self.path.suffix == ".json"
        self.rows = 0
        self.keys: set[str] = set()
        if self.as_array:
            self.handle.write("[\n")

    def make_row(self, item: Item) -> dict:
        return self.fmt.row(self.encoder(item) if self.encoder else item, self.place, self.options)

    def write(self, item: Item) -> None:
        self.write_row(self.make_row(item))

    def write_row(self, row: dict) -> None:
        text = json.dumps(row, ensure_ascii=False)
        if self.as_array:
            text = ("  " if self.rows == 0 else ",\n  ") + text
        else:
            text += "\n"
        self.handle.write(text)
        self.rows += 1
        self.keys.update(row)

    def abort(self) -> None:
        """Drop the half-written file, leaving DEST as it was."""
        self.handle.close()
        self.staged.discard()
        if self.encoder:
            self.encoder.abort()

    def close(self) -> list[Path]:
        if self.as_array:
            self.handle.write("\n]\n" if self.rows else "]\n")
        self.handle.close()
        if self.encoder:
            self.encoder.finish()
        written = [self.staged.commit()] + ([self.encoder.directory] if self.encoder else [])
        for name, content in self.fmt.side_files(self.options, self.path, self.rows, self.keys).items():
            written.append(write_json(self.options.dest / name, content))
        return written


def write_json(path: Path, content: object) -> Path:
    write_atomic(path, (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def fps_value(fps: float) -> int | float:
    """1.0 -> 1: rows say `"sample_fps": 1`, and one number type per column."""
    return int(fps) if float(fps).is_integer() else fps


class KeyMaker:
    """Archive-safe unique keys from sample ids: no dots (webdataset splits keys at the first dot), no slashes."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, sample_id: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", sample_id) or "sample"
        key, number = base, 1
        while key in self.used:
            number += 1
            key = f"{base}_{number}"
        self.used.add(key)
        return key


def frames_digest(paths: Iterable[Union[Path, str]]) -> bytes:
    return hashlib.sha1("\n".join(str(path) for path in paths).encode("utf-8")).digest()


def padded_frames(frames: Sequence, factor: int) -> tuple:
    """The last frame repeated up to a multiple of `factor`, and to at least `factor` frames.

    For readers that sample a video's frames in groups of `factor`
    (qwen-vl-utils pairs them), so that every frame listed is one the model sees.
    """
    if factor <= 1 or not frames:
        return tuple(frames)
    target = max(factor, -(-len(frames) // factor) * factor)
    return tuple(frames) + (frames[-1],) * (target - len(frames))

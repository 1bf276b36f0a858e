"""Exports of a synth output to trainer formats: the registry and what every format shares.

A format turns format-neutral `Item`s (media + QA turns) into the files its
trainer's loader reads. Media paths are `Path`s when t2vid knows the file (a
frame of OUT, an mp4 it encoded): they are written absolute or relative to DEST
as asked. They are `str`s when the user gave them (real video rows in `mix`):
those pass through untouched, because only the user knows what they are
relative to.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Union

from t2vid.config import UsageError
from t2vid.writer import StagedFile, write_atomic

if TYPE_CHECKING:
    from t2vid.exports.mp4 import VideoEncoder

# name -> module holding `FORMAT`; modules load on use so `t2vid --help` stays fast.
FORMATS = {
    "llamafactory": "t2vid.exports.llamafactory",
    "swift": "t2vid.exports.swift",
    "minicpmv": "t2vid.exports.minicpmv",
    "internvl": "t2vid.exports.internvl",
    "qwen": "t2vid.exports.qwen",
    "llava": "t2vid.exports.llava",
    "mp4": "t2vid.exports.mp4",
    "webdataset": "t2vid.exports.webdataset",
    "hf": "t2vid.exports.hf",
}
PATH_STYLES = ("absolute", "relative")
MEDIA_TOKEN = re.compile(r"<(?:image|video)(?:_\d+)?>\n?")


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

    def summary(self) -> str:
        return f"t2vid export: {self.samples} samples -> {self.dest} ({self.format}): {', '.join(self.files)}"


class Placer:
    """Writes media paths: t2vid's files absolute or relative to DEST, the user's as given."""

    def __init__(self, dest: Path, style: str):
        self.dest = Path(os.path.abspath(dest))
        self.style = style

    def __call__(self, path: Union[Path, str]) -> str:
        if isinstance(path, str):
            return path
        absolute = os.path.abspath(path)
        placed = absolute if self.style == "absolute" else os.path.relpath(absolute, self.dest)
        return Path(placed).as_posix()


class Format:
    """One trainer's layout. Subclasses set `name`, `default_paths` and implement `open`."""

    name = ""
    default_paths = "relative"  # "absolute" where the trainer opens paths from its working directory
    supports_as_images = False

    def check(self, options: ExportOptions) -> None:
        if options.as_images and not self.supports_as_images:
            raise UsageError(f"--as-images applies to llamafactory and swift, not {self.name}")
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

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        raise NotImplementedError

    def parse(self, row: dict) -> Item | None:
        """A row of this format back to an Item (media paths as strings); None if it is not one."""
        raise NotImplementedError

    def media_encoder(self, options: ExportOptions) -> "VideoEncoder | None":
        """For formats that need video files rather than frames (LLaVA)."""
        return None

    def side_files(self, options: ExportOptions, data_path: Path, rows: int, keys: set[str]) -> dict[str, object]:
        """Extra JSON files the trainer needs, by file name; `keys` are the row keys used."""
        return {}

    def open(self, options: ExportOptions) -> "RowWriter":
        return RowWriter(self, options)


class RowWriter(Writer):
    """Streams rows to DEST/<data_file> under a temporary name; side files on close. DEST must exist."""

    def __init__(self, fmt: RowFormat, options: ExportOptions):
        self.fmt = fmt
        self.options = options
        self.place = fmt.placer(options)
        self.encoder = fmt.media_encoder(options)
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


def load_format(name: str) -> Format:
    if name not in FORMATS:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[name]).FORMAT


def write_json(path: Path, content: object) -> Path:
    write_atomic(path, (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def synthetic_item(sample: dict, out_root: Path) -> Item:
    """A synth sample as an Item; every frame must exist, since every exported path must resolve.

    `frame_path` refuses an image path that would leave OUT: an edited shard
    must not get a file from elsewhere copied into a tar or a Parquet file.
    """
    from t2vid.output import frame_path

    frames = []
    for relative in sample["images"]:
        path = Path(os.path.abspath(frame_path(out_root, relative)))
        if not path.is_file():
            raise ExportError(f"frame {relative} of sample {sample['id']} is missing from {out_root} (see `t2vid validate`)")
        frames.append(path)
    turns = [(sample["instruction"], sample["answer"])]
    turns += [(turn["instruction"], turn["answer"]) for turn in sample.get("turns") or ()]
    return Item(sample["id"], Frames(tuple(frames)), tuple(turns), sample)


def metadata(item: Item) -> dict:
    """A synth sample's fields for self-describing formats (webdataset, hf, mp4 index); same keys and types on every row."""
    record = item.record
    source = record.get("source") or {}
    return {
        "id": item.id,
        "instruction": item.turns[0][0],
        "answer": item.turns[0][1],
        "turns": [{"instruction": user, "answer": assistant} for user, assistant in item.turns[1:]],
        "texts": list(record.get("texts") or []),
        "num_frames": len(item.media.paths),
        "width": int(record.get("width") or 0),
        "height": int(record.get("height") or 0),
        "source": {"dataset": str(source.get("dataset", "")), "split": str(source.get("split", "")), "index": int(source.get("index", -1))},
    }


def fps_value(fps: float) -> int | float:
    """1.0 -> 1: rows say `"sample_fps": 1`, and one number type per column."""
    return int(fps) if float(fps).is_integer() else fps


def strip_media_tokens(text: str) -> str:
    return MEDIA_TOKEN.sub("", text).strip()


def pair_turns(messages: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...] | None:
    """(role, text) messages, role normalised to user/assistant (system dropped) -> (user, assistant) pairs; None if they do not alternate."""
    chat = [(role, text) for role, text in messages if role != "system"]
    if not chat or len(chat) % 2:
        return None
    turns = []
    for (user_role, question), (assistant_role, answer) in zip(chat[::2], chat[1::2]):
        if user_role != "user" or assistant_role != "assistant":
            return None
        turns.append((strip_media_tokens(question), answer))
    return tuple(turns)


ROLE_NAMES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def role_of(name: object) -> str:
    return ROLE_NAMES.get(str(name), "?")


@dataclass(frozen=True)
class ChatShape:
    """How a trainer spells a conversation: role and text keys, role names, plain or typed-part text.

    Every row format writes the first question after its media placeholders
    and the further turns as plain user/assistant messages, and reads them
    back the same way; this is that one loop, in each trainer's spelling.
    """

    role_key: str = "role"
    text_key: str = "content"
    user: str = "user"
    assistant: str = "assistant"
    typed_parts: bool = False  # Qwen: content is a list of {"type": "text", "text": ...} parts

    def content(self, text: str) -> Any:
        return [{"type": "text", "text": text}] if self.typed_parts else text

    def text(self, content: Any) -> str:
        if self.typed_parts:
            parts = content if isinstance(content, list) else []
            return "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict) and part.get("type") == "text")
        return str(content)

    def messages(self, turns: Iterable[tuple[str, str]], media: Any = "") -> list[dict]:
        """User/assistant messages for every turn; `media` (placeholders, or Qwen's video part list) leads the first question."""
        messages = []
        for number, (question, answer) in enumerate(turns):
            asked = self.content(question)
            messages.append({self.role_key: self.user, self.text_key: (media + asked) if number == 0 else asked})
            messages.append({self.role_key: self.assistant, self.text_key: self.content(answer)})
        return messages

    def turns(self, messages: list) -> tuple[tuple[str, str], ...] | None:
        """Messages of this shape back to (user, assistant) pairs, placeholders removed; None if they do not alternate."""
        return pair_turns((role_of(m.get(self.role_key)), self.text(m.get(self.text_key, ""))) for m in messages if isinstance(m, dict))


CHAT = ChatShape()  # OpenAI-style {"role", "content"}: LLaMA-Factory, ms-swift, MiniCPM-V
SHAREGPT = ChatShape("from", "value", "human", "gpt")  # LLaVA, InternVL
QWEN_CHAT = ChatShape(typed_parts=True)


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


def iter_items(out: Path) -> Iterator[Item]:
    from t2vid.output import read_output

    root = Path(out)
    for sample in read_output(root):
        yield synthetic_item(sample, root)


def progress_bar(total: int, description: str, show: bool):
    """tqdm on a terminal (unless --quiet); nothing when stderr is a file or pipe."""
    from tqdm import tqdm

    return tqdm(total=total, unit=" samples", disable=None if show else True, desc=description, dynamic_ncols=True)


def export(out: str | os.PathLike, format_name: str, options: ExportOptions, progress: bool = True) -> ExportReport:
    """Write OUT's samples to DEST in FORMAT; streams, so memory does not grow with the output."""
    from t2vid.output import make_dir, read_manifest

    fmt = load_format(format_name)
    fmt.check(options)
    total = int(read_manifest(out).get("samples") or 0)
    make_dir(options.dest)
    writer = fmt.open(options)
    count = 0
    try:
        with progress_bar(total, f"export {format_name}", progress) as bar:
            for item in iter_items(Path(out)):
                writer.write(item)
                count += 1
                bar.update()
        files = writer.close()
    except BaseException:
        writer.abort()
        raise
    names = [os.path.relpath(path, options.dest) for path in files]
    return ExportReport(format_name, str(options.dest), count, names)

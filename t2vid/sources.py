"""Load: SOURCE arguments -> a stream of raw records, each with its position.

JSON and JSONL are parsed here, line by line or element by element, so one
broken line becomes one reject instead of failing the file (the Arrow JSON
reader behind `datasets` stops at the first bad line and refuses a column
whose type varies). Parquet, CSV and Hub ids stream through `datasets`.
Nothing is held in memory beyond the record being read.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from t2vid.errors import UsageError
from t2vid.rejects import Reject

LOCAL_FORMATS = {".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet", ".csv": "csv"}
BUILTIN_SAMPLE = "t2vid:sample"
MAX_ELEMENT_CHARS = 256 << 20  # a JSON array element that does not parse within this is broken, not large


@dataclass(frozen=True)
class SourceRef:
    """Where a record came from: `index` is its position within `dataset`."""

    dataset: str
    split: str
    index: int


@dataclass(frozen=True)
class RawRecord:
    position: int  # position across all sources of the run
    source: SourceRef
    record: Any  # the parsed value (normally a dict); None when `error` is set
    error: Reject | None = None  # why the record could not be read (stage `read`)
    raw: str | None = None  # the raw text when it could not be parsed


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # json | parquet | csv | hub
    paths: tuple[str, ...] = ()


def builtin_sample_path() -> str:
    return str(resources.files("t2vid") / "data" / "sample.jsonl")


def resolve_sources(specs: tuple[str, ...] | list[str], exclude: str | os.PathLike | None = None) -> list[Source]:
    """Files, directories, globs and Hub ids -> sources; a missing local path is a usage error.

    A file named twice is read once, and nothing inside `exclude` (the output
    directory) or inside any other t2vid output is read as input.
    """
    if not specs:
        return [Source(BUILTIN_SAMPLE, "json", (builtin_sample_path(),))]
    skip = Path(exclude).resolve() if exclude else None
    sources: list[Source] = []
    seen: set[Path] = set()

    def add(files, expanded: bool = True) -> None:
        for file in files:
            real = Path(file).resolve()
            inside = (skip is not None and real.is_relative_to(skip)) or (expanded and _inside_t2vid_output(real))
            if real not in seen and not inside:
                seen.add(real)
                sources.append(_file_source(str(file)))

    for spec in specs:
        path = Path(spec).expanduser()
        if any(ch in spec for ch in "*?["):
            files = sorted(p for p in glob.glob(str(path), recursive=True) if Path(p).suffix.lower() in LOCAL_FORMATS)
            if not files:
                raise UsageError(f"no JSON/JSONL/Parquet/CSV files match {spec!r}")
            add(files)
        elif path.is_dir():
            files = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LOCAL_FORMATS)
            if not files:
                raise UsageError(f"directory {spec} holds no JSON/JSONL/Parquet/CSV files")
            add(files)
        elif path.is_file():
            if path.suffix.lower() not in LOCAL_FORMATS:
                raise UsageError(f"{spec}: unsupported file type {path.suffix or '(none)'}; use .json, .jsonl, .parquet or .csv")
            add([str(path)], expanded=False)
        elif _looks_like_hub_id(spec):
            sources.append(Source(spec, "hub"))
        else:
            raise UsageError(f"file not found: {spec}")
    if not sources:
        raise UsageError("every input file given lies inside the output directory or another t2vid output")
    return sources


def _inside_t2vid_output(path: Path) -> bool:
    """Files of a t2vid output (a folder with manifest.json and shards/) are never input of a directory or glob."""
    return any((parent / "manifest.json").is_file() and (parent / "shards").is_dir() for parent in path.parents)


def _file_source(path: str) -> Source:
    return Source(path, LOCAL_FORMATS[Path(path).suffix.lower()], (path,))


def _looks_like_hub_id(spec: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?", spec)) and Path(spec).suffix.lower() not in LOCAL_FORMATS


def iter_records(sources: list[Source], split: str = "train", subset: str | None = None, limit: int | None = None) -> Iterator[RawRecord]:
    """Every record of every source in order, numbered across the run."""
    position = 0
    for source in sources:
        for index, (record, error, raw) in enumerate(_read(source, split, subset)):
            if limit is not None and position >= limit:
                return
            yield RawRecord(position, SourceRef(source.name, split, index), record, error, raw)
            position += 1


def _read(source: Source, split: str, subset: str | None) -> Iterator[tuple[Any, Reject | None, str | None]]:
    try:
        if source.kind == "json":
            yield from _read_json(source.paths[0])
        elif source.kind == "csv":
            yield from _read_csv(source.paths[0])
        else:
            yield from _read_datasets(source, split, subset)
    except OSError as exc:
        raise UsageError(f"cannot read {source.name}: {exc.strerror or exc}") from None


def _read_datasets(source: Source, split: str, subset: str | None) -> Iterator[tuple[Any, None, None]]:
    import datasets
    import huggingface_hub

    datasets.logging.set_verbosity_error()
    huggingface_hub.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    try:
        if source.kind == "hub":
            stream = datasets.load_dataset(source.name, subset, split=split, streaming=True)
        else:
            stream = datasets.load_dataset(source.kind, data_files=list(source.paths), split="train", streaming=True)
        for row in stream:
            yield row, None, None
    except (FileNotFoundError, ConnectionError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = " (no such local file either)" if source.kind == "hub" else ""
        raise UsageError(f"cannot load {source.name}{hint}: {first}") from None


def _read_csv(path: str) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """CSV rows as dicts of strings: no type guessing, so an answer "42" stays "42"."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if None in row:  # more cells than header columns
                yield None, Reject("read", "csv_cell_count", f"CSV line {reader.line_num} has {len(reader.fieldnames or []) + len(row[None])} cells for {len(reader.fieldnames or [])} columns"), ",".join(str(v) for v in row.values() if not isinstance(v, list))
            else:
                yield row, None, None


def _read_json(path: str) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """A .json array (read element by element), or JSON Lines (.jsonl, or a .json that is not an array)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        head = handle.read(4096)
        handle.seek(0)
        if Path(path).suffix.lower() == ".json" and head.lstrip().startswith("["):
            yield from _read_json_array(handle)
            return
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line), None, None
            except json.JSONDecodeError as exc:
                yield None, Reject("read", "invalid_json", f"line {number} is not valid JSON ({exc.msg} at character {exc.pos})"), line.rstrip("\n")


def _read_json_array(handle, chunk_size: int = 1 << 20) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """Stream the elements of a top-level JSON array without loading the file."""
    decoder = json.JSONDecoder()
    index = 0
    buffer = handle.read(chunk_size)
    pos = buffer.index("[") + 1
    eof = False
    while True:
        while True:  # skip whitespace and the comma between elements
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or eof:
                break
            buffer, pos = handle.read(chunk_size), 0
            eof = not buffer
        if pos >= len(buffer) or buffer[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if eof or len(buffer) - pos > MAX_ELEMENT_CHARS:
                yield None, Reject("read", "invalid_json", f"array element {index} is not valid JSON ({exc.msg}); the rest of the file cannot be read"), buffer[pos : pos + 2000]
                return
            more = handle.read(chunk_size)
            eof = not more
            buffer, pos = buffer[pos:] + more, 0
            continue
        if end == len(buffer) and not eof:  # a number may continue in the next chunk
            more = handle.read(chunk_size)
            if more:
                buffer, pos, eof = buffer[pos:] + more, 0, False
                continue
            eof = True
        yield value, None, None
        index += 1
        buffer, pos = buffer[end:], 0

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
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from t2vid.errors import UsageError
from t2vid.files import kind_of, not_regular, regular_files_under
from t2vid.rejects import Reject
from t2vid.writer import owner_of

LOCAL_FORMATS = {".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet", ".csv": "csv"}
BUILTIN_SAMPLE = "t2vid:sample"
MAX_ELEMENT_CHARS = 256 << 20  # a JSON array element that does not parse within this is broken, not large
CSV_FIELD_LIMIT = MAX_ELEMENT_CHARS  # the csv module's default (128 KiB) is a 20,000-word context
MAX_DEPTH = 100  # JSON nesting levels a record may have; deeper is a reject, not a RecursionError later


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


@dataclass
class ReadMeter:
    """How far reading has got, so progress can show a total and an ETA before the input ends.

    Parquet files state their row count; JSON, JSONL and CSV files are
    estimated from the bytes read so far against their size. A Hub dataset
    gives no count up front, so with one the total stays unknown.
    """

    known_records: int | None = 0  # records counted up front; None: some source cannot say
    text_bytes: int = 0  # size of all JSON/JSONL/CSV files
    text_records: int = 0  # records read from them so far
    _bytes_done: int = 0  # of the text files finished
    _reading: Any = None  # the binary buffer of the text file being read
    _reading_size: int = 0  # its size

    @classmethod
    def of(cls, sources: list["Source"]) -> "ReadMeter":
        meter = cls()
        for source in sources:
            try:
                if source.kind == "parquet" and meter.known_records is not None:
                    import pyarrow.parquet

                    meter.known_records += sum(pyarrow.parquet.read_metadata(path).num_rows for path in source.paths)
                elif source.kind in ("json", "csv"):
                    meter.text_bytes += sum(os.path.getsize(path) for path in source.paths)
                elif source.kind != "parquet":
                    meter.known_records = None
            except (OSError, ValueError):  # unreadable: the read stage reports it; the total stays unknown
                meter.known_records = None
        return meter

    def reading(self, handle) -> None:
        """A text file is opened: the one before it has been read whole."""
        self._bytes_done += self._reading_size
        self._reading, self._reading_size = handle.buffer, os.fstat(handle.fileno()).st_size

    def bytes_read(self) -> int:
        reading = self._reading
        if reading is None:
            return self._bytes_done
        return self._bytes_done + (self._reading_size if reading.closed else reading.tell())

    def estimated_total(self) -> int | None:
        """Records in all sources: exact for Parquet, scaled from bytes read for text files."""
        if self.known_records is None:
            return None
        if not self.text_bytes:
            return self.known_records
        read = self.bytes_read()
        if not read or not self.text_records:
            return None
        return self.known_records + max(self.text_records, round(self.text_records * self.text_bytes / read))


def builtin_sample_path() -> str:
    return str(resources.files("t2vid") / "data" / "sample.jsonl")


def resolve_sources(specs: tuple[str, ...] | list[str], exclude: str | os.PathLike | None = None) -> list[Source]:
    """Files, directories, globs and Hub ids -> sources; a missing local path is a usage error.

    A file named twice is read once. Nothing inside `exclude` (the output
    directory) or inside any other t2vid output is read from a directory or
    glob; a file named explicitly there is a usage error, since `--overwrite`
    would delete it. Only regular files are read: a FIFO, a device or a
    symlink loop is a usage error naming what it is.
    """
    if not specs:
        return [Source(BUILTIN_SAMPLE, "json", (builtin_sample_path(),))]
    skip = Path(exclude).resolve() if exclude else None
    sources: list[Source] = []
    seen: set[Path] = set()
    names: set[str] = set()
    owned: dict[Path, bool] = {}  # folder -> holds a t2vid ownership marker

    def add(files, spec: str, base: Path, expanded: bool = True) -> None:
        for file in files:
            problem = not_regular(file, f"input {spec!r}:" if expanded else "input")
            if problem:
                raise UsageError(problem)
            real = Path(file).resolve()
            in_output = skip is not None and real.is_relative_to(skip)
            if in_output and not expanded:
                raise UsageError(f"input {file} lies inside the output directory {skip}; move it out or pick another -o")
            if real not in seen and not in_output and not (expanded and _inside_t2vid_output(real, owned)):
                seen.add(real)
                name = _dataset_name(Path(file), base, names)
                names.add(name)
                sources.append(Source(name, LOCAL_FORMATS[real.suffix.lower()], (str(file),)))

    for spec in specs:
        path = Path(spec).expanduser()
        kind = kind_of(path)
        if any(ch in spec for ch in "*?["):
            files = sorted(p for p in glob.glob(str(path), recursive=True) if Path(p).suffix.lower() in LOCAL_FORMATS)
            if not files:
                raise UsageError(f"no JSON/JSONL/Parquet/CSV files match {spec!r}")
            add(files, spec, Path(*_fixed_prefix(path.parts) or ["."]))
        elif kind == "directory":
            files = [str(p) for p in regular_files_under(path) if p.suffix.lower() in LOCAL_FORMATS]
            if not files:
                raise UsageError(f"directory {spec} holds no JSON/JSONL/Parquet/CSV files")
            add(files, spec, path)
        elif kind == "file":
            if path.suffix.lower() not in LOCAL_FORMATS:
                raise UsageError(f"{spec}: unsupported file type {path.suffix or '(none)'}; use .json, .jsonl, .parquet or .csv")
            add([str(path)], spec, path.parent, expanded=False)
        elif kind != "missing":
            raise UsageError(not_regular(path, "input"))
        elif _looks_like_hub_id(spec):
            sources.append(Source(spec, "hub"))
        else:
            raise UsageError(f"file not found: {spec}")
    if not sources:
        raise UsageError("every input file given lies inside the output directory or another t2vid output")
    return sources


def _inside_t2vid_output(path: Path, owned: dict[Path, bool]) -> bool:
    """Files of a t2vid output are never input of a directory or glob; `owned` keeps each folder's answer for its other files."""
    for parent in path.parents:
        if parent not in owned:
            owned[parent] = owner_of(parent) is not None
        if owned[parent]:
            return True
    return False


def _fixed_prefix(parts: tuple[str, ...]) -> list[str]:
    """The leading path parts of a glob that hold no wildcard."""
    fixed = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return fixed


def _dataset_name(file: Path, base: Path, taken: set[str]) -> str:
    """`source.dataset` of a file: its path below the directory its SOURCE names.

    A file named directly is its file name, a file found in a directory or glob
    its path below that directory, so records are named alike however the path
    was typed (relative or absolute, file or folder). Where two sources would
    share a name, the path as given tells them apart.
    """
    name = file.relative_to(base).as_posix() if file.is_relative_to(base) else file.name
    for candidate in (name, file.as_posix(), file.resolve().as_posix()):
        if candidate not in taken:
            return candidate
    raise AssertionError(f"two sources resolve to {file.resolve()}")  # excluded by `seen`


def _looks_like_hub_id(spec: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?", spec)) and Path(spec).suffix.lower() not in LOCAL_FORMATS


def iter_records(sources: list[Source], split: str = "train", subset: str | None = None, limit: int | None = None, meter: ReadMeter | None = None) -> Iterator[RawRecord]:
    """Every record of every source in order, numbered across the run (`meter` follows the bytes read)."""
    position = 0
    meter = meter or ReadMeter()
    for source in sources:
        for index, (record, error, raw) in enumerate(_read(source, split, subset, meter)):
            if limit is not None and position >= limit:
                return
            meter.text_records += source.kind in ("json", "csv")
            yield RawRecord(position, SourceRef(source.name, split, index), record, error, raw)
            position += 1


def _read(source: Source, split: str, subset: str | None, meter: ReadMeter) -> Iterator[tuple[Any, Reject | None, str | None]]:
    try:
        if source.kind == "json":
            yield from _read_json(source.paths[0], meter)
        elif source.kind == "csv":
            yield from _read_csv(source.paths[0], meter)
        else:
            yield from _read_datasets(source, split, subset)
    except OSError as exc:
        raise UsageError(f"cannot read {source.paths[0] if source.paths else source.name}: {exc.strerror or exc}") from None


def _read_datasets(source: Source, split: str, subset: str | None) -> Iterator[tuple[Any, None, None]]:
    import datasets
    import huggingface_hub

    datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # a bad file is our one-line error, not also a log line
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


def _read_csv(path: str, meter: ReadMeter) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """CSV rows as dicts of strings: no type guessing, so an answer "42" stays "42".

    A cell over CSV_FIELD_LIMIT (or any row the csv module cannot parse) is a
    reject for that row; the reader goes on with the next line.
    """
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        meter.reading(handle)
        reader = csv.DictReader(handle)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield None, Reject("read", "csv_unreadable_row", f"CSV line {reader.reader.line_num} cannot be read ({exc})"), None
                continue
            if None in row:  # more cells than header columns
                yield None, Reject("read", "csv_cell_count", f"CSV line {reader.line_num} has {len(reader.fieldnames or []) + len(row[None])} cells for {len(reader.fieldnames or [])} columns"), ",".join(str(v) for v in row.values() if not isinstance(v, list))
            else:
                yield row, None, None


def _problem(exc: Exception) -> tuple[str, str]:
    """Why one JSON value could not be read: its reject code and words; the caller says which line or element."""
    if isinstance(exc, RecursionError):
        return "too_deeply_nested", f"is nested too deeply (over {MAX_DEPTH} levels)"
    if isinstance(exc, json.JSONDecodeError):
        return "invalid_json", f"is not valid JSON ({exc.msg} at character {exc.pos})"
    if isinstance(exc, ValueError) and "digits" in str(exc):  # int() refuses literals over sys.get_int_max_str_digits()
        return "integer_too_long", f"has an integer of over {sys.get_int_max_str_digits()} digits"
    return "unreadable_record", f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})"


def _read_reject(problem: tuple[str, str], where: str, suffix: str = "") -> Reject:
    code, words = problem
    return Reject("read", code, f"{where} {words}{suffix}")


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Nested deeper than `limit`: later stages (pickling to workers, JSON lines) recurse, so it is refused here."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _parsed(text: str) -> tuple[Any, tuple[str, str] | None]:
    """One JSON document -> (value, None), or (None, the problem)."""
    try:
        value = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - whatever one line does, it is that line's reject
        return None, _problem(exc)
    return (None, _problem(RecursionError())) if _too_deep(value) else (value, None)


def _read_json(path: str, meter: ReadMeter) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """A .json array (read element by element), or JSON Lines (.jsonl, or a .json that is not an array)."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as handle:
        meter.reading(handle)
        head = handle.read(4096)
        handle.seek(0)
        if Path(path).suffix.lower() == ".json" and head.lstrip().startswith("["):
            yield from _read_json_array(handle)
            return
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            value, problem = _parsed(line)
            yield (value, None, None) if problem is None else (None, _read_reject(problem, f"line {number}"), line.rstrip("\n"))


_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_SCALAR_END = re.compile(r"[\s,\]]")


def _value_end(buffer: str, pos: int) -> int | None:
    """Where the JSON value at `pos` ends, by counting brackets outside strings; None if the buffer ends first.

    Used only for an element the decoder refused without a syntax error (too
    deep, too long an integer), to step over it to the next element.
    """
    if buffer[pos] not in '[{"':
        found = _SCALAR_END.search(buffer, pos)
        return found.start() if found else None
    depth, at = 0, pos
    while True:
        found = _BRACKET_OR_QUOTE.search(buffer, at)
        if found is None:
            return None
        at = found.end()
        if found.group() == '"':
            string = _STRING_REST.match(buffer, at)
            if string is None:
                return None
            at = string.end()
        else:
            depth += 1 if found.group() in "[{" else -1
        if depth == 0:
            return at


def _read_json_array(handle, chunk_size: int = 1 << 20) -> Iterator[tuple[Any, Reject | None, str | None]]:
    """Stream the elements of a top-level JSON array without loading the file.

    A missing closing `]` or text after it is one more reject, so nothing in
    the file goes unseen and uncounted.
    """
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
        if pos >= len(buffer):
            yield None, Reject("read", "array_not_closed", f"the array has no closing ] (after {index} elements)"), buffer[-2000:]
            return
        if buffer[pos] == "]":
            rest = buffer[pos + 1 :]
            while not rest.strip() and (more := handle.read(chunk_size)):
                rest = more
            if rest.strip():
                yield None, Reject("read", "text_after_array", f"text after the closing ] of the array is ignored ({rest.strip()[:60]!r})"), rest.strip()[:2000]
            return
        try:
            value, end = decoder.raw_decode(buffer, pos)
            problem = _problem(RecursionError()) if _too_deep(value) else None
        except json.JSONDecodeError as exc:
            if eof or len(buffer) - pos > MAX_ELEMENT_CHARS:
                yield None, Reject("read", "invalid_json", f"array element {index} is not valid JSON ({exc.msg}); the rest of the file cannot be read"), buffer[pos : pos + 2000]
                return
            more = handle.read(chunk_size)
            eof = not more
            buffer, pos = buffer[pos:] + more, 0
            continue
        except Exception as exc:  # noqa: BLE001 - too deep, too long a number: this element's reject
            value, problem, end = None, _problem(exc), _value_end(buffer, pos)
            if end is None:
                if eof or len(buffer) - pos > MAX_ELEMENT_CHARS:
                    yield None, _read_reject(problem, f"array element {index}", "; the rest of the file cannot be read"), buffer[pos : pos + 2000]
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
        if problem is None:
            yield value, None, None
        else:
            yield None, _read_reject(problem, f"array element {index}"), buffer[pos:end][:2000]
        index += 1
        buffer, pos = buffer[end:], 0

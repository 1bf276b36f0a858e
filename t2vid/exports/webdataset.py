"""WebDataset: tar shards of {key}.json + {key}.f000.png, ... (frames in order).

Keys are sample ids with every character other than letters, digits, `_` and
`-` replaced by `_` (WebDataset splits a member name at its first dot), made
unique with a numeric suffix. Members have a zero mtime, uid/gid 0 and no
owner names, so the same output gives the same bytes. DEST's earlier
shard-*.tar files are replaced, and the ones the new export does not write
deleted, only once every new shard is complete: a failed export leaves the
previous shards as they were.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from t2vid.exports.base import ExportOptions, Format, Item, KeyMaker, Writer
from t2vid.exports.items import metadata
from t2vid.writer import StagedFile
from t2vid.writer import OutputDir


def frame_member(key: str, index: int, count: int, path: Path) -> str:
    """Named like synth's frame files (zero-padded), so that a plain sort gives frame order."""
    return f"{key}.{OutputDir.frame_name(index, count, Path(path).suffix.lower().lstrip('.'))}"


class WebDatasetWriter(Writer):
    def __init__(self, options: ExportOptions):
        self.options = options
        self.keys = KeyMaker()
        self.samples = 0
        self.tar: tarfile.TarFile | None = None
        self.staged: list[StagedFile] = []

    def _next_shard(self) -> None:
        self._close_tar()
        self.staged.append(StagedFile(self.options.dest / f"shard-{len(self.staged):05d}.tar"))
        self.tar = tarfile.open(self.staged[-1].temporary, "w", format=tarfile.PAX_FORMAT)

    def _close_tar(self) -> None:
        if self.tar is not None:
            self.tar.close()
            self.tar = None

    def _add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self.tar.addfile(info, io.BytesIO(data))

    def write(self, item: Item) -> None:
        if self.samples % self.options.shard_size == 0:
            self._next_shard()
        key = self.keys(item.id)
        self._add(f"{key}.json", json.dumps(metadata(item), ensure_ascii=False).encode("utf-8"))
        paths = item.media.paths
        for index, path in enumerate(paths):
            self._add(frame_member(key, index, len(paths), path), Path(path).read_bytes())
        self.samples += 1

    def close(self) -> list[Path]:
        if not self.staged:
            self._next_shard()
        self._close_tar()
        written = [staged.commit() for staged in self.staged]
        for stale in set(self.options.dest.glob("shard-*.tar")) - set(written):
            stale.unlink()
        return written

    def abort(self) -> None:
        self._close_tar()
        for staged in self.staged:
            staged.discard()


class WebDatasetFormat(Format):
    name = "webdataset"

    def open(self, options: ExportOptions) -> WebDatasetWriter:
        return WebDatasetWriter(options)


FORMAT = WebDatasetFormat()

"""WebDataset: tar shards of {key}.json + {key}.f000.png, ... (frames in order).

Keys are sample ids with every character other than letters, digits, `_` and
`-` replaced by `_` (WebDataset splits a member name at its first dot), made
unique with a numeric suffix. Members have a zero mtime, uid/gid 0 and no
owner names, so the same output gives the same bytes. DEST's earlier
shard-*.tar files are replaced.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from t2vid.exports import ExportOptions, Format, Item, KeyMaker, Writer, metadata


def frame_member(key: str, index: int, count: int, path: Path) -> str:
    """Zero-padded like synth's frame names so that a plain sort gives frame order."""
    return f"{key}.f{index:0{max(3, len(str(count - 1)))}d}{Path(path).suffix.lower()}"


class WebDatasetWriter(Writer):
    def __init__(self, options: ExportOptions):
        self.options = options
        options.dest.mkdir(parents=True, exist_ok=True)
        for stale in options.dest.glob("shard-*.tar"):
            stale.unlink()
        self.keys = KeyMaker()
        self.samples = 0
        self.tar: tarfile.TarFile | None = None
        self.temporary: Path | None = None
        self.written: list[Path] = []

    def _next_shard(self) -> None:
        self._close_shard()
        path = self.options.dest / f"shard-{len(self.written):05d}.tar"
        self.temporary = path.with_name(path.name + ".tmp")
        self.tar = tarfile.open(self.temporary, "w", format=tarfile.PAX_FORMAT)
        self.written.append(path)

    def _close_shard(self) -> None:
        if self.tar is not None:
            self.tar.close()
            os.replace(self.temporary, self.written[-1])
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
        if not self.written:
            self._next_shard()
        self._close_shard()
        return self.written

    def abort(self) -> None:
        if self.tar is not None:
            self.tar.close()
            self.temporary.unlink(missing_ok=True)


class WebDatasetFormat(Format):
    name = "webdataset"

    def open(self, options: ExportOptions) -> WebDatasetWriter:
        return WebDatasetWriter(options)


FORMAT = WebDatasetFormat()

"""WebDataset: tar shards of {key}.json + {key}.f000.png, ... (frames in order).

Keys are sample ids with every character other than letters, digits, `_` and
`-` replaced by `_` (WebDataset splits a member name at its first dot), made
unique with a numeric suffix. Members have a zero mtime, uid/gid 0 and no
owner names, so the same output gives the same bytes. Shards are staged and
committed together (see `sharded`): a failed export leaves the previous
shards as they were.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from t2vid.exports.base import ExportOptions, Format, Item, KeyMaker
from t2vid.exports.items import metadata
from t2vid.exports.sharded import ShardedWriter
from t2vid.writer import OutputDir


def frame_member(key: str, index: int, count: int, path: Path) -> str:
    """Named like synth's frame files (zero-padded), so that a plain sort gives frame order."""
    return f"{key}.{OutputDir.frame_name(index, count, Path(path).suffix.lower().lstrip('.'))}"


class WebDatasetWriter(ShardedWriter):
    def __init__(self, options: ExportOptions):
        super().__init__(options, options.dest)
        self.keys = KeyMaker()
        self.tar: tarfile.TarFile | None = None

    def shard_name(self, number: int, count: int | None) -> str:
        return f"shard-{number:05d}.tar"

    def open_shard(self, path: Path) -> None:
        self.tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)

    def close_shard(self) -> None:
        self.tar.close()

    def _member(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self.tar.addfile(info, io.BytesIO(data))

    def add(self, item: Item) -> None:
        key = self.keys(item.id)
        self._member(f"{key}.json", json.dumps(metadata(item), ensure_ascii=False).encode("utf-8"))
        paths = item.media.paths
        for index, path in enumerate(paths):
            self._member(frame_member(key, index, len(paths), path), Path(path).read_bytes())


class WebDatasetFormat(Format):
    name = "webdataset"

    def open(self, options: ExportOptions) -> WebDatasetWriter:
        return WebDatasetWriter(options)


FORMAT = WebDatasetFormat()

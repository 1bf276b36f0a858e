"""The shared shape of sharded exports (webdataset tars, hf Parquet): numbered files, staged, committed together.

Each shard is written under a hidden temporary name and renamed into place
only in `close`, after every shard is complete, so a failed export leaves
DEST's earlier files as they were. Which earlier files are stale, and that
nothing in DEST that t2vid did not write is touched, is decided once for
every format by the ownership marker of DEST (`t2vid.writer.ExportFolder`,
applied by `export`); a sharded writer never deletes by name pattern.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from t2vid.exports.base import ExportOptions, Item, Writer
from t2vid.writer import StagedFile


class ShardedWriter(Writer):
    """Items -> shards of `options.shard_size`; subclasses open, fill and close one shard file."""

    def __init__(self, options: ExportOptions, folder: Path):
        self.options = options
        self.folder = folder
        self.folder.mkdir(exist_ok=True)
        self.samples = 0
        self.staged: list[StagedFile] = []
        self._shard_open = False

    def shard_name(self, number: int, count: int | None) -> str:
        """File name of shard `number`; `count` is None while writing (the total is known only at the end)."""
        raise NotImplementedError

    def open_shard(self, path: Path) -> None:
        raise NotImplementedError

    def add(self, item: Item) -> None:
        raise NotImplementedError

    def close_shard(self) -> None:
        raise NotImplementedError

    def _next_shard(self) -> None:
        self._close_current()
        self.staged.append(StagedFile(self.folder / self.shard_name(len(self.staged), None)))
        self.open_shard(self.staged[-1].temporary)
        self._shard_open = True

    def _close_current(self) -> None:
        if self._shard_open:
            self.close_shard()
            self._shard_open = False

    def write(self, item: Item) -> None:
        if self.samples % self.options.shard_size == 0:
            self._next_shard()
        self.add(item)
        self.samples += 1

    def close(self) -> list[Path]:
        """Every shard renamed into place (an empty export still writes one, empty, shard)."""
        if not self.staged:
            self._next_shard()
        self._close_current()
        count = len(self.staged)
        return [staged.commit(self.folder / self.shard_name(number, count)) for number, staged in enumerate(self.staged)]

    def abort(self) -> None:
        """Discard every staged shard; a shard that fails to close is discarded all the same (the first error is the one reported)."""
        with suppress(Exception):
            self._close_current()
        for staged in self.staged:
            staged.discard()

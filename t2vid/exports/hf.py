"""Hugging Face datasets: Parquet shards with the frames embedded, plus the same data saved for load_from_disk.

DEST/data/train-NNNNN-of-NNNNN.parquet is what `load_dataset("parquet",
data_files=...)` (or `load_dataset(DEST)`) and the Hub read; DEST/arrow/ is
`Dataset.save_to_disk` output for `load_from_disk`. `frames` is a sequence of
Image features holding each frame's bytes, so the dataset no longer needs OUT.
Both layouts hold every frame: together about twice the size of the frames.
The Parquet shards spell their feature metadata the way datasets 2.x/3.x do,
so every version t2vid supports reads them; arrow/ is whatever the installed
datasets writes (with datasets >= 4, readable by >= 4 only).
DEST's earlier files are replaced only once the new ones are complete: the
Parquet shards when all are written (see `sharded`), arrow/'s files when
they have been rebuilt beside the old ones.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from t2vid.exports.base import ExportOptions, Format, Item
from t2vid.exports.items import metadata
from t2vid.exports.sharded import ShardedWriter

ROW_GROUP = 100  # rows per Parquet row group: datasets' choice for image data, keeps readers' memory small
DISK_DIR = "arrow"


def features():
    from datasets import Features, Image, Sequence, Value

    text = Value("string")
    return Features(
        {
            "id": text,
            "frames": Sequence(Image()),
            "instruction": text,
            "answer": text,
            "turns": [{"instruction": text, "answer": text}],
            "texts": Sequence(text),
            "num_frames": Value("int32"),
            "width": Value("int32"),
            "height": Value("int32"),
            "source": {"dataset": text, "split": text, "index": Value("int64")},
        }
    )


def legacy_spelling(feature):
    """Feature metadata as datasets 2.x/3.x spell it: datasets >= 4 writes `List`, which they cannot read.

    A list of values or images becomes `Sequence` (length -1), a list of
    structs the one-element list that older versions use for it; datasets 4
    and 5 read this spelling back as the same `List` features.
    """
    if isinstance(feature, dict) and feature.get("_type") == "List":
        inner = legacy_spelling(feature["feature"])
        if isinstance(inner, dict) and "_type" not in inner:
            return [inner]
        return {"feature": inner, "length": feature.get("length", -1), "_type": "Sequence"}
    if isinstance(feature, dict) and "_type" not in feature:
        return {name: legacy_spelling(value) for name, value in feature.items()}
    return feature


def arrow_schema(features):
    """The Parquet schema with feature metadata every datasets version since 2.16 reads."""
    schema = features.arrow_schema
    metadata = json.loads(schema.metadata[b"huggingface"])
    metadata["info"]["features"] = legacy_spelling(metadata["info"]["features"])
    return schema.with_metadata({"huggingface": json.dumps(metadata)})


class HfWriter(ShardedWriter):
    def __init__(self, options: ExportOptions):
        import pyarrow.parquet

        super().__init__(options, options.dest / "data")
        self.parquet = pyarrow.parquet
        self.features = features()
        self.schema = arrow_schema(self.features)
        self.pending: list[dict] = []
        self.shard_writer = None

    def shard_name(self, number: int, count: int | None) -> str:
        return f"train-{number:05d}.parquet" if count is None else f"train-{number:05d}-of-{count:05d}.parquet"

    def open_shard(self, path: Path) -> None:
        self.shard_writer = self.parquet.ParquetWriter(path, self.schema)

    def _flush(self) -> None:
        if self.pending:
            import pyarrow

            self.shard_writer.write_table(pyarrow.Table.from_pylist(self.pending, schema=self.schema))
            self.pending = []

    def close_shard(self) -> None:
        try:
            self._flush()
        finally:
            self.shard_writer.close()

    def add(self, item: Item) -> None:
        example = metadata(item)
        names = item.record.get("images") or [Path(path).name for path in item.media.paths]
        example["frames"] = [{"bytes": Path(path).read_bytes(), "path": name} for name, path in zip(names, item.media.paths)]
        self.pending.append(self.features.encode_example(example))
        if len(self.pending) == ROW_GROUP:
            self._flush()

    def close(self) -> list[Path]:
        shards = super().close()
        return shards + self._save_to_disk(shards)

    def _save_to_disk(self, shards: list[Path]) -> list[Path]:
        """The Parquet shards re-saved in save_to_disk's layout (Arrow files, state.json) beside DEST, then moved into arrow/ file by file.

        File by file, so that only files of this layout are replaced; stale
        ones of an earlier export are removed by DEST's ownership marker.
        """
        target = self.options.dest / DISK_DIR
        staging = Path(tempfile.mkdtemp(dir=self.options.dest, prefix=f".{DISK_DIR}-"))
        try:
            self._save_arrow(shards, staging / DISK_DIR)
            target.mkdir(exist_ok=True)
            moved = []
            for built in sorted((staging / DISK_DIR).iterdir()):
                moved.append(target / built.name)
                os.replace(built, moved[-1])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return moved

    def _save_arrow(self, shards: list[Path], target: Path) -> None:
        import datasets

        bars_were_on = not datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()
        written_at = {shard: shard.stat().st_mtime for shard in shards}
        try:
            for shard in shards:
                os.utime(shard, (0, 0))  # the fingerprint in state.json hashes the files' mtimes: fixed, it is reproducible
            with tempfile.TemporaryDirectory(dir=self.options.dest, prefix=".hf-cache-") as cache:
                dataset = datasets.Dataset.from_parquet([str(shard) for shard in shards], features=self.features, cache_dir=cache)
                dataset.save_to_disk(str(target), num_shards=len(shards))
                del dataset
        finally:
            for shard, mtime in written_at.items():
                os.utime(shard, (mtime, mtime))
            if bars_were_on:
                datasets.enable_progress_bars()


class HfFormat(Format):
    name = "hf"

    def open(self, options: ExportOptions) -> HfWriter:
        return HfWriter(options)


FORMAT = HfFormat()

"""A synth output's samples as format-neutral Items, and the metadata self-describing formats carry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from t2vid.exports.base import ExportError, Frames, Item


def synthetic_item(sample: dict, out_root: Path, real_folders: set[str] | None = None) -> Item:
    """A synth sample as an Item; every frame must exist, since every exported path must resolve.

    `frame_path` refuses an image path that would leave OUT: an edited shard
    must not get a file from elsewhere copied into a tar or a Parquet file
    (`real_folders`: see `path_problem`).
    """
    from t2vid.output import frame_path

    frames = []
    for relative in sample["images"]:
        path = Path(os.path.abspath(frame_path(out_root, relative, real_folders)))
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


def iter_items(out: Path) -> Iterator[Item]:
    from t2vid.output import read_output

    root = Path(out)
    real_folders: set[str] = set()
    for sample in read_output(root):
        yield synthetic_item(sample, root, real_folders)

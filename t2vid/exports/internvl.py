"""InternVL chat finetune: JSONL annotation rows plus the meta JSON that --meta_path points to.

Frames are the multi-image row (`image` list, one `<image>` line per frame in
the first human turn); a video file is a `video` row with `<video>`. InternVL
joins the meta's `root` to every path, so relative paths (the default) are
relative to DEST and `root` is DEST's absolute path.
"""

from __future__ import annotations

import os
from pathlib import Path

from t2vid.exports.base import ExportOptions, Frames, Item, Placer, RowFormat, VideoFile
from t2vid.exports.chat import SHAREGPT


class InternVLFormat(RowFormat):
    name = "internvl"
    reads_video_files = False  # video rows need InternVL's internal storage client (tcs_loader)

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        if isinstance(item.media, VideoFile):
            media, prefix = {"video": place(item.media.path)}, "<video>\n"
        else:
            media = {"image": [place(path) for path in item.media.paths]}
            prefix = "<image>\n" * len(media["image"])
        return {"id": item.id, **media, "conversations": SHAREGPT.messages(item.turns, prefix)}

    def parse(self, row: dict) -> Item | None:
        conversations = row.get("conversations")
        if not isinstance(conversations, list):
            return None
        if isinstance(row.get("image"), list) and row["image"]:
            media = Frames(tuple(map(str, row["image"])))
        elif isinstance(row.get("image"), str) and row["image"]:
            media = Frames((row["image"],))
        elif isinstance(row.get("video"), str) and row["video"]:
            media = VideoFile(row["video"])
        else:
            return None
        turns = SHAREGPT.turns(conversations)
        return Item(str(row.get("id", "")), media, turns) if turns else None

    def side_files(self, options: ExportOptions, data_path: Path, rows: int, keys: set[str]) -> dict[str, object]:
        meta = {
            options.name: {
                "root": os.path.abspath(options.dest),
                "annotation": os.path.abspath(data_path),
                "data_augment": False,
                "repeat_time": 1,
                "length": rows,
            }
        }
        return {"meta.json": meta}


FORMAT = InternVLFormat()

"""MiniCPM-V finetune (finetune/dataset.py): one JSON array, frames as the multi-image dict.

`image` maps `<image_00>`, `<image_01>`, ... to frame paths and the first user
message carries those placeholders, one per line, before the question. The
script opens paths from its working directory, so they default to absolute.
It has no video-file reader: video rows must already be frames.
"""

from __future__ import annotations

from t2vid.exports.base import ExportError, ExportOptions, Frames, Item, Placer, RowFormat, VideoFile
from t2vid.exports.chat import CHAT


def placeholder(index: int) -> str:
    return f"<image_{index:02d}>"


class MiniCPMVFormat(RowFormat):
    name = "minicpmv"
    data_file = "train.json"
    default_paths = "absolute"
    reads_video_files = False

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        if isinstance(item.media, VideoFile):
            raise ExportError(f"{item.id or 'a row'}: MiniCPM-V's finetune script reads frames, not video files; give those rows as minicpmv rows with frame paths")
        images = {placeholder(index): place(path) for index, path in enumerate(item.media.paths)}
        return {"id": item.id, "image": images, "conversations": CHAT.messages(item.turns, "".join(f"{name}\n" for name in images))}

    def parse(self, row: dict) -> Item | None:
        image, conversations = row.get("image"), row.get("conversations")
        if not isinstance(conversations, list) or not image:
            return None
        if isinstance(image, dict):
            paths = tuple(str(image[name]) for name in sorted(image))
        elif isinstance(image, str):
            paths = (image,)
        else:
            return None
        turns = CHAT.turns(conversations)
        return Item(str(row.get("id", "")), Frames(paths), turns) if turns else None


FORMAT = MiniCPMVFormat()

"""LLaVA-NeXT / LLaVA-Video: a JSON array of {"id", "video", "conversations"} rows, with the mp4s.

LLaVA-Video's loader decodes video files (it reads frame folders only under
one dataset's name), so the export encodes each distinct frame sequence to
DEST/videos/<key>.mp4 at --fps (see `t2vid.exports.mp4`). The first human turn
carries one `<image>`, LLaVA's token for a video. Paths are relative to DEST:
train with `--video_folder DEST`.
"""

from __future__ import annotations

from t2vid.exports.base import ExportOptions, Item, Placer, RowFormat, VideoFile
from t2vid.exports.chat import SHAREGPT
from t2vid.exports.mp4 import VideoEncoder, import_av


class LlavaFormat(RowFormat):
    name = "llava"
    data_file = "train.json"

    def check(self, options: ExportOptions) -> None:
        super().check(options)
        import_av()

    def media_encoder(self, options: ExportOptions) -> VideoEncoder:
        return VideoEncoder(options.dest, options.fps, options.workers)

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        return {"id": item.id, "video": place(item.media.path), "conversations": SHAREGPT.messages(item.turns, "<image>\n")}

    def parse(self, row: dict) -> Item | None:
        video, conversations = row.get("video"), row.get("conversations")
        if not isinstance(video, str) or not video or not isinstance(conversations, list):
            return None
        turns = SHAREGPT.turns(conversations)
        return Item(str(row.get("id", "")), VideoFile(video), turns) if turns else None


FORMAT = LlavaFormat()

"""Qwen2/2.5/3-VL chat messages, read with qwen-vl-utils `process_vision_info`.

The first user message holds {"type": "video", "video": [frame paths],
"sample_fps": FPS} then the question as a text part. qwen-vl-utils pads a
frame list to a multiple of 2 by repeating the last frame; the export does the
same so that every listed frame is what the model sees. Paths are opened from
the trainer's working directory, so they default to absolute.
"""

from __future__ import annotations

from pathlib import Path

from t2vid.exports.base import ExportOptions, Frames, Item, Placer, RowFormat, VideoFile, fps_value, padded_frames
from t2vid.exports.chat import QWEN_CHAT

class QwenFormat(RowFormat):
    name = "qwen"
    default_paths = "absolute"
    uniform_media = True
    video_frame_factor = 2

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        if isinstance(item.media, VideoFile):
            video = {"type": "video", "video": place(item.media.path)}
            if isinstance(item.media.path, Path):  # t2vid's own mp4: sampled at its own rate, every frame is kept
                video["fps"] = fps_value(options.fps)
        else:
            video = {"type": "video", "video": list(padded_frames([place(path) for path in item.media.paths], self.video_frame_factor)), "sample_fps": fps_value(options.fps)}
        return {"messages": QWEN_CHAT.messages(item.turns, [video])}

    def parse(self, row: dict) -> Item | None:
        messages = row.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) and isinstance(m.get("content"), list) for m in messages):
            return None
        videos = [part["video"] for m in messages for part in m["content"] if isinstance(part, dict) and part.get("video")]
        if not videos:
            return None
        media = Frames(tuple(map(str, videos[0]))) if isinstance(videos[0], list) else VideoFile(str(videos[0]))
        turns = QWEN_CHAT.turns(messages)
        return Item(str(row.get("id", "")), media, turns) if turns else None


FORMAT = QwenFormat()

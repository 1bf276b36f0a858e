"""LLaMA-Factory: sharegpt-style `messages` rows with a `videos` (or `images`) column, plus its dataset_info.json entry.

One video is one nested list of frame paths (LLaMA-Factory reads a list of
images as a video); the user message carries one `<video>` per video. With
--as-images the frames become N `<image>` tokens and an `images` list.
Relative paths resolve against LLaMA-Factory's `media_dir`, which defaults to
the `dataset_dir` holding dataset_info.json, i.e. DEST.
"""

from __future__ import annotations

import json
from pathlib import Path

from t2vid.exports.base import ExportError, ExportOptions, Frames, Item, Placer, RowFormat, VideoFile
from t2vid.exports.chat import CHAT


class MessagesFormat(RowFormat):
    """The {"messages", "videos"|"images"} row shape that LLaMA-Factory and ms-swift share."""

    supports_as_images = True
    uniform_media = True

    def row(self, item: Item, place: Placer, options: ExportOptions) -> dict:
        if isinstance(item.media, VideoFile):
            prefix, media = "<video>", {"videos": [place(item.media.path)]}
        elif options.as_images:
            paths = [place(path) for path in item.media.paths]
            prefix, media = "<image>" * len(paths), {"images": paths}
        else:
            prefix, media = "<video>", {"videos": [[place(path) for path in item.media.paths]]}
        return {"messages": CHAT.messages(item.turns, prefix), **media}

    def parse(self, row: dict) -> Item | None:
        messages = row.get("messages")
        if not isinstance(messages, list):
            return None
        turns = CHAT.turns(messages)
        videos, images = row.get("videos"), row.get("images")
        if videos:
            first = videos[0]
            media = Frames(tuple(map(str, first))) if isinstance(first, list) else VideoFile(str(first))
        elif images:
            media = Frames(tuple(map(str, images)))
        else:
            return None
        return Item(str(row.get("id", "")), media, turns) if turns else None


class LlamaFactoryFormat(MessagesFormat):
    name = "llamafactory"

    def side_files(self, options: ExportOptions, data_path: Path, rows: int, keys: set[str]) -> dict[str, object]:
        """dataset_info.json with this dataset's entry; other entries of an existing file are kept."""
        info_path = options.dest / "dataset_info.json"
        try:
            info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
        except ValueError as exc:
            raise ExportError(f"{info_path} exists but is not valid JSON ({exc}); move it away or fix it") from None
        columns = {"messages": "messages", **{key: key for key in ("videos", "images") if key in keys}}
        info[options.name] = {
            "file_name": data_path.name,
            "formatting": "sharegpt",
            "columns": columns,
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
        }
        return {"dataset_info.json": info}


FORMAT = LlamaFactoryFormat()

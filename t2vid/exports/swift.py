"""ms-swift: the standard `messages` rows with `videos` (or `images`) and `<video>`/`<image>` tags.

The row shape is LLaMA-Factory's. ms-swift opens relative paths from the
directory it is started in, so paths default to absolute here.
"""

from __future__ import annotations

from t2vid.exports.llamafactory import MessagesFormat


class SwiftFormat(MessagesFormat):
    name = "swift"
    default_paths = "absolute"
    video_frame_factor = 2  # Qwen-VL templates read video files through qwen-vl-utils


FORMAT = SwiftFormat()

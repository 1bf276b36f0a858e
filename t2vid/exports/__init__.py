"""Exports of a synth output to trainer formats.

The shared model and interfaces are in `base`, chat shapes in `chat`, a synth
output's samples as Items in `items`, the formats by name and `export` in
`registry`, and each trainer's format in a module of its own. This package
only re-exports the shared names, so a format module can import them from here
without loading any other format.
"""

from t2vid.exports.base import (
    ExportError,
    ExportOptions,
    ExportReport,
    Format,
    Frames,
    Item,
    KeyMaker,
    Media,
    MediaEncoder,
    Placer,
    RowFormat,
    RowWriter,
    VideoFile,
    Writer,
    fps_value,
    frames_digest,
    write_json,
)
from t2vid.exports.chat import CHAT, MEDIA_TOKEN, QWEN_CHAT, ROLE_NAMES, SHAREGPT, ChatShape, pair_turns, role_of, strip_media_tokens
from t2vid.exports.items import iter_items, metadata, synthetic_item

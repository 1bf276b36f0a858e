"""Dataset-specific parsers that split a combined prompt into context and question.

Each is registered by name with `@parser` and named by a preset file.
"""

from __future__ import annotations

from t2vid.adapt import Parsed, Preset, parser, require_text  # noqa: F401

"""Settings of a synth run: one object, built once from a YAML file and flags.

Every field here is written to the manifest's `config`; all but
`RUNTIME_KEYS` must match for an existing OUT to be resumed. This module is
the base layer: it imports no stage, so anything may import it cheaply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from t2vid.errors import UsageError
from t2vid.style import RenderStyle

SEGMENTERS = ("words", "sentences", "fit")  # words: at most N per frame; sentences: whole sentences up to N; fit: fill each frame


@dataclass(frozen=True)
class SynthConfig:
    sources: tuple[str, ...] = ()
    output: str = ""
    split: str = "train"
    subset: str | None = None
    preset: str = "generic"
    context_field: str | None = None
    question_field: str | None = None
    answer_field: str | None = None
    instruction_template: str | None = None
    min_context_words: int | None = None
    nq_short_answer: bool = False
    segmenter: str = "words"
    words_per_frame: int = 115
    overlap: int = 0
    style: RenderStyle = field(default_factory=RenderStyle)
    style_jitter: bool = False
    jitter_fonts: tuple[tuple[str, int], ...] = ()  # resolved (font file, face index) pairs
    jitter_font_sizes: tuple[int, int] = (18, 24)
    font_fallback: bool = True
    seed: int = 0
    limit: int | None = None
    shard_size: int = 1000
    profile: str | None = None
    tokenizer: str | None = None
    max_frames: int | None = None
    min_frames: int | None = None
    fit_budget: bool = False
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    engine: str = "local"
    ray_address: str | None = None
    overwrite: bool = False
    quiet: bool = False

    def validate(self) -> None:
        try:
            self.style.validate()
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        checks = (
            (self.words_per_frame >= 1, f"--words-per-frame must be at least 1, not {self.words_per_frame}"),
            (self.overlap >= 0, f"--overlap must be 0 or more, not {self.overlap}"),
            (self.shard_size >= 1, f"--shard-size must be at least 1, not {self.shard_size}"),
            (self.workers >= 1, f"--workers must be at least 1, not {self.workers}"),
            (self.limit is None or self.limit >= 0, f"--limit must be 0 or more, not {self.limit}"),
            (self.engine in ("local", "ray"), f"--engine must be local or ray, not {self.engine!r}"),
            (self.segmenter in SEGMENTERS, f"--segmenter must be one of {', '.join(SEGMENTERS)}, not {self.segmenter!r}"),
            (all(v is None or v >= 0 for v in (self.max_frames, self.min_frames, self.min_context_words)), "--max-frames, --min-frames and --min-context-words must be 0 or more"),
            (self.max_frames is None or self.min_frames is None or self.min_frames <= self.max_frames, f"--min-frames {self.min_frames} is above --max-frames {self.max_frames}"),
            (len(self.jitter_font_sizes) == 2 and 4 <= self.jitter_font_sizes[0] <= self.jitter_font_sizes[1] <= 512, f"--jitter-font-sizes must be MIN,MAX within 4..512, not {self.jitter_font_sizes}"),
        )
        for ok, message in checks:
            if not ok:
                raise UsageError(message)


RUNTIME_KEYS = ("workers", "engine", "ray_address", "overwrite", "quiet", "output")  # may differ on resume
STYLE_KEYS = {f.name for f in fields(RenderStyle)}
CONFIG_KEYS = {f.name for f in fields(SynthConfig)} - {"style"}


def parse_size(value: str) -> tuple[int, int]:
    """'448x448' -> (448, 448)."""
    try:
        width, height = (int(part) for part in str(value).lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like WIDTHxHEIGHT (e.g. 448x448), not {value!r}") from None
    return width, height


# Flag names that are not setting names: flag -> (setting, transform).
FLAG_ALIASES = {
    "no_font_fallback": ("font_fallback", lambda value: not value),
    "jitter_font": ("jitter_fonts", lambda value: value),
}


def read_config_file(path: str | os.PathLike) -> dict:
    """A user YAML with the same keys as the flags (dashes or underscores)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"config file {path} must be a mapping of option names to values")
    return settings_from_flags({str(k).replace("-", "_"): v for k, v in data.items()})


def settings_from_flags(values: dict) -> dict:
    """Flag names and values -> setting names and values (`no_font_fallback: true` -> `font_fallback: false`)."""
    settings = {}
    for name, value in values.items():
        setting, transform = FLAG_ALIASES.get(name, (name, None))
        settings[setting] = transform(value) if transform else value
    return settings


def merge_settings(file_values: dict, flag_values: dict, explicit: set[str]) -> dict:
    """Flags given on the command line win over the file; the file wins over flag defaults."""
    merged = dict(file_values)
    for name, value in settings_from_flags(flag_values).items():
        given = any(flag in explicit for flag, (setting, _) in FLAG_ALIASES.items() if setting == name) or name in explicit
        if given or name not in merged:
            merged[name] = value
    return merged


def _coerce(name: str, value, kind: str):
    """Check a setting against its declared type; YAML and the Python API are not checked by click."""
    optional = kind.endswith("| None")
    kind = kind.replace(" | None", "")
    if value is None and optional:
        return None
    flag = "--" + name.replace("_", "-")
    if kind == "bool":
        if not isinstance(value, bool):
            raise UsageError(f"{flag} must be true or false, not {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{flag} must be a whole number, not {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{flag} must be a number, not {value!r}")
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise UsageError(f"{flag} must be a string, not {value!r}")
        return value
    if kind.startswith("tuple"):
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise UsageError(f"{flag} must be a list, not {value!r}")
        return tuple(tuple(item) if isinstance(item, list) else item for item in items)
    return value


def _typed(cls, values: dict) -> dict:
    """Checked values; None for a setting that cannot be None means "the default"."""
    hints = {f.name: f.type for f in fields(cls)}
    return {name: _coerce(name, value, hints[name]) for name, value in values.items() if value is not None or "None" in hints[name]}


def build_config(values: dict) -> SynthConfig:
    """Setting values (flags already merged over the file) -> a checked SynthConfig."""
    values = settings_from_flags(values)
    unknown = set(values) - CONFIG_KEYS - STYLE_KEYS - {"size"}
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    style_values = {k: values.pop(k) for k in list(values) if k in STYLE_KEYS}
    if "size" in values:
        style_values["width"], style_values["height"] = parse_size(values.pop("size"))
    from t2vid.fonts import FontError, resolve_face

    values = _typed(SynthConfig, values)
    style_values = _typed(RenderStyle, style_values)
    try:
        face = resolve_face(style_values.pop("font", "") or None)
        jitter_faces = tuple(resolve_face(name) for name in values.get("jitter_fonts") or ())
    except FontError as exc:
        raise UsageError(str(exc)) from None
    style_values.update(font=face.path, font_index=face.index)
    values["jitter_fonts"] = tuple((f.path, f.index) for f in jitter_faces)
    config = SynthConfig(style=RenderStyle(**style_values), **values)
    config.validate()
    return config

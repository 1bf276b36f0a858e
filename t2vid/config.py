"""Settings of a synth run: one object, built once from a YAML file and flags.

Every field here is written to the manifest's `config`; all but
`RUNTIME_KEYS` must match for an existing OUT to be resumed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from t2vid.style import RenderStyle


class UsageError(ValueError):
    """Bad settings or arguments; the CLI prints it on one line and exits 2."""


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
    jitter_fonts: tuple[str, ...] = ()
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
            (self.segmenter in ("words", "sentences", "fit"), f"--segmenter must be words, sentences or fit, not {self.segmenter!r}"),
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
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def build_config(values: dict) -> SynthConfig:
    """Flat option values (flags already merged over the file) -> SynthConfig."""
    values = dict(values)
    unknown = set(values) - CONFIG_KEYS - STYLE_KEYS - {"size", "font_size_range"}
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    style_values = {k: values.pop(k) for k in list(values) if k in STYLE_KEYS}
    if "size" in values:
        style_values["width"], style_values["height"] = parse_size(values.pop("size"))
    if "font_size_range" in values:
        values["jitter_font_sizes"] = tuple(values.pop("font_size_range"))
    from t2vid.fonts import FontError, resolve_face

    try:
        face = resolve_face(style_values.pop("font", None) or None)
        jitter_faces = tuple(resolve_face(name) for name in values.get("jitter_fonts") or ())
    except FontError as exc:
        raise UsageError(str(exc)) from None
    style_values.update(font=face.path, font_index=face.index)
    values["jitter_fonts"] = tuple(f"{f.path}#{f.index}" for f in jitter_faces)
    for key in ("sources",):
        values[key] = tuple(values.get(key) or ())
    try:
        style = RenderStyle(**style_values)
        config = SynthConfig(style=style, **values)
    except TypeError as exc:
        raise UsageError(f"bad setting: {exc}") from None
    config.validate()
    return config


def configs_dir(kind: str) -> Path:
    """configs/<kind> of a checkout, installed as the package data t2vid.configs."""
    from importlib import resources

    return Path(str(resources.files("t2vid.configs"))) / kind


def read_named_config(name_or_path: str, kind: str) -> tuple[Path, dict]:
    """A preset or profile by name (configs/<kind>s/NAME.yaml) or by YAML path, as a mapping with its name."""
    folder = configs_dir(f"{kind}s")
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = folder / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.yaml")))
        raise UsageError(f"unknown {kind} {name_or_path!r}; known {kind}s: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{kind} file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{kind} file {path} must be a mapping of keys to values")
    data.setdefault("name", path.stem)
    return path, data


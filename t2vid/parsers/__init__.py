"""The preset registry: dataset presets (configs/presets/*.yaml) and the parsers they name.

Importing this package registers every parser (t2vid.parsers.datasets), so a
preset can be checked against PARSERS as soon as it is loaded.
"""

from __future__ import annotations

from t2vid.errors import UsageError
from t2vid.parsers import datasets  # noqa: F401  - registers the parsers presets name
from t2vid.parsers.base import PARSER_FIELDS, PARSERS, Preset
from t2vid.presets import configs_dir, read_named_config
from t2vid.style import WHITESPACE_MODES


def list_presets() -> dict[str, Preset]:
    return {p.stem: load_preset(p.stem) for p in sorted(configs_dir("presets").glob("*.yaml"))}


def load_preset(name_or_path: str) -> Preset:
    path, data = read_named_config(name_or_path, "preset", Preset)
    if data["parser"] not in PARSERS:
        raise UsageError(f"preset {path.stem}: unknown parser {data['parser']!r}")
    preset = Preset(**data)
    bad = {k: v for k, v in preset.whitespace_by_dataset.items() if v not in WHITESPACE_MODES}
    if bad:
        raise UsageError(f"preset {path.stem}: `whitespace_by_dataset` maps dataset names to one of {', '.join(WHITESPACE_MODES)} (got {bad!r})")
    missing = [key for key in PARSER_FIELDS[preset.parser] if key not in preset.fields]
    if missing:
        raise UsageError(f"preset {path.stem}: `fields` must name {', '.join(missing)} for parser {preset.parser}")
    return preset

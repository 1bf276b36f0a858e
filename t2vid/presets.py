"""Where preset and profile YAML files live and how they are read (configs/presets/, configs/profiles/).

A name means configs/<kind>s/NAME.yaml of the package; a path to a .yaml
file is read as is. What a preset or profile means is up to its reader
(t2vid.parsers, t2vid.budget); this module only finds and parses the files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from t2vid.errors import UsageError


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


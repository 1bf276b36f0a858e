"""Where preset and profile YAML files live and how they are read (configs/presets/, configs/profiles/).

A name means configs/<kind>s/NAME.yaml of the package; a path to a .yaml
file is read as is. What a preset or profile means is up to its reader
(t2vid.parsers, t2vid.budget), whose dataclass says which keys and values a
file may hold; this module finds and parses the files and checks them
against that dataclass.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

import yaml

from t2vid.errors import UsageError
from t2vid.files import not_regular, read_small_text


def configs_dir(kind: str) -> Path:
    """configs/<kind> of a checkout, installed as the package data t2vid.configs.

    A checkout run from its own directory (PYTHONPATH) reads its own configs,
    even when another checkout is installed in editable mode.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "configs" / kind).is_dir():
        return checkout / "configs" / kind
    from importlib import resources

    return Path(str(resources.files("t2vid.configs"))) / kind


# The kinds of value a file may give a field, by the field's annotation; `metadata={"kind": ...}` names another.
_KINDS = {"str": "str", "int": "count", "float": "number", "bool": "bool"}  # any other annotation: a mapping
_KIND_WORDS = {
    "str": "a string",
    "mapping": "a mapping",
    "count": "a whole number of 0 or more",
    "number": "a number of 0 or more",
    "bool": "true or false",
    "template": "a string with a {question} placeholder",
}
TEMPLATE = {"kind": "template"}  # field metadata: a string with a {question} placeholder


def _value_ok(value, kind: str) -> bool:
    if kind in ("count", "number"):
        number = int if kind == "count" else (int, float)
        return isinstance(value, number) and not isinstance(value, bool) and value >= 0
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "template":
        return isinstance(value, str) and "{question}" in value
    return isinstance(value, str)


def check_fields(cls, data: dict, where: str, prefix: str = "") -> None:
    """`data` as the keyword arguments of dataclass `cls`: no unknown keys, none missing, every value of its field's kind.

    The dataclass is the one table of what a preset, a profile or a processor
    may hold, so a bad value is a usage error naming the file, not a failure
    in a worker. A field without a default is required; None is allowed where
    the annotation allows it.
    """
    spec = {f.name: f for f in fields(cls)}
    unknown = sorted(str(key) for key in data if key not in spec)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(prefix + key for key in unknown)}; known: {', '.join(prefix + key for key in spec)}")
    for key, f in spec.items():
        annotation = str(f.type)
        kind = f.metadata.get("kind") or _KINDS.get(annotation.removesuffix(" | None"), "mapping")
        if key not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise UsageError(f"{where}: missing `{prefix}{key}` ({_KIND_WORDS[kind]}" + (", one line saying what it is for)" if key == "description" else ")"))
            continue
        value = data[key]
        if value is None and annotation.endswith(" | None"):
            continue
        if not _value_ok(value, kind):
            raise UsageError(f"{where}: {prefix}{key} must be {_KIND_WORDS[kind]}, not {value!r}")


def read_named_config(name_or_path: str, kind: str, cls) -> tuple[Path, dict]:
    """A preset or profile by name (configs/<kind>s/NAME.yaml) or by YAML path, checked as the fields of `cls`, with its name.

    Only a regular file is read (a FIFO or device is named, never read), and at most MAX_SMALL_FILE bytes.
    """
    folder = configs_dir(f"{kind}s")
    path = Path(name_or_path)
    special = not_regular(path, f"{kind} file") if path.suffix in (".yaml", ".yml") else None
    if special:
        raise UsageError(special)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = folder / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(folder.glob("*.yaml")))
        raise UsageError(f"unknown {kind} {name_or_path!r}; known {kind}s: {known}")
    try:
        data = yaml.safe_load(read_small_text(path, f"{kind} file")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{kind} file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{kind} file {path} must be a mapping of keys to values")
    data.setdefault("name", path.stem)
    check_fields(cls, data, f"{kind} file {path}")
    return path, data

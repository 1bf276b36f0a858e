"""Where preset and profile YAML files live and how they are read (configs/presets/, configs/profiles/).

A name means configs/<kind>s/NAME.yaml of the package; a path to a .yaml
file is read as is. What a preset or profile means is up to its reader
(t2vid.parsers, t2vid.budget); this module only finds and parses the files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from t2vid.errors import UsageError
from t2vid.files import kind_of, not_regular, read_small_text


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


# What a preset or profile file may hold: key -> (type name, required). Checked when the file is read,
# so a bad value is a usage error naming the file, not a failure in a worker.
NAMED_CONFIG_KEYS: dict[str, dict[str, tuple[str, bool]]] = {
    "preset": {
        "name": ("str", False),
        "description": ("str", True),
        "parser": ("str", True),
        "fields": ("mapping", True),
        "instruction_template": ("template", False),
        "min_context_words": ("count", False),
        "options": ("mapping", False),
        "whitespace_by_dataset": ("mapping", False),
    },
    "profile": {
        "name": ("str", False),
        "description": ("str", True),
        "source": ("str", False),
        "max_frames": ("count", False),
        "tokens_per_frame": ("count", False),
        "max_tokens": ("count", False),
        "processor": ("mapping", False),  # its keys depend on its family: checked by t2vid.budget
        "template_tokens": ("count", False),
        "turn_tokens": ("count", False),
    },
}
_KIND_WORDS = {"str": "a string", "mapping": "a mapping", "count": "a whole number of 0 or more", "template": "a string with a {question} placeholder"}


def _value_ok(value, kind: str) -> bool:
    if kind == "count":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "template":
        return isinstance(value, str) and "{question}" in value
    return isinstance(value, str)


def check_named_config(kind: str, path: Path, data: dict) -> None:
    """Keys and value types of a preset or profile file, with the same rules as the flags they stand beside."""
    spec = NAMED_CONFIG_KEYS[kind]
    unknown = sorted(str(key) for key in data if key not in spec)
    if unknown:
        raise UsageError(f"{kind} file {path}: unknown key(s) {', '.join(unknown)}; a {kind} has {', '.join(spec)}")
    for key, (value_kind, required) in spec.items():
        if key not in data:
            if required:
                raise UsageError(f"{kind} file {path}: missing `{key}` ({_KIND_WORDS[value_kind]}" + (", one line saying what it is for)" if key == "description" else ")"))
            continue
        value = data[key]
        if value is None and not required and value_kind != "mapping":
            continue
        if not _value_ok(value, value_kind):
            raise UsageError(f"{kind} file {path}: {key} must be {_KIND_WORDS[value_kind]}, not {value!r}")


def read_named_config(name_or_path: str, kind: str) -> tuple[Path, dict]:
    """A preset or profile by name (configs/<kind>s/NAME.yaml) or by YAML path, as a checked mapping with its name.

    Only a regular file is read (a FIFO or device is named, never read), and at most MAX_SMALL_FILE bytes.
    """
    folder = configs_dir(f"{kind}s")
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and kind_of(path) not in ("file", "missing"):
        raise UsageError(not_regular(path, f"{kind} file"))
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
    check_named_config(kind, path, data)
    data.setdefault("name", path.stem)
    return path, data

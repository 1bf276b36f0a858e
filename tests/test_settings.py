"""Settings are defined once: the CLI's option defaults agree with the SynthConfig/RenderStyle defaults of the Python API.

Both are written by hand (click options in cli.py, dataclass fields in
config.py and style.py); this test is what ties them, so `t2vid synth` and
`t2vid.synth(build_config({...}))` mean the same run.
"""

from __future__ import annotations

import dataclasses

import click
import pytest

from t2vid.cli import cli
from t2vid.config import SynthConfig, settings_from_flags
from t2vid.style import RenderStyle

REQUIRED_ARGS = {"synth": ["-o", "out"], "render": ["text", "-o", "out.png"]}
NOT_SETTINGS = {"config_file", "text"}  # read by the command itself
DEFAULT_MEANS_UNSET = None  # a None default: build_config then takes the dataclass default


def dataclass_defaults() -> dict:
    defaults = {}
    for cls in (SynthConfig, RenderStyle):
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                defaults[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING and f.name not in ("style", "workers"):  # workers: the machine's cores, in both
                defaults[f.name] = f.default_factory()
    return defaults


def cli_defaults(name: str) -> dict:
    """The values a command sees when only its required arguments are given (types and callbacks applied)."""
    command = cli.get_command(None, name)
    with command.make_context(name, list(REQUIRED_ARGS[name])) as ctx:
        given = {p.name for p in command.params if p.required or isinstance(p, click.Argument)}
        return {key: value for key, value in ctx.params.items() if key not in given | NOT_SETTINGS}


@pytest.mark.parametrize("name", ["synth", "render"])
def test_option_defaults_match_the_settings_dataclasses(name):
    defaults = dataclass_defaults()
    values = settings_from_flags(cli_defaults(name))
    if "size" in values:
        values["width"], values["height"] = (int(v) for v in values.pop("size").split("x"))
    unknown = sorted(set(values) - set(defaults) - {"workers"})
    assert not unknown, f"options of `t2vid {name}` that are no setting: {unknown}"
    drift = {key: (value, defaults[key]) for key, value in values.items() if key in defaults and value is not DEFAULT_MEANS_UNSET and value != defaults[key]}
    assert not drift, f"`t2vid {name}` option default vs dataclass default: {drift}"


def test_the_comparison_sees_every_style_option():
    values = settings_from_flags(cli_defaults("synth"))
    assert {"size", "font_size", "margin", "line_spacing", "png_bits", "jitter_font_sizes", "font_fallback", "words_per_frame"} <= set(values)

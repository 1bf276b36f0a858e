"""t2vid: long-text QA data -> video-like multi-frame training samples (T2Vid / Sparrow)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "synth", "render_text", "read_output", "SynthConfig", "RenderStyle", "build_config"]


def __getattr__(name: str):
    # Lazy: `import t2vid` stays cheap in worker processes and for `t2vid --help`.
    if name == "synth":
        from t2vid.run import synth

        return synth
    if name == "render_text":
        from t2vid.render import render_text

        return render_text
    if name == "read_output":
        from t2vid.output import read_output

        return read_output
    if name in ("SynthConfig", "build_config"):
        from t2vid import config

        return getattr(config, name)
    if name == "RenderStyle":
        from t2vid.style import RenderStyle

        return RenderStyle
    raise AttributeError(name)

"""The `t2vid` command: parses options, builds settings, calls the library.

Exit codes: 0 success, 1 the work found a problem (validate, verify) or had to
stop (disk full), 2 bad usage. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from t2vid import __version__
from t2vid.config import ENGINES, RAY_STORAGES, SEGMENTERS, build_config, merge_settings, read_config_file
from t2vid.errors import SynthError, UsageError
from t2vid.style import ALIGNS, IMAGE_FORMATS, MODES, VALIGNS, WHITESPACE_MODES

STYLE_OPTIONS = {
    "size": click.option("--size", default="448x448", show_default=True, help="Frame size WIDTHxHEIGHT."),
    "font": click.option("--font", default=None, help="Font file or installed family name (fontconfig). Default: the system sans font."),
    "font_size": click.option("--font-size", type=int, default=20, show_default=True, help="Font size in pixels."),
    "margin": click.option("--margin", type=int, default=10, show_default=True, help="Blank band on every side, in pixels."),
    "line_spacing": click.option("--line-spacing", type=float, default=1.15, show_default=True, help="Line pitch as a multiple of the font size."),
    "cjk_line_spacing": click.option("--cjk-line-spacing", type=float, default=1.3, show_default=True, help="Line pitch of lines holding CJK text (never below --line-spacing)."),
    "align": click.option("--align", type=click.Choice(ALIGNS), default="start", show_default=True, help="start/end: the side a paragraph begins/ends on (right/left for Arabic and Hebrew); left, center, justify: the same for every script."),
    "whitespace": click.option("--whitespace", type=click.Choice(WHITESPACE_MODES), default=None, help="collapse: one run of words; lines: keep line breaks and paragraph gaps; preserve: also indentation and runs of spaces (monospaced font unless --font).  [default: lines; presets keep code's whitespace]"),
    "valign": click.option("--valign", type=click.Choice(VALIGNS), default="top", show_default=True, help="Vertical placement of the text block."),
    "fg": click.option("--fg", default="#000000", show_default=True, help="Text colour."),
    "bg": click.option("--bg", default="#ffffff", show_default=True, help="Background colour."),
    "mode": click.option("--mode", type=click.Choice(MODES), default="L", show_default=True, help="L = 8-bit grayscale (smaller, faster; trainers convert on load)."),
    "image_format": click.option("--image-format", type=click.Choice(IMAGE_FORMATS), default="png", show_default=True, help="Encoding of the frame files."),
    "quality": click.option("--quality", type=int, default=90, show_default=True, help="JPEG/WebP quality."),
    "png_compress_level": click.option("--png-compress-level", type=int, default=1, show_default=True, help="zlib level 0-9 for PNG (1: fastest; 6: ~25% smaller, 1.5x slower)."),
    "png_bits": click.option("--png-bits", type=click.Choice(["8", "4"]), default="8", show_default=True, callback=lambda c, p, v: int(v), help="4: 16 grey levels, faster and smaller (with --mode L)."),
}


def style_options(function=None, *, skip: tuple[str, ...] = ()):
    """Attach the frame style options shared by synth and render (minus `skip`)."""

    def attach(function):
        for name, option in reversed(STYLE_OPTIONS.items()):
            if name not in skip:
                function = option(function)
        return function

    return attach(function) if function else attach


# Commands that live beside the work they do (exports, inspection), imported only when named or listed:
# `t2vid synth` and every other command skip importing them all (with the pool apart from the pipeline and fontTools
# left unloaded: `--version` 414 -> 196 ms, `stats` 510 -> 332 ms; docs/performance.md).
ELSEWHERE = {
    "export": "t2vid.exports.cli:export_command",
    "mix": "t2vid.exports.cli:mix_command",
    "preview": "t2vid.inspect.cli:preview_command",
    "stats": "t2vid.inspect.cli:stats_command",
    "validate": "t2vid.inspect.cli:validate_command",
    "diversity": "t2vid.inspect.cli:diversity_command",
    "verify": "t2vid.inspect.cli:verify_command",
    "score": "t2vid.inspect.cli:score_command",
}


def _summarised(command: click.Command) -> click.Command:
    """`t2vid --help` lists each command's first paragraph, not a cut-off line."""
    command.short_help = " ".join((command.help or "").split("\n\n")[0].split())
    return command


class CommandGroup(click.Group):
    """The commands of this module, and those named in ELSEWHERE, imported the first time they are asked for."""

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted({*self.commands, *ELSEWHERE})

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        if name not in self.commands and name in ELSEWHERE:
            module, attribute = ELSEWHERE[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return self.commands.get(name)

    def add_command(self, command: click.Command, name: str | None = None) -> None:
        super().add_command(_summarised(command), name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """click suggests a command for a misspelt one from the commands loaded so far: offer them all."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None


def all_commands() -> dict[str, click.Command]:
    """Every `t2vid` command by name (for documentation and its checks)."""
    return {name: cli.get_command(None, name) for name in cli.list_commands(None)}


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="t2vid")
def cli():
    """Turn long-text QA data into video-like multi-frame training samples (T2Vid)."""


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("-o", "--output", required=True, help="Output directory (created; resumed if it holds the same run).")
@click.option("--config", "config_file", default=None, help="YAML file with the same keys as these flags; flags win.")
@click.option("--split", default="train", show_default=True, help="Split of a Hub dataset.")
@click.option("--subset", default=None, help="Subset (config name) of a Hub dataset.")
@click.option("--preset", default="generic", show_default=True, help="Field mapping / prompt parser; see `t2vid presets`.")
@click.option("--context-field", default=None, help="Override the preset's context field.")
@click.option("--question-field", default=None, help="Override the preset's question field.")
@click.option("--answer-field", default=None, help="Override the preset's answer field.")
@click.option("--instruction-template", default=None, help='e.g. "The video shows pages of a document. {question}"')
@click.option("--min-context-words", type=int, default=None, help="Reject contexts shorter than this (preset default).")
@click.option("--nq-short-answer", is_flag=True, help="Natural-Questions rows: the paper's short answer + document ID style.")
@click.option("--segmenter", type=click.Choice(SEGMENTERS), default="words", show_default=True, help="words: at most N words/frame; sentences: whole sentences up to N; fit: fill each frame.")
@click.option("--words-per-frame", type=int, default=115, show_default=True, help="N for words/sentences (a CJK character counts as one word).")
@click.option("--overlap", type=int, default=0, show_default=True, help="Repeat the last K lines of a frame atop the next.")
@style_options
@click.option("--style-jitter", is_flag=True, help="Seeded per-sample variety: font (from --jitter-font), size, legible colours.")
@click.option("--jitter-font", multiple=True, help="Font to draw from with --style-jitter (repeatable).")
@click.option("--jitter-font-sizes", default="18,24", show_default=True, callback=lambda c, p, v: _int_pair(v), help="Font size range MIN,MAX for --style-jitter.")
@click.option("--no-font-fallback", is_flag=True, help="Do not look for other installed fonts for missing characters.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of everything random (the --style-jitter draws); same seed, same output.")
@click.option("--limit", type=int, default=None, help="Read at most N input records.")
@click.option("--shard-size", type=int, default=1000, show_default=True, help="Input records per output shard (the unit of resume).")
@click.option("--profile", default=None, help="Model budget (see `t2vid presets`): reject samples over it.")
@click.option("--tokenizer", default=None, help="Locally installed HF tokenizer for text tokens (else an estimate).")
@click.option("--max-frames", type=int, default=None, help="Reject samples with more frames than this (with --profile the smaller limit wins).")
@click.option("--min-frames", type=int, default=None, help="Reject samples with fewer frames than this.")
@click.option("--fit-budget", is_flag=True, help="Over budget: retry with a denser layout before rejecting.")
@click.option("--tasks", default=None, metavar="KIND[,KIND...]", help="Add generated temporal tasks: locate, order, next, count, before_after, needle, first_last, or all (see docs/tasks.md).")
@click.option("--tasks-per-sample", type=int, default=3, show_default=True, help="Generated tasks per sample, at most (fewer when a context is too short for a kind).")
@click.option("--tasks-only", is_flag=True, help="Samples carry only the generated tasks, not the dataset's question (e.g. --preset text).")
@click.option("--multiple-choice", is_flag=True, help="Generated tasks list options A-D (distractors from other frames); the answer is a letter.")
@click.option("--tasks-fps", type=float, default=None, help="Frames per second: locate answers also give the frame's time stamp.")
@click.option("--workers", type=int, default=None, help="Worker processes.  [default: all cores]")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True, help="local: a process pool on this machine; ray: one Ray task per work chunk, on a cluster or a local Ray.")
@click.option("--ray-address", default=None, help="Ray cluster address, or `auto` for the cluster started on this machine (default: $RAY_ADDRESS, else a private local Ray).")
@click.option("--ray-storage", type=click.Choice(RAY_STORAGES), default="driver", show_default=True, help="Who writes frames with --engine ray: driver (workers send them back; OUT only where synth runs) or shared (workers write; OUT mounted on every node).")
@click.option("--overwrite", is_flag=True, help="Delete t2vid's files in OUT and start over instead of resuming (only in a folder t2vid made).")
@click.option("--repair", is_flag=True, help="On resume, check that every frame file of complete shards exists and redraw the ones that do not.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary.")
@click.pass_context
def synth(ctx, sources, config_file, **options):
    """Render SOURCES (files, dirs, globs or Hub ids; none: a built-in sample) into frame samples.

    \b
    Example:
      t2vid synth data.jsonl -o out/ --preset generic --workers 2
    """
    from t2vid.run import format_summary
    from t2vid.run import synth as run_synth

    explicit = {name for name in options if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}
    if sources:
        explicit.add("sources")
    values = merge_settings(read_config_file(config_file) if config_file else {}, {**options, "sources": sources}, explicit)
    if values.get("workers") is None:
        values["workers"] = os.cpu_count() or 1
    summary = run_synth(build_config(values))
    if not values.get("quiet"):
        click.echo(format_summary(summary), err=True)


@cli.command()
@click.argument("text")
@click.option("-o", "--output", required=True, help="Image file (.png, .jpg or .webp: the extension picks the format); several frames become NAME-000.png, NAME-001.png, ... (numbered from 0, like synth frames). An existing file is replaced only if t2vid wrote it.")
@style_options(skip=("image_format",))
def render(text, output, **options):
    """Render TEXT to a frame image, to tune the look in a second.

    TEXT "-" reads standard input.
    """
    from dataclasses import replace

    from t2vid.render import encode_image, render_text
    from t2vid.writer import claim_image_paths, write_own_image

    config = build_config(options)
    style = replace(config.style, image_format=_format_from_name(output))
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise UsageError(f"-o {output}: folder {folder} does not exist")
    if text == "-":
        text = sys.stdin.read()
    images = render_text(text, style)
    if not images:
        raise UsageError("TEXT has nothing to draw (empty, or only invisible characters)")
    root, extension = os.path.splitext(output)
    paths = [output] if len(images) == 1 else [f"{root}-{n:03d}{extension}" for n in range(len(images))]  # 0-based, like f000.png
    claim_image_paths(paths)
    for image, path in zip(images, paths):
        try:
            write_own_image(path, encode_image(image, style))
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo("\n".join(paths))


def _int_pair(value: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected MIN,MAX (e.g. 18,24), not {value!r}") from None
    return low, high


def _format_from_name(path: str) -> str:
    """The image format named by the output file's extension."""
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    formats = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
    if extension not in formats:
        raise UsageError(f"-o {path}: use a .png, .jpg or .webp file name")
    return formats[extension]


@cli.command()
def presets():
    """List dataset presets and model budget profiles."""
    from t2vid.parsers import list_presets
    from t2vid.budget import list_profiles

    click.echo("presets (--preset):")
    for name, preset in list_presets().items():
        click.echo(f"  {name:<21} {preset.description}")
    click.echo("profiles (--profile):")
    for name, profile in list_profiles().items():
        click.echo(f"  {name:<21} {profile.description}")


def main(argv: list[str] | None = None) -> int:
    """Console entry point: one-line errors, exit 2 for bad usage.

    Called without `argv`, this process is the `t2vid` command itself, so its
    pool workers may be forked from it (see engines/pool.py).
    """
    from t2vid.engines.pool import fork_workers

    if argv is None:
        fork_workers()

    if not (sys.argv[1:] if argv is None else argv):
        click.echo(cli.get_help(click.Context(cli, info_name="t2vid")))
        return 0
    try:
        code = cli.main(args=argv, prog_name="t2vid", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("t2vid: aborted", err=True)
        return 130
    except click.UsageError as exc:
        command = f" {exc.ctx.command.name}" if exc.ctx and exc.ctx.command and exc.ctx.command.name != "cli" else ""
        click.echo(f"t2vid{command}: error: {exc.format_message()}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"t2vid: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except UsageError as exc:
        click.echo(f"t2vid: error: {exc}", err=True)
        return 2
    except SynthError as exc:
        click.echo(f"t2vid: error: {exc}", err=True)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"t2vid: error: cannot use{where}: {exc.strerror or exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("t2vid: interrupted", err=True)
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())

"""`t2vid export` and `t2vid mix`: option parsing only; the work is in t2vid.exports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from t2vid.exports.limits import OVER_LENGTH
from t2vid.exports.registry import AS_IMAGES_FORMATS, FORMATS, PATH_STYLES, ROW_FORMATS


FPS_READERS = {  # how each trainer samples a video file t2vid encoded, and the setting that must match --fps
    "llava": (1.0, "LLaVA-NeXT steps round(file fps / --video_fps) frames (0 is an error, 2 drops every other page): train with --video_fps {fps:g}"),
    "swift": (2.0, "qwen-vl-utils samples video files at FPS=2 frames a second: pages are lost above it; set FPS={fps:g} when training"),
    "llamafactory": (2.0, "LLaMA-Factory samples video files at video_fps (default 2): pages are lost above it; set video_fps: {fps:g}"),
}


def warn_fps(format_name: str, fps: float, encoded: bool) -> None:
    """One warning line when the trainer's default sampling rate would not keep every frame of the mp4s written."""
    if not encoded or format_name not in FPS_READERS:
        return
    default, message = FPS_READERS[format_name]
    if (format_name == "llava" and fps != default) or fps > default:
        click.echo(f"t2vid: warning: --fps {fps:g}: {message.format(fps=fps)}", err=True)


def length_limit(profile, max_length, over_length, tokenizer, as_images):
    """--profile and its companions -> a LengthLimit, or None without --profile."""
    from t2vid.errors import UsageError
    from t2vid.exports.limits import LengthLimit

    if profile is None:
        given = [flag for flag, value in (("--max-length", max_length), ("--tokenizer", tokenizer)) if value is not None]
        if given or over_length != "skip":
            raise UsageError(f"{given[0] if given else '--over-length'} needs --profile: tokens per frame depend on the model")
        return None
    return LengthLimit(profile, max_length, over_length, tokenizer, as_images)


def common_options(function):
    options = [
        click.option("-o", "--output", "dest", required=True, help="Destination directory: new, empty or an earlier t2vid export (only files t2vid wrote there are replaced or removed)."),
        click.option(
            "--paths",
            type=click.Choice(PATH_STYLES),
            default=None,
            help="Media paths in rows. Default: relative to DEST where the trainer joins a root to them "
            "(llamafactory, internvl, llava, mp4), absolute where it opens them from its working directory (swift, minicpmv, qwen).",
        ),
        click.option("--as-images", is_flag=True, help=f"{'/'.join(AS_IMAGES_FORMATS)}: frames as N <image> tokens and an images list instead of one <video>."),
        click.option("--fps", type=float, default=1.0, show_default=True, help="Frame rate of encoded mp4s (mp4, llava, mix with video files); sample_fps of qwen rows."),
        click.option("--name", default="t2vid", show_default=True, help="Dataset name in LLaMA-Factory's dataset_info.json and InternVL's meta.json."),
        click.option("--workers", type=int, default=None, help="Processes encoding mp4s.  [default: all cores]"),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run(out, work):
    """Data problems (a missing frame, an unusable row) -> one line and exit 1; an unreadable OUT -> one line and exit 2."""
    from t2vid.exports.base import ExportError
    from t2vid.output import read_errors_as_usage_error

    with read_errors_as_usage_error(out):
        try:
            return work()
        except ExportError as exc:
            raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("out")
@click.option("--to", "format_name", required=True, type=click.Choice(list(FORMATS)), help="Target format.")
@common_options
@click.option("--shard-size", type=int, default=1000, show_default=True, help="Samples per webdataset tar or hf Parquet file.")
@click.option("--profile", default=None, help="Model profile (see `t2vid presets`) to cost each sample for: text + media + template tokens.")
@click.option("--max-length", type=int, default=None, help="With --profile: the trainer's length limit in tokens (cutoff_len, --max_length, ...). Default: the profile's max_tokens.")
@click.option(
    "--over-length",
    type=click.Choice(OVER_LENGTH),
    default="skip",
    show_default=True,
    help="A sample over the limit: skip it, split its turns into samples that fit (same frames), or warn and write it.",
)
@click.option("--tokenizer", default=None, help="With --profile: a locally installed HF tokenizer for text tokens (else an estimate).")
def export_command(out, format_name, dest, paths, as_images, fps, name, workers, quiet, shard_size, profile, max_length, over_length, tokenizer):
    """Write the samples of synth output OUT in a trainer's format.

    \b
    Examples:
      t2vid export out/ --to llamafactory -o data/t2vid
      t2vid export out/ --to llamafactory -o data/t2vid --profile qwen2-vl-llamafactory --max-length 2048
    """
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.registry import export

    limit = length_limit(profile, max_length, over_length, tokenizer, as_images)
    options = ExportOptions(Path(dest), paths, as_images, fps, shard_size, name, workers or os.cpu_count() or 1)
    report = run(out, lambda: export(out, format_name, options, progress=not quiet, limit=limit))
    warn_fps(format_name, fps, format_name == "llava")
    if not quiet:
        click.echo(report.summary(), err=True)


@click.command()
@click.option("--synthetic", required=True, help="A `t2vid synth` output directory.")
@click.option("--video", "video_files", multiple=True, required=True, help="Real video instruction data: JSON or JSONL in the target format or LLaVA's {video, conversations} shape (repeatable).")
@click.option("--counts", default=None, help="Rows to take, VIDEO:SYNTHETIC, e.g. 20000:10000.")
@click.option("--ratio", default=None, help="Proportion VIDEO:SYNTHETIC, e.g. 2:1; takes as many rows as the smaller source allows.")
@click.option("--to", "format_name", required=True, type=click.Choice(ROW_FORMATS), help="Target format.")
@common_options
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds sampling and shuffling.")
@click.option("--video-root", default=None, help="Directory that relative real media paths are under; they are written joined to it.")
@click.option("--video-frames", type=int, default=32, show_default=True, help="internvl, minicpmv: frames kept from each real video, spread evenly, when it is turned into a frame folder.")
def mix_command(synthetic, video_files, counts, ratio, format_name, dest, paths, as_images, fps, name, workers, quiet, seed, video_root, video_frames):
    """Mix real video data with synthetic samples into one shuffled training file plus mix_report.json.

    \b
    Example:
      t2vid mix --synthetic out/ --video llava_video.json --ratio 2:1 --to llava -o data/mix --seed 0
    """
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.mix import REPORT, mix

    options = ExportOptions(Path(dest), paths, as_images, fps, name=name, workers=workers or os.cpu_count() or 1)
    report, missing = run(synthetic, lambda: mix(synthetic, tuple(video_files), format_name, options, seed, counts, ratio, video_root, progress=not quiet, video_frames=video_frames))
    warn_fps(format_name, fps, report.synthetic["media"] == "mp4")
    if missing:
        click.echo(f"t2vid mix: warning: {len(missing)} real media path(s) do not exist (first: {missing[0]}); see {Path(dest) / REPORT}", err=True)
    if not quiet:
        click.echo(report.summary(), err=True)

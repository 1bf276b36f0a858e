"""`t2vid export` and `t2vid mix`: option parsing only; the work is in t2vid.exports."""

from __future__ import annotations

import os
from pathlib import Path

import click

from t2vid.exports.registry import AS_IMAGES_FORMATS, FORMATS, PATH_STYLES, ROW_FORMATS


def common_options(function):
    options = [
        click.option("-o", "--output", "dest", required=True, help="Destination directory (created; t2vid's own files in it are replaced)."),
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
def export_command(out, format_name, dest, paths, as_images, fps, name, workers, quiet, shard_size):
    """Write the samples of synth output OUT in a trainer's format.

    \b
    Example:
      t2vid export out/ --to llamafactory -o data/t2vid
    """
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.registry import export

    options = ExportOptions(Path(dest), paths, as_images, fps, shard_size, name, workers or os.cpu_count() or 1)
    report = run(out, lambda: export(out, format_name, options, progress=not quiet))
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
def mix_command(synthetic, video_files, counts, ratio, format_name, dest, paths, as_images, fps, name, workers, quiet, seed, video_root):
    """Mix real video data with synthetic samples into one shuffled training file plus mix_report.json.

    \b
    Example:
      t2vid mix --synthetic out/ --video llava_video.json --ratio 2:1 --to llava -o data/mix --seed 0
    """
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.mix import REPORT, mix

    options = ExportOptions(Path(dest), paths, as_images, fps, name=name, workers=workers or os.cpu_count() or 1)
    report, missing = run(synthetic, lambda: mix(synthetic, tuple(video_files), format_name, options, seed, counts, ratio, video_root, progress=not quiet))
    if missing:
        click.echo(f"t2vid mix: warning: {len(missing)} real media path(s) do not exist (first: {missing[0]}); see {Path(dest) / REPORT}", err=True)
    if not quiet:
        click.echo(report.summary(), err=True)

"""`t2vid preview`, `stats`, `validate` and `diversity`: option parsing and printing only.

The work is in the modules beside this one, which know nothing of click.
Every command runs inside `read_errors_as_usage_error`, so an unreadable or
broken output is one line (exit 2), never a traceback.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from t2vid.errors import UsageError
from t2vid.inspect.preview import MAX_AUTO_COLUMNS
from t2vid.inspect.verify import format_report, report_json, verify_ocr
from t2vid.output import read_errors_as_usage_error
from t2vid.writer import claim_image_paths, write_own_image


@click.command("preview")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--id", "sample_id", default=None, help="Sample to show, by id.")
@click.option("--index", type=int, default=None, help="Sample to show, by position in shard order (default 0).")
@click.option("--random", "random_count", type=int, default=None, help="Show K samples drawn with --seed: one sheet each.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Contact sheet PNG; several samples: NAME-ID.png. An existing file is replaced only if t2vid wrote it.")
@click.option("--columns", type=int, default=None, help=f"Frames per row.  [default: up to {MAX_AUTO_COLUMNS}]")
@click.option("--thumb-width", type=int, default=224, show_default=True, help="Width of each frame on the sheet, pixels.")
@click.option("--html", "html_dir", type=click.Path(path_type=Path), default=None, help="Also write a static gallery of every sample to this directory.")
def preview_command(out, sample_id, index, random_count, seed, output, columns, thumb_width, html_dir):
    """Contact sheets of samples of OUT, and a browsable HTML gallery.

    \b
    Example:
      t2vid preview out/ --random 3 -o sheets/sheet.png --html out-gallery/
    """
    from tqdm import tqdm

    from t2vid.inspect.preview import (
        SheetLayout,
        contact_sheet,
        select_samples,
        sheet_paths,
        write_gallery,
    )
    from t2vid.output import make_dir

    if output is None and html_dir is None:
        raise UsageError("nothing to write: give -o SHEET.png and/or --html DIR")
    require_png("-o", output)
    if sum(value is not None for value in (sample_id, index, random_count)) > 1:
        raise UsageError("choose one of --id, --index and --random")
    if columns is not None and columns < 1:
        raise UsageError(f"--columns must be at least 1, not {columns}")
    if not 16 <= thumb_width <= 2048:
        raise UsageError(f"--thumb-width must be within 16..2048, not {thumb_width}")
    with read_errors_as_usage_error(out):
        if output is not None:
            records = select_samples(out, sample_id, index, random_count, seed)
            layout = SheetLayout(columns, thumb_width)
            paths = sheet_paths(output, records)
            claim_image_paths(paths)
            for record, path in tqdm(list(zip(records, paths)), unit=" sheets", disable=None, desc="sheets"):
                make_dir(path.parent)
                save_png(contact_sheet(out, record, layout), path)
                click.echo(str(path))
        if html_dir is not None:
            click.echo(str(write_gallery(out, html_dir)[0]))


@click.command("stats")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--profile", default=None, help="Model budget (see `t2vid presets`): tokens per sample and how many exceed it.")
@click.option("--tokenizer", default=None, help="With --profile: a locally installed HF tokenizer for text tokens (else an estimate).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of the report.")
@click.option("--plot", type=click.Path(path_type=Path), default=None, help="Write a PNG histogram of frames (and tokens) per sample. An existing file is replaced only if t2vid wrote it.")
def stats_command(out, profile, tokenizer, as_json, plot):
    """Frames, words, languages, missing glyphs, rejects and budget fit of OUT.

    \b
    Example:
      t2vid stats out/ --profile minicpm-v-2.5 --plot frames.png
    """
    from t2vid.inspect.stats import Panel, collect_stats, draw_histograms, format_stats
    from t2vid.output import make_dir

    require_png("--plot", plot)
    with read_errors_as_usage_error(out):
        if plot is not None:
            claim_image_paths([plot], "--plot")
            make_dir(plot.parent)
        stats, frames, tokens = collect_stats(out, profile, tokenizer)
        if plot is not None:
            panels = [Panel("frames per sample", frames, "frames", stats.budget.max_frames if stats.budget else None)]
            if stats.budget:
                panels.append(Panel(f"tokens per sample ({stats.budget.profile})", tokens, "tokens", stats.budget.max_tokens))
            save_png(draw_histograms(panels), plot)
    click.echo(json.dumps(stats.to_dict(), ensure_ascii=False, indent=2) if as_json else format_stats(stats))


@click.command("validate")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--quick", is_flag=True, help="Read image headers only (size), skip the full decode.")
@click.pass_context
def validate_command(ctx, out, quick):
    """Check OUT against the output contract; exit 1 and list each problem if any.

    \b
    Checks: record fields and types, unique ids, len(images) == len(texts) ==
    num_frames, source fields; every frame exists, decodes and has the stated
    size; no orphan frame files; manifest counts; shard markers; status.
    """
    from t2vid.inspect.validate import validate_output

    with read_errors_as_usage_error(out):
        result = validate_output(out, decode=not quick)
    for problem in result.problems:
        click.echo(str(problem))
    if result.problems:
        click.echo(f"t2vid validate: {len(result.problems)} problem(s) in {out} ({result.samples} samples, {result.frame_files} frame files checked)", err=True)
        ctx.exit(1)
    click.echo(f"OK: {result.samples} samples, {result.frames} frames ({result.frame_files} files) checked")


@click.command("diversity")
@click.argument("sources", nargs=-1, required=True)
@click.option("--field", "field_path", default=None, help="Dotted path to the instruction, e.g. conversations.0.value.")
@click.option("--embeddings", default=None, help="Also a sentence-transformers model (installed locally) for an embedding distance.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON (a list, one entry per source).")
@click.option("--map", "map_path", type=click.Path(path_type=Path), default=None, help="Also draw a 2-D t-SNE map of the instructions to this PNG, one colour per source (needs t2vid[map]). An existing file is replaced only if t2vid wrote it.")
def diversity_command(sources, field_path, embeddings, as_json, map_path):
    """Instruction diversity of synth outputs or JSON/JSONL datasets, side by side.

    \b
    Example:
      t2vid diversity out/ llava_instruct.json --json --map map.png
    """
    from tqdm import tqdm

    from t2vid.inspect.diversity import format_table, load_instructions, measure, task_mix
    from t2vid.output import make_dir

    require_png("--map", map_path)
    if map_path is not None:
        claim_image_paths([map_path], "--map")
        make_dir(map_path.parent)
    reports, loaded = [], []
    for source, name in tqdm(list(zip(sources, column_names(sources))), unit=" datasets", disable=None, desc="diversity"):
        with read_errors_as_usage_error(source):
            instructions, skipped = load_instructions(source, field_path)
            kinds = task_mix(source)
        if not instructions:
            click.echo(f"t2vid diversity: warning: no instruction found in {source}; name its field with --field", err=True)
        reports.append(measure(name, instructions, skipped, embeddings, kinds))
        loaded.append((name, instructions))
    if map_path is not None:
        from t2vid.inspect.instruction_map import MapInput, instruction_map

        save_png(instruction_map([MapInput(name, texts) for name, texts in loaded], embeddings), map_path)
    click.echo(json.dumps([asdict(r) for r in reports], ensure_ascii=False, indent=2) if as_json else format_table(reports))


def require_png(option: str, path: Path | None) -> None:
    """An image destination must say it is one: `--plot data.jsonl` (a slip) would write a PNG that passes for data."""
    if path is not None and path.suffix.lower() != ".png":
        raise UsageError(f"{option} {path}: the image written there is a PNG; give a .png file name")


def save_png(image, path: Path) -> None:
    """A sheet, plot or map as an image t2vid marks as its own, so that running the same command again may replace it."""
    encoded = io.BytesIO()
    image.save(encoded, "PNG", optimize=True)
    write_own_image(path, encoded.getvalue())


def column_names(sources: tuple[str, ...]) -> list[str]:
    """Short column names: the file or directory name, the full path where two would clash."""
    short = [Path(s).name or str(s) for s in sources]
    return [name if short.count(name) == 1 else str(source) for name, source in zip(short, sources)]


@click.command("verify")
@click.argument("output")
@click.option("--ocr", is_flag=True, help="Read frames back with Tesseract and compare with the record texts (required).")
@click.option("--sample", type=click.IntRange(min=1), default=100, show_default=True, help="Frames to read (a seeded uniform sample of distinct frame files).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--max-cer", type=click.FloatRange(min=0), default=0.02, show_default=True, help="Exit 1 when the overall character error rate is above this (0.02 = 2%).")
@click.option("--lang", default="auto", show_default=True, help="Tesseract language(s) for every frame, e.g. eng, chi_sim, chi_sim+eng; auto: chosen per frame by script.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Tesseract processes at once.  [default: all cores]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify_command(ctx, output, ocr, sample, seed, max_cer, lang, workers, as_json):
    """Check that OUTPUT's frames read back as their record texts.

    \b
    Example:
      t2vid verify out/ --ocr --sample 200 --max-cer 0.02
    """
    if not ocr:
        raise UsageError("verify needs --ocr (it reads frames back with Tesseract): t2vid verify OUT --ocr")
    report = verify_ocr(output, sample, seed, lang, workers, progress=sys.stderr.isatty() and not as_json)
    if not report.checks:
        raise UsageError(f"{output} has no frames to verify")
    if as_json:
        click.echo(json.dumps(report_json(report, max_cer), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report, max_cer))
    if report.scores()["overall"].cer > max_cer:
        ctx.exit(1)


@click.command("score")
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("predictions", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def score_command(out, predictions, as_json):
    """Accuracy of PREDICTIONS ({"id", "turn", "prediction"} per line) on OUT's generated tasks.

    Per kind, per needle depth and per frame count; a task without a
    prediction counts as wrong.

    \b
    Example:
      t2vid score out/ predictions.jsonl --json
    """
    from t2vid.inspect.score import format_report, score

    with read_errors_as_usage_error(out):
        report = score(out, predictions)
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json else format_report(report))

"""The export formats by name, and `export`: one OUT -> one format in DEST.

The list of formats, and which of them take --as-images or write row files,
come from the format classes themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

from t2vid.errors import UsageError
from t2vid.exports import hf, internvl, llamafactory, llava, minicpmv, mp4, qwen, swift, webdataset
from t2vid.exports.base import ExportOptions, ExportReport, Format, RowFormat
from t2vid.exports.items import iter_items

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        llamafactory.FORMAT,
        swift.FORMAT,
        minicpmv.FORMAT,
        internvl.FORMAT,
        qwen.FORMAT,
        llava.FORMAT,
        mp4.FORMAT,
        webdataset.FORMAT,
        hf.FORMAT,
    )
}
ROW_FORMATS = tuple(name for name, fmt in FORMATS.items() if isinstance(fmt, RowFormat))
AS_IMAGES_FORMATS = tuple(name for name, fmt in FORMATS.items() if fmt.supports_as_images)
PATH_STYLES = ("absolute", "relative")


def load_format(name: str) -> Format:
    if name not in FORMATS:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    return FORMATS[name]


def check_options(fmt: Format, options: ExportOptions) -> None:
    """Options `fmt` cannot use -> UsageError."""
    if options.as_images and not fmt.supports_as_images:
        raise UsageError(f"--as-images applies to {' and '.join(AS_IMAGES_FORMATS)}, not {fmt.name}")
    fmt.check(options)


def progress_bar(total: int, description: str, show: bool):
    """tqdm on a terminal (unless --quiet); nothing when stderr is a file or pipe."""
    from tqdm import tqdm

    return tqdm(total=total, unit=" samples", disable=None if show else True, desc=description, dynamic_ncols=True)


def export(out: str | os.PathLike, format_name: str, options: ExportOptions, progress: bool = True) -> ExportReport:
    """Write OUT's samples to DEST in FORMAT; streams, so memory does not grow with the output."""
    from t2vid.output import make_dir, read_manifest

    fmt = load_format(format_name)
    check_options(fmt, options)
    total = int(read_manifest(out).get("samples") or 0)
    make_dir(options.dest)
    writer = fmt.open(options)
    count = 0
    try:
        with progress_bar(total, f"export {format_name}", progress) as bar:
            for item in iter_items(Path(out)):
                writer.write(item)
                count += 1
                bar.update()
        files = writer.close()
    except BaseException:
        writer.abort()
        raise
    names = [os.path.relpath(path, options.dest) for path in files]
    return ExportReport(format_name, str(options.dest), count, names)

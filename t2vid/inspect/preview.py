"""`t2vid preview`: look at samples the way a model will, before training on them.

A contact sheet puts every frame of one sample side by side with the question
and answer it goes with, so a bad cut, tofu boxes or a mismatched answer show
at a glance. The HTML gallery does the same for a whole output without copying
a single frame: pages link to the frame files by relative path.
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from t2vid.errors import UsageError
from t2vid.output import (
    frame_path,
    make_dir,
    read_manifest,
    read_output,
    read_shard,
    reservoir_sample,
)

GAP = 8
CAPTION_FONT_SIZE = 15
CAPTION_LINE_SPACING = 1.3
CAPTION_MAX_LINES = 4
BADGE_FONT_SIZE = 13
MAX_AUTO_COLUMNS = 6
GALLERY_THUMB_WIDTH = 160
MISSING_FILL = "#f2c4c4"


@dataclass(frozen=True)
class SheetLayout:
    columns: int | None = None  # None: as many as frames, up to MAX_AUTO_COLUMNS
    thumb_width: int = 224


class CaptionWriter:
    """Draws wrapped, truncated captions with the frame renderer, so CJK and fallback fonts work here too."""

    def __init__(self, width: int, max_lines: int = CAPTION_MAX_LINES):
        from t2vid.fonts import resolve_face
        from t2vid.layout import Layouter
        from t2vid.render import Renderer
        from t2vid.style import RenderStyle

        face = resolve_face(None)
        pitch = round(CAPTION_FONT_SIZE * CAPTION_LINE_SPACING)
        height = 2 * GAP + max_lines * pitch + CAPTION_FONT_SIZE // 2
        style = RenderStyle(width=width, height=height, font=face.path, font_index=face.index, font_size=CAPTION_FONT_SIZE, margin=GAP, line_spacing=CAPTION_LINE_SPACING)
        self.layouter = Layouter(style)
        self.renderer = Renderer(style)

    def draw(self, text: str):
        """The caption as an L image cropped below its last line; long text ends in an ellipsis."""
        frame = self.fit(" ".join(text.split()) or "(empty)")
        image = self.renderer.draw(frame)
        bottom = max((p.baseline + p.measured.ink[3] for line in frame.lines for p in line.units), default=0)
        return image.crop((0, 0, image.width, min(image.height, bottom + GAP // 2)))

    def fit(self, text: str):
        """The one caption frame for `text`: all of it, or as many words as fit followed by an ellipsis."""
        from t2vid.layout import split_units
        from t2vid.segment import segment

        frames = segment(text, self.layouter, "fit").frames
        if len(frames) == 1:
            return frames[0]
        units = split_units(frames[0].text)
        while len(units) > 1:
            units.pop()
            shortened = "".join((" " if unit.space_before and n else "") + unit.text for n, unit in enumerate(units)) + "…"
            frames = segment(shortened, self.layouter, "fit").frames
            if len(frames) == 1:
                return frames[0]
        return frames[0]


def contact_sheet(out: Path, record: dict, layout: SheetLayout = SheetLayout()):
    """One sample as an image: header, numbered frame grid, question and answer."""
    from PIL import Image, ImageDraw

    from t2vid.fonts import load_font, resolve_face

    images = record.get("images") or []
    frames = [_open_frame(frame_path(out, path)) for path in images]
    columns = layout.columns or _balanced_columns(len(frames))
    rows = math.ceil(len(frames) / columns)
    aspect = (record.get("height") or 1) / (record.get("width") or 1)
    thumb_w, thumb_h = layout.thumb_width, max(1, round(layout.thumb_width * aspect))
    width = columns * thumb_w + (columns + 1) * GAP
    mode = "RGB" if any(frame is not None and frame.mode != "L" for frame in frames) else "L"

    captions = CaptionWriter(width)
    header = captions.draw(f"{record.get('id', '?')} · {_describe(record)}")
    parts = [captions.draw(f"Q: {record.get('instruction', '')}"), captions.draw(f"A: {record.get('answer', '')}")]
    more = len(record.get("turns") or [])
    if more:
        parts.append(captions.draw(f"(+{more} more question-answer turn{'s' if more > 1 else ''} over the same frames)"))
    label_h = BADGE_FONT_SIZE + 6  # frame numbers go under the frames, never over their text
    grid_height = rows * (thumb_h + label_h + GAP) + GAP
    sheet = Image.new(mode, (width, header.height + grid_height + sum(p.height for p in parts)), "white")
    sheet.paste(header, (0, 0))
    draw = ImageDraw.Draw(sheet)
    badge_font = load_font(resolve_face(None), BADGE_FONT_SIZE)
    for number, frame in enumerate(frames):
        x = GAP + (number % columns) * (thumb_w + GAP)
        y = header.height + GAP + (number // columns) * (thumb_h + label_h + GAP)
        if frame is None:
            draw.rectangle((x, y, x + thumb_w - 1, y + thumb_h - 1), fill=MISSING_FILL)
            draw.text((x + 6, y + thumb_h // 2), "missing or unreadable", fill="black", font=badge_font)
        else:
            sheet.paste(frame.convert(mode).resize((thumb_w, thumb_h), Image.Resampling.LANCZOS), (x, y))
        draw.rectangle((x - 1, y - 1, x + thumb_w, y + thumb_h), outline="#999999")
        draw.text((x, y + thumb_h + 3), f"frame {number}", fill="#333333", font=badge_font)
    y = header.height + grid_height
    for part in parts:
        sheet.paste(part, (0, y))
        y += part.height
    return sheet


def _balanced_columns(count: int) -> int:
    """Fewest rows at MAX_AUTO_COLUMNS, then rows as even as possible (7 frames: 4 + 3, not 6 + 1)."""
    if count == 0:
        return 1
    return math.ceil(count / math.ceil(count / MAX_AUTO_COLUMNS))


def _open_frame(path: Path):
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _describe(record: dict) -> str:
    source = record.get("source") or {}
    where = f"{source.get('dataset', '?')} {source.get('split', '?')} #{source.get('index', '?')}"
    return f"{record.get('num_frames', len(record.get('images') or []))} frames · {record.get('width')}x{record.get('height')} · {where}"


def select_samples(out: Path, sample_id: str | None = None, index: int | None = None, random_count: int | None = None, seed: int = 0) -> list[dict]:
    """The records to preview: by id, by position in shard order, or K drawn with a seed (in shard order)."""
    if sample_id is not None:
        found = next((record for record in read_output(out) if record.get("id") == sample_id), None)
        if found is None:
            raise UsageError(f"no sample with id {sample_id!r} in {out}")
        return [found]
    if random_count is not None:
        if random_count < 1:
            raise UsageError(f"--random must be at least 1, not {random_count}")
        chosen, _ = reservoir_sample(read_output(out), random_count, seed)
        if not chosen:
            raise UsageError(f"{out} holds no samples")
        return chosen
    position = index or 0
    if position < 0:
        raise UsageError(f"--index must be 0 or more, not {position}")
    for current, record in enumerate(read_output(out)):
        if current == position:
            return [record]
    raise UsageError(f"--index {position} is past the last sample of {out}")


def sheet_paths(output: Path, records: list[dict]) -> list[Path]:
    """-o as given for one sample; NAME-ID.png beside it for several (IDs made file-name safe)."""
    if len(records) == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{re.sub(r'[^A-Za-z0-9._-]+', '_', str(r.get('id', n)))}{output.suffix or '.png'}") for n, r in enumerate(records)]


def write_gallery(out: Path, directory: Path) -> list[Path]:
    """index.html plus one page per shard; frames are linked by relative path, never copied.

    DIR follows the ownership rule of exports: new, empty or an earlier
    gallery's, so a page of the user's own is never replaced.
    """
    from tqdm import tqdm

    from t2vid.writer import ExportFolder, write_atomic

    manifest = read_manifest(out)
    make_dir(directory)
    folder = ExportFolder(directory, "gallery", "gallery directory", "--html")
    frames_base = Path(os.path.relpath(out.resolve(), directory.resolve()))
    rows, written = [], []
    with tqdm(total=manifest.get("samples"), unit=" samples", disable=None, desc="gallery") as progress:
        for shard in manifest["shards"]:
            records = list(read_shard(out, shard))
            page = directory / f"{Path(shard).stem}.html"
            write_atomic(page, _shard_page(Path(shard).stem, records, out, frames_base).encode())
            written.append(page)
            rows.append((page.name, Path(shard).stem, len(records), sum(len(r.get("images") or []) for r in records)))
            progress.update(len(records))
    index = directory / "index.html"
    write_atomic(index, _index_page(out, manifest, rows).encode())
    folder.commit([index, *written])
    return [index, *written]


_PAGE_STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1200px}"
    "section{border-top:1px solid #ccc;padding:.6em 0}"
    f"img{{width:{GALLERY_THUMB_WIDTH}px;border:1px solid #999;margin:2px;vertical-align:top}}"
    ".meta{color:#555;font-size:90%}.qa{white-space:pre-wrap}"
    "table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:right}"
)


def _page(title: str, body: str) -> str:
    return f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n'


def _shard_page(name: str, records: list[dict], out: Path, frames_base: Path) -> str:
    sections = []
    for record in records:
        sample_id = str(record.get("id", ""))
        links = [_href(out, frames_base, path) for path in record.get("images") or []]
        thumbs = "".join(f'<a href="{link}"><img loading="lazy" src="{link}" alt="frame {n}" title="frame {n}"></a>' for n, link in enumerate(links))
        turns = [(record.get("instruction", ""), record.get("answer", ""))] + [(t.get("instruction", ""), t.get("answer", "")) for t in record.get("turns") or []]
        qa = "".join(f'<p class="qa"><b>Q:</b> {html.escape(str(q))}<br><b>A:</b> {html.escape(str(a))}</p>' for q, a in turns)
        meta = html.escape(_describe(record))
        sections.append(f'<section id="{html.escape(sample_id, quote=True)}"><h3>{html.escape(sample_id)}</h3><div class="meta">{meta}</div>{qa}<div>{thumbs}</div></section>')
    return _page(name, f'<p><a href="index.html">index</a></p><h1>{html.escape(name)}</h1>\n' + "\n".join(sections))


def _href(out: Path, frames_base: Path, image: str) -> str:
    """A frame's link from the gallery directory (`frame_path` refuses a path that would leave OUT)."""
    return quote((frames_base / frame_path(out, image).relative_to(out)).as_posix())


def _index_page(out: Path, manifest: dict, rows: list[tuple[str, str, int, int]]) -> str:
    summary = f"{manifest.get('samples', 0)} samples, {manifest.get('frames', 0)} frames, {manifest.get('rejected', 0)} rejected; status {manifest.get('status', '?')}"
    table = "".join(f'<tr><td style="text-align:left"><a href="{quote(page)}">{html.escape(name)}</a></td><td>{samples}</td><td>{frames}</td></tr>' for page, name, samples, frames in rows)
    body = f"<h1>{html.escape(str(out))}</h1><p>{html.escape(summary)}</p><table><tr><th>shard</th><th>samples</th><th>frames</th></tr>{table}</table>"
    return _page(f"t2vid gallery: {out}", body)

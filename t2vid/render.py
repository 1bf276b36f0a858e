"""Render: a laid-out frame -> an image -> encoded bytes.

Each distinct unit's runs of text are drawn once into small masks and pasted
wherever the unit recurs; pasting is ~8x cheaper than drawing text, and a
document repeats most of its words. Masks are clipped to the measured ink box,
so nothing can land outside the box the layouter checked against the margins.
"""

from __future__ import annotations

import io
from itertools import chain

from PIL import Image, ImageColor, ImageDraw

from t2vid.caches import Generations
from t2vid.fonts import bitmap_strike, load_font
from t2vid.glyphs import glyphs_for
from t2vid.layout import FrameLayout, Layouter
from t2vid.measure import Measured, Run
from t2vid.png import encode_png, encode_png_rows
from t2vid.style import RenderStyle

MASK_CACHE_BYTES = 32 << 20  # mask pixels plus objects per cache generation, for each of the two caches: bounds a worker's memory
MARK_INK = 0.3  # the continuation mark is drawn lighter than text: seen, but not read as a character (Tesseract drops it)


def _size(width: int, height: int, bands: int) -> int:
    return 1000 + bands * width * height  # measured: ~800 bytes of objects per mask


class Renderer:
    """Draws frames of one style; keeps bounded caches of masks, per measured unit and per run."""

    def __init__(self, style: RenderStyle):
        self.style = style
        # id(measured) -> (measured, stamps, bytes). The measurer makes one Measured per distinct unit, so its
        # identity is the cheapest key; the entry holds the Measured, so no other object can take its id.
        self._stamps: Generations[tuple] = Generations(MASK_CACHE_BYTES, cost=lambda entry: entry[2])
        # (text, shaped, rtl, face) -> (colour core or None, mask core, corner, bytes): runs shared by units,
        # such as the characters of CJK units (see Measurer._spaces_by_advance)
        self._runs: Generations[tuple] = Generations(MASK_CACHE_BYTES, cost=lambda entry: entry[3])
        self._fg = _colour(style.fg, style.mode)
        self._bg = _colour(style.bg, style.mode)
        self._mark = _blend(style.fg, style.bg, MARK_INK, style.mode)

    def _stamp(self, measured: Measured) -> tuple:
        """The unit's entry: per inked run (colour core or None, mask core, ink box relative to pen and baseline)."""
        stamps, size = [], 0
        for run in measured.runs:
            x0, top, x1, bottom = run.ink
            if x1 <= x0 or bottom <= top:  # spaces and marks without ink
                continue
            key = (run.text, run.shaped, run.rtl, run.face)
            drawn = self._runs.current.get(key)
            if drawn is None:
                drawn = self._runs.fill(key, lambda: self._mask(run))
            colour, mask, (x0, top), run_size = drawn
            width, height = mask.size
            stamps.append((colour, mask, run.dx + x0, top, run.dx + x0 + width, top + height))
            size += run_size
        return measured, tuple(stamps), 1000 + size  # the floor: a unit without ink still costs its objects

    def _mask(self, run: Run) -> tuple:
        """The run's ink (its box must not be empty), drawn: (None, coverage mask) or, for a colour bitmap font such as emoji, (colour core, alpha); the mask's top-left corner relative to pen and baseline; its size in bytes."""
        x0, top, x1, bottom = run.ink
        font = load_font(run.face, self.style.font_size, run.shaped)
        direction = {"direction": "rtl"} if run.rtl else {}
        if bitmap_strike(run.face):
            colour, alpha = self._bitmap_glyphs(run, font, direction)
            return colour.im, alpha.im, (x0, top), _size(x1 - x0, bottom - top, 1 + len(colour.getbands()))
        if run.face.builtin:
            mask = Image.new("L", (x1 - x0, bottom - top), 0)
            ImageDraw.Draw(mask).text((-x0, -top - _builtin_ascent(font)), run.text, fill=255, font=font)
            return None, mask.im, (x0, top), _size(x1 - x0, bottom - top, 1)
        glyphs = glyphs_for(run.face, self.style.font_size, run.shaped)
        composed = None if glyphs is None else glyphs.mask(run.text)  # from its characters' cached masks
        mask, corner = composed or font.getmask2(run.text, mode="L", anchor="ls", **direction)  # the coverage ImageDraw.text would paint, without its wrappers
        return None, mask, corner, _size(*mask.size, 1)

    def _bitmap_glyphs(self, run: Run, font, direction: dict) -> tuple[Image.Image, Image.Image]:
        """Drawn at the font's one strike size, then scaled to the run's ink box (the layouter scaled the box alike)."""
        sx0, stop, sx1, sbottom = font.getbbox(run.text, anchor="ls", **direction)
        strike = Image.new("RGBA", (max(1, sx1 - sx0), max(1, sbottom - stop)), (0, 0, 0, 0))
        ImageDraw.Draw(strike).text((-sx0, -stop), run.text, font=font, anchor="ls", embedded_color=True, fill=self.style.fg, **direction)
        x0, top, x1, bottom = run.ink
        scaled = strike.convert("RGBa").resize((x1 - x0, bottom - top), Image.Resampling.LANCZOS).convert("RGBA")  # premultiplied: no dark fringes
        colour = scaled.convert("RGB") if self.style.mode == "RGB" else scaled.convert("L")
        return colour, scaled.getchannel("A")

    def draw(self, frame: FrameLayout) -> Image.Image:
        return self._draw(frame, 0)

    def render(self, frame: FrameLayout) -> bytes:
        """The frame's encoded bytes. An 8-bit grey PNG is drawn one column wider, that column all zeros: its
        rows are then the PNG's scanlines with their filter-type byte, deflated without another copy."""
        style = self.style
        if style.image_format == "png" and style.mode == "L" and style.png_bits == 8:
            scanlines = self._draw(frame, 1).tobytes()
            return encode_png_rows(scanlines, style.width, style.height, "L", style.png_compress_level)
        return self.encode(self.draw(frame))

    def _draw(self, frame: FrameLayout, filter_column: int) -> Image.Image:
        """Paste each unit's cached masks: per unit a dictionary hit, per run one core paste at its known ink box."""
        style = self.style
        image = Image.new(style.mode, (style.width + filter_column, style.height), self._bg)
        canvas, stamps_of, fg = image.im, self._stamps.current, self._fg
        if filter_column:
            canvas.paste(0, (0, 0, filter_column, style.height))
        left = style.margin + filter_column
        for line in frame.lines:
            y = line.baseline
            units = zip(line.xs, line.items)
            if line.mark is not None:  # drawn first, lighter
                units = chain([(line.mark.x, (None, line.mark.measured))], units)
            for x, (unit, measured) in units:
                entry = stamps_of.get(id(measured))
                if entry is None:
                    entry = self._stamps.fill(id(measured), lambda: self._stamp(measured))
                    stamps_of = self._stamps.current  # a new generation may have started
                x += left
                ink = fg if unit is not None else self._mark
                for colour, mask, x0, top, x1, bottom in entry[1]:
                    # The core paste skips Image.paste's per-call checks: half the cost of drawing a frame.
                    canvas.paste(ink if colour is None else colour, (x + x0, y + top, x + x1, y + bottom), mask)
        return image

    def encode(self, image: Image.Image) -> bytes:
        return encode_image(image, self.style)


def encode_image(image: Image.Image, style: RenderStyle) -> bytes:
    """Deterministic bytes: no timestamps or varying metadata in any format."""
    buffer = io.BytesIO()
    if style.image_format == "png":
        return encode_png(image, style.png_compress_level, style.png_bits)
    if style.image_format == "jpg":
        image.save(buffer, "JPEG", quality=style.quality, optimize=False)
    else:
        image.save(buffer, "WEBP", quality=style.quality, method=4)
    return buffer.getvalue()


def _colour(value: str, mode: str):
    return ImageColor.getcolor(value, mode)


def _blend(fg: str, bg: str, share: float, mode: str):
    """`share` of the way from the background to the text colour."""
    mixed = tuple(round(b + (f - b) * share) for f, b in zip(ImageColor.getrgb(fg), ImageColor.getrgb(bg)))
    return _colour("#%02x%02x%02x" % mixed[:3], mode)


def _builtin_ascent(font) -> int:
    return font.getmetrics()[0] if hasattr(font, "getmetrics") else 0


def render_text(text: str, style: RenderStyle | None = None) -> list[Image.Image]:
    """Lay out and draw `text` as frames that fill to capacity (for `t2vid render` and the Python API)."""
    from t2vid.segment import segment

    style = style or RenderStyle()
    layouter = Layouter(style)
    renderer = Renderer(style)
    return [renderer.draw(frame) for frame in segment(text, layouter, "fit").frames]

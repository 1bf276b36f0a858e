"""Render: a laid-out frame -> an image -> encoded bytes.

Each distinct run of text is drawn once into a small mask and pasted wherever
it recurs; pasting is ~8x cheaper than drawing text, and a document repeats
most of its words. Masks are clipped to the measured ink box, so nothing can
land outside the box the layouter checked against the margins.
"""

from __future__ import annotations

import io
from collections import OrderedDict

from PIL import Image, ImageColor, ImageDraw

from t2vid.fonts import load_font
from t2vid.layout import FrameLayout, Layouter
from t2vid.measure import Run
from t2vid.png import encode_png
from t2vid.style import RenderStyle

MASK_CACHE_BYTES = 32 << 20  # pixels plus objects; bounds a worker's memory


def _size(width: int, height: int) -> int:
    return 1000 + width * height  # measured: ~800 bytes of objects per mask


class Renderer:
    """Draws frames of one style; keeps a bounded cache of word masks."""

    def __init__(self, style: RenderStyle):
        self.style = style
        self._masks: OrderedDict[tuple, object] = OrderedDict()  # (text, shaped, font path, index) -> the mask's pixel core
        self._mask_bytes = 0
        self._fg = _colour(style.fg, style.mode)
        self._bg = _colour(style.bg, style.mode)

    def _mask(self, run: Run, key: tuple):
        """The run's ink, drawn once into a mask the size of its ink box (which must not be empty)."""
        x0, top, x1, bottom = run.ink
        font = load_font(run.face, self.style.font_size, run.shaped)
        mask = Image.new("L", (x1 - x0, bottom - top), 0)
        if run.face.builtin:
            ImageDraw.Draw(mask).text((-x0, -top - _builtin_ascent(font)), run.text, fill=255, font=font)
        else:
            ImageDraw.Draw(mask).text((-x0, -top), run.text, fill=255, font=font, anchor="ls")
        self._masks[key] = mask.im
        self._mask_bytes += _size(x1 - x0, bottom - top)
        while self._mask_bytes > MASK_CACHE_BYTES:
            _, core = self._masks.popitem(last=False)
            self._mask_bytes -= _size(*core.size)
        return mask.im

    def draw(self, frame: FrameLayout) -> Image.Image:
        """Paste each run's cached mask; per run this is a dictionary hit and one core paste (no Image method calls)."""
        image = Image.new(self.style.mode, (self.style.width, self.style.height), self._bg)
        canvas, fg, masks = image.im, self._fg, self._masks
        left = self.style.margin
        for line in frame.lines:
            for placed in line.units:
                for run in placed.measured.runs:
                    x0, top, x1, bottom = run.ink
                    if x1 <= x0 or bottom <= top:  # spaces and marks without ink
                        continue
                    key = (run.text, run.shaped, run.face.path, run.face.index)
                    core = masks.get(key)
                    if core is None:
                        core = self._mask(run, key)
                    else:
                        masks.move_to_end(key)
                    x, y = left + placed.x + run.dx + x0, placed.baseline + top
                    # The core paste skips Image.paste's per-call checks: half the cost of drawing a frame.
                    canvas.paste(fg, (x, y, x + x1 - x0, y + bottom - top), core)
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


def _builtin_ascent(font) -> int:
    return font.getmetrics()[0] if hasattr(font, "getmetrics") else 0


def render_text(text: str, style: RenderStyle | None = None) -> list[Image.Image]:
    """Lay out and draw `text` as frames that fill to capacity (for `t2vid render` and the Python API)."""
    from t2vid.segment import segment

    style = style or RenderStyle()
    layouter = Layouter(style)
    renderer = Renderer(style)
    return [renderer.draw(frame) for frame in segment(text, layouter, "fit").frames]

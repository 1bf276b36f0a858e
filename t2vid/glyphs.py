"""A run of text in basic layout, put together from its characters' metrics and masks.

Without shaping FreeType draws a run glyph by glyph: each glyph's bitmap at
the pen rounded to a whole pixel, the pen moved on by the glyph's advance and
the pair's kerning, each bitmap laid over the ones before as coverage
(s + d(255 - s)/255). Doing the same from cached per-character metrics and
masks gives exactly the box, advance and pixels Pillow gives for the whole
run, for a fraction of the cost of measuring and drawing a new word. A text
with many words seen once (paths, code, tokens in CJK text) measured and drew
each of them whole through FreeType: most of its time.

A face is checked against Pillow on a probe text when it is first used; one
that differs (any layout rule this does not model) is measured and drawn by
Pillow as before.
"""

from __future__ import annotations

import functools

from PIL import Image, ImageFont

from t2vid.caches import Generations
from t2vid.fonts import FontFace, bitmap_strike, coverage, kerns_in_basic_layout, load_font

GLYPH_CACHE_SIZE = 8_192  # characters per cache generation and face: a CJK font has tens of thousands
KERN_CACHE_SIZE = 32_768  # character pairs per cache generation and face
PROBE = "AVATAR Wavy To yj fi ffl rt ti ř ġ 0/1 (x) 'q' [j] «ŀ» f_g T. L' V, W; Ω€"  # kerned pairs, ligature candidates, overhangs, accents, descenders


class GlyphSet:
    """One face at one size: per character its advance (in 64ths of a pixel), ink box and mask; per pair its kerning."""

    def __init__(self, font: ImageFont.FreeTypeFont, kerning: bool):
        self._font = font
        self._glyphs: Generations[tuple] = Generations(GLYPH_CACHE_SIZE)
        self._kerns: Generations[int] | None = Generations(KERN_CACHE_SIZE) if kerning else None

    def _draw_glyph(self, char: str) -> tuple:
        """(advance in 64ths, ink box or None, mask core)."""
        mask, (x0, top) = self._font.getmask2(char, mode="L", anchor="ls")
        width, height = mask.size
        box = (x0, top, x0 + width, top + height) if width and height else None
        return round(self._font.getlength(char) * 64), box, mask

    def place(self, text: str) -> tuple[list[tuple[int, tuple]], int, tuple[int, int, int, int]] | None:
        """Each glyph with the whole pixel its pen rounds to, the run's advance in 64ths and its ink box; None when
        a character has no ink (spaces and invisible characters: left to Pillow, whose boxes count their pens)."""
        glyphs, kerns = self._glyphs.current, None if self._kerns is None else self._kerns.current
        placed, pen, previous, previous_advance = [], 0, "", 0
        x0 = top = 1 << 30
        x1 = bottom = -(1 << 30)
        for char in text:
            glyph = glyphs.get(char)
            if glyph is None:
                glyph = self._glyphs.fill(char, lambda: self._draw_glyph(char))
                glyphs = self._glyphs.current
            advance, box, _ = glyph
            if box is None:
                return None
            if kerns is not None and previous:
                pair = previous + char
                kern = kerns.get(pair)
                if kern is None:
                    kern = self._kerns.fill(pair, lambda: round(self._font.getlength(pair) * 64) - previous_advance - advance)
                    kerns = self._kerns.current
                pen += kern
            x = (pen + 32) >> 6
            placed.append((x, glyph))
            gx0, gtop, gx1, gbottom = box
            if x + gx0 < x0:
                x0 = x + gx0
            if x + gx1 > x1:
                x1 = x + gx1
            if gtop < top:
                top = gtop
            if gbottom > bottom:
                bottom = gbottom
            pen += advance
            previous, previous_advance = char, advance
        return placed, pen, (x0, top, x1, bottom)

    def measure(self, text: str) -> tuple[float, tuple[int, int, int, int]] | None:
        """The run's advance in pixels and its ink box relative to pen and baseline, as Pillow's getlength and getbbox give them."""
        placed = self.place(text)
        return None if placed is None else (placed[1] / 64, placed[2])

    def mask(self, text: str) -> tuple[object, tuple[int, int]] | None:
        """The run's coverage mask (an image core) and its top-left corner, as Pillow's getmask2 draws them."""
        placed = self.place(text)
        if placed is None:
            return None
        glyphs, _, (x0, top, x1, bottom) = placed
        if len(glyphs) == 1:  # one character: its own mask, shared (pasting reads a mask, never writes it)
            return glyphs[0][1][2], (x0, top)
        mask = Image.core.fill("L", (x1 - x0, bottom - top), 0)
        for x, (_, (gx0, gtop, gx1, gbottom), glyph_mask) in glyphs:
            # filling 255 through the glyph's coverage is the "over" FreeType's renderer uses
            mask.paste(255, (x + gx0 - x0, gtop - top, x + gx1 - x0, gbottom - top), glyph_mask)
        return mask, (x0, top)


def glyphs_for(face: FontFace, size: int, shaped: bool) -> GlyphSet | None:
    """The glyph set to put a run together from, or None to measure and draw it whole (shaped runs, and faces
    without a glyph set): the one rule measuring and drawing share. A single character goes through it too, so
    that measuring and drawing it cost one FreeType rendering, shared with every run that holds it."""
    return None if shaped else glyph_set(face, size)


@functools.lru_cache(maxsize=64)
def glyph_set(face: FontFace, size: int) -> GlyphSet | None:
    """The face's glyph set at `size`, or None where runs must be measured and drawn whole: the built-in
    font, bitmap fonts, and any face whose probe text does not come out exactly as Pillow draws it."""
    if face.builtin or bitmap_strike(face) is not None:
        return None
    font = load_font(face, size)
    glyphs = GlyphSet(font, kerning=kerns_in_basic_layout(face))
    covered = coverage(face)
    probe = [word for word in PROBE.split() if all(ord(char) in covered for char in word)]
    if not probe or not all(_matches_pillow(glyphs, font, word) for word in probe):
        return None
    return glyphs


def _matches_pillow(glyphs: GlyphSet, font: ImageFont.FreeTypeFont, text: str) -> bool:
    composed = glyphs.mask(text)
    if composed is None:
        return False
    mask, corner = font.getmask2(text, mode="L", anchor="ls")
    advance, box = glyphs.measure(text)
    return (
        advance == font.getlength(text)
        and box == font.getbbox(text, anchor="ls")
        and corner == composed[1]
        and mask.size == composed[0].size
        and mask.chop_difference(composed[0]).getbbox() is None
    )

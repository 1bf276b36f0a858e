"""Measuring text in a font: a unit -> the runs that draw it, its advance and its ink box.

Everything layout decides rests on these numbers, so they come from the fonts
themselves (Pillow's bboxes and advances), never from character counts.
Measurements are cached per distinct text, which is what makes layout cheap:
a 115-word frame repeats most of its words across a document. A unit of a
right-to-left run is shaped right to left as a whole (raqm), so its
punctuation lands on the side a reader expects; bitmap emoji fonts are
measured at their one strike size and scaled to the text's.
"""

from __future__ import annotations

import math
import unicodedata
from typing import NamedTuple

from t2vid.caches import MISSING, Generations
from t2vid.charset import CLOSING, KEPT_INVISIBLE, SEPARABLE_CJK, draws_alone, needs_shaping
from t2vid.fonts import FontChain, FontFace, bitmap_strike, coverage, kerns_in_basic_layout, load_font, resolve_face
from t2vid.glyphs import glyphs_for
from t2vid.style import RenderStyle, default_family

CONTINUATION_MARK = "↪"  # preserve mode: starts a line that continues a wrapped source line
MEASURE_CACHE_SIZE = 32_768  # units per cache generation (~20 MB): numbers and hashes would grow one cache forever


class Unit(NamedTuple):
    """The smallest piece a line may break before: a word, or one CJK character (a tuple: one per word of every document)."""

    text: str
    space_before: int  # spaces before it (0 or 1; in preserve mode the run's width, or the line's indentation)
    sentence_end: bool = False
    cjk: bool = False  # lines holding CJK get the taller CJK line pitch
    newlines: int = 0  # line breaks before it: 1 starts a line, more leave blank lines (lines and preserve modes)
    level: int = 0  # bidi embedding level: odd is right to left
    space_level: int = 0  # bidi level of the whitespace before it
    rtl_paragraph: bool = False  # its paragraph reads right to left (alignment start/end)
    joined: bool = False  # the rest of the word before it, in the other direction ("0ا"): not a word of its own
    indent: int = 0  # preserve mode: the indentation of its source line, which a continued line keeps


class Run(NamedTuple):
    """A stretch of one unit drawn with one font (a tuple: a CJK text makes one per character of every new unit)."""

    face: FontFace
    shaped: bool
    text: str
    dx: int
    ink: tuple[int, int, int, int]  # x0, top, x1, bottom relative to (pen + dx, baseline)
    rtl: bool = False  # shaped right to left


class Measured(NamedTuple):
    """A unit's runs and size (a tuple, built for every distinct unit)."""

    runs: tuple[Run, ...]
    advance: int
    ink: tuple[int, int, int, int]  # union of run boxes relative to (pen, baseline)
    rtl: bool  # drawn right to left
    missing: str  # distinct characters no installed font covers
    text: str  # the characters its runs draw, in logical order (a frame's `texts` join these)


class MeasuredUnit(NamedTuple):
    """A unit ready to pack: what it is and how big it draws (a tuple: there is one per word of every document)."""

    unit: Unit
    measured: Measured


class Measurer:
    """Measures text for one style: font fallback, bounded caches, over-long tokens broken to fit a line."""

    def __init__(self, style: RenderStyle, fallback: bool = True):
        self.style = style
        self.face = FontFace(style.font, style.font_index) if style.font else resolve_face(default_family(style.whitespace))
        self.chain = FontChain(self.face, fallback=fallback)
        font = load_font(self.face, style.font_size)
        ascent, _ = font.getmetrics() if hasattr(font, "getmetrics") else (style.font_size, style.font_size // 4)
        self.ascent = ascent
        self.space = round(font.getlength(" "))
        self.line_width = style.width - 2 * style.margin
        self.unit_width = self.line_width  # widest unit a line takes (preserve mode: beside the continuation mark)
        self.text_height = style.height - 2 * style.margin
        self._primary_has_ascii = set(range(0x20, 0x7F)) <= coverage(self.face)
        self._measured: Generations[Measured | None] = Generations(MEASURE_CACHE_SIZE)  # text, or (text, True) right to left
        self._prepared: Generations[tuple[tuple[MeasuredUnit, ...], str]] = Generations(MEASURE_CACHE_SIZE)  # unit -> its pieces and undrawable characters
        self._spaced_faces: dict[FontFace, bool] = {}
        self.mark: Measured | None = None  # preserve mode: what starts a continued line
        if style.whitespace == "preserve":
            self.mark = self.measure(CONTINUATION_MARK)
            if self.mark is None or not self.mark.runs or self.mark.missing or not self._fits_alone(self.mark):
                self.mark = self.measure("»")  # every font with Latin-1 has it
            self.unit_width -= self.mark.advance + self.space

    def measure(self, text: str, rtl: bool = False) -> Measured | None:
        """Runs, advance and ink box of `text`; None when nothing of it can be drawn (cached)."""
        key = (text, True) if rtl else text
        cached = self._measured.current.get(key, MISSING)
        if cached is MISSING:
            cached = self._measured.fill(key, lambda: self._measure(text, rtl))
        return cached

    def _measure(self, text: str, rtl: bool = False) -> Measured | None:
        runs: list[tuple[FontFace, bool, str]] = []
        missing: list[str] = []
        ascii_in_primary = self._primary_has_ascii and text.isascii() and text.isprintable() and not rtl
        by_font = not ascii_in_primary and not rtl and draws_alone(text)
        if ascii_in_primary:  # the common case: one run, no per-character lookups
            runs.append((self.face, False, text))
        elif by_font:  # CJK and symbols without marks, joiners or emoji: a run per font
            face_for = self.chain.face_for
            for char in text:
                face = face_for(char)
                if face is None:
                    if char not in missing:
                        missing.append(char)
                elif runs and runs[-1][0] == face:
                    runs[-1] = (face, runs[-1][1], runs[-1][2] + char)
                else:
                    runs.append((face, bitmap_strike(face) is not None, char))
        base_drawn = True
        for k, char in enumerate("" if ascii_in_primary or by_font else text):
            joiner = char in KEPT_INVISIBLE or 0xFE00 <= ord(char) <= 0xFE0F
            if joiner and runs and base_drawn:  # joiners and variation selectors shape the run they are in
                runs[-1] = (runs[-1][0], True, runs[-1][2] + char)
                continue
            if joiner and (not base_drawn or char in KEPT_INVISIBLE):  # selects or joins a character no font has, or nothing
                continue
            mark = unicodedata.category(char).startswith("M")
            emoji = 0x1F1E6 <= ord(char) <= 0x1FAFF or text[k + 1 : k + 2] == "\ufe0f"  # emoji presentation: a colour font if there is one
            face = self.chain.emoji_face_for(char) if emoji else self.chain.face_for(char)
            if face is None:
                if char not in missing:
                    missing.append(char)
                base_drawn = mark and base_drawn
                continue
            base_drawn = True
            shaped = rtl or needs_shaping(char) or bitmap_strike(face) is not None
            if runs and (runs[-1][0] == face and (runs[-1][1] == shaped or mark)):
                runs[-1] = (face, runs[-1][1], runs[-1][2] + char)
            else:
                runs.append((face, shaped, char))
        placed, pen, box = [], 0, None
        for face, shaped, run_text in runs:
            if not shaped and len(run_text) > 1 and SEPARABLE_CJK.fullmatch(run_text) and self._spaces_by_advance(face, run_text[0]):
                for char in run_text:  # each character's measurement (and mask) is shared by every unit that holds it
                    measured_char = self.measure(char)
                    placed.append(measured_char.runs[0]._replace(dx=pen))
                    pen += measured_char.advance
                continue
            glyphs = glyphs_for(face, self.style.font_size, shaped)
            composed = None if glyphs is None else glyphs.measure(run_text)  # a new word from its characters' metrics
            advance, ink = composed or self._measure_run(face, shaped, run_text, rtl)
            placed.append(Run(face, shaped, run_text, pen, ink, rtl and shaped))
            pen += round(advance)
        if rtl:  # runs in logical order are laid out right to left
            ends = [run.dx for run in placed[1:]] + [pen]
            placed = [run._replace(dx=pen - end) for run, end in zip(placed, ends)]
        for run in placed:
            x0, top, x1, bottom = run.ink
            if x1 > x0 and bottom > top:
                run_box = (run.dx + x0, top, run.dx + x1, bottom)
                box = run_box if box is None else (min(box[0], run_box[0]), min(box[1], run_box[1]), max(box[2], run_box[2]), max(box[3], run_box[3]))
        if placed:
            return Measured(tuple(placed), pen, box or (0, 0, 0, 0), rtl, "".join(missing), "".join(run.text for run in placed))
        if missing:
            return Measured((), 0, (0, 0, 0, 0), False, "".join(missing), "")
        return None

    def _spaces_by_advance(self, face: FontFace, sample: str) -> bool:
        """Whether a run in `face` draws exactly as its characters side by side, one advance apart.

        So in basic layout without kerning, at whole-pixel advances (FreeType
        hints them so); checked once per face. A Chinese or Korean text has a
        few thousand distinct characters but many times as many units (a
        character with its punctuation, a Korean word), which then share their
        characters' measurements and masks: no mask per unit, as a run put
        together from glyphs (`glyphs.py`) needs. Measured against that, in
        process: Korean 716 against 848-913 µs/frame, Chinese level.
        """
        spaced = self._spaced_faces.get(face)
        if spaced is None:
            font = load_font(face, self.style.font_size)
            spaced = self._spaced_faces[face] = not face.builtin and bitmap_strike(face) is None and not kerns_in_basic_layout(face) and float(font.getlength(sample)).is_integer()
        return spaced

    def _measure_run(self, face: FontFace, shaped: bool, text: str, rtl: bool) -> tuple[float, tuple[int, int, int, int]]:
        """Advance and ink box of one run, measured whole by Pillow."""
        font = load_font(face, self.style.font_size, shaped)
        direction = {"direction": "rtl"} if rtl and shaped else {}
        if face.builtin:  # the built-in font has no baseline anchor: shift by its ascent
            x0, top, x1, bottom = font.getbbox(text)
            return font.getlength(text), (x0, top - self.ascent, x1, bottom - self.ascent)
        x0, top, x1, bottom = font.getbbox(text, anchor="ls", **direction)
        advance = font.getlength(text, **direction)
        strike = bitmap_strike(face)
        if strike:  # a bitmap font is opened at its strike size and scaled to the text's
            scale = self.style.font_size / strike
            return advance * scale, (math.floor(x0 * scale), math.floor(top * scale), math.ceil(x1 * scale), math.ceil(bottom * scale))
        return advance, (x0, top, x1, bottom)

    def _fits_alone(self, m: Measured) -> bool:
        x0, top, x1, bottom = m.ink
        return x1 - min(0, x0) <= self.unit_width and bottom - top <= self.text_height

    def prepare(self, units: list[Unit]) -> tuple[list[MeasuredUnit], set[str]]:
        """Measure every unit, break units wider than a line, drop what cannot be drawn.

        Each distinct unit is prepared once per process (bounded, two
        generations) and its pieces reused: a document repeats most of its
        words, and a CJK text most of its characters.
        """
        out: list[MeasuredUnit] = []
        missing: set[str] = set()
        prepared = self._prepared
        for unit in units:
            entry = prepared.current.get(unit)
            if entry is None:
                entry = prepared.fill(unit, lambda: self._prepare_one(unit))
            pieces, unit_missing = entry
            out.extend(pieces)
            if unit_missing:
                missing.update(unit_missing)
        return out, missing

    def _prepare_one(self, unit: Unit) -> tuple[tuple[MeasuredUnit, ...], str]:
        """The unit's pieces ready to pack, and the characters of it that cannot be drawn."""
        rtl = unit.level % 2 == 1
        m = self.measure(unit.text, rtl)
        if m is None:
            return (), ""
        if not m.runs:
            return (), m.missing
        if m.missing and unit.space_before and not unit.newlines:
            drawn = m.runs[0].text[0]
            if drawn != unit.text[0] and drawn in CLOSING:  # "great 🎉!" without an emoji font: "great!", not "great !"
                unit = unit._replace(space_before=0)
        if self._fits_alone(m):
            return (MeasuredUnit(unit, m),), m.missing
        pieces, missing = [], m.missing
        for n, (piece, pm) in enumerate(self._break(unit.text, rtl)):
            if pm is None or not pm.runs:
                continue
            if not self._fits_alone(pm):  # one glyph bigger than the frame: cannot be drawn legibly
                missing += "".join(c for c in piece if not c.isspace())
                continue
            pieces.append(MeasuredUnit(unit._replace(text=piece, space_before=unit.space_before if n == 0 else 0, newlines=unit.newlines if n == 0 else 0, space_level=unit.space_level if n == 0 else unit.level), pm))
        return tuple(pieces), missing

    def _break(self, text: str, rtl: bool = False) -> list[tuple[str, Measured | None]]:
        """Split an over-long token into pieces that each fit a line, with their measurements.

        Each piece's end is estimated from the cached widths of its clusters
        and confirmed by measuring the piece itself, stepping back while
        kerning or ink overhang makes it too wide: usually one measurement per
        piece (measuring every prefix made path-heavy text 10x slower).
        """
        clusters = grapheme_clusters(text)
        widths = [max(1, m.advance) if (m := self.measure(c, rtl)) is not None and m.runs else 0 for c in clusters]
        pieces, start = [], 0
        while start < len(clusters):
            end, used = start, 0
            while end < len(clusters) and used + widths[end] <= self.unit_width:
                used += widths[end]
                end += 1
            end = max(end, start + 1)
            measured = self._measure("".join(clusters[start:end]), rtl)
            while end > start + 1 and (measured is None or not self._fits_alone(measured)):
                end -= 1
                measured = self._measure("".join(clusters[start:end]), rtl)
            pieces.append(("".join(clusters[start:end]), measured))
            start = end
        return pieces


def grapheme_clusters(text: str) -> list[str]:
    """What a reader sees as one character: a base with its marks, an emoji ZWJ sequence, a flag.

    A token is only ever broken between clusters, so no emoji or accent is cut in two.
    """
    clusters: list[str] = []
    for char in text:
        if clusters and (_extends(char) or clusters[-1][-1] == "\u200d" or (_regional(char) and _regional(clusters[-1][-1]) and len(clusters[-1]) % 2)):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _extends(char: str) -> bool:
    """Marks, joiners, variation selectors, emoji skin tones and tags: part of the cluster before them."""
    return unicodedata.category(char).startswith("M") or char in KEPT_INVISIBLE or 0x1F3FB <= ord(char) <= 0x1F3FF


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF

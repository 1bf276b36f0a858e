"""Measuring text in a font: a unit -> the runs that draw it, its advance and its ink box.

Everything layout decides rests on these numbers, so they come from the fonts
themselves (Pillow's bboxes and advances), never from character counts.
Measurements are cached per distinct text, which is what makes layout cheap:
a 115-word frame repeats most of its words across a document.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from t2vid.charset import needs_shaping
from t2vid.fonts import FontChain, FontFace, coverage, load_font, resolve_face
from t2vid.style import RenderStyle

_RTL_BIDI = {"R", "AL"}
MEASURE_CACHE_SIZE = 16_384  # units per cache generation (two are kept, ~10 MB): numbers and hashes would grow one cache forever


@dataclass(frozen=True)
class Unit:
    """The smallest piece a line may break before: a word, or one CJK character."""

    text: str
    space_before: bool
    sentence_end: bool = False
    cjk: bool = False  # lines holding CJK get the taller CJK line pitch


@dataclass(frozen=True)
class Run:
    """A stretch of one unit drawn with one font."""

    face: FontFace
    shaped: bool
    text: str
    dx: int
    ink: tuple[int, int, int, int]  # x0, top, x1, bottom relative to (pen + dx, baseline)


@dataclass(frozen=True)
class Measured:
    runs: tuple[Run, ...]
    advance: int
    ink: tuple[int, int, int, int]  # union of run boxes relative to (pen, baseline)
    rtl: bool
    missing: str  # distinct characters no installed font covers


class MeasuredUnit(NamedTuple):
    """A unit ready to pack: what it is and how big it draws (a tuple: there is one per word of every document)."""

    unit: Unit
    measured: Measured


class Measurer:
    """Measures text for one style: font fallback, bounded caches, over-long tokens broken to fit a line."""

    def __init__(self, style: RenderStyle, fallback: bool = True):
        self.style = style
        self.face = FontFace(style.font, style.font_index) if style.font else resolve_face(None)
        self.chain = FontChain(self.face, fallback=fallback)
        font = load_font(self.face, style.font_size)
        ascent, _ = font.getmetrics() if hasattr(font, "getmetrics") else (style.font_size, style.font_size // 4)
        self.ascent = ascent
        self.space = round(font.getlength(" "))
        self.line_width = style.width - 2 * style.margin
        self.text_height = style.height - 2 * style.margin
        self._primary_has_ascii = set(range(0x20, 0x7F)) <= coverage(self.face)
        self._measured: dict[str, Measured | None] = {}
        self._older: dict[str, Measured | None] = {}
        self._prepared: dict[int, tuple] = {}  # id(unit) -> _prepare_one(unit), two generations like the measurements
        self._prepared_older: dict[int, tuple] = {}

    def measure(self, text: str) -> Measured | None:
        """Runs, advance and ink box of `text`; None when nothing of it can be drawn (cached)."""
        cached = self._measured.get(text, False)
        if cached is False:
            cached = self._older.get(text, False)
            if cached is False:
                cached = self._measure(text)
            if len(self._measured) >= MEASURE_CACHE_SIZE:  # two generations: frequent words survive, memory stays bounded
                self._older, self._measured = self._measured, {}
            self._measured[text] = cached
        return cached

    def _measure(self, text: str) -> Measured | None:
        runs: list[tuple[FontFace, bool, str]] = []
        missing: list[str] = []
        ascii_in_primary = self._primary_has_ascii and text.isascii() and text.isprintable()
        if ascii_in_primary:  # the common case: one run, no per-character lookups
            runs.append((self.face, False, text))
        for char in "" if ascii_in_primary else text:
            face = self.chain.face_for(char)
            if face is None:
                if char not in missing:
                    missing.append(char)
                continue
            shaped = needs_shaping(char)
            mark = unicodedata.category(char).startswith("M")
            if runs and (runs[-1][0] == face and (runs[-1][1] == shaped or mark)):
                runs[-1] = (face, runs[-1][1], runs[-1][2] + char)
            else:
                runs.append((face, shaped, char))
        placed, pen, box = [], 0, None
        rtl = not ascii_in_primary and any(unicodedata.bidirectional(c) in _RTL_BIDI for c in text)
        for face, shaped, run_text in runs:
            font = load_font(face, self.style.font_size, shaped)
            x0, top, x1, bottom = font.getbbox(run_text, anchor="ls") if not face.builtin else font.getbbox(run_text)
            if face.builtin:  # the built-in font has no baseline anchor: shift by its ascent
                top, bottom = top - self.ascent, bottom - self.ascent
            advance = round(font.getlength(run_text))
            placed.append(Run(face, shaped, run_text, pen, (x0, top, x1, bottom)))
            if x1 > x0 and bottom > top:
                run_box = (pen + x0, top, pen + x1, bottom)
                box = run_box if box is None else (min(box[0], run_box[0]), min(box[1], run_box[1]), max(box[2], run_box[2]), max(box[3], run_box[3]))
            pen += advance
        if placed:
            return Measured(tuple(placed), pen, box or (0, 0, 0, 0), rtl, "".join(missing))
        if missing:
            return Measured((), 0, (0, 0, 0, 0), False, "".join(missing))
        return None

    def _fits_alone(self, m: Measured) -> bool:
        x0, top, x1, bottom = m.ink
        return x1 - min(0, x0) <= self.line_width and bottom - top <= self.text_height

    def prepare(self, units: list[Unit]) -> tuple[list[MeasuredUnit], set[str]]:
        """Measure every unit, break units wider than a line, drop what cannot be drawn.

        split_units hands out one object per distinct word, so results are
        kept per unit object (the entry holds the object: its id cannot be
        reused while the entry lives) and a recurring unit costs one lookup.
        """
        out: list[MeasuredUnit] = []
        missing: set[str] = set()
        prepared, older = self._prepared, self._prepared_older
        for unit in units:
            entry = prepared.get(id(unit))
            if entry is None or entry[0] is not unit:
                entry = older.get(id(unit))
                if entry is None or entry[0] is not unit:
                    entry = self._prepare_one(unit)
                if len(prepared) >= MEASURE_CACHE_SIZE:
                    self._prepared_older, self._prepared = older, prepared = prepared, {}
                prepared[id(unit)] = entry
            out.extend(entry[1])
            if entry[2]:
                missing.update(entry[2])
        return out, missing

    def _prepare_one(self, unit: Unit) -> tuple[Unit, tuple[MeasuredUnit, ...], frozenset[str]]:
        """(the unit, its drawable pieces, the characters of it that cannot be drawn)."""
        m = self.measure(unit.text)
        if m is None:
            return unit, (), frozenset()
        if not m.runs:
            return unit, (), frozenset(m.missing)
        if self._fits_alone(m):
            return unit, (MeasuredUnit(unit, m),), frozenset(m.missing)
        pieces, missing = [], set(m.missing)
        for n, (piece, pm) in enumerate(self._break(unit.text)):
            if pm is None or not pm.runs:
                continue
            if not self._fits_alone(pm):  # one glyph bigger than the frame: cannot be drawn legibly
                missing.update(c for c in piece if not c.isspace())
                continue
            pieces.append(MeasuredUnit(Unit(piece, unit.space_before and n == 0, unit.sentence_end, unit.cjk), pm))
        return unit, tuple(pieces), frozenset(missing)

    def _break(self, text: str) -> list[tuple[str, Measured | None]]:
        """Split an over-long token into pieces that each fit a line, with their measurements.

        Each piece's end is estimated from the cached widths of its clusters
        and confirmed by measuring the piece itself, stepping back while
        kerning or ink overhang makes it too wide: usually one measurement per
        piece (measuring every prefix made path-heavy text 10x slower).
        """
        clusters: list[str] = []
        for char in text:
            if clusters and unicodedata.category(char).startswith("M"):
                clusters[-1] += char
            else:
                clusters.append(char)
        widths = [max(1, m.advance) if (m := self.measure(c)) is not None and m.runs else 0 for c in clusters]
        pieces, start = [], 0
        while start < len(clusters):
            end, used = start, 0
            while end < len(clusters) and used + widths[end] <= self.line_width:
                used += widths[end]
                end += 1
            end = max(end, start + 1)
            measured = self._measure("".join(clusters[start:end]))
            while end > start + 1 and (measured is None or not self._fits_alone(measured)):
                end -= 1
                measured = self._measure("".join(clusters[start:end]))
            pieces.append(("".join(clusters[start:end]), measured))
            start = end
        return pieces

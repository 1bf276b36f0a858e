"""Line packing: measured units -> lines placed inside a frame, aligned.

Every decision here is made on measured ink boxes (t2vid.measure), never on
word counts, so a laid-out frame cannot put a pixel outside its margins: a
line that would overflow moves to the next frame, and a token wider than a
line was already broken by the measurer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from t2vid.charset import CJK_CLASS, has_cjk, is_cjk, is_invisible
from t2vid.measure import Measured, MeasuredUnit, Measurer, Unit
from t2vid.style import RenderStyle

CLOSING = set("，。、．・：；！？」』）》〉】〕｝〗〙〛’”‐゠–〜ー…‥%,.:;!?)]}»›")
OPENING = set("「『（《〈【〔｛〖〘〚‘“([{«‹")
SENTENCE_END = set(".!?。！？…")


_SIMPLE_WORD = re.compile(r"[\x21-\x7e\u00a1-\u02ff\u0370-\u03ff\u0400-\u04ff]+")
_CLOSING_NOT_END = "".join(CLOSING - SENTENCE_END)
_OPENING_CLASS, _CLOSING_CLASS = (re.escape("".join(sorted(chars))) for chars in (OPENING, CLOSING))
# Where a word breaks into units (for text without combining marks): before a CJK character or opening
# punctuation, and after a CJK character; never before closing punctuation, never after opening.
UNIT_BREAK = re.compile(rf"(?<=\S)(?<![{_OPENING_CLASS}])(?=[^\s{_CLOSING_CLASS}])(?:(?=[{CJK_CLASS}{_OPENING_CLASS}])|(?<=[{CJK_CLASS}]))")


WORD_CACHE_SIZE = 16_384  # distinct words per cache generation (two are kept): a Chinese corpus repeats ~6,000 characters


class _WordUnits:
    """Each distinct word's units, computed once per process (units are immutable, so all contexts share them)."""

    def __init__(self) -> None:
        self._recent: dict[str, tuple[Unit, ...]] = {}
        self._older: dict[str, tuple[Unit, ...]] = {}

    def __call__(self, word: str) -> tuple[Unit, ...]:
        units = self._recent.get(word)
        if units is None:
            units = self._older.get(word)
            if units is None:
                units = _units_of(word)
            if len(self._recent) >= WORD_CACHE_SIZE:
                self._older, self._recent = self._recent, {}
            self._recent[word] = units
        return units


def _units_of(word: str) -> tuple[Unit, ...]:
    simple = _SIMPLE_WORD.fullmatch(word) is not None  # Latin, Greek, Cyrillic: the word is the unit
    if simple:
        pieces = [word]
    elif any(unicodedata.category(c).startswith("M") for c in word):  # combining marks glue to the character before them
        pieces = _split_word(word)
    else:
        pieces = UNIT_BREAK.split(word)
    return tuple(
        Unit(piece, space_before=n == 0, sentence_end=piece.rstrip(_CLOSING_NOT_END)[-1:] in SENTENCE_END, cjk=not simple and has_cjk(piece))
        for n, piece in enumerate(pieces)
    )


_word_units = _WordUnits()


def split_units(text: str) -> list[Unit]:
    """Whitespace-delimited words, with CJK runs broken between characters.

    Closing punctuation sticks to the unit before it and opening punctuation to
    the unit after it, so no line starts with `，` or ends with `「`. A word is
    split once per process (cached), by one regular expression unless it holds
    combining marks.
    """
    words = text.split()
    if not "".join(words).isprintable():  # rare: control, format or surrogate characters to drop
        words = text.translate({ord(c): None for c in set(text) if not c.isspace() and is_invisible(c)}).split()
    units: list[Unit] = []
    for word in words:
        units.extend(_word_units(word))
    return units


def _split_word(word: str) -> list[str]:
    pieces: list[str] = []
    glue_next = False
    for char in word:
        if pieces and (char in CLOSING or glue_next or unicodedata.category(char).startswith("M")):
            pieces[-1] += char
        elif is_cjk(char) or char in OPENING or not pieces or is_cjk(pieces[-1][-1]):
            pieces.append(char)
        else:
            pieces[-1] += char
        glue_next = char in OPENING
    return pieces


class PlacedUnit(NamedTuple):
    """A unit at its place in a frame (a tuple: there is one per word of every frame)."""

    unit: Unit
    measured: Measured
    x: int  # pen position relative to the left margin
    baseline: int  # absolute y


@dataclass(frozen=True)
class Line:
    units: tuple[PlacedUnit, ...]

    @property
    def text(self) -> str:
        """The characters actually drawn (missing glyphs are left out)."""
        return "".join((" " if p.unit.space_before and n else "") + "".join(r.text for r in p.measured.runs) for n, p in enumerate(self.units))


@dataclass(frozen=True)
class FrameLayout:
    """What one frame shows: placed lines and the exact text they draw."""

    lines: tuple[Line, ...]
    overlap_lines: int = 0
    missing: frozenset[str] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def new_words(self) -> int:
        return sum(len(line.units) for line in self.lines[self.overlap_lines :])


class Layouter:
    """Packs measured units into frames for one style: line breaks, line pitch, alignment."""

    def __init__(self, style: RenderStyle, fallback: bool = True):
        self.style = style
        self.measurer = Measurer(style, fallback)
        self.pitch = max(1, round(style.font_size * style.line_spacing))
        self.cjk_pitch = max(self.pitch, round(style.font_size * style.cjk_line_spacing))
        self.bottom = style.height - style.margin

    def _line_extent(self, items: list[MeasuredUnit], start: int, stop: int, wrap: bool) -> tuple[list[int], int, int, int, int, bool]:
        """Pen positions, left overhang, ink right edge, ink top and bottom, and whether any unit is CJK, of items[start:stop].

        With `wrap`, the line ends before the first unit that would make its ink
        wider than the frame (a line always takes at least one unit). One pass,
        since it runs for every unit of every frame.
        """
        space, line_width = self.measurer.space, self.measurer.line_width
        xs: list[int] = []
        pen = left = right = 0
        top, bottom, cjk = None, None, False
        for k in range(start, stop):
            unit, m = items[k]
            x0, ink_top, x1, ink_bottom = m.ink
            x = pen + space if xs and unit.space_before else pen
            new_left = x + x0 if x + x0 < left else left
            new_right = x + x1 if x + x1 > right else right
            if wrap and xs and new_right - new_left > line_width:
                break
            xs.append(x)
            pen, left, right = x + m.advance, new_left, new_right
            top = ink_top if top is None or ink_top < top else top
            bottom = ink_bottom if bottom is None or ink_bottom > bottom else bottom
            cjk = cjk or unit.cjk
        return xs, left, right, top, bottom, cjk

    def fill(self, items: list[MeasuredUnit], start: int, limit: int, carry: tuple[Line, ...] = ()) -> tuple[FrameLayout, int]:
        """Pack items[start:] into one frame after the carried lines, at most `limit` new units; return the frame and the next index."""
        pending = [[MeasuredUnit(p.unit, p.measured) for p in line.units] for line in carry]  # carried lines are placed first, then new ones
        lines: list[tuple[list[MeasuredUnit], tuple[list[int], int, int]]] = []  # accepted lines with their extents
        baselines: list[tuple[int, int]] = []  # (baseline, ink bottom) per accepted line
        i, stop = start, min(len(items), start + limit)
        while True:
            if pending:
                line = pending.pop(0)
                xs, left, right, top, bottom, cjk = self._line_extent(line, 0, len(line), wrap=False)
                new = 0
            else:
                if i >= stop:
                    break
                xs, left, right, top, bottom, cjk = self._line_extent(items, i, stop, wrap=True)
                new = len(xs)
                line = items[i : i + new]
            if baselines:
                pitch = self.cjk_pitch if cjk else self.pitch
                baseline = max(baselines[-1][0] + pitch, baselines[-1][1] - top + 1)
            else:
                baseline = self.style.margin + max(self.measurer.ascent, -top)
            if baseline + bottom > self.bottom:
                if not lines:  # taller than an empty frame even alone; the measurer keeps units short enough
                    raise AssertionError("unit taller than the frame passed prepare()")
                if new == 0:  # a carried line no longer fits: drop the carry, keep the frame going
                    continue
                break
            baselines.append((baseline, baseline + bottom))
            lines.append((line, (xs, left, right)))
            i += new
        return self._place(lines, [b for b, _ in baselines], len(carry)), i

    def _place(self, lines: list[tuple[list[MeasuredUnit], tuple[list[int], int, int]]], baselines: list[int], overlap: int) -> FrameLayout:
        style = self.style
        line_width = self.measurer.line_width
        if style.valign == "center" and lines:
            used = baselines[-1] + max(m.ink[3] for _, m in lines[-1][0]) - style.margin
            free = self.bottom - style.margin - used
            baselines = [b + free // 2 for b in baselines]
        placed_lines, missing = [], set()
        for n, ((line, (xs, left, right)), baseline) in enumerate(zip(lines, baselines)):
            width = right - left
            shift = -left
            if style.align == "center":
                shift += (line_width - width) // 2
            elif style.align == "justify" and n < len(lines) - 1:
                gaps = [k for k in range(1, len(line)) if line[k][0].space_before]
                if gaps:
                    extra = line_width - width
                    xs = [x + (extra * sum(1 for g in gaps if g <= k)) // len(gaps) for k, x in enumerate(xs)]
            if any(m.rtl for _, m in line):  # right-to-left line: mirror the order of the units
                xs = [left + right - x - m.ink[0] - m.ink[2] for x, (_, m) in zip(xs, line)]  # keeps each ink box inside [left, right]
            placed_lines.append(Line(tuple([PlacedUnit(u, m, x + shift, baseline) for x, (u, m) in zip(xs, line)])))
            for _, m in line:
                if m.missing:
                    missing.update(m.missing)
        return FrameLayout(tuple(placed_lines), min(overlap, len(placed_lines)), frozenset(missing))

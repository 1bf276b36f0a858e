"""Line packing: measured units -> lines placed inside a frame, aligned.

Every decision here is made on measured ink boxes (t2vid.measure), never on
word counts, so a laid-out frame cannot put a pixel outside its margins: a
line that would overflow moves to the next frame, and a token wider than a
line was already broken by the measurer. Bidi levels are resolved per
paragraph when the text is split and each line is put in display order on its
own (UAX #9, rules L1-L2), so punctuation, numbers and embedded left-to-right
runs of Arabic or Hebrew text land where a reader expects them.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

from t2vid.bidi import may_be_bidi, paragraph_levels, visual_order
from t2vid.caches import Generations
from t2vid.charset import CLOSING, KEPT_INVISIBLE, SIMPLE_WORD, has_cjk, is_invisible, split_cjk
from t2vid.measure import Measured, MeasuredUnit, Measurer, Unit
from t2vid.style import RenderStyle

SENTENCE_END = set(".!?。！？…")


_CLOSING_NOT_END = "".join(CLOSING - SENTENCE_END)
_AFTER_SENTENCE_END = _CLOSING_NOT_END + "".join(KEPT_INVISIBLE)  # may follow the full stop of a sentence-final piece
_TOKEN = re.compile(r"\S+")
TAB_SIZE = 4  # preserve mode: frames are narrow, and 4 is what most code is indented with
WORD_CACHE_SIZE = 32_768  # words per cache generation
_known_words: Generations[tuple[Unit, ...]] = Generations(WORD_CACHE_SIZE)  # (word, spaces, line break, indent) -> its units, per process
_known_pieces: Generations[Unit] = Generations(WORD_CACHE_SIZE)  # piece, or (piece, indent) on an indented line (preserve mode) -> the unit of a piece after a word's first


def split_units(text: str, whitespace: str = "collapse") -> list[Unit]:
    """Whitespace-delimited words, with CJK runs broken between characters.

    Closing punctuation sticks to the unit before it and opening punctuation to
    the unit after it, so no line starts with `，` or ends with `「`. In the
    lines and preserve modes each source line is a bidi paragraph (a newline
    is a paragraph separator in UAX #9); in collapse mode the whole text is.
    """
    units: list[Unit] = []
    preserve, lines = whitespace == "preserve", whitespace == "lines"
    newlines = int(preserve)  # preserve keeps the first line's indentation too
    for paragraph in [text] if whitespace == "collapse" else text.splitlines():
        if preserve:
            paragraph = paragraph.expandtabs(TAB_SIZE)
        bidi = may_be_bidi(paragraph)
        if not (preserve or bidi):  # the common case: words and single spaces, all left to right
            tokens = paragraph.split()
            starts = ends = None
        else:
            matches = list(_TOKEN.finditer(paragraph))
            tokens, starts, ends = [m.group() for m in matches], [m.start() for m in matches], [m.end() for m in matches]
        if not tokens:
            newlines += 1
            continue
        levels, rtl = paragraph_levels(paragraph) if bidi else ((), False)
        indent = starts[0] if preserve else 0
        for n, word in enumerate(tokens):
            spaces = (starts[n] - (ends[n - 1] if n else 0)) if preserve else 0 if n == 0 and lines else 1
            line_break = min(newlines, 2) if lines else newlines
            if bidi:
                pieces = _word_units(word, spaces, line_break, levels[starts[n] : ends[n]], levels[starts[n] - 1] if starts[n] else 0, rtl, indent)
            else:  # a word's units depend only on these, and a document repeats most of its words
                key = (word, spaces, line_break, indent)
                pieces = _known_words.current.get(key)
                if pieces is None:
                    pieces = _known_words.fill(key, lambda: _word_units(word, spaces, line_break, None, 0, False, indent))
            if pieces:
                units.extend(pieces)
                newlines = 0
        newlines += whitespace != "collapse"
    return units


def _word_units(word: str, spaces: int, line_break: int, levels, space_level: int, rtl: bool, indent: int) -> tuple[Unit, ...]:
    """The units of one word: the word itself (Latin, Greek, Cyrillic), or its pieces (CJK, marks, invisible characters, bidi); empty if nothing is drawable."""
    if not word.isprintable():  # rare: control, format or surrogate characters to drop
        kept = [k for k, c in enumerate(word) if not is_invisible(c) or c in KEPT_INVISIBLE]
        if all(word[k] in KEPT_INVISIBLE for k in kept):
            return ()
        levels = [levels[k] for k in kept] if levels is not None else None
        word = "".join(word[k] for k in kept)
    simple = SIMPLE_WORD.fullmatch(word) is not None
    pieces = [word] if simple else split_cjk(word)
    if levels is None:  # left to right: a piece after the first depends on its text and the indentation only
        return (_unit(pieces[0], spaces, line_break, 0, space_level, rtl, False, indent, simple), *_inner_units(pieces[1:], indent))
    return tuple(_unit(piece, spaces if k == 0 else 0, line_break if k == 0 else 0, level, space_level if k == 0 else level, rtl, joined, indent, simple) for k, (piece, level, joined) in enumerate(_split_levels(pieces, levels)))


def _unit(piece: str, spaces: int, line_break: int, level: int, space_level: int, rtl: bool, joined: bool, indent: int, simple: bool = False) -> Unit:
    sentence_end = piece.rstrip(_AFTER_SENTENCE_END)[-1:] in SENTENCE_END
    return Unit(piece, spaces, sentence_end, not simple and has_cjk(piece), line_break, level, space_level, rtl, joined, indent)


def _inner_units(pieces: list[str], indent: int) -> list[Unit]:
    """The pieces after a left-to-right word's first (most often one CJK character each), each unit made once per process.

    Looked up all at once (a Chinese clause has dozens): a piece costs one
    dictionary lookup in C, keyed by its text alone unless its line is indented.
    """
    keys = [(piece, indent) for piece in pieces] if indent else pieces
    units = list(map(_known_pieces.current.get, keys))
    if None in units:
        for k, unit in enumerate(units):
            if unit is None:
                units[k] = _known_pieces.fill(keys[k], lambda: _unit(pieces[k], 0, 0, 0, 0, False, False, indent))
    return units


def _split_levels(pieces: list[str], levels) -> list[tuple[str, int, bool]]:
    """Pieces cut again where the bidi level changes: (text, level, whether it continues the piece before)."""
    out: list[tuple[str, int, bool]] = []
    offset = 0
    for piece in pieces:
        start = offset
        for k in range(offset + 1, offset + len(piece) + 1):
            if k == offset + len(piece) or levels[k] != levels[start]:
                out.append((piece[start - offset : k - offset], levels[start], start > offset))
                start = k
        offset += len(piece)
    return out


class PlacedUnit(NamedTuple):
    """A unit at its place in a frame (a tuple: there is one per word of every frame)."""

    unit: Unit
    measured: Measured
    x: int  # pen position relative to the left margin
    baseline: int  # absolute y


@dataclass(frozen=True)
class Line:
    """One drawn line: its units, their pen x relative to the left margin, and their shared baseline.

    Stored compactly: a long context keeps an entry per word of every frame until its sample is written.
    """

    items: tuple[MeasuredUnit, ...]
    xs: array = field(hash=False)  # pen x of each item, as machine integers (an array does not hash; equality still compares it)
    baseline: int  # absolute y
    mark: PlacedUnit | None = None  # preserve mode: drawn before a line that continues a wrapped source line

    @property
    def continued(self) -> bool:
        return self.mark is not None

    @property
    def units(self) -> tuple[PlacedUnit, ...]:
        """Each unit with its position (built on demand: drawing and packing read `items` and `xs`)."""
        return tuple(PlacedUnit(u, m, x, self.baseline) for x, (u, m) in zip(self.xs, self.items))

    @property
    def text(self) -> str:
        """The characters actually drawn (missing glyphs are left out), with preserved indentation."""
        items = self.items
        indent = " " * items[0].unit.space_before if items and items[0].unit.newlines else ""
        return indent + "".join([" " * u.space_before + m.text if n else m.text for n, (u, m) in enumerate(items)])


@dataclass(frozen=True)
class FrameLayout:
    """What one frame shows: placed lines and the exact text they draw."""

    lines: tuple[Line, ...]
    overlap_lines: int = 0
    missing: frozenset[str] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        """Drawn lines joined by newlines; a paragraph gap is an empty line."""
        return "".join(_line_separator(line) + line.text if n else line.text for n, line in enumerate(self.lines))

    @property
    def overlap_text_lines(self) -> int:
        """How many lines of `text` repeat the previous frame (paragraph gaps included)."""
        return sum(1 + (n and _line_separator(line).count("\n") - 1) for n, line in enumerate(self.lines[: self.overlap_lines]))

    @property
    def new_words(self) -> int:
        """Words first shown in this frame (`count_words` of the text it adds)."""
        return sum(not unit.joined for line in self.lines[self.overlap_lines :] for unit, _ in line.items)


def _ink_rows(line: list[MeasuredUnit]) -> tuple[int, int, bool]:
    """Top and bottom ink row of a line relative to its baseline, and whether it holds CJK (one pass: it runs for every line)."""
    top, bottom, cjk = 1 << 30, -(1 << 30), False
    for unit, m in line:
        _, unit_top, _, unit_bottom = m.ink
        if unit_top < top:
            top = unit_top
        if unit_bottom > bottom:
            bottom = unit_bottom
        if unit.cjk:
            cjk = True
    return top, bottom, cjk


def _line_separator(line: Line) -> str:
    return "\n" * max(1, line.items[0].unit.newlines if line.items else 1)


class Layouter:
    """Packs measured units into frames for one style: line breaks, line pitch, alignment."""

    def __init__(self, style: RenderStyle, fallback: bool = True):
        self.style = style
        self.measurer = Measurer(style, fallback)
        self.pitch = max(1, round(style.font_size * style.line_spacing))
        self.cjk_pitch = max(self.pitch, round(style.font_size * style.cjk_line_spacing))
        self.bottom = style.height - style.margin
        self.preserve = style.whitespace == "preserve"

    def _lead(self, unit: Unit, m: Measured) -> tuple[int, int | None]:
        """Preserve mode: where a line's first unit starts, and where its continuation mark is (None: not continued).

        A source line starts at its indentation; the lines it wraps onto keep
        that indentation, marked, as editors show wrapped code. Indentation
        gives way when a unit would not fit beside it.
        """
        if not self.preserve:
            return 0, None
        measurer = self.measurer
        room = measurer.line_width - m.ink[2] + min(0, m.ink[0])
        if unit.newlines:
            return max(0, min(measurer.space * unit.space_before, room)), None
        mark = measurer.mark.advance + measurer.space
        indent = max(0, min(measurer.space * unit.indent, room - mark))
        return indent + mark, indent

    def _line_extent(self, items: list[MeasuredUnit], start: int, stop: int, wrap: bool, stretch: int = 0) -> tuple[list[int], int, int]:
        """Pen positions (in logical order), left overhang and ink right edge of items[start:stop].

        With `wrap`, the line ends before the first unit that would make its ink
        wider than the frame, or that starts a source line (a line always takes
        at least one unit). Units and the spaces between them are put in display
        order by their bidi levels (rule L2); `stretch` pixels are shared among
        the spaces (justify).
        """
        space, line_width, mark = self.measurer.space, self.measurer.line_width, self.measurer.mark
        xs: list[int] = []
        pen, mark_x = self._lead(*items[start])
        left, right = (min(0, mark_x + mark.ink[0]), mark_x + mark.ink[2]) if mark_x is not None else (0, 0)
        first = pen, left, right
        for k in range(start, stop):
            unit, m = items[k]
            if xs and wrap and unit.newlines:
                break
            if unit.level or unit.space_level:  # display order can move any unit to either end: lay out the whole line
                return self._bidi_extent(items, start, stop, wrap, first, stretch)
            x = pen + space * unit.space_before if xs else pen
            x0, _, x1, _ = m.ink
            new_left = x + x0 if x + x0 < left else left  # not min()/max(): this runs for every unit of every frame
            new_right = x + x1 if x + x1 > right else right
            if wrap and xs and new_right - new_left > line_width:
                break
            xs.append(x)
            pen, left, right = x + m.advance, new_left, new_right
        if stretch:
            return self._bidi_extent(items, start, start + len(xs), False, first, stretch)
        return xs, left, right

    def _bidi_extent(self, items: list[MeasuredUnit], start: int, stop: int, wrap: bool, first: tuple[int, int, int], stretch: int) -> tuple[list[int], int, int]:
        """`_line_extent` for a line in display order, found by laying out each longer candidate line in full."""
        best = None
        for end in range(start + 1, stop + 1):
            if wrap and end > start + 1 and items[end - 1].unit.newlines:
                break
            candidate = self._display_order(items[start:end], first, stretch)
            if wrap and best is not None and candidate[2] - candidate[1] > self.measurer.line_width:
                break
            best = candidate
        return best

    def _display_order(self, line: list[MeasuredUnit], first: tuple[int, int, int], stretch: int) -> tuple[list[int], int, int]:
        elements = []  # (level, width, unit index or -1 for a space)
        for k, (unit, m) in enumerate(line):
            if k and unit.space_before:
                elements.append((unit.space_level, self.measurer.space * unit.space_before, -1))
            elements.append((unit.level, m.advance, k))
        order = [elements[k] for k in visual_order([level for level, _, _ in elements])]
        spaces = sum(1 for _, _, k in elements if k < 0)
        xs = [0] * len(line)
        pen, left, right = first
        seen = 0
        for _, width, k in order:
            if k < 0:
                pen += width + (stretch * (seen + 1)) // spaces - (stretch * seen) // spaces
                seen += 1
                continue
            m = line[k].measured
            xs[k] = pen
            left, right = min(left, pen + m.ink[0]), max(right, pen + m.ink[2])
            pen += width
        return xs, left, right

    def fill(self, items: list[MeasuredUnit], start: int, limit: int, carry: tuple[Line, ...] = ()) -> tuple[FrameLayout, int]:
        """Pack items[start:] into one frame after the carried lines, at most `limit` new units; return the frame and the next index."""
        pending = [list(line.items) for line in carry]  # carried lines are placed first, then new ones
        lines: list[tuple[list[MeasuredUnit], tuple[list[int], int, int]]] = []  # accepted lines with their extents
        baselines: list[tuple[int, int]] = []  # (baseline, ink bottom) per accepted line
        i, stop = start, min(len(items), start + limit)
        while True:
            if pending:
                line = pending.pop(0)
                extent = self._line_extent(line, 0, len(line), wrap=False)
                new = 0
            else:
                if i >= stop:
                    break
                extent = self._line_extent(items, i, stop, wrap=True)
                new = len(extent[0])
                line = items[i : i + new]
            top, bottom, cjk = _ink_rows(line)
            if baselines:
                pitch = self.cjk_pitch if cjk else self.pitch
                gap = self.pitch * max(0, line[0].unit.newlines - 1)  # blank lines before a paragraph
                baseline = max(baselines[-1][0] + pitch, baselines[-1][1] - top + 1) + gap
            else:
                baseline = self.style.margin + max(self.measurer.ascent, -top)
            if baseline + bottom > self.bottom:
                if not lines:  # taller than an empty frame even alone; the measurer keeps units short enough
                    raise AssertionError("unit taller than the frame passed prepare()")
                if new == 0:  # a carried line no longer fits: drop the carry, keep the frame going
                    continue
                break
            baselines.append((baseline, baseline + bottom))
            lines.append((line, extent))
            i += new
        return self._place(lines, [b for b, _ in baselines], len(carry)), i

    def _place(self, lines: list[tuple[list[MeasuredUnit], tuple[list[int], int, int]]], baselines: list[int], overlap: int) -> FrameLayout:
        style, measurer = self.style, self.measurer
        line_width = measurer.line_width
        if style.valign == "center" and lines:
            used = baselines[-1] + max(m.ink[3] for _, m in lines[-1][0]) - style.margin
            free = self.bottom - style.margin - used
            baselines = [b + free // 2 for b in baselines]
        placed_lines, missing = [], set()
        for n, ((line, (xs, left, right)), baseline) in enumerate(zip(lines, baselines)):
            width = right - left
            rtl = line[0].unit.rtl_paragraph
            align = style.align
            if align in ("start", "end"):
                align = "right" if rtl == (align == "start") else "left"
            if align == "justify":
                paragraph_ends = n == len(lines) - 1 or lines[n + 1][0][0].unit.newlines > 0
                if self.preserve or paragraph_ends or not any(u.space_before for u, _ in line[1:]):
                    align = "right" if rtl else "left"  # the last line of a paragraph sits at its start
                else:
                    xs, left, right = self._line_extent(line, 0, len(line), wrap=False, stretch=line_width - width)
                    width = right - left
            shift = -left
            if align == "center":
                shift += (line_width - width) // 2
            elif align == "right":
                shift += line_width - width
            mark_x = self._lead(*line[0])[1]
            mark = PlacedUnit(Unit(measurer.mark.runs[0].text, 0), measurer.mark, shift + mark_x, baseline) if mark_x is not None else None
            placed_lines.append(Line(tuple(line), array("i", [x + shift for x in xs]), baseline, mark))
            for _, m in line:
                if m.missing:
                    missing.update(m.missing)
        return FrameLayout(tuple(placed_lines), min(overlap, len(placed_lines)), frozenset(missing))

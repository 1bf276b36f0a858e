"""Line breaking and fit measurement: text units -> lines placed inside a frame.

Every decision here is made on measured ink boxes, never on word counts, so a
laid-out frame cannot put a pixel outside its margins: a line that would
overflow moves to the next frame, and a token wider than a line is broken.
Widths and ink boxes are cached per distinct unit, which is what makes layout
cheap (a 115-word frame repeats most of its words across a document).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from t2vid.charset import is_cjk, is_invisible, needs_shaping
from t2vid.fonts import FontChain, FontFace, coverage, load_font, resolve_face
from t2vid.style import RenderStyle

CLOSING = set("，。、．・：；！？」』）》〉】〕｝〗〙〛’”‐゠–〜ー…‥%,.:;!?)]}»›")
OPENING = set("「『（《〈【〔｛〖〘〚‘“([{«‹")
SENTENCE_END = set(".!?。！？…")
_RTL_BIDI = {"R", "AL"}
MEASURE_CACHE_SIZE = 16_384  # units per cache generation (two are kept, ~10 MB): numbers and hashes would grow one cache forever


@dataclass(frozen=True)
class Unit:
    """The smallest piece a line may break before: a word, or one CJK character."""

    text: str
    space_before: bool
    sentence_end: bool = False
    cjk: bool = False  # lines holding CJK get the taller CJK line pitch


_SIMPLE_WORD = re.compile(r"[\x21-\x7e\u00a1-\u02ff\u0370-\u03ff\u0400-\u04ff]+")
_CLOSING_NOT_END = "".join(CLOSING - SENTENCE_END)


def split_units(text: str) -> list[Unit]:
    """Whitespace-delimited words, with CJK runs broken between characters.

    Closing punctuation sticks to the unit before it and opening punctuation to
    the unit after it, so no line starts with `，` or ends with `「`.
    """
    units: list[Unit] = []
    words = text.split()
    if not "".join(words).isprintable():  # rare: control, format or surrogate characters to drop
        words = "".join(c for c in text if c.isspace() or not is_invisible(c)).split()
    for word in words:
        simple = _SIMPLE_WORD.fullmatch(word) is not None  # Latin, Greek, Cyrillic: the word is the unit
        pieces = [word] if simple else _split_word(word)
        for n, piece in enumerate(pieces):
            end = piece.rstrip(_CLOSING_NOT_END)[-1:] in SENTENCE_END
            units.append(Unit(piece, space_before=n == 0, sentence_end=end, cjk=not simple and any(is_cjk(c) for c in piece)))
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


@dataclass(frozen=True)
class PlacedUnit:
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
    """Measures units for one style and packs them into frames."""

    def __init__(self, style: RenderStyle, fallback: bool = True):
        self.style = style
        self.face = FontFace(style.font, style.font_index) if style.font else resolve_face(None)
        self.chain = FontChain(self.face, fallback=fallback)
        font = load_font(self.face, style.font_size)
        ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (style.font_size, style.font_size // 4)
        self.ascent = ascent
        self.pitch = max(1, round(style.font_size * style.line_spacing))
        self.cjk_pitch = max(self.pitch, round(style.font_size * style.cjk_line_spacing))
        self.space = round(font.getlength(" "))
        self.line_width = style.width - 2 * style.margin
        self.bottom = style.height - style.margin
        self._primary_has_ascii = set(range(0x20, 0x7F)) <= coverage(self.face)
        self._measured: dict[str, Measured | None] = {}
        self._older: dict[str, Measured | None] = {}

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
        return x1 - min(0, x0) <= self.line_width and bottom - top <= self.bottom - self.style.margin

    def prepare(self, units: list[Unit]) -> tuple[list[tuple[Unit, Measured]], set[str]]:
        """Measure every unit, break units wider than a line, drop what cannot be drawn."""
        out: list[tuple[Unit, Measured]] = []
        missing: set[str] = set()
        for unit in units:
            m = self.measure(unit.text)
            if m is None:
                continue
            missing.update(m.missing)
            if not m.runs:
                continue
            if self._fits_alone(m):
                out.append((unit, m))
                continue
            for n, (piece, pm) in enumerate(self._break(unit.text)):
                if pm is None or not pm.runs:
                    continue
                if not self._fits_alone(pm):  # one glyph bigger than the frame: cannot be drawn legibly
                    missing.update(c for c in piece if not c.isspace())
                    continue
                out.append((Unit(piece, unit.space_before and n == 0, unit.sentence_end, unit.cjk), pm))
        return out, missing

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

    def _line_extent(self, items: list[tuple[Unit, Measured]]) -> tuple[list[int], int, int]:
        """Pen positions, left overhang and ink right edge of a candidate line."""
        xs, pen, left, right = [], 0, 0, 0
        for n, (unit, m) in enumerate(items):
            if n and unit.space_before:
                pen += self.space
            xs.append(pen)
            left = min(left, pen + m.ink[0])
            right = max(right, pen + m.ink[2])
            pen += m.advance
        return xs, left, right

    def fill(self, items: list[tuple[Unit, Measured]], start: int, limit: int, carry: tuple[Line, ...] = ()) -> tuple[FrameLayout, int]:
        """Pack items[start:] into one frame, at most `limit` units in all; return the frame and the next index."""
        lines: list[list[tuple[Unit, Measured]]] = [[(p.unit, p.measured) for p in line.units] for line in carry]
        count = sum(len(line) for line in lines)
        baselines: list[tuple[int, int]] = []  # (baseline, ink bottom) per accepted line
        accepted: list[list[tuple[Unit, Measured]]] = []
        i = start
        pending = lines  # carried lines are placed first, then new ones
        while True:
            if pending:
                line = pending.pop(0)
                new = 0
            else:
                if i >= len(items) or count >= limit:
                    break
                line, new = [], 0
                pen = left = right = 0
                while i + new < len(items) and count + new < limit:
                    unit, m = items[i + new]
                    x = pen + self.space if line and unit.space_before else pen
                    new_left, new_right = min(left, x + m.ink[0]), max(right, x + m.ink[2])
                    if line and new_right - new_left > self.line_width:
                        break
                    line.append(items[i + new])
                    pen, left, right = x + m.advance, new_left, new_right
                    new += 1
            top = min(m.ink[1] for _, m in line)
            bottom = max(m.ink[3] for _, m in line)
            if baselines:
                pitch = self.cjk_pitch if any(unit.cjk for unit, _ in line) else self.pitch
                baseline = max(baselines[-1][0] + pitch, baselines[-1][1] - top + 1)
            else:
                baseline = self.style.margin + max(self.ascent, -top)
            if baseline + bottom > self.bottom:
                if not accepted:  # taller than an empty frame even alone; prepare() keeps units short enough
                    raise AssertionError("unit taller than the frame passed prepare()")
                if new == 0:  # a carried line no longer fits: drop the carry, keep the frame going
                    continue
                break
            baselines.append((baseline, baseline + bottom))
            accepted.append(line)
            i += new
            count += new
        return self._place(accepted, [b for b, _ in baselines], len(carry)), i

    def _place(self, lines: list[list[tuple[Unit, Measured]]], baselines: list[int], overlap: int) -> FrameLayout:
        style = self.style
        if style.valign == "center" and lines:
            used = baselines[-1] + max(m.ink[3] for _, m in lines[-1]) - style.margin
            free = self.bottom - style.margin - used
            baselines = [b + free // 2 for b in baselines]
        placed_lines, missing = [], set()
        for n, (line, baseline) in enumerate(zip(lines, baselines)):
            xs, left, right = self._line_extent(line)
            width = right - left
            shift = -left
            gaps = [k for k in range(1, len(line)) if line[k][0].space_before]
            if style.align == "center":
                shift += (self.line_width - width) // 2
            elif style.align == "justify" and gaps and n < len(lines) - 1:
                extra = self.line_width - width
                xs = [x + (extra * sum(1 for g in gaps if g <= k)) // len(gaps) for k, x in enumerate(xs)]
            if any(m.rtl for _, m in line):  # right-to-left line: mirror the order of the units
                xs = [left + right - x - m.ink[0] - m.ink[2] for x, (_, m) in zip(xs, line)]  # keeps each ink box inside [left, right]
            units = tuple(PlacedUnit(u, m, x + shift, baseline) for x, (u, m) in zip(xs, line))
            placed_lines.append(Line(units))
            for _, m in line:
                missing.update(m.missing)
        return FrameLayout(tuple(placed_lines), min(overlap, len(placed_lines)), frozenset(missing))

"""What a reader sees of alignment, measured in the drawn pixels: centred and justified lines, vertical centring, RTL word order.

Pinned to DejaVu Sans (Debian's fonts-dejavu-core) with no font fallback, so
the numbers do not depend on which fonts fontconfig would pick.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from t2vid.layout import Layouter
from t2vid.render import Renderer
from t2vid.segment import segment
from t2vid.style import RenderStyle

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
pytestmark = pytest.mark.skipif(not DEJAVU.is_file(), reason=f"{DEJAVU} is missing (apt-get install fonts-dejavu-core)")
PROSE = "Alignment is judged by the ink a reader sees, not by the numbers the layout keeps. " * 4
SLACK = 2  # pixels: rounding of half the free width, plus antialiased edges


def draw(text: str, **options):
    style = RenderStyle(font=str(DEJAVU), width=448, height=448, **options)
    layouter = Layouter(style, fallback=False)
    frame = segment(text, layouter, "fit").frames[0]
    ink = np.asarray(Renderer(style).draw(frame).convert("L")) < 200
    return style, frame, ink


def line_boxes(frame, ink) -> list[tuple[int, int]]:
    """(left, right) ink columns of each line, read in a band above its baseline that no other line reaches."""
    boxes = []
    for line in frame.lines:
        baseline = line.units[0].baseline
        columns = np.flatnonzero(ink[baseline - 12 : baseline + 1].any(axis=0))
        boxes.append((int(columns[0]), int(columns[-1]) + 1))
    return boxes


def test_left_aligned_lines_start_at_the_margin():
    style, frame, ink = draw(PROSE)
    assert len(frame.lines) > 3
    assert all(abs(left - style.margin) <= SLACK for left, _ in line_boxes(frame, ink))


def test_centred_lines_have_equal_space_on_both_sides():
    style, frame, ink = draw(PROSE + "Short end.", align="center")
    boxes = line_boxes(frame, ink)
    assert len(boxes) > 3
    for left, right in boxes:
        assert abs((left - style.margin) - (style.width - style.margin - right)) <= SLACK, (left, right)
    last_left, _ = boxes[-1]
    assert last_left - style.margin > 60  # the short last line really sits in the middle


def test_justified_lines_reach_both_margins_but_the_last_does_not():
    style, frame, ink = draw(PROSE + "Short end.", align="justify")
    boxes = line_boxes(frame, ink)
    for left, right in boxes[:-1]:
        assert abs(left - style.margin) <= SLACK and abs(style.width - style.margin - right) <= SLACK, (left, right)
    assert style.width - style.margin - boxes[-1][1] > 100


def test_vertical_centring_leaves_equal_space_above_and_below():
    style, _, ink = draw("Two short lines of text in the middle of the frame, nothing more.", valign="center")
    rows = np.flatnonzero(ink.any(axis=1))
    above, below = int(rows[0]) - style.margin, style.height - style.margin - int(rows[-1]) - 1
    assert above > 100 and abs(above - below) <= style.font_size // 4, (above, below)
    _, _, top_ink = draw("Two short lines of text in the middle of the frame, nothing more.")
    assert int(np.flatnonzero(top_ink.any(axis=1))[0]) - style.margin < 10


def test_right_to_left_lines_put_the_first_word_on_the_right():
    # logical order: a one-letter word, then a long one; read right to left, the short word comes first (rightmost)
    _, frame, ink = draw("א " + "שלום" * 3)
    assert len(frame.lines) == 1
    baseline = frame.lines[0].units[0].baseline
    columns = ink[baseline - 12 : baseline + 1].any(axis=0)
    inked = np.flatnonzero(columns)
    gaps = [(int(b) - int(a), int(a)) for a, b in zip(inked, inked[1:]) if b - a > 3]
    widest_gap_at = max(gaps)[1]  # the space between the two words
    assert widest_gap_at > (inked[0] + inked[-1]) / 2, "the first (short) word is not on the right"

"""Segment: one context -> the frames that show it, in reading order.

The segmenter decides where a frame *may* end (a word budget, a sentence end,
or capacity); the layouter decides where it *must* end (what fits). Either way
the frames together hold every drawable character of the context, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from t2vid.config import SEGMENTERS
from t2vid.layout import FrameLayout, Layouter, Line, split_units
from t2vid.measure import MeasuredUnit


@dataclass(frozen=True)
class Segmentation:
    frames: tuple[FrameLayout, ...]
    missing_glyphs: tuple[str, ...]

    @cached_property
    def texts(self) -> list[str]:
        """Built once: the frame key, the record and the tasks all read them."""
        return [frame.text for frame in self.frames]


def segment(context: str, layouter: Layouter, segmenter: str = "words", words_per_frame: int = 115, overlap: int = 0) -> Segmentation:
    """Split `context` into frames; `overlap` repeats the last lines of a frame atop the next."""
    if segmenter not in SEGMENTERS:
        raise ValueError(f"unknown segmenter {segmenter!r}; choose one of {', '.join(SEGMENTERS)}")
    items, missing = layouter.measurer.prepare(split_units(context, layouter.style.whitespace))
    budget = words_per_frame if segmenter in ("words", "sentences") else None  # units per frame, carried ones included
    frames: list[FrameLayout] = []
    start = 0
    while start < len(items):
        carry = frames[-1].lines[-overlap:] if overlap and frames else ()
        frame, end = _fill_with_progress(layouter, items, start, budget, carry)
        if segmenter == "sentences" and end < len(items):
            cut = max((k + 1 for k in range(start, end - 1) if items[k].unit.sentence_end), default=None)
            if cut is not None and cut < end:
                frame, end = layouter.fill(items, start, cut - start, carry)
        frames.append(frame)
        start = end
    return Segmentation(tuple(frames), tuple(sorted(missing)))


def _carried_units(carry: tuple[Line, ...]) -> int:
    return sum(len(line.items) for line in carry)


def _fill_with_progress(layouter: Layouter, items: list[MeasuredUnit], start: int, budget: int | None, carry: tuple[Line, ...]) -> tuple[FrameLayout, int]:
    """Fill a frame; shrink the carried overlap until at least one new unit fits (on the page and in the budget)."""
    while True:
        if budget is not None:
            while carry and _carried_units(carry) >= budget:
                carry = carry[1:]
        limit = len(items) - start if budget is None else budget - _carried_units(carry)
        frame, end = layouter.fill(items, start, limit, carry)
        if end > start or not carry:
            return frame, end
        carry = carry[1:]

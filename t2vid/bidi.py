"""Bidirectional text: embedding levels (UAX #9) and the display order of a line.

Levels come from FriBiDi, the library Pillow's raqm layout already loads for
Arabic and Hebrew shaping, so layout and shaping agree on every character.
Levels are resolved once per paragraph and each laid-out line is reordered
on its own (rule L2), which is what the algorithm prescribes for wrapped text.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import unicodedata

# Characters that can make a paragraph or a run right-to-left: Hebrew, Arabic,
# Syriac, Thaana, NKo, Samaritan, Mandaic, their presentation forms, the RTL
# historic scripts and the explicit RTL marks and embeddings.
_RTL_CHANCE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff\u200f\u202b\u202e\u2067]")
_PAR_LTR, _PAR_RTL, _PAR_ON = 0x110, 0x111, 0x40  # FriBidiParType values


@functools.lru_cache(maxsize=1)
def _fribidi():
    name = ctypes.util.find_library("fribidi") or "libfribidi.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.fribidi_get_par_embedding_levels_ex.restype = ctypes.c_int8
    return lib


def may_be_bidi(text: str) -> bool:
    """False when every character of `text` is laid out left to right (the fast, common case)."""
    return _RTL_CHANCE.search(text) is not None


def paragraph_levels(text: str) -> tuple[list[int], bool]:
    """Resolved embedding level of every character of one paragraph, and whether it is right-to-left.

    The paragraph direction is that of its first strong character (rule P2).
    """
    if not may_be_bidi(text):
        return [0] * len(text), False
    lib = _fribidi()
    if lib is None:  # no FriBiDi (then no raqm shaping either): strong RTL letters form RTL runs
        rtl = _first_strong_rtl(text)
        return [1 if unicodedata.bidirectional(c) in ("R", "AL") else int(rtl) for c in text], rtl
    n = len(text)
    chars = (ctypes.c_uint32 * n)(*map(ord, text))
    types = (ctypes.c_uint32 * n)()
    brackets = (ctypes.c_uint32 * n)()
    levels = (ctypes.c_int8 * n)()
    base = ctypes.c_uint32(_PAR_ON)
    lib.fribidi_get_bidi_types(chars, n, types)
    lib.fribidi_get_bracket_types(chars, n, types, brackets)
    if lib.fribidi_get_par_embedding_levels_ex(types, brackets, n, ctypes.byref(base), levels) == 0:
        raise ValueError("FriBiDi could not resolve the paragraph's levels (out of memory?)")
    return list(levels), base.value == _PAR_RTL


def _first_strong_rtl(text: str) -> bool:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("L", "R", "AL"):
            return kind != "L"
    return False


def visual_order(levels: list[int]) -> list[int]:
    """Indices of `levels` in display order, left to right (rule L2).

    From the highest level down to the lowest odd one, every maximal stretch
    at that level or above is reversed.
    """
    order = list(range(len(levels)))
    if not levels:
        return order
    lowest_odd = min(level for level in levels) | 1
    for level in range(max(levels), lowest_odd - 1, -1):
        k = 0
        while k < len(order):
            if levels[order[k]] >= level:
                end = k
                while end < len(order) and levels[order[end]] >= level:
                    end += 1
                order[k:end] = order[k:end][::-1]
                k = end
            else:
                k += 1
    return order

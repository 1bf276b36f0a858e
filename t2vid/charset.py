"""Which characters belong to which scripts: the one place these Unicode ranges live.

Layout (line breaking), budgets (token estimates), stats (language guess),
diversity (tokens) and font hints must agree on what a CJK character is, or a
frame's word count, its token estimate and its language would each use a
different rule.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

# Characters that break lines on their own and count as one word each.
CJK_RANGES = (
    (0x2E80, 0x9FFF),  # radicals, CJK punctuation, kana, ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3FFFF),  # ideograph extensions B and later
)
# The same ranges as the inside of a regular-expression character class.
CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES)
HANGUL_RANGES = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))  # syllables, jamo, compatibility jamo
KANA_RANGE = (0x3040, 0x30FF)  # hiragana and katakana


def _within(code: int, ranges) -> bool:
    return any(low <= code <= high for low, high in ranges)


def is_cjk(char: str) -> bool:
    """Characters that break lines on their own and count as one word each."""
    return _within(ord(char), CJK_RANGES)


def needs_shaping(char: str) -> bool:
    """Scripts that are unreadable without complex shaping (raqm)."""
    code = ord(char)
    return (
        0x0590 <= code <= 0x08FF  # Hebrew, Arabic, Syriac, Thaana, NKo
        or 0x0900 <= code <= 0x0DFF  # Indic
        or 0x0E00 <= code <= 0x0FFF  # Thai, Lao, Tibetan
        or 0x1000 <= code <= 0x109F  # Myanmar
        or 0x1780 <= code <= 0x17FF  # Khmer
        or 0xFB1D <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    )


def is_invisible(char: str) -> bool:
    """Control, format, surrogate and non-character code points: never drawn."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs"} or char in "\ufffe\uffff"


def script_of(letter: str) -> str:
    """The script of a letter: hangul, kana, han (any other CJK), latin or other."""
    code = ord(letter)
    if _within(code, HANGUL_RANGES):
        return "hangul"
    if KANA_RANGE[0] <= code <= KANA_RANGE[1]:
        return "kana"
    if is_cjk(letter):
        return "han"
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


def script_counts(text: str) -> Counter:
    """Letters of `text` by script (see `script_of`); digits, punctuation and spaces are not counted."""
    return Counter(script_of(char) for char in text if char.isalpha())


# Line-breaking punctuation (kinsoku): closing marks stick to the character
# before them and opening marks to the one after, so no line starts with `，`
# or ends with `「`.
CLOSING = frozenset("，。、．・：；！？」』）》〉】〕｝〗〙〛’”‐゠–〜ー…‥%,.:;!?)]}»›")
OPENING = frozenset("「『（《〈【〔｛〖〘〚‘“([{«‹")


# Invisible characters that still shape what is drawn: zero-width (non-)joiners
# (emoji sequences, Persian) and tag characters (subdivision flags).
KEPT_INVISIBLE = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))


def drawable(word: str) -> str:
    """`word` without the invisible characters that are never drawn ("" when nothing is left to draw)."""
    if word.isprintable():
        return word
    kept = "".join(char for char in word if not is_invisible(char) or char in KEPT_INVISIBLE)
    return "" if all(char in KEPT_INVISIBLE for char in kept) else kept


def split_cjk(word: str) -> list[str]:
    """A whitespace-free word -> its units: each CJK character apart, with its kinsoku punctuation and marks."""
    pieces: list[str] = []
    glue_next = False
    for char in word:
        if pieces and (char in CLOSING or glue_next or char in KEPT_INVISIBLE or unicodedata.category(char).startswith("M")):
            pieces[-1] += char
        elif is_cjk(char) or char in OPENING or not pieces or is_cjk(pieces[-1][-1]):
            pieces.append(char)
        else:
            pieces[-1] += char
        glue_next = char in OPENING
    return pieces


def count_words(text: str) -> int:
    """Words as a reader counts them in any script: the one count behind every word limit and statistic.

    A word is a whitespace-delimited token, except that each CJK character is
    a word of its own (Chinese and Japanese put no spaces between words), with
    its punctuation attached: exactly the units the layout breaks text into.
    """
    words = 0
    for token in text.split():
        token = drawable(token)
        if token.isascii() or not any(is_cjk(char) for char in token):
            words += bool(token)
        else:
            words += len(split_cjk(token))
    return words

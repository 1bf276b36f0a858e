"""Which characters belong to which scripts: the one place these Unicode ranges live.

Layout (line breaking), budgets (token estimates), stats (language guess),
diversity (tokens) and font hints must agree on what a CJK character is, or a
frame's word count, its token estimate and its language would each use a
different rule.

Classification is one lookup in a table indexed by code point, built once from
the ranges below: layout asks about every character of every context, and a
scan over ranges per character was most of the time of Chinese layout and of
`t2vid stats`.
"""

from __future__ import annotations

import re
import sys
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
LATIN_RANGES = ((0x0000, 0x024F), (0x1E00, 0x1EFF))  # Basic Latin to Latin Extended-B, Latin Extended Additional
# Scripts that are unreadable without complex shaping (raqm).
SHAPING_RANGES = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo
    (0x0900, 0x0DFF),  # Indic
    (0x0E00, 0x0FFF),  # Thai, Lao, Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms A
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)

# One class per code point. CJK and script are not independent (kana and
# Hangul syllables are CJK, Hangul jamo are not), so each combination is a class.
_OTHER, _LATIN, _SHAPED, _HAN, _KANA, _HANGUL_CJK, _HANGUL = range(7)
_SCRIPT_NAMES = ("other", "latin", "other", "han", "kana", "hangul", "hangul")
_CJK_CLASSES = frozenset({_HAN, _KANA, _HANGUL_CJK})


def _class_table() -> bytes:
    """Later layers win: CJK over shaping and Latin, kana and Hangul over generic CJK."""
    table = bytearray(sys.maxunicode + 1)
    hangul = tuple((low, high, _HANGUL_CJK if _inside_cjk(low, high) else _HANGUL) for low, high in HANGUL_RANGES)
    layers = (
        tuple((low, high, _LATIN) for low, high in LATIN_RANGES),
        tuple((low, high, _SHAPED) for low, high in SHAPING_RANGES),
        tuple((low, high, _HAN) for low, high in CJK_RANGES),
        ((*KANA_RANGE, _KANA),),
        hangul,
    )
    for layer in layers:
        for low, high, value in layer:
            table[low : high + 1] = bytes([value]) * (high - low + 1)
    return bytes(table)


def _inside_cjk(low: int, high: int) -> bool:
    """Hangul syllables and compatibility jamo break lines like CJK; the conjoining jamo do not."""
    return any(c_low <= low and high <= c_high for c_low, c_high in CJK_RANGES)


_CLASS = _class_table()
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_script_cache: dict[str, str | None] = {}


def is_cjk(char: str) -> bool:
    """Characters that break lines on their own and count as one word each."""
    return _CLASS[ord(char)] in _CJK_CLASSES


def has_cjk(text: str) -> bool:
    """Whether any character of `text` is CJK (one regular-expression search, not a loop)."""
    return _CJK_CHAR.search(text) is not None


def needs_shaping(char: str) -> bool:
    """Scripts that are unreadable without complex shaping (raqm)."""
    return _CLASS[ord(char)] == _SHAPED


def is_invisible(char: str) -> bool:
    """Control, format, surrogate and non-character code points: never drawn."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs"} or char in "\ufffe\uffff"


def script_of(letter: str) -> str:
    """The script of a letter: hangul, kana, han (any other CJK), latin or other."""
    return _SCRIPT_NAMES[_CLASS[ord(letter)]]


def _letter_script(char: str) -> str | None:
    script = _script_cache.get(char, False)
    if script is False:
        script = _SCRIPT_NAMES[_CLASS[ord(char)]] if char.isalpha() else None
        if len(_script_cache) < 65_536:  # bounded: random text could hold every code point
            _script_cache[char] = script
    return script


def script_counts(text: str) -> Counter:
    """Letters of `text` by script (see `script_of`); digits, punctuation and spaces are not counted.

    Counts distinct characters first (in C), then classifies each distinct one:
    a text of millions of characters has only a few thousand distinct ones.
    """
    counts: Counter = Counter()
    for char, n in Counter(text).items():
        script = _letter_script(char)
        if script is not None:
            counts[script] += n
    return counts


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


def draws_alone(text: str) -> bool:
    """Whether every character of `text` draws by itself: no marks, joiners, variation selectors, emoji
    (U+1F1E6-1FAFF, or before U+FE0F) or scripts that need shaping, so a character's font alone decides its
    run (a fast path of measuring)."""
    return text.isprintable() and _WITHOUT_MARKS.fullmatch(text) is not None


def split_cjk(word: str) -> list[str]:
    """A whitespace-free word -> its units: each CJK character apart, with its kinsoku punctuation and marks.

    A Chinese or Japanese "word" is a whole sentence, so this runs on most
    characters of a CJK text: without marks or joiners the rule is one regular
    expression (the same breaks `count_words` counts), else a loop per character.
    """
    if draws_alone(word):
        return _BREAKS.split(word)
    return split_cjk_by_character(word)


def split_cjk_by_character(word: str) -> list[str]:
    """`split_cjk` one character at a time: marks and joiners stick to the character before them."""
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


_SIMPLE = r"\x21-\x7e\u00a1-\u02ff\u0370-\u03ff\u0400-\u04ff"  # Latin, Greek, Cyrillic: a word is one unit
SIMPLE_WORD = re.compile(rf"[{_SIMPLE}]+")
_NOT_SIMPLE = re.compile(rf"[^\s{_SIMPLE}]")
_OTHER_WORD = re.compile(rf"(?<!\S)[{_SIMPLE}]*+[^\s{_SIMPLE}]\S*")
_OPENING, _CLOSING = (re.escape("".join(sorted(chars))) for chars in (OPENING, CLOSING))
# Where split_cjk starts a piece inside a word: before or after a CJK character
# and before opening punctuation, never before closing punctuation or after opening.
# Scripts and symbols without combining marks or joiners (the only marks in the
# CJK ranges, U+302A-302F and U+3099-309A, are left out): `draws_alone`, the
# fast path of split_cjk and of measuring.
_CJK_WITHOUT_MARKS = "\u2e80-\u3029\u3030-\u3098\u309b-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
_WITHOUT_MARKS = re.compile(f"[\x21-\x7e\u00a1-\u02ff\u0370-\u0482\u048a-\u04ff\u2010-\u2027\u2030-\u205e\u2100-\u2bff{_CJK_WITHOUT_MARKS}]+")
# CJK characters that each draw alone (no marks): a run of them is measured and drawn one character at a time.
SEPARABLE_CJK = re.compile(f"[{_CJK_WITHOUT_MARKS}]+")
_BREAKS = re.compile(rf"(?<=\S)(?<![{_OPENING}])(?=[^\s{_CLOSING}])(?:(?=[{CJK_CLASS}{_OPENING}])|(?<=[{CJK_CLASS}]))")


def count_words(text: str) -> int:
    """Words as a reader counts them in any script: the one count behind every word limit and statistic.

    A word is a whitespace-delimited token, except that each CJK character is
    a word of its own (Chinese and Japanese put no spaces between words), with
    its punctuation attached: exactly the units the layout breaks text into
    (`split_cjk`). Counted by regular expressions where that is exact, as most
    text is: counting per character was most of the time of `t2vid stats`.
    """
    tokens = text.split()
    joined = "".join(tokens)
    if not joined.isprintable():  # characters layout drops (escape codes, format characters) or glues differently
        for char in set(joined):
            if is_invisible(char) and char not in KEPT_INVISIBLE:
                text = text.replace(char, "")  # what `drawable` does to each token, done to the whole text in C
        tokens = text.split()
        joined = "".join(tokens)
        if not joined.isprintable():  # joiners, private-use characters: counted per character
            return sum(_count_token(drawable(token)) for token in tokens)
    if _NOT_SIMPLE.search(text) is None:
        return len(tokens)
    others = _OTHER_WORD.findall(text)  # tokens with a character beyond Latin, Greek and Cyrillic: they may break
    words = len(tokens) - len(others)
    if draws_alone(joined):  # no marks anywhere (most CJK text): no per-word look at each character
        plain = others
    else:
        plain = []
        for word in others:
            if any(unicodedata.category(char).startswith("M") for char in set(word)):
                words += _count_token(word)
            else:
                plain.append(word)
    return words + len(plain) + len(_BREAKS.findall(" ".join(plain)))


def has_words(text: str, least: int) -> bool:
    """Whether `count_words(text)` is at least `least`, counting no more of a long text than it takes.

    A prefix never holds more words than the whole text (a cut can only take
    breaks away), so a prefix with enough decides. Adapt asks this of every
    context: counting each whole context was 5% of a Chinese run.
    """
    if least <= 0:
        return True
    prefix = 16 * least  # characters: enough for `least` words of any script but the rarest
    if len(text) > prefix and count_words(text[:prefix]) >= least:
        return True
    return count_words(text) >= least


def _count_token(token: str) -> int:
    return 0 if not token else 1 if _NOT_SIMPLE.search(token) is None else len(split_cjk(token))

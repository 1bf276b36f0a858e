"""The table-driven classifier agrees with the range definitions it is built from."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings, strategies as st

from t2vid import charset
from t2vid.charset import CJK_RANGES, HANGUL_RANGES, KANA_RANGE, SHAPING_RANGES, has_cjk, is_cjk, needs_shaping, script_counts, script_of


def _within(code: int, ranges) -> bool:
    return any(low <= code <= high for low, high in ranges)


def _script_by_ranges(char: str) -> str:
    """The classifier as first written: a scan over the ranges, in priority order."""
    code = ord(char)
    if _within(code, HANGUL_RANGES):
        return "hangul"
    if KANA_RANGE[0] <= code <= KANA_RANGE[1]:
        return "kana"
    if _within(code, CJK_RANGES):
        return "han"
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


BOUNDARIES = sorted({c + d for low, high in (*CJK_RANGES, *HANGUL_RANGES, KANA_RANGE, *SHAPING_RANGES, (0x1E00, 0x1EFF), (0, 0x24F)) for c in (low, high) for d in (-1, 0, 1) if c + d >= 0})
# Text that hits every range edge, every script and plenty of ordinary characters.
mixed_text = st.text(alphabet=st.one_of(st.sampled_from([chr(c) for c in BOUNDARIES]), st.characters(codec="utf-8"), st.sampled_from("中文かなカナ한글abc 1,。")), max_size=300)


def test_every_bmp_code_point_and_every_range_edge_is_classified_as_the_ranges_say():
    for code in [*range(0x10000), *BOUNDARIES, *range(0x10000, 0x110000, 997)]:
        char = chr(code)
        assert is_cjk(char) == _within(code, CJK_RANGES), hex(code)
        assert needs_shaping(char) == _within(code, SHAPING_RANGES), hex(code)
        assert script_of(char) == _script_by_ranges(char), hex(code)


@settings(max_examples=200, deadline=None)
@given(mixed_text)
def test_script_counts_and_has_cjk_match_per_character_rules(text):
    assert script_counts(text) == Counter(_script_by_ranges(c) for c in text if c.isalpha())
    assert has_cjk(text) == any(_within(ord(c), CJK_RANGES) for c in text)


def test_script_counts_of_a_mixed_sentence():
    counts = script_counts("Hello 世界, こんにちは 안녕 Привет 123!")
    assert counts == Counter(latin=5, han=2, kana=5, hangul=2, other=6)


def test_script_counts_stay_exact_past_the_classification_cache():
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 70_000) if c < 0x110000 and chr(c).isalpha())
    assert sum(script_counts(text).values()) == len(text)
    assert len(charset._script_cache) <= 65_536


# Words as CJK text has them: ideographs, kana, Hangul, kinsoku punctuation, Latin, digits,
# combining marks (U+3099, U+0301), joiners and every range edge.
cjk_words = st.text(alphabet=st.one_of(st.sampled_from([chr(c) for c in BOUNDARIES]), st.sampled_from(sorted(charset.OPENING | charset.CLOSING)), st.sampled_from("中文的かなカナ한글abc1.\u3099\u302a\u0301\u200d\ufe0f"), st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc"))), min_size=1, max_size=40).filter(lambda w: not any(c.isspace() for c in w))


@settings(max_examples=400, deadline=None)
@given(cjk_words)
def test_split_cjk_breaks_exactly_where_the_per_character_rule_does(word):
    assert charset.split_cjk(word) == charset.split_cjk_by_character(word)


def test_fast_class_holds_no_character_that_draws_with_others():
    """`split_cjk`'s regular expression and measuring's run-per-font path are only exact for characters that
    draw alone: the class must admit no mark, joiner, variation selector, emoji or script that needs shaping."""
    import unicodedata

    admitted = [chr(c) for c in range(0x110000) if charset.draws_alone(chr(c))]
    assert admitted and not [
        c
        for c in admitted
        if unicodedata.category(c).startswith("M") or c in charset.KEPT_INVISIBLE or 0xFE00 <= ord(c) <= 0xFE0F or 0x1F1E6 <= ord(c) <= 0x1FAFF or charset.needs_shaping(c)
    ]

"""Layout and rendering: the fit guarantee, fidelity, line breaking rules and golden frames."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st
from PIL import Image, ImageDraw, ImageFont, ImageOps

from t2vid.bidi import may_be_bidi
from t2vid.charset import CLOSING, OPENING, count_words, has_words, is_invisible
from t2vid.fonts import resolve_face
from t2vid.layout import Layouter, split_units
from t2vid.render import Renderer, encode_image
from t2vid.segment import segment
from t2vid.style import RenderStyle

GOLDEN = Path(__file__).parent / "golden"
FACE = resolve_face(None)


def _style(**kwargs) -> RenderStyle:
    return RenderStyle(font=FACE.path, font_index=FACE.index, **kwargs)


def _squash(text: str) -> str:
    """The text without whitespace, invisible characters and variation selectors (they pick a glyph's look, nobody reads them)."""
    return "".join(c for c in text if not c.isspace() and not is_invisible(c) and not 0xFE00 <= ord(c) <= 0xFE0F)


def _check(text: str, style: RenderStyle, segmenter="fit", words=115, overlap=0):
    """Segment + render; assert no ink in the margins and every drawable character kept in order."""
    layouter, renderer = Layouter(style), Renderer(style)
    result = segment(text, layouter, segmenter, words, overlap)
    m = style.margin
    for frame in result.frames:
        pixels = np.asarray(renderer.draw(frame).convert("L"))
        ink = pixels < 250
        assert not ink[:m].any() and not ink[-m:].any() and not ink[:, :m].any() and not ink[:, -m:].any()
    drawn = "".join("\n".join(f.text.split("\n")[f.overlap_text_lines :]) for f in result.frames)
    missing = set(result.missing_glyphs)
    assert _squash(drawn) == _squash("".join(c for c in text if c not in missing))
    return result


text_strategy = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list(" \n\t\u200b\u200f\u200d\u0301\u0308ЖжاًمあいうＡ漢字，。「」W=/-_.")),
    max_size=400,
)
# Code-like text: newlines, blank lines, tabs, deep indentation and lines far wider than a frame.
code_strategy = st.lists(
    st.tuples(st.sampled_from(["", "    ", "\t", "\t\t  ", " " * 40]), st.text(alphabet="abcxyz_=()[]:,. 0123456789\t", max_size=160)),
    max_size=30,
).map(lambda lines: "\n".join(indent + body for indent, body in lines))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=text_strategy,
    font_size=st.integers(8, 64),
    width=st.integers(224, 1024),
    height=st.integers(224, 1024),
    segmenter=st.sampled_from(["words", "sentences", "fit"]),
    overlap=st.integers(0, 2),
    whitespace=st.sampled_from(["collapse", "lines", "preserve"]),
)
def test_fit_guarantee_and_fidelity_for_any_text(text, font_size, width, height, segmenter, overlap, whitespace):
    _check(text, _style(width=width, height=height, font_size=font_size, whitespace=whitespace), segmenter, 20, overlap)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=code_strategy, font_size=st.integers(8, 40), width=st.integers(160, 640), whitespace=st.sampled_from(["lines", "preserve"]), overlap=st.integers(0, 2))
def test_fit_guarantee_and_fidelity_for_code(text, font_size, width, whitespace, overlap):
    _check(text, _style(width=width, height=320, font_size=font_size, whitespace=whitespace), "words", 30, overlap)


@settings(max_examples=60, deadline=None)
@given(text=text_strategy)
def test_word_count_is_the_number_of_units(text):
    assert count_words(text) == sum(not unit.joined for unit in split_units(text))


@settings(max_examples=100, deadline=None)
@given(text=text_strategy, least=st.integers(0, 40))
@example(text="x" * 40, least=2)  # one long token: its prefix has no more words than the whole
@example(text="x" * 100 + " y", least=2)  # too few in the prefix, enough in the whole
@example(text="汉字" * 30 + "，", least=50)
def test_has_words_agrees_with_the_whole_count(text, least):
    """Adapt's minimum-length check counts only a prefix of a long context: it must decide as the whole count would."""
    assert has_words(text, least) == (count_words(text) >= least)


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.sampled_from(["\x1b[33m", "\x1b[m", "\u200b", "\ufeff", "\u200d", "\u0301", "Debian", "f(x)", "中文，", "「引」", "系统。", " ", "\n"]), max_size=40))
def test_word_count_of_text_with_escape_codes_is_the_number_of_units(pieces):
    """Packaged tips and logs carry terminal colour codes: dropped before counting, as layout drops them."""
    text = "".join(pieces)
    assert count_words(text) == sum(not unit.joined for unit in split_units(text))


@settings(max_examples=15, deadline=None)
@given(token=st.text(alphabet="abcdef0123456789=/:.?&ABCDEF", min_size=60, max_size=600), font_size=st.integers(8, 64))
def test_tokens_longer_than_a_line_are_broken_not_clipped(token, font_size):
    result = _check(f"see {token} end", _style(width=224, height=224, font_size=font_size))
    assert len(result.frames) >= 1


def test_words_budget_is_never_exceeded():
    text = " ".join(f"w{i}" for i in range(1000))
    result = _check(text, _style(), "words", 115)
    assert all(len(split_units(f.text)) <= 115 for f in result.frames)
    assert sum(len(split_units(f.text)) for f in result.frames) == 1000


def test_large_font_moves_overflow_to_next_frame():
    text = " ".join(["legibility"] * 115)
    result = _check(text, _style(font_size=48), "words", 115)
    assert len(result.frames) > 1  # 115 words at size 48 cannot fit one 448x448 frame


def test_cjk_breaks_between_characters_with_kinsoku():
    text = "造纸术是中国古代的四大发明之一。「蔡侯纸」很快在全国推广开来，人们称之为“蔡侯纸”！" * 8
    result = _check(text, _style(width=300, height=600))
    lines = [line for frame in result.frames for line in frame.text.split("\n")]
    assert len(lines) > 3
    assert not any(line[0] in CLOSING for line in lines)
    assert not any(line[-1] in OPENING for line in lines)
    assert all(len(split_units(line)) >= 10 for line in lines[:-1])  # CJK lines are filled, not one endless line


def test_cjk_character_counts_as_one_word():
    units = split_units("汉字abc，中文 mixed text")
    assert [u.text for u in units] == ["汉", "字", "abc，", "中", "文", "mixed", "text"]
    assert [u.space_before for u in units] == [True, False, False, False, False, True, True]


def test_sentences_segmenter_ends_frames_at_sentence_ends():
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(60))
    result = _check(text, _style(), "sentences", 40)
    assert all(f.text.rstrip().endswith(".") for f in result.frames)
    assert all(len(split_units(f.text)) <= 40 for f in result.frames)


def test_overlap_repeats_last_lines():
    text = " ".join(f"word{i}" for i in range(600))
    result = _check(text, _style(), "fit", overlap=2)
    for previous, frame in zip(result.frames, result.frames[1:]):
        assert frame.overlap_lines == 2
        assert frame.text.split("\n")[:2] == previous.text.split("\n")[-2:]


def test_missing_glyphs_are_left_out_and_reported():
    result = _check("private \ue000 use and rocket 🚀 here", _style())
    assert "\ue000" in result.missing_glyphs
    assert "\ue000" not in result.frames[0].text


def test_rtl_and_complex_scripts_render_inside_margins():
    _check("مرحبا بالعالم هذا نص عربي طويل " * 20 + "नमस्ते दुनिया " * 20 + "שלום עולם " * 20, _style())


@pytest.mark.parametrize("align,valign", [("left", "top"), ("justify", "top"), ("center", "center")])
def test_alignments_stay_inside_margins(align, valign):
    _check("Alignment test with several words of different lengths. " * 30, _style(align=align, valign=valign))


def test_png_is_deterministic_and_grayscale_by_default():
    style = _style()
    frame = segment("Deterministic bytes please.", Layouter(style), "fit").frames[0]
    first = encode_image(Renderer(style).draw(frame), style)
    again = encode_image(Renderer(style).draw(frame), style)
    assert first == again
    assert Image.open(__import__("io").BytesIO(first)).mode == "L"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fonts-noto-cjk; face 2 is Noto Sans CJK SC
GOLDEN_CASES = {
    "english": ("The quick brown fox jumps over the lazy dog. " * 12, (DEJAVU, 0), {}),
    "chinese": ("造纸术是中国古代的四大发明之一。东汉时期，蔡伦改进了造纸的方法。" * 4, (NOTO_CJK, 2), {}),
    "justify-rgb": ("Justified text in colour, with a long token https://example.org/" + "a" * 80 + " at the end. " * 5, (DEJAVU, 0), {"align": "justify", "mode": "RGB", "fg": "#203040", "bg": "#f8f0e0"}),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_frames(name):
    """A layout or rendering change shows up here; regenerate with T2VID_UPDATE_GOLDEN=1 after checking the images.

    Each case names its font file and draws without fallback, so the frame does
    not depend on what fontconfig resolves on the machine.
    """
    text, (font, index), options = GOLDEN_CASES[name]
    if not font.is_file():
        pytest.skip(f"golden frame {name} is drawn with {font}, which is not installed (see scripts/test.sh)")
    style = RenderStyle(font=str(font), font_index=index, **options)
    frame = segment(text, Layouter(style, fallback=False), "fit").frames[0]
    image = Renderer(style).draw(frame)
    path = GOLDEN / f"{name}.png"
    if os.environ.get("T2VID_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        image.save(path)
    with Image.open(path) as golden:
        assert golden.mode == image.mode and golden.size == image.size
        assert hashlib.sha256(golden.tobytes()).hexdigest() == hashlib.sha256(image.tobytes()).hexdigest()


def test_four_bit_png_decodes_to_full_range():
    style = _style(png_bits=4)
    frame = segment("Sixteen grey levels.", Layouter(style), "fit").frames[0]
    image = Renderer(style).draw(frame)
    decoded = Image.open(__import__("io").BytesIO(encode_image(image, style)))
    pixels = np.asarray(decoded.convert("L")).astype(int)
    assert pixels.max() == 255 and pixels.min() == 0
    assert np.abs(pixels - np.asarray(image).astype(int)).max() <= 15


def test_cjk_lines_get_the_taller_pitch():
    style = _style()
    layouter = Layouter(style)
    for text, pitch in (("汉字的行距更大。" * 40, round(20 * 1.3)), ("Latin lines keep theirs. " * 30, round(20 * 1.15))):
        frame = segment(text, layouter, "fit").frames[0]
        baselines = [line.units[0].baseline for line in frame.lines]
        assert {b - a for a, b in zip(baselines, baselines[1:])} == {pitch}


def _units_char_by_char(text: str) -> list[tuple[str, bool, bool, bool]]:
    """split_units as first written: every non-Latin word walked character by character."""
    import re
    import unicodedata

    from t2vid.charset import KEPT_INVISIBLE, is_cjk
    from t2vid.layout import SENTENCE_END

    simple_word = re.compile(r"[\x21-\x7e\u00a1-\u02ff\u0370-\u03ff\u0400-\u04ff]+")
    words = text.split()
    if not "".join(words).isprintable():
        words = "".join(c for c in text if c.isspace() or not is_invisible(c) or c in KEPT_INVISIBLE).split()  # joiners and tags stay
        words = [word for word in words if not all(c in KEPT_INVISIBLE for c in word)]
    units = []
    for word in words:
        simple = simple_word.fullmatch(word) is not None
        pieces: list[str] = []
        glue_next = False
        for char in [] if simple else word:
            if pieces and (char in CLOSING or glue_next or char in KEPT_INVISIBLE or unicodedata.category(char).startswith("M")):  # joiners stay with the piece before
                pieces[-1] += char
            elif is_cjk(char) or char in OPENING or not pieces or is_cjk(pieces[-1][-1]):
                pieces.append(char)
            else:
                pieces[-1] += char
            glue_next = char in OPENING
        for n, piece in enumerate([word] if simple else pieces):
            end = piece.rstrip("".join(CLOSING - SENTENCE_END) + "".join(KEPT_INVISIBLE))[-1:] in SENTENCE_END
            units.append((piece, n == 0, end, not simple and any(is_cjk(c) for c in piece)))
    return units


unit_text = st.text(alphabet=st.one_of(st.sampled_from(sorted(CLOSING | OPENING) + list("中文かなカナ한글ㄱ abc.!?。\u0301\u093f\u200b\x07\n")), st.characters(codec="utf-8")), max_size=120)


@settings(max_examples=400, deadline=None)
@given(unit_text)
def test_units_are_those_of_the_character_by_character_rules(text):
    assume(not may_be_bidi(text))  # right-to-left runs are cut again at level changes (tests/test_documents.py)
    assert [(u.text, u.space_before, u.sentence_end, u.cjk) for u in split_units(text)] == _units_char_by_char(text)


@pytest.mark.parametrize("size", [17, 20, 31])
def test_cjk_units_drawn_a_character_at_a_time_match_the_whole_unit(size):
    """A CJK unit (a character with its punctuation) is measured and drawn from its characters' shared masks:
    its advance, ink box and pixels must be those of the unit drawn as one string."""
    if not NOTO_CJK.is_file():
        pytest.skip(f"drawn with {NOTO_CJK}, which is not installed (see scripts/test.sh)")
    style = RenderStyle(font=str(NOTO_CJK), font_index=2, font_size=size)
    measurer = Layouter(style, fallback=False).measurer
    font = ImageFont.truetype(str(NOTO_CJK), size, index=2, layout_engine=ImageFont.Layout.BASIC)
    for unit in ["中，", "《书", "名》。", "「引」", "한국어", "カナ。", "（括）"]:
        measured = measurer.measure(unit)
        assert [run.text for run in measured.runs] == list(unit)  # one run per character
        box = font.getbbox(unit, anchor="ls")
        assert measured.advance == round(font.getlength(unit)) and measured.ink == box
        whole = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        ImageDraw.Draw(whole).text((-box[0], -box[1]), unit, fill=255, font=font, anchor="ls")
        frame = segment(unit, Layouter(style, fallback=False), "fit").frames[0]
        drawn = Renderer(style).draw(frame)
        x, y = style.margin + frame.lines[0].xs[0], frame.lines[0].baseline
        assert drawn.crop((x + box[0], y + box[1], x + box[2], y + box[3])).tobytes() == ImageOps.invert(whole).tobytes()

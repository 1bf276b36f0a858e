"""Runs put together from their glyphs must be exactly what Pillow measures and draws for the whole run."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from PIL import ImageFont

from t2vid import glyphs as glyphs_module
from t2vid.fonts import BUILTIN_FACE, FontFace
from conftest import run_synth, tree_bytes, write_jsonl

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO_CJK = FontFace("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2)
EMOJI = FontFace("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
FACES = [FontFace(str(DEJAVU / name)) for name in ("DejaVuSans.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf")] + [NOTO_CJK]
# kerned pairs, italic overhangs, descenders, box drawing, Latin with precomposed accents, CJK with its punctuation
ALPHABET = "AVWTYLPFfijlrtyg0123456789.,;:'\"/\\-_()[]{}<>«»│─┌┐└┘ÀéîõüřġŀΩЖж中文书名《》「」，。、カナ한글"


def _installed(face: FontFace) -> None:
    if not Path(face.path).is_file():
        pytest.skip(f"{face.path} is not installed (see scripts/test.sh)")


@pytest.mark.parametrize("face", FACES, ids=lambda face: Path(face.path).stem)
@pytest.mark.parametrize("size", [13, 20, 29])
@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=ALPHABET, min_size=2, max_size=40))
def test_a_run_from_its_glyphs_is_what_pillow_measures_and_draws(face, size, text):
    _installed(face)
    glyph_set = glyphs_module.glyph_set(face, size)
    assert glyph_set is not None
    font = ImageFont.truetype(face.path, size, index=face.index, layout_engine=ImageFont.Layout.BASIC)
    text = "".join(char for char in text if font.getmask2(char, mode="L")[0].size[0]) or "AV"
    measured = glyph_set.measure(text)
    if measured is None:  # only a character without ink is left to Pillow
        assert any(not font.getmask2(char, mode="L")[0].size[0] for char in text)
        return
    advance, box = measured
    assert advance == font.getlength(text)
    assert box == font.getbbox(text, anchor="ls")
    mask, corner = glyph_set.mask(text)
    expected, expected_corner = font.getmask2(text, mode="L", anchor="ls")
    assert corner == expected_corner and mask.size == expected.size
    assert mask.chop_difference(expected).getbbox() is None


def test_faces_that_cannot_be_put_together_are_drawn_whole(monkeypatch):
    """The built-in font, bitmap fonts and a face whose glyphs do not add up to Pillow's run get no glyph set."""
    face = FACES[0]
    _installed(face)
    glyphs_module.glyph_set.cache_clear()
    assert glyphs_module.glyph_set(BUILTIN_FACE, 20) is None
    if Path(EMOJI.path).is_file():
        assert glyphs_module.glyph_set(EMOJI, 20) is None
    assert glyphs_module.glyph_set(face, 20) is not None
    draw_glyph = glyphs_module.GlyphSet._draw_glyph
    monkeypatch.setattr(glyphs_module.GlyphSet, "_draw_glyph", lambda self, char: (lambda g: (g[0] + 1, *g[1:]))(draw_glyph(self, char)))  # advance off by 1/64 px
    glyphs_module.glyph_set.cache_clear()
    try:
        assert glyphs_module.glyph_set(face, 20) is None
    finally:
        glyphs_module.glyph_set.cache_clear()


def test_frames_are_the_same_bytes_with_runs_drawn_whole(tmp_path, monkeypatch):
    """End to end, over paths, code, italics and CJK: putting runs together from glyphs changes no byte of output."""
    records = [
        {"context": "See /usr/share/doc/libfoo-dev/copyright and https://example.org/a_b?c=d&e=f. AVATAR Wavy «ŀ» Ωmega " * 12, "question": "Where?", "answer": "There."},
        {"context": "def f(x):\n    return {'k': [x, x ** 2]}  # ──┐ │ └──\n" * 10, "question": "What?", "answer": "Code."},
        {"context": "中文书名《红楼梦》，「引号」。Debian的apt-get工具、dpkg和/etc/apt/sources.list。" * 15, "question": "何？", "answer": "工具。"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    settings = {"size": "320x320", "whitespace": "preserve"}
    run_synth(tmp_path / "composed", source, **settings)
    italic = {**settings, "font": str(DEJAVU / "DejaVuSerif-Italic.ttf")}
    run_synth(tmp_path / "composed-italic", source, **italic)
    monkeypatch.setattr("t2vid.measure.glyphs_for", lambda face, size, shaped: None)
    monkeypatch.setattr("t2vid.render.glyphs_for", lambda face, size, shaped: None)
    run_synth(tmp_path / "whole", source, **settings)
    run_synth(tmp_path / "whole-italic", source, **italic)
    assert tree_bytes(tmp_path / "composed") == tree_bytes(tmp_path / "whole")
    assert tree_bytes(tmp_path / "composed-italic") == tree_bytes(tmp_path / "whole-italic")

"""Real documents: whitespace modes, bidirectional text, emoji and word counting."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from conftest import run_synth, shard_lines, write_jsonl
from t2vid.charset import count_words
from t2vid.layout import Layouter, split_units
from t2vid.render import Renderer
from t2vid.segment import segment
from t2vid.style import RenderStyle

GOLDEN = Path(__file__).parent / "golden"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core; also has Arabic
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"  # fonts-dejavu-core
EMOJI = os.environ.get("T2VID_EMOJI_FONT", "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # fonts-noto-color-emoji: CBDT bitmaps, one 109 px strike

CODE = '''def fib(n):
    """Fibonacci."""
    if n < 2:
        return n
\ta, b = 0, 1
    for _ in range(n - 1):
        a, b = b, a + b
    return b


class Cache:
    def __init__(self):
        self.hits = {}  # key -> value
'''
TABLE = """| name   | size | kind |
|--------|------|------|
| alpha  |   12 | a    |
| beta   |  345 | bb   |
"""
ARABIC = "هذا نص عربي قصير عن الأشياء الأخرى."


def _need(*paths: str) -> None:
    for path in paths:
        if not Path(path).is_file():
            pytest.skip(f"{path} is not installed (see scripts/test.sh for the Debian package)")


def _frames(text: str, style: RenderStyle, segmenter: str = "fit", words: int = 115):
    layouter, renderer = Layouter(style), Renderer(style)
    result = segment(text, layouter, segmenter, words)
    return result, [renderer.draw(frame) for frame in result.frames]


def _ink(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L")) < 160


def _column_runs(ink: np.ndarray, gap: int = 3) -> list[tuple[int, int]]:
    """Horizontal extents of the ink blobs of one text line, separated by at least `gap` empty columns."""
    columns = np.flatnonzero(ink.any(axis=0))
    runs: list[list[int]] = []
    for x in columns:
        if runs and x - runs[-1][1] <= gap:
            runs[-1][1] = x
        else:
            runs.append([x, x])
    return [(a, b) for a, b in runs]


@pytest.fixture
def emoji_font(tmp_path, monkeypatch):
    """Fontconfig sees the bitmap-only emoji font (wherever it is), with fresh font caches before and after."""
    from t2vid import fonts

    _need(SANS, EMOJI)
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / Path(EMOJI).name).symlink_to(EMOJI)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{folder}</dir><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    caches = (fonts.installed_fonts, fonts.resolve_face, fonts.face_facts, fonts.coverage, fonts.load_font, fonts.usable)
    for cache in caches:
        cache.cache_clear()
    yield EMOJI
    monkeypatch.delenv("FONTCONFIG_FILE")
    for cache in caches:
        cache.cache_clear()


def _within(columns: np.ndarray, other: np.ndarray, tolerance: int) -> bool:
    """Every inked column of one line image has ink in the other within `tolerance` columns."""
    near = np.convolve(other.astype(int), np.ones(2 * tolerance + 1, dtype=int), mode="same") > 0
    return bool(np.all(near[columns]))


# --- whitespace modes ---------------------------------------------------------------------------


def test_default_whitespace_mode_is_lines():
    assert RenderStyle().whitespace == "lines"


@pytest.mark.parametrize("text", [CODE, TABLE], ids=["code", "table"])
def test_preserve_keeps_lines_and_indentation(text):
    style = RenderStyle(font=MONO, font_size=12, width=448, height=448, whitespace="preserve")
    _need(MONO)
    result, images = _frames(text, style)
    assert len(result.frames) == 1
    expected = [line.expandtabs(4).rstrip() for line in text.strip("\n").split("\n")]
    assert result.frames[0].text.split("\n") == expected
    # in pixels: each line's first ink sits at its indentation, in monospaced columns
    cell = Layouter(style).measurer.space
    ink = _ink(images[0])
    for line, source in zip(result.frames[0].lines, [line for line in expected if line.strip()]):
        indent = len(source) - len(source.lstrip(" "))
        baseline = line.units[0].baseline
        first = np.flatnonzero(ink[baseline - style.font_size : baseline + 4].any(axis=0))[0]
        assert 0 <= first - (style.margin + indent * cell) < cell // 2 + 1, (source, first)


def test_preserve_uses_a_monospaced_font_unless_one_is_given():
    mono = Layouter(RenderStyle(whitespace="preserve")).measurer
    assert mono.measure("i").advance == mono.measure("W").advance
    assert Layouter(RenderStyle(font=SANS, whitespace="preserve")).measurer.face.path == SANS


def test_preserve_wraps_long_lines_with_a_mark_and_loses_nothing():
    _need(MONO)
    long_line = "    result = compute(" + ", ".join(f"argument_{i}" for i in range(12)) + ")"
    text = "def f():\n" + long_line + "\n    return result\n"
    style = RenderStyle(font=MONO, font_size=14, width=320, height=448, whitespace="preserve")
    result, images = _frames(text, style)
    frame = result.frames[0]
    lines = frame.lines
    assert len(lines) > 3  # the long line wrapped
    assert [line.continued for line in lines] == [False, False] + [True] * (len(lines) - 3) + [False]
    assert all(line.mark is not None for line in lines if line.continued)
    assert "".join(frame.text.split()) == "".join(text.split())  # the mark is drawn, not part of the text
    # the mark is drawn (lighter than text) at the source line's indentation, and the text follows it
    pixels = np.asarray(images[0])
    cell = Layouter(style).measurer.space
    for line in lines:
        if line.continued:
            baseline, x = line.units[0].baseline, style.margin + line.mark.x
            assert line.mark.x == 4 * cell and line.units[0].x == 6 * cell  # indentation, mark, space
            mark = pixels[baseline - 12 : baseline, x : x + cell]
            assert 150 < mark.min() < 250  # visible, but light



def test_lines_mode_keeps_paragraph_breaks_with_a_visible_gap():
    text = "Heading\n\nFirst paragraph line one.\nLine two of it.\n\n\n- item one\n- item two"
    style = RenderStyle(font=SANS)
    result, _ = _frames(text, style)
    frame = result.frames[0]
    assert frame.text == "Heading\n\nFirst paragraph line one.\nLine two of it.\n\n- item one\n- item two"
    baselines = [line.units[0].baseline for line in frame.lines]
    steps = [b - a for a, b in zip(baselines, baselines[1:])]
    pitch = Layouter(style).pitch
    assert steps == [2 * pitch, pitch, 2 * pitch, pitch]


def test_collapse_is_one_run_of_words():
    result, _ = _frames("Heading\n\nBody   text\twith\nbreaks.", RenderStyle(font=SANS, whitespace="collapse"))
    assert result.frames[0].text == "Heading Body text with breaks."


def test_a_frame_does_not_start_with_a_paragraph_gap():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(12))
    result, _ = _frames(text, RenderStyle(font=SANS))
    assert len(result.frames) > 1
    for frame in result.frames:
        assert not frame.text.startswith("\n")
        assert frame.lines[0].units[0].baseline == RenderStyle().margin + Layouter(RenderStyle(font=SANS)).measurer.ascent


@pytest.mark.parametrize("mode", ["collapse", "lines", "preserve"])
def test_words_budget_never_counts_whitespace(mode):
    text = "\n".join("        " + " ".join(f"w{i}_{k}" for k in range(5)) + "\n\n" for i in range(80))
    result, _ = _frames(text, RenderStyle(font=MONO if mode == "preserve" else SANS, font_size=10, whitespace=mode), "words", 37)
    assert all(frame.new_words <= 37 for frame in result.frames)
    assert sum(frame.new_words for frame in result.frames) == 400 == count_words(text)
    assert max(frame.new_words for frame in result.frames) == 37


# --- bidirectional text ---------------------------------------------------------------------------


def _reference_line(text: str, style: RenderStyle, rtl: bool) -> np.ndarray:
    """The line as raqm (FriBiDi + HarfBuzz) lays it out in one call, aligned like ours."""
    font = ImageFont.truetype(style.font, style.font_size, layout_engine=ImageFont.Layout.RAQM)
    image = Image.new("L", (style.width, style.height), 255)
    x = style.width - style.margin if rtl else style.margin
    ImageDraw.Draw(image).text((x, style.margin + 40), text, font=font, fill=0, anchor="rs" if rtl else "ls", direction="rtl" if rtl else "ltr")
    return _ink(image)


@pytest.mark.parametrize(
    "text,rtl",
    [
        (ARABIC, True),
        ("العدد 123 و 4.5 في النص (ABC def) نعم.", True),
        ("He said مرحبا بالعالم الأخرى. and left", False),
        ("שלום עולם, זה טקסט 2024 בעברית!", True),
    ],
)
def test_bidi_lines_match_the_reference_shaping(text, rtl):
    """Word order, punctuation side and alignment as raqm/FriBiDi draw the whole line (every stroke within 3 px)."""
    _need(SANS)
    style = RenderStyle(font=SANS, width=640)
    result, images = _frames(text, style)
    assert len(result.frames[0].lines) == 1
    ours, reference = _ink(images[0]).any(axis=0), _reference_line(text, style, rtl).any(axis=0)
    assert _within(ours, reference, 3) and _within(reference, ours, 3)  # the same inked columns, give or take rounding
    ours = _column_runs(_ink(images[0]))
    edge = style.width - style.margin - 1 if rtl else style.margin
    assert abs((ours[-1][1] if rtl else ours[0][0]) - edge) <= 2


def test_rtl_paragraph_is_right_aligned_with_the_period_on_the_left():
    _need(SANS)
    style = RenderStyle(font=SANS)
    result, images = _frames((ARABIC + " ") * 6, style)
    ink = _ink(images[0])
    lines = result.frames[0].lines
    assert len(lines) >= 3
    for line in lines[:-1]:
        rows = ink[line.units[0].baseline - 14 : line.units[0].baseline + 5]
        runs = _column_runs(rows)
        assert abs(runs[-1][1] - (style.width - style.margin - 1)) <= 2  # flush right
    last = lines[-1]
    runs = _column_runs(ink[last.units[0].baseline - 14 : last.units[0].baseline + 5])
    assert abs(runs[-1][1] - (style.width - style.margin - 1)) <= 2  # the last line starts at the right too
    period = ink[last.units[0].baseline - 14 : last.units[0].baseline + 5, runs[0][0] : runs[0][1] + 1]
    assert runs[0][1] - runs[0][0] <= 4 and period.sum() < 20  # the leftmost ink is the sentence's period


@pytest.mark.parametrize("align,rtl_right,ltr_right", [("start", True, False), ("end", False, True), ("left", False, False)])
def test_start_and_end_follow_the_paragraph_direction(align, rtl_right, ltr_right):
    _need(SANS)
    style = RenderStyle(font=SANS, align=align)
    for text, right in ((ARABIC, rtl_right), ("A short English line.", ltr_right)):
        result, images = _frames(text, style)
        runs = _column_runs(_ink(images[0]))
        if right:
            assert abs(runs[-1][1] - (style.width - style.margin - 1)) <= 2
        else:
            assert abs(runs[0][0] - style.margin) <= 2


# --- emoji ---------------------------------------------------------------------------------------

EMOJI_TEXT = "Clusters: 👩\u200d💻 🇫🇷 👍🏽 ❤️ 🎉 done"


def test_emoji_are_drawn_in_colour_one_glyph_per_cluster(emoji_font):
    style = RenderStyle(font=SANS, mode="RGB", width=640)
    measurer = Layouter(style).measurer
    result, images = _frames(EMOJI_TEXT, style)
    assert not result.missing_glyphs
    line = result.frames[0].lines[0]
    rgb = np.asarray(images[0]).astype(int)
    single = measurer.measure("🎉").advance
    assert single >= style.font_size
    for placed in line.units[1:-1]:
        x0 = style.margin + placed.x
        box = rgb[placed.baseline - style.font_size : placed.baseline + 6, x0 - 1 : x0 + placed.measured.advance + 1]
        ink = (np.abs(box - 255).sum(axis=2) > 60)
        runs = _column_runs(ink, gap=1)
        assert len(runs) == 1, placed.unit.text  # one glyph, not a woman and a laptop side by side
        assert runs[0][1] - runs[0][0] <= single + 2
        chroma = box.max(axis=2) - box.min(axis=2)
        assert chroma.max() > 80  # colour, not a black silhouette


def test_emoji_are_grey_in_l_mode(emoji_font):
    result, images = _frames("Party 🎉 time", RenderStyle(font=SANS))
    assert images[0].mode == "L"
    pixels = np.asarray(images[0])
    assert len(np.unique(pixels)) > 20  # shaded, not a flat mask in the text colour


def test_emoji_font_at_its_strike_size_does_not_fail_a_run(tmp_path, emoji_font):
    """Regression: Noto Color Emoji opened at the text size failed every record as 'invalid pixel size'."""
    source = write_jsonl(tmp_path / "in.jsonl", [{"context": "The launch went great 🎉! " * 40, "question": "How?", "answer": "Great."}])
    summary = run_synth(tmp_path / "out", source, size="224x224")
    assert summary.samples == 1
    record = shard_lines(tmp_path / "out")[0]
    assert "🎉" not in record["missing_glyphs"]


def test_a_font_that_cannot_be_opened_is_skipped_with_a_warning(tmp_path, monkeypatch):
    from t2vid import fonts

    broken = tmp_path / "broken.ttf"
    broken.write_bytes(Path(SANS).read_bytes()[:2000])
    entries = tuple(fonts.FontEntry(fonts.FontFace(path), ("Some Sans",), ("Regular",), "TrueType") for path in (str(broken), SANS))
    monkeypatch.setattr(fonts, "installed_fonts", lambda: entries)
    monkeypatch.setattr(fonts, "code_ranges", lambda face: fonts.CodeRanges.of({0x263A} if face.path in (str(broken), SANS) else range(0x20, 0x7F)))
    chain = fonts.FontChain(fonts.FontFace(MONO))
    with pytest.warns(UserWarning, match="broken.ttf"):
        assert chain.face_for("\u263a") == fonts.FontFace(SANS)


def test_without_an_emoji_font_emoji_leave_no_stray_spaces():
    layouter = Layouter(RenderStyle(font=SANS), fallback=False)
    result = segment("The launch went great 🎉! The team. Flags: 🇫🇷 🇩🇪. Balloons 🎈️ here", layouter, "fit")
    assert " ".join(result.frames[0].text.split()) == "The launch went great! The team. Flags:. Balloons here"
    assert "🎉" in result.missing_glyphs


def test_the_summary_names_the_emoji_font_package():
    from t2vid.fonts import font_package_for

    assert font_package_for("🎉") == font_package_for("🇫") == "fonts-noto-color-emoji"


# --- counting -------------------------------------------------------------------------------------


def test_one_word_count_for_every_script():
    assert count_words("Hello, world!  Two\nlines") == 4
    assert count_words("汉字abc，中文 mixed text") == 7 == len(split_units("汉字abc，中文 mixed text"))
    assert count_words("日本語のテキスト") == 8
    assert count_words("한국어 텍스트") == 6
    assert count_words("") == 0


def test_a_chinese_context_of_3000_characters_passes_min_context_words(tmp_path):
    context = ("造纸术是中国古代的四大发明之一东汉时期蔡伦改进了造纸的方法" * 100)[:3000]
    source = write_jsonl(tmp_path / "in.jsonl", [{"context": context, "question": "谁改进了造纸术？", "answer": "蔡伦。"}])
    summary = run_synth(tmp_path / "out", source, min_context_words=300, size="224x224", limit=1)
    assert summary.samples == 1 and not summary.rejected


# --- golden frames, pinned to font files ----------------------------------------------------------

GOLDEN_CASES = {
    "code-preserve": (CODE + "\n" + TABLE, {"font": MONO, "font_size": 14, "whitespace": "preserve"}, (MONO,)),
    "paragraphs": ("Apache License\n\n1. Definitions.\n\n\"License\" shall mean the terms and conditions for use.\n\n2. Grant of Copyright License.\n\nSubject to the terms of this License, each Contributor grants to You a perpetual license.\n- one\n- two", {"font": SANS}, (SANS,)),
    "arabic": ((ARABIC + " العدد 123 و ABC كلمة. ") * 5, {"font": SANS}, (SANS,)),
    "emoji": (EMOJI_TEXT + "\nFlags: 🇯🇵 🇧🇷 🏳️\u200d🌈 and faces 😀😂🥲", {"font": SANS, "mode": "RGB"}, (SANS, EMOJI)),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_document_frames(name, request):
    """Pinned to font files of Debian packages; regenerate with T2VID_UPDATE_GOLDEN=1 after looking at the images."""
    text, options, needs = GOLDEN_CASES[name]
    _need(*needs)
    if EMOJI in needs:
        request.getfixturevalue("emoji_font")
    style = RenderStyle(**options)
    image = Renderer(style).draw(segment(text, Layouter(style), "fit").frames[0])
    path = GOLDEN / f"{name}.png"
    if os.environ.get("T2VID_UPDATE_GOLDEN"):
        image.save(path)
    with Image.open(path) as golden:
        assert golden.mode == image.mode and golden.size == image.size
        assert hashlib.sha256(golden.tobytes()).hexdigest() == hashlib.sha256(image.tobytes()).hexdigest()


def test_longbench_code_subsets_keep_their_whitespace(tmp_path):
    records = [
        {"context": CODE * 3, "input": "", "answers": ["return b"], "dataset": "lcc", "language": "python", "_id": "a"},
        {"context": "Chapter one.\n\nIt was a dark night.\n    Nobody came.", "input": "Who came?", "answers": ["Nobody."], "dataset": "narrativeqa", "_id": "b"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    preset = str(Path(__file__).resolve().parents[1] / "configs" / "presets" / "longbench.yaml")  # this checkout's preset
    run_synth(tmp_path / "out", source, preset=preset, size="448x448")
    code, prose = shard_lines(tmp_path / "out")
    assert code["style"]["whitespace"] == "preserve" and "DejaVuSansMono" in code["style"]["font"]
    assert "    if n < 2:\n        return n" in "\n".join(code["texts"])
    assert "style" not in prose and prose["texts"] == ["Chapter one.\n\nIt was a dark night.\nNobody came."]
    run_synth(tmp_path / "flat", source, preset=preset, size="448x448", whitespace="collapse")
    flat = [text for record in shard_lines(tmp_path / "flat") for text in record["texts"]]
    assert not any("\n\n" in text or "\n " in text or "  " in text for text in flat)  # --whitespace wins over the preset


def test_whitespace_option_is_checked(tmp_path):
    from t2vid.cli import main

    assert main(["render", "x", "--whitespace", "tabs", "-o", str(tmp_path / "x.png")]) == 2
    config = tmp_path / "c.yaml"
    config.write_text("whitespace: keep\n")
    assert main(["synth", "-o", str(tmp_path / "out"), "--config", str(config), "-q"]) == 2

"""Fallback coverage comes from the fonts' character maps, read once and cached across runs."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys

import pytest
from fontTools.ttLib import TTFont

from t2vid import fonts
from t2vid.fonts import PREFERRED_FALLBACKS, CodeRanges, FontChain, FontFace, code_ranges, coverage_cache_dir, face_facts, installed_fonts, resolve_face

needs_fontconfig = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig not installed")
SAMPLE = "aé€Ωжשعहกあア中한ㄱ😀★→∑₹\U0002000b\ue000\U0010fffd"


def _fontconfig_choice(char: str) -> FontFace | None:
    """Fallback as it was first written: one fc-list query per character, then the cmap check."""
    code = ord(char)
    listing = subprocess.run(["fc-list", "--format", "%{file}\t%{index}\t%{family}\t%{fontformat}\t%{style}\n", f":charset={code:x}"], capture_output=True, text=True, check=True).stdout
    rows = set()
    for line in listing.splitlines():
        path, index, families, font_format, styles = line.split("\t")
        if font_format in {"TrueType", "CFF"}:
            rank = min((PREFERRED_FALLBACKS.index(f) for f in families.split(",") if f in PREFERRED_FALLBACKS), default=len(PREFERRED_FALLBACKS))
            rows.add((rank, 0 if {"Regular", "Book"} & set(styles.split(",")) else 1, path, int(index or 0)))
    return next((FontFace(path, index) for _, _, path, index in sorted(rows) if code in _cmap(path, index)), None)


@functools.lru_cache(maxsize=None)
def _cmap(path: str, index: int) -> frozenset[int]:
    font = TTFont(path, fontNumber=index, lazy=True)
    codes = frozenset(font.getBestCmap() or {})
    font.close()
    return codes


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    face_facts.cache_clear()
    yield tmp_path / "cache"
    face_facts.cache_clear()


@needs_fontconfig
def test_fallback_choices_are_those_of_per_character_fontconfig_queries():
    primary = resolve_face("DejaVu Sans")
    chain = FontChain(primary)
    for char in SAMPLE:
        expected = primary if ord(char) in _cmap(primary.path, primary.index) else _fontconfig_choice(char)
        assert chain.face_for(char) == expected, f"U+{ord(char):04X}"


@needs_fontconfig
def test_fallback_order_prefers_named_families_then_regular_styles():
    ranks = [entry.fallback_rank for entry in installed_fonts()]
    assert ranks == sorted(ranks) and len({entry.face for entry in installed_fonts()}) == len(ranks)
    assert installed_fonts()[0].families[0] == PREFERRED_FALLBACKS[0]


def test_code_ranges_hold_exactly_the_cmap():
    codes = {0x20, 0x21, 0x22, 0x41, 0x4E00, 0x4E01, 0x10FFFF}
    ranges = CodeRanges.of(codes)
    assert ranges.starts == (0x20, 0x41, 0x4E00, 0x10FFFF) and ranges.codes() == codes
    assert all((code in ranges) == (code in codes) for code in range(0x10, 0x4E10))


@needs_fontconfig
def test_coverage_is_cached_on_disk_and_read_back_without_parsing_the_font(fresh_cache, monkeypatch):
    face = resolve_face("DejaVu Sans")
    first = code_ranges(face)
    files = list(coverage_cache_dir().glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["path"] == face.path
    face_facts.cache_clear()
    monkeypatch.setattr(fonts, "_read_facts", lambda face: pytest.fail("parsed the font although a valid cache file exists"))
    assert code_ranges(face) == first and ord("é") in first and ord("中") not in first
    with TTFont(face.path, lazy=True) as font:
        assert fonts.kerns_in_basic_layout(face) == ("kern" in font) and fonts.bitmap_strike(face) is None


@needs_fontconfig
def test_a_process_whose_fonts_are_cached_draws_without_importing_fonttools(fresh_cache):
    """Importing fontTools and opening a font cost every process ~25 ms; with the facts cached, neither happens."""
    draw = "import sys; from t2vid import render_text; render_text('Text and 中文 and 한국어'); print('fontTools' in sys.modules)"
    env = {**os.environ, "XDG_CACHE_HOME": str(fresh_cache)}
    first, again = (subprocess.run([sys.executable, "-c", draw], env=env, capture_output=True, text=True, check=True).stdout.split() for _ in range(2))
    assert first == ["True"] and again == ["False"]


@needs_fontconfig
@pytest.mark.parametrize("damage", ["truncate", "other_font_version", "bad_values", "bad_strike", "no_strike_or_kerns"])
def test_a_corrupt_or_stale_cache_file_is_ignored_and_rewritten(fresh_cache, damage):
    face = resolve_face("DejaVu Sans")
    good = code_ranges(face)
    path = next(coverage_cache_dir().glob("*.json"))
    data = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif damage == "other_font_version":
        path.write_text(json.dumps({**data, "mtime_ns": data["mtime_ns"] + 1, "starts": [0x4E00], "ends": [0x9FFF]}))
    elif damage == "bad_values":
        path.write_text(json.dumps({**data, "starts": data["starts"][::-1]}))
    elif damage == "bad_strike":
        path.write_text(json.dumps({**data, "strike": 0}))
    else:  # a cache file written before it held more than the character map
        path.write_text(json.dumps({key: value for key, value in data.items() if key not in ("strike", "kerns")}))
    face_facts.cache_clear()
    assert code_ranges(face) == good
    assert json.loads(path.read_text()) == data


@needs_fontconfig
def test_an_unwritable_cache_directory_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    face_facts.cache_clear()
    try:
        assert ord("A") in code_ranges(resolve_face("DejaVu Sans"))
    finally:
        face_facts.cache_clear()
    assert blocker.read_text() == "a file where the cache directory would go"


@needs_fontconfig
def test_a_font_that_cannot_be_opened_is_not_remembered_as_covering_nothing(fresh_cache, monkeypatch):
    """A failure to open may pass (permissions, too many open files): it is not written to the cache."""
    import fontTools.ttLib

    face = resolve_face("DejaVu Sans")

    def cannot_open(*args, **kwargs):
        raise OSError(24, "Too many open files")

    with monkeypatch.context() as patch:
        patch.setattr(fontTools.ttLib, "TTFont", cannot_open)
        assert code_ranges(face) == CodeRanges((), ())
    assert not list(fresh_cache.rglob("*.json"))
    face_facts.cache_clear()
    assert ord("A") in code_ranges(face) and len(list(fresh_cache.rglob("*.json"))) == 1


@needs_fontconfig
def test_looking_for_a_colour_emoji_reads_no_outline_font(fresh_cache, monkeypatch):
    """fontconfig already says which faces are bitmap fonts: a cold cache does not parse every font before the emoji one."""
    bitmap = {entry.face for entry in installed_fonts() if entry.pixel_sizes}
    if not bitmap:
        pytest.skip("no bitmap (colour emoji) font installed")
    primary = resolve_face("DejaVu Sans")
    chain = FontChain(primary)
    read = []
    original = fonts._read_facts
    monkeypatch.setattr(fonts, "_read_facts", lambda face: read.append(face) or original(face))
    assert chain.emoji_face_for("\U0001F600") in bitmap
    assert set(read) <= bitmap | {primary}

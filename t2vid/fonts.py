"""Font lookup, glyph coverage and the per-character fallback chain.

Pillow draws a "tofu" box for a character its font lacks and gives no way to
ask whether a glyph exists, so coverage comes from each font's character map
(fontTools). Fonts are resolved once per process and cached: loading a CJK
collection costs tens of milliseconds, far more than drawing a frame. The
fallback chain ranks the faces of one fontconfig listing and reads their
character maps (kept in a cache file per font between runs), instead of asking
fontconfig about each character: a Chinese corpus has ~6,000 distinct ones.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import ImageFont, features

from t2vid.charset import is_cjk
from t2vid.files import not_regular

DEFAULT_FAMILY = "sans-serif"
GENERIC_FAMILIES = {"sans-serif", "sans", "serif", "monospace", "mono"}
# Families tried first for a missing character, before every other installed font.
PREFERRED_FALLBACKS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "Noto Color Emoji",
    "Symbola",
)


class FontError(ValueError):
    """A font the user named cannot be found or read."""


class FontFace(NamedTuple):
    """One face of a font file: a path and, for .ttc collections, an index (a tuple: it keys every per-face cache)."""

    path: str
    index: int = 0

    @property
    def builtin(self) -> bool:
        return self.path == ""


BUILTIN_FACE = FontFace("")


def _fc(*args: str) -> str:
    if shutil.which(args[0]) is None:
        return ""
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


@functools.lru_cache(maxsize=None)
def resolve_face(spec: str | None) -> FontFace:
    """A font file path or a fontconfig family name -> a face; None -> the system sans."""
    if spec and (os.sep in spec or Path(spec).suffix.lower() in {".ttf", ".otf", ".ttc", ".otc"}):
        path = Path(spec).expanduser()
        special = not_regular(path, "font file")
        if special:
            raise FontError(special)
        if not path.is_file():
            raise FontError(f"font file not found: {spec}")
        face = FontFace(str(path.resolve()))
        try:
            ImageFont.truetype(face.path, 20)
        except OSError as exc:
            raise FontError(f"cannot read font file {spec}: {exc}") from None
        return face
    family = spec or DEFAULT_FAMILY
    out = _fc("fc-match", "-f", "%{file}\n%{index}\n%{family}\n", family).splitlines()
    if len(out) >= 2 and out[0] and Path(out[0]).is_file():
        offered = {f.strip().lower() for f in (out[2] if len(out) > 2 else "").split(",")}
        asked = family.split(":")[0].strip().lower()  # a fontconfig pattern may add a style: "DejaVu Sans:bold"
        if asked not in offered and asked not in GENERIC_FAMILIES:
            raise FontError(f"font family not installed: {spec!r} (fontconfig offers {out[2]!r})")
        return FontFace(out[0], int(out[1] or 0))
    if spec:
        raise FontError(f"font family not found: {spec!r} (is fontconfig installed?)")
    return BUILTIN_FACE


@dataclass(frozen=True)
class FontEntry:
    """An installed face as fontconfig lists it: what fallback ranks it by, and how to open it."""

    face: FontFace
    families: tuple[str, ...]
    styles: tuple[str, ...]
    font_format: str  # fontconfig's fontformat: TrueType or CFF
    pixel_sizes: tuple[int, ...] = ()  # fixed bitmap strikes (colour emoji fonts); empty for outline fonts

    @property
    def fallback_rank(self) -> tuple[int, int, str, int]:
        """Preferred families first, then regular styles, then by file: the same order on every run."""
        rank = min((PREFERRED_FALLBACKS.index(f) for f in self.families if f in PREFERRED_FALLBACKS), default=len(PREFERRED_FALLBACKS))
        regular = 0 if {"Regular", "Book"} & set(self.styles) else 1
        return rank, regular, self.face.path, self.face.index


@functools.lru_cache(maxsize=1)
def installed_fonts() -> tuple[FontEntry, ...]:
    """Scalable installed faces in fallback order, from one fontconfig listing per process."""
    listing = _fc("fc-list", "--format", "%{file}\t%{index}\t%{family}\t%{fontformat}\t%{style}\t%{pixelsize}\n")
    entries: dict[FontFace, FontEntry] = {}
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) < 6 or parts[3] not in {"TrueType", "CFF"}:
            continue
        sizes = tuple(sorted({round(float(size)) for size in parts[5].split(",") if _is_number(size)}))
        entry = FontEntry(FontFace(parts[0], int(parts[1] or 0)), tuple(parts[2].split(",")), tuple(parts[4].split(",")), parts[3], sizes)
        if entry.face not in entries or entry.fallback_rank < entries[entry.face].fallback_rank:
            entries[entry.face] = entry
    return tuple(sorted(entries.values(), key=lambda e: e.fallback_rank))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class CodeRanges:
    """A character map as sorted inclusive ranges of code points.

    A CJK face maps ~44K code points in a few hundred ranges: as sets, the
    maps of all installed faces would take tens of MB in every worker.
    """

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, codes) -> CodeRanges:
        starts: list[int] = []
        ends: list[int] = []
        for code in sorted(codes):
            if ends and code == ends[-1] + 1:
                ends[-1] = code
            else:
                starts.append(code)
                ends.append(code)
        return cls(tuple(starts), tuple(ends))

    def __contains__(self, code: int) -> bool:
        n = bisect.bisect_right(self.starts, code) - 1
        return n >= 0 and code <= self.ends[n]

    def codes(self) -> frozenset[int]:
        return frozenset(code for start, end in zip(self.starts, self.ends) for code in range(start, end + 1))


def coverage_cache_dir() -> Path | None:
    """Where character maps read from font files are kept between runs (under the XDG cache directory); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no passwd entry: run without the cache
            return None
    return Path(base) / "t2vid" / "font-coverage"


class FaceFacts(NamedTuple):
    """What t2vid needs to know of a font file that FreeType does not tell: read with fontTools."""

    ranges: CodeRanges  # the code points it has a glyph for (its cmap)
    strike: int | None  # see bitmap_strike
    kerns: bool  # see kerns_in_basic_layout


UNREADABLE = FaceFacts(CodeRanges((), ()), None, True)  # a font that cannot be read covers nothing; opening it reports why


@functools.lru_cache(maxsize=None)
def face_facts(face: FontFace) -> FaceFacts:
    """The face's facts, read once per version of the font file.

    Parsing a CJK collection's cmap with fontTools takes ~0.2 s per face, a
    fallback search for a character no font has visits every face, and
    importing fontTools to open even one font costs every process ~25 ms. So
    each face's facts are kept in a cache file named by the font's path,
    index, size and mtime; a cache file that does not parse or does not match
    them is ignored and rewritten.
    """
    if face.builtin:
        return FaceFacts(CodeRanges((0x20,), (0x7E,)), None, False)
    try:
        stat = os.stat(face.path)
    except OSError:
        return UNREADABLE
    key = {"path": face.path, "index": face.index, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    folder = coverage_cache_dir()
    if folder is None:
        return _read_facts(face)
    cache = folder / (hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32] + ".json")
    cached = _read_cached_facts(cache, key)
    if cached is not None:
        return cached
    facts = _read_facts(face)
    if facts is UNREADABLE:  # perhaps only for now (permissions, too many open files): read again next time
        return facts
    _write_cached_facts(cache, {**key, "starts": list(facts.ranges.starts), "ends": list(facts.ranges.ends), "strike": facts.strike, "kerns": facts.kerns})
    return facts


def _read_facts(face: FontFace) -> FaceFacts:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
    except Exception:  # noqa: BLE001 - a font that cannot be opened simply covers nothing
        return UNREADABLE
    with font:
        try:
            ranges = CodeRanges.of(font.getBestCmap() or {})
        except Exception:  # noqa: BLE001
            ranges = UNREADABLE.ranges
        try:
            outlines = any(tag in font for tag in ("glyf", "CFF ", "CFF2"))
            table = next((font[tag] for tag in ("CBLC", "EBLC") if tag in font), None)
            sizes = [strike.bitmapSizeTable.ppemY for strike in table.strikes] if table is not None and not outlines else []
        except Exception:  # noqa: BLE001 - an unreadable font is reported when it is opened
            sizes = []
        return FaceFacts(ranges, max(sizes, default=0) or None, "kern" in font)


def _read_cached_facts(path: Path, key: dict) -> FaceFacts | None:
    """The cached facts if the file is whole, is for this font file version, and is well-formed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        starts, ends, strike, kerns = data["starts"], data["ends"], data["strike"], data["kerns"]
        ok = all(data.get(k) == v for k, v in key.items()) and isinstance(starts, list) and isinstance(ends, list) and len(starts) == len(ends)
        ok = ok and all(type(v) is int for v in starts + ends) and all(a <= b for a, b in zip(starts, ends))
        ok = ok and all(end < start for end, start in zip(ends, starts[1:]))
        ok = ok and (strike is None or (type(strike) is int and strike > 0)) and type(kerns) is bool
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return FaceFacts(CodeRanges(tuple(starts), tuple(ends)), strike, kerns) if ok else None


def _write_cached_facts(path: Path, data: dict) -> None:
    """Atomic (a reader sees no file or a whole one); an unwritable cache only costs time."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8") as handle:
            tmp = handle.name
            json.dump(data, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def code_ranges(face: FontFace) -> CodeRanges:
    """Code points the face has a glyph for."""
    return face_facts(face).ranges


@functools.lru_cache(maxsize=None)
def coverage(face: FontFace) -> frozenset[int]:
    """Code points the face has a glyph for, as a set (for subset checks on a primary face)."""
    return code_ranges(face).codes()


def bitmap_strike(face: FontFace) -> int | None:
    """The pixel size of a bitmap-only font's largest strike (colour emoji), None for a scalable font.

    FreeType opens such a font only at a size it has bitmaps for ("invalid
    pixel size" otherwise), so it is opened there and its glyphs are scaled.
    """
    return face_facts(face).strike


def kerns_in_basic_layout(face: FontFace) -> bool:
    """Whether FreeType kerns pairs of this face without shaping: it reads only a TrueType `kern` table."""
    return face_facts(face).kerns


@functools.lru_cache(maxsize=None)
def load_font(face: FontFace, size: int, complex_layout: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A Pillow font; basic layout unless the text needs shaping (it is 2x faster).

    A bitmap-only font comes at its strike size whatever `size` asks for (see `bitmap_strike`).
    """
    if face.builtin:
        return ImageFont.load_default(size)
    engine = ImageFont.Layout.RAQM if complex_layout and features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(face.path, bitmap_strike(face) or size, index=face.index, layout_engine=engine)


@functools.lru_cache(maxsize=None)
def usable(face: FontFace) -> bool:
    """Whether Pillow can open the face; a fallback font that cannot be opened is skipped with a warning, never a failed run."""
    try:
        load_font(face, 20)
    except OSError as exc:
        warnings.warn(f"font {face.path} cannot be used ({exc}); skipped", stacklevel=2)
        return False
    return True


class FontChain:
    """The primary face plus fallbacks, chosen per character by coverage."""

    def __init__(self, primary: FontFace, fallback: bool = True):
        self.primary = primary
        self.fallback = fallback
        self._choice: dict[str, FontFace | None] = {}

    def face_for(self, char: str) -> FontFace | None:
        """The face that draws `char`, or None when no installed font has it."""
        face = self._choice.get(char, False)
        if face is not False:
            return face
        code = ord(char)
        found = None
        if code in code_ranges(self.primary):
            found = self.primary
        elif self.fallback:
            found = next((e.face for e in installed_fonts() if code in code_ranges(e.face) and usable(e.face)), None)
        self._choice[char] = found
        return found

    def emoji_face_for(self, char: str) -> FontFace | None:
        """A colour (bitmap) emoji face for `char` if one is installed, else `face_for`: 😀 in colour even when the main font has a black one."""
        key = "\ufe0f" + char
        face = self._choice.get(key, False)
        if face is False:
            code = ord(char)
            bitmap_fonts = (e.face for e in (installed_fonts() if self.fallback else ()) if e.pixel_sizes)  # fontconfig tells, no file is read
            colour = (face for face in bitmap_fonts if bitmap_strike(face) and code in code_ranges(face) and usable(face))
            face = self._choice[key] = next(colour, None) or self.face_for(char)
        return face


_PACKAGE_HINTS = (
    ((0x1F000, 0x1FAFF), "fonts-noto-color-emoji"),
    ((0x2600, 0x27BF), "fonts-noto-color-emoji"),
)


def font_package_for(char: str) -> str:
    """The Debian package most likely to supply a glyph for `char`."""
    if is_cjk(char):
        return "fonts-noto-cjk"
    code = ord(char)
    for (low, high), package in _PACKAGE_HINTS:
        if low <= code <= high:
            return package
    if unicodedata.category(char) in {"Co", "Cn"}:
        return "(no font: private-use or unassigned code point)"
    return "fonts-noto-core"

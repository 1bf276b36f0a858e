"""Font lookup, glyph coverage and the per-character fallback chain.

Pillow draws a "tofu" box for a character its font lacks and gives no way to
ask whether a glyph exists, so coverage comes from each font's character map
(fontTools). Fonts are resolved once per process and cached: loading a CJK
collection costs tens of milliseconds, far more than drawing a frame.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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
    "Symbola",
)


class FontError(ValueError):
    """A font the user named cannot be found or read."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: a path and, for .ttc collections, an index."""

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


@functools.lru_cache(maxsize=4096)
def faces_covering(code: int) -> tuple[FontFace, ...]:
    """Installed scalable faces that fontconfig says have `code`, preferred families first."""
    listing = _fc("fc-list", "--format", "%{file}\t%{index}\t%{family}\t%{fontformat}\t%{style}\n", f":charset={code:x}")
    rows = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) < 5 or parts[3] not in {"TrueType", "CFF"}:
            continue
        families = parts[2].split(",")
        rank = min((PREFERRED_FALLBACKS.index(f) for f in families if f in PREFERRED_FALLBACKS), default=len(PREFERRED_FALLBACKS))
        regular = 0 if {"Regular", "Book"} & set(parts[4].split(",")) else 1
        rows.append((rank, regular, parts[0], int(parts[1] or 0)))
    return tuple(FontFace(path, index) for _, _, path, index in sorted(set(rows)))


@functools.lru_cache(maxsize=None)
def coverage(face: FontFace) -> frozenset[int]:
    """Code points the face has a glyph for."""
    if face.builtin:
        return frozenset(range(0x20, 0x7F))
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
        font.close()
    except Exception:  # noqa: BLE001 - a broken font file simply covers nothing
        return frozenset()
    return frozenset(cmap)


@functools.lru_cache(maxsize=None)
def load_font(face: FontFace, size: int, complex_layout: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A Pillow font; basic layout unless the text needs shaping (it is 2x faster)."""
    if face.builtin:
        return ImageFont.load_default(size)
    engine = ImageFont.Layout.RAQM if complex_layout and features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(face.path, size, index=face.index, layout_engine=engine)


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
        if code in coverage(self.primary):
            found = self.primary
        elif self.fallback:
            found = next((f for f in faces_covering(code) if code in coverage(f)), None)
        self._choice[char] = found
        return found


_PACKAGE_HINTS = (
    ((0x1F000, 0x1FAFF), "fonts-symbola"),
    ((0x2600, 0x27BF), "fonts-symbola"),
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

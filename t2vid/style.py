"""How a frame looks: the one settings object that layout and render share."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, replace

from PIL import ImageColor

IMAGE_FORMATS = ("png", "jpg", "webp")
ALIGNS = ("start", "end", "left", "center", "justify")  # start/end follow the paragraph direction (right for Arabic, Hebrew)
WHITESPACE_MODES = ("collapse", "lines", "preserve")
VALIGNS = ("top", "center")
MODES = ("L", "RGB")


@dataclass(frozen=True)
class RenderStyle:
    """Paper defaults: 448x448 white frames, black text, font size 20."""

    width: int = 448
    height: int = 448
    font: str = ""  # font file path; "" = the system sans font (Pillow's built-in font if there is none)
    font_index: int = 0
    font_size: int = 20
    margin: int = 10
    line_spacing: float = 1.15
    cjk_line_spacing: float = 1.3  # ideographs fill the em box: at 1.15 Tesseract misreads 3% of Chinese, at 1.3 0.7%
    align: str = "start"
    valign: str = "top"
    fg: str = "#000000"
    bg: str = "#ffffff"
    mode: str = "L"
    image_format: str = "png"
    quality: int = 90
    png_compress_level: int = 1
    png_bits: int = 8  # 4: 16 grey levels, ~30% faster to encode and ~20% smaller (mode L only)
    whitespace: str = "lines"  # collapse: one run of words (the paper); lines: keep line breaks; preserve: also indentation

    def validate(self) -> None:
        """Raise ValueError with one line that names the bad setting."""
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise ValueError(f"frame size {self.width}x{self.height} is outside 16..8192 pixels")
        if not 4 <= self.font_size <= 512:
            raise ValueError(f"font size {self.font_size} is outside 4..512")
        if self.margin < 0 or 2 * self.margin >= min(self.width, self.height) - self.font_size:
            raise ValueError(f"margin {self.margin} leaves no room for text in a {self.width}x{self.height} frame")
        for name in ("line_spacing", "cjk_line_spacing"):
            if not 0.8 <= getattr(self, name) <= 4:
                raise ValueError(f"--{name.replace('_', '-')} {getattr(self, name)} is outside 0.8..4")
        for name, allowed in (("align", ALIGNS), ("whitespace", WHITESPACE_MODES), ("valign", VALIGNS), ("mode", MODES), ("image_format", IMAGE_FORMATS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        for name in ("fg", "bg"):
            try:
                ImageColor.getrgb(getattr(self, name))
            except ValueError:
                raise ValueError(f"--{name}: not a colour: {getattr(self, name)!r}") from None
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality {self.quality} is outside 1..100")
        if self.png_bits not in (4, 8) or (self.png_bits == 4 and self.mode != "L"):
            raise ValueError(f"--png-bits must be 8, or 4 with --mode L (got {self.png_bits} with mode {self.mode})")
        if not 0 <= self.png_compress_level <= 9:
            raise ValueError(f"PNG compress level {self.png_compress_level} is outside 0..9")

    def key(self) -> str:
        """A short digest that changes whenever any pixel could change."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def default_family(whitespace: str) -> str | None:
    """The font family used when none is given: preserved columns only line up in a monospaced font."""
    return "monospace" if whitespace == "preserve" else None


@dataclass(frozen=True)
class StyleJitter:
    """Seeded style variety: each sample draws its own font, size and colours."""

    fonts: tuple[tuple[str, int], ...] = ()  # resolved (path, index) faces to pick from
    font_sizes: tuple[int, int] = (18, 24)
    min_contrast: float = 7.0

    def pick(self, base: RenderStyle, seed: int, sample_id: str) -> RenderStyle:
        """The same (seed, sample id) always gives the same style, on any worker."""
        rng = random.Random(f"{seed}:{sample_id}")
        style = base
        if self.fonts:
            path, index = self.fonts[rng.randrange(len(self.fonts))]
            style = replace(style, font=path, font_index=index)
        style = replace(style, font_size=rng.randint(*self.font_sizes))
        for _ in range(100):
            fg = tuple(rng.randrange(0, 110) for _ in range(3))
            bg = tuple(rng.randrange(180, 256) for _ in range(3))
            if base.mode == "L":  # record and check the grey levels that are drawn, not colours that never are
                fg, bg = _grey(fg), _grey(bg)
            if contrast_ratio(fg, bg) >= self.min_contrast:
                break
        else:
            fg, bg = (0, 0, 0), (255, 255, 255)
        return replace(style, fg="#%02x%02x%02x" % fg, bg="#%02x%02x%02x" % bg)


def _grey(rgb: tuple[int, ...]) -> tuple[int, int, int]:
    """The grey Pillow draws for an RGB colour in an L image."""
    level = ImageColor.getcolor("#%02x%02x%02x" % rgb[:3], "L")
    return (level, level, level)


def contrast_ratio(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours (1..21; 7 is "enhanced" legibility)."""

    def luminance(rgb: tuple[int, ...]) -> float:
        lin = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)

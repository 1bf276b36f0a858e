"""A minimal PNG writer for text frames: no row filter, then deflate (ISA-L if installed, else zlib).

Pillow's PNG encoder picks a filter per row by trying all five, which is most
of its cost on text frames and buys nothing there. Text frames compress best
unfiltered: on 448x448 frames (see docs/performance.md) filter type None gave
frames 0-14% smaller than the "Up" filter (14% on Chinese, as large on emoji
and code; equal on English prose) at every deflate level, and needs no
filtering pass at all. At the default level 1, ISA-L's deflate (its level 2)
is ~4x faster than zlib's and smaller; at higher levels zlib compresses better,
so it stays the encoder there. The bytes depend on the encoder, so a run
records `deflate_encoder()` in its manifest; with a given encoder, output is
deterministic. Output follows the PNG spec, so any decoder reads it; the tests
decode every mode with Pillow and compare pixels.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

try:
    from isal import __version__ as _ISAL_VERSION
    from isal import isal_zlib
except ImportError:  # optional: zlib writes the same images, a little larger and slower
    isal_zlib = None

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"L": 0, "RGB": 2}
ISAL_LEVELS = {1: 2}  # zlib level -> the ISA-L level that is faster and no larger (ISA-L levels are 0-3; 3 is slow)
_TO_NIBBLE = [v >> 4 for v in range(256)]


def deflate_encoder(level: int = 1) -> str:
    """Which deflate implementation writes PNGs at `level`, with its version: bytes differ between them."""
    if isal_zlib is not None and level in ISAL_LEVELS:
        return f"isal {_ISAL_VERSION} level {ISAL_LEVELS[level]}"
    return f"zlib {zlib.ZLIB_RUNTIME_VERSION}"


def _deflate(data: bytes, level: int) -> bytes:
    if isal_zlib is not None and level in ISAL_LEVELS:
        return isal_zlib.compress(data, ISAL_LEVELS[level])
    return zlib.compress(data, level)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _unfiltered(rows: Image.Image) -> bytes:
    """Each row of an L image of raw scanline bytes after its filter-type byte (0: None)."""
    width, height = rows.size
    lines = Image.new("L", (width + 1, height), 0)
    lines.paste(rows, (1, 0))
    return lines.tobytes()


def encode_png(image: Image.Image, level: int = 1, bits: int = 8) -> bytes:
    """PNG bytes of an L or RGB image; bits=4 stores 16 grey levels (L only), decoders scale back to 0..255."""
    width, height = image.size
    if bits == 4:
        packed = image.point(_TO_NIBBLE).tobytes("raw", "L;4")  # the packer keeps the low nibble
        rows = Image.frombytes("L", ((width + 1) // 2, height), packed)
    elif image.mode == "RGB":  # rows of bytes: view the scanlines as one grey row each
        rows = Image.frombytes("L", (3 * width, height), image.tobytes())
    else:
        rows = image
    return encode_png_rows(_unfiltered(rows), width, height, image.mode, level, bits)


def encode_png_rows(scanlines: bytes, width: int, height: int, mode: str = "L", level: int = 1, bits: int = 8) -> bytes:
    """PNG bytes of scanlines that already start with their filter-type byte 0 (see Renderer.render: no copy to add it)."""
    header = struct.pack(">IIBBBBB", width, height, bits, _COLOUR_TYPES[mode], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _deflate(scanlines, level)) + _chunk(b"IEND", b"")

"""A minimal PNG writer for text frames: fixed "Up" filter, then deflate (ISA-L if installed, else zlib).

Pillow's PNG encoder picks a filter per row by trying all five, which is most
of its cost on text frames and buys nothing there: writing the rows with the
"Up" filter and the same zlib level is 2.3x faster and 4% smaller (measured on
448x448 frames, see docs/performance.md). At the default level 1, ISA-L's
deflate is ~4.5x faster than zlib's and ~5% smaller on the same rows; at higher
levels zlib compresses better, so it stays the encoder there. The bytes depend
on the encoder, so a run records `deflate_encoder()` in its manifest; with a
given encoder, output is deterministic. Output follows the PNG spec, so any
decoder reads it; the tests decode every mode with Pillow and compare pixels.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image, ImageChops

try:
    from isal import __version__ as _ISAL_VERSION
    from isal import isal_zlib
except ImportError:  # optional: zlib writes the same images, a little larger and slower
    isal_zlib = None

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"L": 0, "RGB": 2}
_UP = 2
ISAL_LEVELS = {1: 1}  # zlib level -> the ISA-L level that is faster and no larger (ISA-L levels are 0-3)
_TO_NIBBLE = [v >> 4 for v in range(256)]


def deflate_encoder(level: int = 1) -> str:
    """Which deflate implementation writes PNGs at `level`, with its version: bytes differ between them."""
    if isal_zlib is not None and level in ISAL_LEVELS:
        return f"isal {_ISAL_VERSION}"
    return f"zlib {zlib.ZLIB_RUNTIME_VERSION}"


def _deflate(data: bytes, level: int) -> bytes:
    if isal_zlib is not None and level in ISAL_LEVELS:
        return isal_zlib.compress(data, ISAL_LEVELS[level])
    return zlib.compress(data, level)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _up_filtered(rows: Image.Image) -> bytes:
    """Each row of an L image of raw scanline bytes, minus the row above (mod 256), after the filter-type byte."""
    width, height = rows.size
    above = Image.new("L", (width, height), 0)
    above.paste(rows.crop((0, 0, width, height - 1)), (0, 1))
    lines = Image.new("L", (width + 1, height), _UP)
    lines.paste(ImageChops.subtract_modulo(rows, above), (1, 0))
    return lines.tobytes()


def encode_png(image: Image.Image, level: int = 1, bits: int = 8) -> bytes:
    """PNG bytes of an L or RGB image; bits=4 stores 16 grey levels (L only), decoders scale back to 0..255."""
    width, height = image.size
    if bits == 4:
        packed = image.point(_TO_NIBBLE).tobytes("raw", "L;4")  # the packer keeps the low nibble
        rows = Image.frombytes("L", ((width + 1) // 2, height), packed)
    elif image.mode == "RGB":  # the Up filter works on bytes: view the scanlines as one grey row each
        rows = Image.frombytes("L", (3 * width, height), image.tobytes())
    else:
        rows = image
    header = struct.pack(">IIBBBBB", width, height, bits, _COLOUR_TYPES[image.mode], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _deflate(_up_filtered(rows), level)) + _chunk(b"IEND", b"")

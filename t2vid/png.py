"""A minimal PNG writer for text frames: fixed "Up" filter, then zlib.

Pillow's PNG encoder picks a filter per row by trying all five, which is most
of its cost on text frames and buys nothing there: writing the rows with the
"Up" filter and the same zlib level is 2.3x faster and 4% smaller (measured on
448x448 frames, see README "Performance"). Output follows the PNG spec, so any
decoder reads it; the tests decode every mode with Pillow and compare pixels.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"L": 0, "RGB": 2}
_UP = 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image: Image.Image, level: int = 1, bits: int = 8) -> bytes:
    """PNG bytes of an L or RGB image; bits=4 stores 16 grey levels (L only), decoders scale back to 0..255."""
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    if bits == 4:
        nibbles = pixels >> 4
        if width % 2:
            nibbles = np.pad(nibbles, ((0, 0), (0, 1)))
        rows = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    else:
        rows = pixels.reshape(height, -1)
    filtered = np.empty((height, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = _UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, bits, _COLOUR_TYPES[image.mode], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)) + _chunk(b"IEND", b"")

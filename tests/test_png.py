"""The PNG writer: every mode and bit depth decodes to the pixels that were drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from t2vid.png import encode_png


def _noise(mode: str, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(7)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("size", [(448, 448), (225, 97), (1, 1)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_eight_bit_round_trip(mode, size, level):
    image = _noise(mode, size)
    decoded = Image.open(io.BytesIO(encode_png(image, level)))
    assert decoded.mode == mode and decoded.size == size
    assert np.array_equal(np.asarray(decoded), np.asarray(image))


@pytest.mark.parametrize("size", [(448, 448), (225, 97), (3, 1)])
def test_four_bit_round_trip_scales_to_full_range(size):
    image = _noise("L", size)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(image, 1, bits=4))).convert("L")).astype(int)
    assert np.array_equal(decoded, (np.asarray(image) >> 4).astype(int) * 17)


def test_smaller_than_pillow_on_a_text_frame():
    from t2vid.render import render_text
    from t2vid.style import RenderStyle

    (frame,) = render_text("A frame of ordinary prose for the size check. " * 14, RenderStyle())[:1]
    pillow = io.BytesIO()
    frame.save(pillow, "PNG", compress_level=1)
    assert len(encode_png(frame, 1)) < len(pillow.getvalue())

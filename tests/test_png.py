"""The PNG writer: every mode and bit depth decodes to the pixels that were drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from t2vid import png
from t2vid.png import deflate_encoder, encode_png


def _noise(mode: str, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(7)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.fixture(params=["isal", "zlib"])
def encoder(request, monkeypatch):
    """Every test runs with ISA-L (if installed) and with the zlib fallback."""
    if request.param == "zlib":
        monkeypatch.setattr(png, "isal_zlib", None)
    elif png.isal_zlib is None:
        pytest.skip("isal not installed")
    return request.param


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("size", [(448, 448), (225, 97), (1, 1)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_eight_bit_round_trip(mode, size, level, encoder):
    image = _noise(mode, size)
    decoded = Image.open(io.BytesIO(encode_png(image, level)))
    assert decoded.mode == mode and decoded.size == size
    assert np.array_equal(np.asarray(decoded), np.asarray(image))


@pytest.mark.parametrize("size", [(448, 448), (225, 97), (3, 1)])
def test_four_bit_round_trip_scales_to_full_range(size, encoder):
    image = _noise("L", size)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(image, 1, bits=4))).convert("L")).astype(int)
    assert np.array_equal(decoded, (np.asarray(image) >> 4).astype(int) * 17)


def test_smaller_than_pillow_on_a_text_frame(encoder):
    from t2vid.render import render_text
    from t2vid.style import RenderStyle

    (frame,) = render_text("A frame of ordinary prose for the size check. " * 14, RenderStyle())[:1]
    pillow = io.BytesIO()
    frame.save(pillow, "PNG", compress_level=1)
    assert len(encode_png(frame, 1)) < len(pillow.getvalue())


def test_encoder_is_named_and_deterministic(encoder):
    image = _noise("L", (64, 48))
    assert deflate_encoder(1).split()[0] == encoder
    assert deflate_encoder(6).split()[0] == "zlib"  # ISA-L compresses less than zlib at higher levels
    assert encode_png(image, 1) == encode_png(image.copy(), 1)


def test_isal_at_level_one_is_no_larger_than_zlib_on_a_text_frame():
    from t2vid.render import render_text
    from t2vid.style import RenderStyle

    if png.isal_zlib is None:
        pytest.skip("isal not installed")
    (frame,) = render_text("A frame of ordinary prose for the size check, with numbers 1024 and names. " * 9, RenderStyle())[:1]
    with_isal = encode_png(frame, 1)
    png.isal_zlib, saved = None, png.isal_zlib
    try:
        with_zlib = encode_png(frame, 1)
    finally:
        png.isal_zlib = saved
    assert with_isal != with_zlib and len(with_isal) <= len(with_zlib)


def test_the_manifest_names_the_deflate_encoder(tmp_path):
    import json

    from conftest import run_synth, write_jsonl

    source = write_jsonl(tmp_path / "in.jsonl", [{"context": "Words to draw on one small frame. " * 20, "question": "What?", "answer": "Words."}])
    run_synth(tmp_path / "out", source, size="224x224")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["png_deflate"] == deflate_encoder(1)


@pytest.mark.parametrize("settings", [{}, {"mode": "RGB"}, {"png_bits": 4}, {"png_compress_level": 6}, {"image_format": "jpg"}, {"width": 225, "height": 97, "margin": 4}])
def test_rendered_bytes_decode_to_the_drawn_frame(settings, encoder):
    """Renderer.render (the pipeline's path: grey PNGs drawn with their filter column) gives exactly the bytes of draw + encode, and they decode to the drawn pixels."""
    from t2vid.layout import Layouter
    from t2vid.render import Renderer
    from t2vid.segment import segment
    from t2vid.style import RenderStyle

    style = RenderStyle(**settings)
    renderer = Renderer(style)
    frames = segment("Ordinary prose, 中文的句子。 and an emoji 🎉 " * 12, Layouter(style), "fit").frames
    for frame in frames:
        rendered, drawn = renderer.render(frame), renderer.draw(frame)
        assert rendered == renderer.encode(drawn)
        if style.image_format == "png":
            decoded = np.asarray(Image.open(io.BytesIO(rendered)).convert(drawn.mode))
            assert np.array_equal(decoded, np.asarray(drawn) if style.png_bits == 8 else (np.asarray(drawn) >> 4) * 17)

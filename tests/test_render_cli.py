"""`t2vid render`: one text to frames, with the same style options as synth."""

from __future__ import annotations

import pytest
from PIL import Image

from t2vid.cli import main


def test_render_one_frame(tmp_path, capsys):
    out = tmp_path / "frame.png"
    assert main(["render", "The quick brown fox.", "-o", str(out), "--size", "320x240", "--mode", "RGB", "--bg", "#102030", "--fg", "white"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with Image.open(out) as image:
        assert image.size == (320, 240) and image.mode == "RGB"
        assert image.getpixel((0, 0)) == (16, 32, 48)
        assert (255, 255, 255) in {image.getpixel((x, y)) for x in range(10, 200) for y in range(10, 40)}


def test_long_text_becomes_numbered_frames(tmp_path, capsys):
    out = tmp_path / "page.jpg"
    assert main(["render", "word " * 400, "-o", str(out), "--size", "224x224"]) == 0
    paths = capsys.readouterr().out.split()
    assert len(paths) > 1 and paths[0].endswith("page-001.jpg")
    with Image.open(paths[0]) as image:
        assert image.format == "JPEG"


def test_render_bad_colour_is_usage_error(tmp_path, capsys):
    assert main(["render", "x", "-o", str(tmp_path / "f.png"), "--fg", "nocolour"]) == 2
    assert "not a colour" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["", "-o", "e.png"], "TEXT has nothing to draw"),
    (["x", "-o", "e.gif"], "use a .png, .jpg or .webp file name"),
])
def test_render_usage_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["render", *args]) == 2
    assert message in capsys.readouterr().err


def test_unwritable_render_destination_is_one_line(tmp_path, capsys):
    assert main(["render", "x", "-o", str(tmp_path / "missing" / "f.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("t2vid: error: -o") and "does not exist" in err and err.count("\n") == 1


def test_no_arguments_prints_help(capsys):
    assert main([]) == 0
    assert "Commands:" in capsys.readouterr().out

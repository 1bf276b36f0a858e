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
    assert len(paths) > 1 and paths[0].endswith("page-000.jpg") and paths[1].endswith("page-001.jpg")
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


def _refused(capsys, path) -> None:
    err = capsys.readouterr().err
    assert err == f"t2vid: error: {path} exists and was not written by t2vid; pick another -o or remove it\n"


@pytest.mark.parametrize("extension,pillow_format", [("png", "PNG"), ("jpg", "JPEG"), ("webp", "WEBP")])
def test_render_never_replaces_an_image_it_did_not_write(tmp_path, capsys, extension, pillow_format):
    mine = tmp_path / f"mine.{extension}"
    Image.new("RGB", (64, 64), "red").save(mine, pillow_format)
    before = mine.read_bytes()
    assert main(["render", "x", "-o", str(mine)]) == 2
    _refused(capsys, mine)
    assert mine.read_bytes() == before


@pytest.mark.parametrize("extension", ["png", "jpg", "webp"])
def test_render_replaces_its_own_earlier_frame(tmp_path, extension):
    frame = tmp_path / f"frame.{extension}"
    assert main(["render", "The quick brown fox.", "-o", str(frame)]) == 0
    first = frame.read_bytes()
    assert main(["render", "The quick brown fox.", "-o", str(frame)]) == 0
    assert frame.read_bytes() == first  # same input, same bytes
    assert main(["render", "The quick brown fox.", "-o", str(frame), "--font-size", "30"]) == 0
    assert frame.read_bytes() != first
    with Image.open(frame) as image:
        image.load()
        assert image.size == (448, 448)


def test_numbered_frames_are_all_checked_before_any_is_written(tmp_path, capsys):
    page = tmp_path / "page.png"
    long_text = ["render", "word " * 400, "-o", str(page), "--size", "224x224"]
    assert main(long_text) == 0
    assert main([*long_text, "--font-size", "16"]) == 0  # its own numbered frames are replaced
    (tmp_path / "page-001.png").write_bytes(b"my page")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert len(before) > 2
    capsys.readouterr()
    assert main(long_text) == 2
    _refused(capsys, tmp_path / "page-001.png")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_render_does_not_write_through_a_link(tmp_path, capsys):
    target = tmp_path / "target.png"
    assert main(["render", "x", "-o", str(target)]) == 0
    before = target.read_bytes()
    link = tmp_path / "link.png"
    link.symlink_to(target)
    capsys.readouterr()
    assert main(["render", "y", "-o", str(link)]) == 2
    _refused(capsys, link)
    assert target.read_bytes() == before and link.is_symlink()


def test_no_arguments_prints_help(capsys):
    assert main([]) == 0
    assert "Commands:" in capsys.readouterr().out

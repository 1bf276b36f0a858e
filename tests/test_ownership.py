"""Ownership: t2vid deletes or overwrites only files it wrote, in folders it can prove are its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from t2vid.cli import main
from t2vid.writer import OWNER_FILE, is_marked_image, mark_image

from conftest import FIXTURES, tree_bytes

GENERIC = FIXTURES / "generic-sample.jsonl"
FAST = ["--workers", "1", "--size", "224x224", "--limit", "3", "-q"]


def _synth(out, *extra, source=GENERIC):
    sources = source if isinstance(source, list) else [source]
    return main(["synth", *map(str, sources), "-o", str(out), *FAST, *extra])


def test_overwrite_refuses_a_folder_with_a_foreign_manifest(tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    (site / "manifest.json").write_text(json.dumps({"name": "my web app", "icons": []}))
    (site / "index.html").write_text("<html>mine</html>")
    before = tree_bytes(site, skip=())
    assert _synth(site) == 2
    first = capsys.readouterr().err
    assert "not made by t2vid" in first and "--overwrite" not in first and first.count("\n") == 1
    assert _synth(site, "--overwrite") == 2
    assert "not made by t2vid" in capsys.readouterr().err
    assert tree_bytes(site, skip=()) == before


def test_overwrite_deletes_only_t2vids_files(tmp_path):
    out = tmp_path / "out"
    assert _synth(out) == 0
    assert json.loads((out / OWNER_FILE).read_text())["kind"] == "synth"
    (out / "notes.txt").write_text("my notes")
    (out / "shards" / "README").write_text("mine too")
    assert _synth(out, "--font-size", "16", "--overwrite") == 0
    assert (out / "notes.txt").read_text() == "my notes" and (out / "shards" / "README").read_text() == "mine too"
    assert json.loads((out / "manifest.json").read_text())["config"]["style"]["font_size"] == 16


def test_source_named_inside_out_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "out"
    assert _synth(out) == 0
    inside = out / "extra.jsonl"
    inside.write_bytes(GENERIC.read_bytes())
    assert _synth(out, "--overwrite", source=[GENERIC, inside]) == 2
    err = capsys.readouterr().err
    assert "lies inside the output directory" in err and err.count("\n") == 1
    assert inside.read_bytes() == GENERIC.read_bytes()


def test_lock_is_not_followed_through_a_symlink(tmp_path, capsys):
    out = tmp_path / "out"
    assert _synth(out) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("do not empty me")
    (out / ".lock").unlink()
    (out / ".lock").symlink_to(victim)
    assert _synth(out) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "do not empty me"


def test_existing_lock_file_is_never_truncated(tmp_path):
    out = tmp_path / "out"
    assert _synth(out) == 0
    (out / ".lock").write_text("pid 1234")
    assert _synth(out) == 0
    assert (out / ".lock").read_text() == "pid 1234"


def test_marker_of_another_kind_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / OWNER_FILE).write_text(json.dumps({"tool": "t2vid", "format": 1, "kind": "export"}))
    assert _synth(out) == 2
    assert "export folder" in capsys.readouterr().err


def test_symlinked_marker_does_not_prove_ownership(tmp_path, capsys):
    real = tmp_path / "real"
    assert _synth(real) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "mine.txt").write_text("x")
    (other / OWNER_FILE).symlink_to(real / OWNER_FILE)
    assert _synth(other, "--overwrite") == 2
    assert (other / "mine.txt").read_text() == "x"


@pytest.fixture(scope="module")
def synth_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("own") / "out"
    assert main(["synth", str(GENERIC), "-o", str(out), *FAST]) == 0
    return out


FOREIGN = {
    "webdataset": {"shard-00001.tar": b"my own tar", "notes.txt": b"notes"},
    "hf": {"arrow/mine.txt": b"unrelated", "data/train-00000-of-00001.parquet": b"my parquet"},
    "llamafactory": {"train.jsonl": b"my rows\n", "dataset_info.json": b"{}"},
}


@pytest.mark.parametrize("fmt", list(FOREIGN))
def test_export_into_a_foreign_folder_is_refused_and_touches_nothing(synth_out, tmp_path, capsys, fmt):
    dest = tmp_path / "dest"
    for name, data in FOREIGN[fmt].items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(data)
    before = tree_bytes(dest, skip=())
    assert main(["export", str(synth_out), "--to", fmt, "-o", str(dest), "-q"]) == 2
    err = capsys.readouterr().err
    assert "not made by t2vid" in err and "--overwrite" not in err and err.count("\n") == 1
    assert tree_bytes(dest, skip=()) == before


def test_mix_into_a_foreign_folder_is_refused(synth_out, tmp_path, capsys):
    video = tmp_path / "video.jsonl"
    video.write_text(json.dumps({"video": "a.mp4", "conversations": [{"from": "human", "value": "<video>\nQ"}, {"from": "gpt", "value": "A"}]}) + "\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "train.json").write_text("mine")
    assert main(["mix", "--synthetic", str(synth_out), "--video", str(video), "--counts", "1:1", "--to", "llava", "-o", str(dest), "-q"]) == 2
    assert (dest / "train.json").read_text() == "mine"


@pytest.mark.parametrize("fmt,first,second", [("webdataset", "1", "3"), ("hf", "1", "3")])
def test_reexport_removes_only_its_own_stale_files(synth_out, tmp_path, fmt, first, second):
    dest = tmp_path / "dest"
    assert main(["export", str(synth_out), "--to", fmt, "-o", str(dest), "-q", "--shard-size", first]) == 0
    many = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    (dest / "notes.txt").write_text("added by the user")
    (dest / next(p for p in ("data", ".") if (dest / p).is_dir()) / "mine.parquet").write_text("mine")
    assert main(["export", str(synth_out), "--to", fmt, "-o", str(dest), "-q", "--shard-size", second]) == 0
    now = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    fresh = tmp_path / "fresh"
    assert main(["export", str(synth_out), "--to", fmt, "-o", str(fresh), "-q", "--shard-size", second]) == 0
    clean = {p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()}
    assert now - clean == {"notes.txt", next(f for f in now if f.endswith("mine.parquet"))}
    assert len(many) > len(clean)


def test_only_t2vids_temporary_names_are_cleared(tmp_path):
    out = tmp_path / "out"
    assert _synth(out) == 0
    (out / ".my-editor.tmp").write_text("an editor's swap file")
    assert _synth(out) == 0
    assert (out / ".my-editor.tmp").read_text() == "an editor's swap file"


def test_a_symlinked_destination_folder_is_usable(synth_out, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert main(["export", str(synth_out), "--to", "webdataset", "-o", str(tmp_path / "link"), "-q"]) == 0
    assert (real / "shard-00000.tar").is_file()


@pytest.mark.parametrize("command,option,source", [("stats", "--plot", None), ("diversity", "--map", FIXTURES / "longalpaca-sample.json")])
def test_a_plot_or_map_replaces_only_its_own_image(synth_out, tmp_path, capsys, command, option, source):
    image = tmp_path / "picture.png"
    Image.new("RGB", (40, 30), "blue").save(image)
    before = image.read_bytes()
    args = [command, str(source or synth_out), option, str(image)]
    assert main(args) == 2
    assert capsys.readouterr().err == f"t2vid: error: {image} exists and was not written by t2vid; pick another {option} or remove it\n"
    assert image.read_bytes() == before
    image.unlink()
    assert main(args) == 0
    first = image.read_bytes()
    assert main(args) == 0  # a re-run replaces its own image, with the same bytes
    assert image.read_bytes() == first


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "WEBP"])
def test_the_mark_keeps_pixels_and_is_all_that_is_recognised(tmp_path, pillow_format):
    from io import BytesIO

    picture = Image.linear_gradient("L").convert("RGB")
    encoded = BytesIO()
    picture.save(encoded, pillow_format)
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    plain.write_bytes(encoded.getvalue())
    marked.write_bytes(mark_image(encoded.getvalue()))
    assert not is_marked_image(plain) and is_marked_image(marked)
    assert mark_image(encoded.getvalue()) == marked.read_bytes()
    if pillow_format == "JPEG":
        assert marked.read_bytes()[:20] == encoded.getvalue()[:20]  # the JFIF segment stays first, where readers look for it
    with Image.open(plain) as original, Image.open(marked) as copy:
        assert copy.size == original.size and copy.tobytes() == original.tobytes()


def test_withdrawing_a_run_that_left_files_keeps_out_marked_as_t2vids(tmp_path):
    """Without its marker an OUT holding t2vid's files would be refused as someone else's folder on the rerun."""
    from t2vid.writer import OutputDir, claim_folder

    out = OutputDir(tmp_path / "out")
    claim_folder(out.root, "synth", "output directory")
    out.prepare()
    leftover = out.root / "frames" / "ab" / "c"
    leftover.mkdir(parents=True)
    out.withdraw(remove_root=True)
    assert (out.root / OWNER_FILE).is_file() and leftover.is_dir()
    assert main(["synth", str(FIXTURES / "generic-sample.jsonl"), "-o", str(out.root), "--workers", "1", "--limit", "1", "--size", "224x224", "-q"]) == 0
    empty = OutputDir(tmp_path / "empty")
    claim_folder(empty.root, "synth", "output directory")
    empty.prepare()
    empty.withdraw(remove_root=True)
    assert not empty.root.exists()

"""Every reader of OUT checks the manifest's shape in one place and never reads outside OUT."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from t2vid.cli import main

from conftest import license_text, synth_records

DEEP = "[" * 50_000 + "]" * 50_000


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shape")
    records = [{"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."}, {"context": "", "question": "x", "answer": "y"}]
    return synth_records(folder, records, words_per_frame=60)


@pytest.fixture
def out(fresh, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(fresh, copy)
    return copy


def run_cli(args) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


READERS = {
    "export": lambda out, tmp: ["export", out, "--to", "webdataset", "-o", tmp / "wds", "-q"],
    "stats": lambda out, tmp: ["stats", out],
    "preview": lambda out, tmp: ["preview", out, "-o", tmp / "sheet.png"],
    "gallery": lambda out, tmp: ["preview", out, "--html", tmp / "gallery"],
    "diversity": lambda out, tmp: ["diversity", out],
}


def _manifest(out) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _break(out, how: str) -> None:
    manifest = _manifest(out)
    if how == "not-an-object":
        (out / "manifest.json").write_text("[1, 2]")
        return
    if how == "deep":
        (out / "manifest.json").write_text(DEEP)
        return
    manifest["shards"] = {
        "shards-not-a-list": "shards/shard-00000.jsonl",
        "entry-not-a-string": [{"path": "shards/shard-00000.jsonl"}],
        "dotdot": ["shards/../../outside.jsonl"],
        "dot": ["."],
        "absolute": ["/etc/passwd"],
        "symlink-out": ["shards/link.jsonl"],
        "device": ["shards/zero.jsonl"],
    }[how]
    if how == "symlink-out":
        (out / "shards" / "link.jsonl").symlink_to(out / ".." / "outside.jsonl")
        (out / ".." / "outside.jsonl").write_text((out / "shards" / "shard-00000.jsonl").read_text())
    if how == "device":
        (out / "shards" / "zero.jsonl").symlink_to("/dev/zero")
    (out / "manifest.json").write_text(json.dumps(manifest))


SHAPES = ["not-an-object", "deep", "shards-not-a-list", "entry-not-a-string", "dotdot", "dot", "absolute", "symlink-out", "device"]


@pytest.mark.parametrize("how", SHAPES)
@pytest.mark.parametrize("reader", list(READERS))
def test_a_bad_manifest_is_one_line_for_every_reader(out, tmp_path, capsys, reader, how):
    _break(out, how)
    assert run_cli(READERS[reader](out, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("t2vid: error:") and err.count("\n") == 1 and "manifest" in err


@pytest.mark.parametrize("how", SHAPES)
def test_validate_reports_a_bad_manifest(out, capsys, how):
    _break(out, how)
    assert run_cli(["validate", out]) == 1
    assert "manifest.json" in capsys.readouterr().out


@pytest.mark.parametrize("how", SHAPES)
def test_synth_resume_rewrites_a_bad_manifest_of_its_own_output(fresh, out, capsys, how):
    _break(out, how)
    data = fresh.parent / "in.jsonl"
    synth = ["synth", data, "-o", out, "--workers", "1", "--size", "224x224", "--words-per-frame", "60", "-q"]
    if how in ("not-an-object", "deep"):  # the settings of the committed shards are unknown: not resumed blindly
        assert run_cli(synth) == 2
        assert "no readable manifest" in capsys.readouterr().err
        synth.append("--overwrite")
    assert run_cli(synth) == 0
    capsys.readouterr()
    code = run_cli(["validate", out])
    problems = capsys.readouterr().out.splitlines()
    if how in ("symlink-out", "device"):  # the link a user put in shards/ is not t2vid's: kept, and reported
        assert code == 1 and problems and all("not listed in the manifest" in p for p in problems)
    else:
        assert code == 0


def test_a_device_shard_does_not_hang_a_reader(out, tmp_path):
    _break(out, "device")
    result = subprocess.run([sys.executable, "-m", "t2vid.cli", "stats", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_a_deeply_nested_shard_line_is_a_reported_problem(out, tmp_path, capsys):
    shard = out / "shards" / "shard-00000.jsonl"
    shard.write_text(shard.read_text() + DEEP + "\n")
    assert run_cli(["validate", out]) == 1
    assert "shard-00000.jsonl:2" in capsys.readouterr().out
    assert run_cli(["stats", out]) == 2
    err = capsys.readouterr().err
    assert "shard-00000.jsonl:2" in err and err.count("\n") == 1


def test_mix_video_file_with_a_deep_line_is_one_line(out, tmp_path, capsys):
    video = tmp_path / "video.jsonl"
    video.write_text(json.dumps({"video": "a.mp4", "conversations": [{"from": "human", "value": "<video>\nQ"}, {"from": "gpt", "value": "A"}]}) + "\n" + DEEP + "\n")
    assert run_cli(["mix", "--synthetic", out, "--video", video, "--counts", "1:1", "--to", "llava", "-o", tmp_path / "mix", "-q"]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and err.count("\n") == 1


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_symlink_in_frames_is_not_followed_into_an_export(out, tmp_path, capsys, what):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "f000.png").write_bytes(b"SECRET-BYTES")
    frame = sorted((out / "frames").rglob("*.png"))[0]
    if what == "file":
        frame.unlink()
        frame.symlink_to(secret / "f000.png")
    else:
        shutil.rmtree(frame.parent)
        frame.parent.symlink_to(secret)
    assert run_cli(["export", out, "--to", "webdataset", "-o", tmp_path / "wds", "-q"]) == 2
    err = capsys.readouterr().err
    assert "link" in err and err.count("\n") == 1
    for tar in (tmp_path / "wds").glob("*.tar"):
        with tarfile.open(tar) as archive:
            assert all(b"SECRET" not in archive.extractfile(m).read() for m in archive.getmembers() if m.isfile())
    assert run_cli(["validate", out]) == 1
    assert "link" in capsys.readouterr().out


def test_a_device_or_deep_marker_is_a_validate_problem(out, capsys):
    marker = out / "shards" / "shard-00000.done.json"
    marker.write_text(DEEP)
    assert run_cli(["validate", out]) == 1
    assert "unreadable completion marker" in capsys.readouterr().out
    marker.unlink()
    marker.symlink_to("/dev/zero")
    assert run_cli(["validate", out]) == 1
    assert "symbolic link" in capsys.readouterr().out


def test_diversity_names_a_fifo_and_a_deep_json_file(tmp_path, capsys):
    import os

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert run_cli(["diversity", fifo]) == 2
    assert "FIFO" in capsys.readouterr().err
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":\n' + "[" * 50_000 + "]" * 50_000 + "}")
    assert run_cli(["diversity", deep]) == 2
    assert "nested too deeply" in capsys.readouterr().err


def test_remembering_real_folders_in_a_pass_gives_the_answers_of_fresh_checks(out):
    """validate and export check each folder once per pass; a path naming one of those folders is still refused."""
    from t2vid.output import path_problem

    frame = json.loads((out / "shards" / "shard-00000.jsonl").read_text().split("\n")[0])["images"][0]
    folder = frame.rsplit("/", 1)[0]
    (out / "frames" / "zz").mkdir()
    (out / "frames" / "zz" / "link").symlink_to(out / folder)
    paths = [frame, folder, f"{folder}/f999.png", "frames/zz/link/f000.png", frame.split("/", 1)[0], f"{folder}/./{frame.rsplit('/', 1)[1]}", frame]
    remembered: set[str] = set()
    assert [path_problem(out, p, "frames", remembered) for p in paths] == [path_problem(out, p, "frames") for p in paths]
    assert path_problem(out, folder, "frames", remembered) == "is not a regular file"


def test_an_export_of_a_record_naming_a_checked_frame_folder_is_one_line(out, tmp_path, capsys):
    shard = out / "shards" / "shard-00000.jsonl"
    record = json.loads(shard.read_text().split("\n")[0])
    folder = record["images"][0].rsplit("/", 1)[0]
    again = {**record, "id": record["id"] + "-again", "images": [folder], "texts": record["texts"][:1], "num_frames": 1}
    shard.write_text(shard.read_text() + json.dumps(again, ensure_ascii=False) + "\n")
    assert run_cli(["export", out, "--to", "llamafactory", "-o", tmp_path / "exported", "-q"]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: frame {folder} of {out} is not a regular file; run `t2vid validate {out}`"


@pytest.fixture(scope="module")
def frames_tree(tmp_path_factory):
    """frames/ab/key/ with two files, frames/ab/link -> key (a link), frames/cd (a file where a folder would be)."""
    root = tmp_path_factory.mktemp("paths")
    (root / "frames" / "ab" / "key").mkdir(parents=True)
    for name in ("f000.png", "f001.png"):
        (root / "frames" / "ab" / "key" / name).write_bytes(b"x")
    (root / "frames" / "ab" / "link").symlink_to(root / "frames" / "ab" / "key")
    (root / "frames" / "cd").write_bytes(b"x")
    return root


PATH_PARTS = ["frames", "ab", "key", "f000.png", "f001.png", "link", "cd", "missing", "..", ".", ""]
TREE_PATHS = ["frames/ab/key/f000.png", "frames/ab/key/f001.png", "frames/ab/key", "frames/ab", "frames", "frames/ab/link/f000.png", "frames/cd/f000.png", "frames/ab/key/missing.png", "frames//ab/./key/f000.png"]
ANY_PATH = st.one_of(st.sampled_from(TREE_PATHS), st.lists(st.sampled_from(PATH_PARTS), max_size=5).map("/".join))


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_PATH, max_size=12))
def test_any_sequence_of_paths_gets_the_same_answers_with_folders_remembered(frames_tree, paths):
    from t2vid.output import path_problem

    remembered: set[str] = set()
    assert [path_problem(frames_tree, p, "frames", remembered) for p in paths] == [path_problem(frames_tree, p, "frames") for p in paths]

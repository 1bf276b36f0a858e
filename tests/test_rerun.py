"""Rerun on changed input: OUT ends as a clean run on the current input would leave it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from t2vid.cli import main
from t2vid.inspect.validate import validate_output

from conftest import license_text, tree_bytes, write_jsonl

FAST = ["--workers", "1", "--size", "224x224", "--shard-size", "2", "--words-per-frame", "60", "-q"]


def _records(count: int, question: str = "Question") -> list[dict]:
    names = ("Apache-2.0", "GPL-3", "MPL-2.0", "LGPL-2.1", "Artistic", "BSD")
    return [{"context": license_text(names[i % len(names)], 150 + 10 * i), "question": f"{question} {i}?", "answer": f"Answer {i}."} for i in range(count)] + [{"context": "", "question": "bad", "answer": "bad"}]


def _manifest(out) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("run")
    manifest["config"].pop("sources")
    return manifest


def _run(data, out, *extra) -> int:
    return main(["synth", str(data), "-o", str(out), *FAST, *extra])


@pytest.mark.parametrize("change", ["shrink", "rewrite"])
def test_rerun_on_changed_input_equals_a_clean_run(tmp_path, change):
    data = write_jsonl(tmp_path / "data.jsonl", _records(7))
    out = tmp_path / "out"
    assert _run(data, out) == 0
    now = _records(3) if change == "shrink" else _records(7, question="Other")
    write_jsonl(data, now)
    assert _run(data, out) == 0
    clean = tmp_path / "clean-out"
    assert _run(data, clean) == 0
    assert tree_bytes(out, skip=("manifest.json", ".lock")) == tree_bytes(clean, skip=("manifest.json", ".lock"))
    assert _manifest(out) == _manifest(clean)
    assert validate_output(out).problems == []


def test_deleted_frame_is_reported_and_redrawn(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", _records(4))
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = tree_bytes(out, skip=("manifest.json", ".lock"))
    victim = sorted((out / "frames").rglob("*.png"))[3]
    victim.unlink()
    assert any("does not exist" in p.message for p in validate_output(out).problems)
    assert _run(data, out) == 0
    assert tree_bytes(out, skip=("manifest.json", ".lock")) == before
    assert validate_output(out).problems == []


def test_repair_redraws_a_frame_even_when_counts_match(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", _records(4))
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = tree_bytes(out, skip=("manifest.json", ".lock"))
    frames = sorted((out / "frames").rglob("*.png"))
    frames[0].unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["frame_files"] -= 1  # as if recorded after the loss: the cheap check cannot see it
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert _run(data, out) == 0
    assert not frames[0].exists()
    assert _run(data, out, "--repair") == 0
    assert tree_bytes(out, skip=("manifest.json", ".lock")) == before


def test_usage_error_found_while_reading_leaves_no_running_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"this is not parquet at all" * 10)
    assert main(["synth", str(garbage), "-o", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("t2vid: error:") and err.count("\n") == 1
    assert not (out / "manifest.json").exists()
    good = write_jsonl(tmp_path / "data.jsonl", _records(2))
    assert _run(good, out) == 0


def test_usage_error_found_while_reading_leaves_out_as_it_was(tmp_path, capsys):
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"this is not parquet at all" * 10)
    new, empty = tmp_path / "new", tmp_path / "empty"
    empty.mkdir()
    for out in (new, empty):
        assert main(["synth", str(garbage), "-o", str(out), *FAST]) == 2
    capsys.readouterr()
    assert not new.exists()  # made by the run, taken away with it
    assert list(empty.iterdir()) == []  # the user's empty folder, empty again


def test_garbage_parquet_prints_one_line_only(tmp_path):
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    result = subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", str(garbage), "-o", str(tmp_path / "out"), "-q", "--workers", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("t2vid: error:") and result.stderr.count("\n") == 1, result.stderr


def test_the_only_frame_of_a_sample_deleted_is_redrawn(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", [{"context": "a short context of one frame", "question": "q", "answer": "a"}])
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = tree_bytes(out, skip=("manifest.json", ".lock"))
    (frame,) = (out / "frames").rglob("*.png")
    frame.unlink()  # leaves its sample's frame folder empty
    assert _run(data, out) == 0
    assert tree_bytes(out, skip=("manifest.json", ".lock")) == before

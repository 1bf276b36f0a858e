"""Crash safety: a run killed with SIGKILL at any step resumes to the same bytes as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import license_text, tree_bytes, write_jsonl

SETTINGS = ["--workers", "1", "--shard-size", "2", "--size", "224x224", "--words-per-frame", "60", "-q"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    texts = [license_text(name, 260) for name in ("Apache-2.0", "GPL-3", "MPL-2.0", "LGPL-2.1", "Artistic")]
    records = [{"context": t, "question": f"Question {i}?", "answer": f"Answer {i}."} for i, t in enumerate(texts)]
    records.insert(3, {"context": "", "question": "bad", "answer": "bad"})
    path = write_jsonl(root / "data.jsonl", records)
    reference = root / "reference"
    assert _synth(path, reference).returncode == 0
    return path, reference


def _synth(data, out, failpoint=None):
    env = dict(os.environ)
    env.pop("T2VID_FAILPOINT", None)
    if failpoint:
        env["T2VID_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", str(data), "-o", str(out), *SETTINGS], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("failpoint", [
    "frame:3",  # while a sample's frames are being written
    "frame:12",  # in the second shard
    "frames-committed:2",  # between a shard's frames and its JSONL
    "shard-00001.jsonl:1",  # while a shard's JSONL is written
    "shard-00001.done.json:1",  # after the JSONL, before the completion marker
    "manifest.json:3",  # while the manifest is written
])
def test_killed_run_resumes_to_identical_output(tmp_path, dataset, failpoint):
    data, reference = dataset
    out = tmp_path / "out"
    killed = _synth(data, out, failpoint)
    assert killed.returncode == -signal.SIGKILL
    manifest = json.loads((out / "manifest.json").read_text())  # always whole, never half-written
    assert manifest["status"] == "running"
    resumed = _synth(data, out)
    assert resumed.returncode == 0, resumed.stderr
    assert tree_bytes(out) == tree_bytes(reference)
    final, expected = (json.loads((d / "manifest.json").read_text()) for d in (out, reference))
    for key in ("samples", "frames", "rejected", "shards", "frame_files", "missing_glyphs", "rejected_by_reason"):
        assert final[key] == expected[key]
    assert final["status"] == "complete"


def test_disk_full_is_one_line_and_commits_nothing(tmp_path, dataset):
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    data, _ = dataset
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount tmpfs here")
    try:
        result = _synth(data, mount / "out")
        assert result.returncode == 1
        assert result.stderr.strip() == f"t2vid: error: cannot write to {mount / 'out'}: No space left on device"
        assert not list((mount / "out" / "shards").glob("*.jsonl"))
        assert not list((mount / "out" / "shards").glob("*.done.json"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_changed_input_redoes_only_the_changed_shard(tmp_path, dataset):
    data, _ = dataset
    copy = tmp_path / "data.jsonl"
    lines = data.read_text().splitlines()
    out = tmp_path / "out"
    copy.write_text("\n".join(lines) + "\n")
    assert _synth(copy, out).returncode == 0
    untouched = (out / "shards" / "shard-00001.done.json").stat().st_mtime_ns
    record = json.loads(lines[0])
    record["question"] = "A different question?"
    copy.write_text("\n".join([json.dumps(record)] + lines[1:]) + "\n")
    assert _synth(copy, out).returncode == 0
    first = json.loads((out / "shards" / "shard-00000.jsonl").read_text().splitlines()[0])
    assert first["instruction"] == "A different question?"
    assert (out / "shards" / "shard-00001.done.json").stat().st_mtime_ns == untouched


def test_second_concurrent_run_is_refused(tmp_path, dataset):
    import fcntl

    data, _ = dataset
    out = tmp_path / "out"
    assert _synth(data, out).returncode == 0
    before = tree_bytes(out)
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = _synth(data, out)
        overwrite = subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", str(data), "-o", str(out), *SETTINGS, "--overwrite"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "another t2vid synth is writing to" in result.stderr
    assert overwrite.returncode == 2 and "another t2vid synth is writing to" in overwrite.stderr
    assert tree_bytes(out) == before  # --overwrite deleted nothing while the lock was held

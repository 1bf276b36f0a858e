"""Named stages: every record is counted at each step, one record's failure is its own reject, a failed write stops the run."""

from __future__ import annotations

import errno
import json
import weakref

import pytest

from t2vid.run import SynthError
from t2vid.stages import SampleStages
from t2vid.writer import StagedFrames

from conftest import license_text, run_synth, write_jsonl

STEPS = ["read", "adapt", "segment", "render", "write"]


@pytest.fixture
def records(tmp_path):
    rows = [
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        "{broken",
        {"context": license_text("MPL-2.0", 300), "question": "May I sell it?", "answer": "Yes."},
        {"question": "no context", "answer": "none"},
        {"context": license_text("Apache-2.0", 300), "question": "What is licensed?", "answer": "The Work."},
    ]
    return write_jsonl(tmp_path / "in.jsonl", rows)


def manifest_of(out):
    return json.loads((out / "manifest.json").read_text())


def rejects_of(out):
    return [json.loads(line) for line in (out / "rejects" / "shard-00000.jsonl").read_text().splitlines()]


def test_each_step_counts_what_it_took_passed_on_and_dropped(tmp_path, records):
    out = tmp_path / "out"
    run_synth(out, records, size="224x224")
    manifest = manifest_of(out)
    stages = manifest["stages"]
    assert sorted(stages) == sorted(STEPS)
    assert stages["read"]["in"] == manifest["read"] == 5
    for before, after in zip(STEPS, STEPS[1:]):
        assert stages[after]["in"] == stages[before]["out"]
    assert all(s["in"] == s["out"] + s["rejected"] for s in stages.values())
    assert stages["write"]["out"] == manifest["samples"] == 3
    assert {"read": 1, "adapt": 1} == {name: s["rejected"] for name, s in stages.items() if s["rejected"]}
    assert manifest["rejected_by_reason"] == {"invalid_json": 1, "missing_field": 1}
    assert [(r["stage"], r["code"]) for r in rejects_of(out)] == [("read", "invalid_json"), ("adapt", "missing_field")]
    assert rejects_of(out)[1]["reason"] == "missing field 'context'"
    seconds = manifest["run"]["stage_seconds"]
    assert sorted(seconds) == sorted(STEPS) and all(value >= 0 for value in seconds.values())
    marker = json.loads((out / "shards" / "shard-00000.done.json").read_text())
    assert marker["stages"] == stages and "stage_seconds" not in marker  # markers hold no runtime numbers


def test_an_unexpected_error_in_one_record_is_an_internal_reject_and_the_run_goes_on(tmp_path, records, monkeypatch):
    render = SampleStages.render

    def failing_for_mit(self, segmented):
        if segmented.sample.context.startswith("Mozilla"):
            raise OSError("invalid pixel size")  # what an unusable bitmap font raises while drawing
        return render(self, segmented)

    monkeypatch.setattr(SampleStages, "render", failing_for_mit)
    out = tmp_path / "out"
    summary = run_synth(out, records, size="224x224")
    assert summary.samples == 2
    internal = [r for r in rejects_of(out) if r["code"] == "internal"]
    assert [(r["stage"], r["reason"], r["index"]) for r in internal] == [("render", "OSError: invalid pixel size", 2)]
    assert manifest_of(out)["stages"]["render"] == {"in": 3, "out": 2, "rejected": 1}
    assert manifest_of(out)["status"] == "complete"


@pytest.mark.parametrize("step", ["add", "commit"])  # staging a drawn frame, or moving a sample's frames into frames/
def test_a_failed_write_to_out_stops_the_run_with_one_line(tmp_path, records, monkeypatch, step):
    def disk_full(self, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(StagedFrames, step, disk_full)
    out = tmp_path / "out"
    with pytest.raises(SynthError, match=rf"^cannot write to {out}: No space left on device$"):
        run_synth(out, records, size="224x224")
    assert not (out / "shards" / "shard-00000.jsonl").exists()
    assert not list((out / "frames").rglob("*.png"))


def test_a_long_context_is_segmented_once_for_its_questions_and_let_go_before_the_next(tmp_path, monkeypatch):
    """A worker keeps earlier contexts' frames only up to a bound: otherwise each huge context would stay in memory beside the next one."""
    from t2vid import stages

    monkeypatch.setattr(stages, "SEGMENTATION_FRAMES_KEPT", 10)
    segment, made, alive_at_call = stages.segment, [], []

    def tracking(*args, **kwargs):
        alive_at_call.append([ref() is not None for ref in made])
        segmentation = segment(*args, **kwargs)
        made.append(weakref.ref(segmentation))
        return segmentation

    monkeypatch.setattr(stages, "segment", tracking)
    apache, mpl = license_text("Apache-2.0", 600), license_text("MPL-2.0", 600)
    rows = [{"context": context, "question": q, "answer": "A."} for context, q in ((apache, "What is licensed?"), (apache, "Who may sue?"), (mpl, "May I sell it?"))]
    summary = run_synth(tmp_path / "out", write_jsonl(tmp_path / "in.jsonl", rows), size="224x224")
    assert summary.samples == 3 and summary.frames > 2 * 10
    assert alive_at_call == [[], [False]]  # Apache's frames: drawn once for both questions, gone before MPL is segmented

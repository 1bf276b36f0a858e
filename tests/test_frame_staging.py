"""Frames reach OUT's staging as they are drawn, so a huge context never holds its encoded frames in memory; a failure leaves no files."""

from __future__ import annotations

import hashlib
import json

import pytest

from t2vid.render import Renderer
from t2vid.stages import frame_key
from t2vid.style import RenderStyle

from conftest import license_text, run_synth, write_jsonl

FAILING_FRAME = 2  # the MPL sample's frame that cannot be drawn


def files_below(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_frames_are_staged_as_drawn_and_a_failure_at_frame_k_leaves_nothing(tmp_path, monkeypatch):
    rows = [
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": license_text("MPL-2.0", 600), "question": "May I sell it?", "answer": "Yes."},
        {"context": license_text("Apache-2.0", 600), "question": "What is licensed?", "answer": "The Work."},
    ]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    render = Renderer.render
    seen = []  # per draw call: (files in OUT/.tmp, files in OUT/frames)
    mpl_start = []  # the draw call of the MPL sample's first frame

    def watching_render(self, frame):
        if not mpl_start and " ".join(frame.text.split()).startswith("Mozilla Public License"):
            mpl_start.append(len(seen))
        seen.append((files_below(out / ".tmp"), files_below(out / "frames")))
        if mpl_start and len(seen) - 1 - mpl_start[0] == FAILING_FRAME:
            raise MemoryError("cannot allocate the frame")
        return render(self, frame)

    monkeypatch.setattr(Renderer, "render", watching_render)
    summary = run_synth(out, data, size="224x224")

    assert summary.samples == 2
    start = mpl_start[0]
    for k in range(FAILING_FRAME + 1):  # while frame k of the MPL sample is drawn, frames 0..k-1 are already files in staging
        staged, committed = seen[start + k]
        assert len(staged) == k and all(name.endswith(".png") for name in staged)
        assert committed == seen[start][1]  # and nothing of the sample is in frames/ yet

    assert files_below(out / ".tmp") == []  # the failed sample's staged frames are gone
    records = [json.loads(line) for line in (out / "shards" / "shard-00000.jsonl").read_text().splitlines()]
    named = sorted(image for record in records for image in record["images"])
    assert files_below(out) == sorted(["manifest.json", ".t2vid-owner.json", ".lock", "shards/shard-00000.jsonl", "shards/shard-00000.done.json", "rejects/shard-00000.jsonl", *named])
    rejects = [json.loads(line) for line in (out / "rejects" / "shard-00000.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["code"], r["reason"], r["index"]) for r in rejects] == [("render", "internal", "MemoryError: cannot allocate the frame", 1)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["stages"]["render"] == {"in": 3, "out": 2, "rejected": 1}


def test_frames_already_in_out_are_not_drawn_again(tmp_path, monkeypatch):
    data = write_jsonl(tmp_path / "in.jsonl", [{"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."}])
    out = tmp_path / "out"
    first = run_synth(out, data, size="224x224")
    frames = files_below(out / "frames")
    assert first.frame_files_written == first.frames == len(frames) > 1
    before = {name: (out / "frames" / name).read_bytes() for name in frames}
    (out / "shards" / "shard-00000.done.json").unlink()  # as if the run was killed after its frames were committed

    drawn = []
    render = Renderer.render
    monkeypatch.setattr(Renderer, "render", lambda self, frame: drawn.append(frame) or render(self, frame))
    again = run_synth(out, data, size="224x224")

    assert drawn == [] and again.samples == first.samples == 1
    assert {name: (out / "frames" / name).read_bytes() for name in files_below(out / "frames")} == before
    assert files_below(out / ".tmp") == []


@pytest.mark.parametrize("texts", [[], ["one"], ["Ein \"Zitat\"\nzweite Zeile", "中文，标点。", "emoji 😀 and \\ slash"], ["lone \udc80 surrogate", "\ud83d"]])
def test_the_content_key_is_the_digest_of_the_settings_json(texts):
    """Frames written by earlier versions are found again on resume: the key is the sha256 of this JSON, however it is computed."""
    style = RenderStyle()
    settings = [style.key(), "words", 115, 2, texts]
    expected = hashlib.sha256(json.dumps(settings, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    assert frame_key(style, "words", 115, 2, texts) == expected


def test_a_record_that_fails_in_write_leaves_no_frames_behind(tmp_path, monkeypatch):
    """Frames are committed only once the sample's record is built: a record that fails in write is rejected and its frames go too."""
    from t2vid.stages import SampleStages

    rows = [
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": license_text("MPL-2.0", 600), "question": "May I sell it?", "answer": "Yes."},
    ]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out"
    build = SampleStages._record

    def failing_record(self, rendered):
        if rendered.segmented.sample.answer == "Yes.":
            raise ValueError("cannot build the record")
        return build(self, rendered)

    monkeypatch.setattr(SampleStages, "_record", failing_record)
    summary = run_synth(out, data, size="224x224")

    assert summary.samples == 1 and summary.rejected == {"internal": 1}
    records = [json.loads(line) for line in (out / "shards" / "shard-00000.jsonl").read_text().splitlines()]
    named = sorted(image for record in records for image in record["images"])
    assert files_below(out / "frames") == sorted(image.removeprefix("frames/") for image in named)
    assert files_below(out / ".tmp") == []

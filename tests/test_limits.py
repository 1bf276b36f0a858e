"""`t2vid export --profile P --max-length N`: no sample over a trainer's length limit is written, and the report says what was over."""

from __future__ import annotations

import json

import pytest

from t2vid.budget import Budget
from t2vid.cli import main

from conftest import license_text, shard_lines, synth_records

QUESTIONS = ["Who may copy it?", "May it be changed?", "Is there a warranty?"]
ANSWERS = ["Anyone who keeps the notice.", "Yes, if the changes are marked.", "No, it is provided as is."]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """At 224x224 and 20 words a frame: 1 frame, 7 frames with three turns, about 40 frames."""
    records = [
        {"context": license_text("BSD", 15), "question": "What is it?", "answer": "A license."},
        {"context": license_text("Apache-2.0", 135), "question": QUESTIONS, "answer": ANSWERS},
        {"context": license_text("Apache-2.0", 770), "question": "What does the last page say?", "answer": "The end of the terms."},
    ]
    return synth_records(tmp_path_factory.mktemp("limits"), records, words_per_frame=20)


def cost(sample: dict, turns=None) -> int:
    turns = turns if turns is not None else [(sample["instruction"], sample["answer"])] + [(t["instruction"], t["answer"]) for t in sample.get("turns", ())]
    return Budget("qwen2-vl").total_tokens([text for turn in turns for text in turn], sample["num_frames"], (sample["width"], sample["height"]))


def export_rows(out, dest, *args) -> tuple[list[dict], dict]:
    assert main(["export", str(out), "--to", "swift", "-o", str(dest), "-q", "--profile", "qwen2-vl", *args]) == 0
    rows = [json.loads(line) for line in (dest / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    return rows, json.loads((dest / "export_report.json").read_text())["length"]


def test_samples_over_the_limit_are_skipped_and_reported(out, tmp_path, capsys):
    one, seven, forty = shard_lines(out)
    assert (one["num_frames"], seven["num_frames"]) == (1, 7) and forty["num_frames"] >= 38
    limit = cost(seven)
    rows, report = export_rows(out, tmp_path / "dest", "--max-length", str(limit))
    assert [len(row["videos"][0]) for row in rows] == [1, 7]
    assert (report["samples"], report["written"], report["over"], report["skipped"]) == (3, 2, 1, 1)
    assert report["over_by_max"] == cost(forty) - limit and report["max_tokens_seen"] == cost(forty)
    assert report["examples"] == [{"id": forty["id"], "tokens": cost(forty), "frames": forty["num_frames"], "turns": 1, "parts": 0}]
    main(["export", str(out), "--to", "swift", "-o", str(tmp_path / "again"), "--profile", "qwen2-vl", "--max-length", str(limit)])
    assert f"length: 1 of 3 samples over {limit} tokens (qwen2-vl) by {cost(forty) - limit} on average" in capsys.readouterr().err


def test_split_keeps_the_frames_and_packs_turns_that_fit(out, tmp_path):
    _, seven, forty = shard_lines(out)
    turns = list(zip(QUESTIONS, ANSWERS))
    limit = cost(seven, turns[:2])  # the first two turns fit together, the third goes to a second sample
    assert cost(seven) > limit
    rows, report = export_rows(out, tmp_path / "dest", "--max-length", str(limit), "--over-length", "split")
    parts = [row for row in rows if len(row["videos"][0]) == 7]
    assert [[m["content"] for m in row["messages"]] for row in parts] == [
        ["<video>" + QUESTIONS[0], ANSWERS[0], QUESTIONS[1], ANSWERS[1]],
        ["<video>" + QUESTIONS[2], ANSWERS[2]],
    ]
    assert parts[0]["videos"] == parts[1]["videos"]
    assert (report["over"], report["split"], report["split_into"], report["skipped"]) == (2, 1, 2, 1)  # 40 frames cannot be split
    assert all(cost({**seven, "num_frames": len(row["videos"][0])}, [(m["content"].removeprefix("<video>"), "") for m in row["messages"][::2]]) <= limit for row in parts)


def test_warn_writes_everything_and_counts_what_is_over(out, tmp_path):
    one, _, forty = shard_lines(out)
    rows, report = export_rows(out, tmp_path / "dest", "--max-length", str(cost(one)), "--over-length", "warn")
    assert len(rows) == 3 and (report["over"], report["written"], report["skipped"]) == (2, 3, 0)


def test_the_profile_context_is_the_default_limit_and_fitting_exports_say_so(out, tmp_path, capsys):
    rows, report = export_rows(out, tmp_path / "dest")
    assert len(rows) == 3 and report["max_length"] == 32768 and report["over"] == 0
    main(["export", str(out), "--to", "swift", "-o", str(tmp_path / "again"), "--profile", "qwen2-vl"])
    assert "length: all 3 samples within 32768 tokens (qwen2-vl; longest" in capsys.readouterr().err


def test_as_images_is_costed_as_images(out, tmp_path):
    _, _, forty = shard_lines(out)
    video = Budget("qwen2-vl").media_tokens(forty["num_frames"], (224, 224))
    images = Budget("qwen2-vl", as_images=True).media_tokens(forty["num_frames"], (224, 224))
    assert images != video  # 224-px video frames are scaled up to the video minimum and paired; images are not
    _, report = export_rows(out, tmp_path / "dest", "--as-images")
    assert report["max_tokens_seen"] == cost(forty) - video + images


@pytest.mark.parametrize("args,message", [
    (["--max-length", "2048"], "--max-length needs --profile"),
    (["--over-length", "split"], "--over-length needs --profile"),
    (["--profile", "qwen2-vl", "--max-length", "0"], "--max-length must be at least 1, not 0"),
    (["--profile", "nosuch"], "unknown profile 'nosuch'"),
])
def test_limit_usage_errors_are_one_line(out, tmp_path, capsys, args, message):
    assert main(["export", str(out), "--to", "swift", "-o", str(tmp_path / "dest"), "-q", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "dest").exists()


def test_a_later_export_without_a_limit_drops_the_old_report(out, tmp_path):
    dest = tmp_path / "dest"
    export_rows(out, dest, "--max-length", "100")
    assert main(["export", str(out), "--to", "swift", "-o", str(dest), "-q"]) == 0
    assert not (dest / "export_report.json").exists()  # it described rows that are no longer there
    assert len((dest / "train.jsonl").read_text().splitlines()) == 3

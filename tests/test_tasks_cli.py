"""`t2vid synth --tasks`, `t2vid score` and the task mix in stats, diversity and exports, on the fixtures."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from PIL import Image

from t2vid.cli import main

from conftest import FIXTURES, license_text, run_synth, shard_lines, tree_bytes, write_jsonl
from test_tasks import check_record

ALL = "locate,order,next,count,before_after,needle,first_last"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """The generic fixture's English and Chinese rows (the emoji row needs a scalable emoji font) with every kind, with overlap."""
    folder = tmp_path_factory.mktemp("tasks")
    run_synth(folder / "out", FIXTURES / "generic-sample.jsonl", size="224x224", words_per_frame=40, tasks=ALL, tasks_per_sample=7, overlap=1, limit=3)
    return folder / "out"


@pytest.mark.parametrize(
    "source, settings",
    [
        ("longalpaca-sample.json", {"preset": "longalpaca", "segmenter": "sentences"}),
        ("longqlora-sample.jsonl", {"preset": "longqlora", "segmenter": "fit", "multiple_choice": True, "tasks_fps": 2.0}),
        ("generic-sample.jsonl", {"segmenter": "words", "overlap": 2, "multiple_choice": True, "limit": 3}),
    ],
)
def test_every_generated_answer_checks_out_on_the_fixtures(tmp_path, source, settings):
    run_synth(tmp_path / "out", FIXTURES / source, size="224x224", words_per_frame=60, tasks=ALL, tasks_per_sample=7, **settings)
    checked = Counter()
    for record in shard_lines(tmp_path / "out"):
        checked += check_record(record, settings.get("tasks_fps"))
    assert sum(checked.values()) >= 10 and len(checked) >= 5, checked


def test_task_turns_follow_the_dataset_turns_and_validate(out):
    records = shard_lines(out)
    assert records and all(record["tasks"] for record in records)
    for record in records:
        assert [t["turn"] for t in record["tasks"]] == list(range(1, len(record["tasks"]) + 1))
        assert record["instruction"] != record["tasks"][0]["answer"]
    assert main(["validate", str(out), "--quick"]) == 0


def test_validate_finds_a_task_that_disagrees_with_its_turn(tmp_path, capsys):
    run_synth(tmp_path / "out", FIXTURES / "generic-sample.jsonl", size="224x224", tasks="locate", tasks_per_sample=1, limit=1)
    shard = tmp_path / "out" / "shards" / "shard-00000.jsonl"
    record = json.loads(shard.read_text(encoding="utf-8"))
    record["tasks"][0]["answer"] = "Frame 99"
    record["tasks"].append({"kind": "count", "turn": 9, "frames": [0], "answer": "2"})
    shard.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "out"), "--quick"]) == 1
    problems = capsys.readouterr().out
    assert "tasks[0] answer differs from the answer of turn 1" in problems and "tasks[1] needs a string kind and answer and a turn within" in problems


def test_same_tasks_whatever_the_worker_count(tmp_path, english_jsonl):
    for workers in (1, 2):
        run_synth(tmp_path / f"w{workers}", english_jsonl, size="224x224", tasks="all", workers=workers, shard_size=2)
    assert tree_bytes(tmp_path / "w1") == tree_bytes(tmp_path / "w2")


def test_tasks_only_on_plain_text(tmp_path, capsys):
    source = write_jsonl(tmp_path / "books.jsonl", [{"text": license_text("GPL-3", 800)}, {"text": license_text("BSD")}, {"text": "Too short."}])
    run_synth(tmp_path / "out", source, preset="text", tasks="order,count,locate", tasks_only=True, size="224x224")
    records = shard_lines(tmp_path / "out")
    assert len(records) == 2
    for record in records:
        assert record["tasks"][0]["turn"] == 0 and record["answer"] == record["tasks"][0]["answer"]
        assert len(record.get("turns", [])) == len(record["tasks"]) - 1
        check_record(record)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["rejected"] == 1
    assert main(["synth", str(source), "-o", str(tmp_path / "x"), "--preset", "text"]) == 2
    assert "use it with --tasks KIND[,KIND...] --tasks-only" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tasks", "locate,sing"], "unknown task kind(s) 'sing'"),
        (["--tasks-only"], "need --tasks"),
        (["--tasks", "all", "--tasks-per-sample", "0"], "--tasks-per-sample must be at least 1"),
        (["--tasks", "locate", "--tasks-fps", "0"], "--tasks-fps must be above 0"),
    ],
)
def test_bad_task_options_are_usage_errors(tmp_path, capsys, args, message):
    assert main(["synth", "-o", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_config_file_key(tmp_path):
    from t2vid.config import build_config, read_config_file

    (tmp_path / "c.yaml").write_text("tasks: [locate, 'order,count']\ntasks-per-sample: 2\n")
    config = build_config({**read_config_file(tmp_path / "c.yaml"), "output": "x"})
    assert config.tasks == ("locate", "order", "count") and config.tasks_per_sample == 2


# --- score ----------------------------------------------------------------------


def predictions(records, right) -> list[dict]:
    """One prediction per task: the answer (re-cased, with a full stop) where right(n), else a wrong one."""
    rows = []
    for n, (record, task) in enumerate((r, t) for r in records for t in r["tasks"]):
        answer = task["answer"].upper() + "." if right(n) else "certainly not this"
        rows.append({"id": record["id"], "turn": task["turn"], "prediction": answer})
    return rows


def expected_tallies(records, right) -> dict:
    kinds, frames = Counter(), Counter()
    for n, (record, task) in enumerate((r, t) for r in records for t in r["tasks"]):
        bucket = next(f"{lo}-{hi}" for lo, hi in ((1, 2), (3, 4), (5, 8), (9, 16), (17, 32)) if record["num_frames"] <= hi)
        kinds[(task["kind"], right(n))] += 1
        frames[(bucket, right(n))] += 1
    return {"kinds": kinds, "frames": frames}


@pytest.mark.parametrize("name, right", [("perfect", lambda n: True), ("empty", None), ("half", lambda n: n % 2 == 0)])
def test_score_perfect_empty_and_half_right(out, tmp_path, capsys, name, right):
    records = shard_lines(out)
    total = sum(len(r["tasks"]) for r in records)
    rows = predictions(records, right) if right else []
    write_jsonl(tmp_path / "p.jsonl", rows)
    assert main(["score", str(out), str(tmp_path / "p.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    correct = {"perfect": total, "empty": 0, "half": (total + 1) // 2}[name]
    assert report["overall"] == {"correct": correct, "total": total, "accuracy": round(correct / total, 4)}
    assert report["predicted"] == len(rows)
    expected = expected_tallies(records, right or (lambda n: False))
    for kind, tally in report["by_kind"].items():
        assert tally["total"] == expected["kinds"][(kind, True)] + expected["kinds"][(kind, False)]
        assert tally["correct"] == expected["kinds"][(kind, True)]
    for bucket, tally in report["by_frames"].items():
        assert (tally["correct"], tally["total"]) == (expected["frames"][(bucket, True)], expected["frames"][(bucket, True)] + expected["frames"][(bucket, False)])
    needles = [t for r in records for t in r["tasks"] if t["kind"] == "needle" and t["depth"] is not None]
    assert sum(t["total"] for t in report["by_depth"].values()) == len(needles)


def test_a_prediction_holding_line_separators_stays_one_line(out, tmp_path, capsys):
    """JSON Lines ends a line at \\n only; a model's output may hold U+2028 or U+0085, written as they are."""
    rows = predictions(shard_lines(out), lambda n: True)
    rows[0]["prediction"] += "\u2028and\x85more"
    write_jsonl(tmp_path / "p.jsonl", rows)
    assert "\u2028" in (tmp_path / "p.jsonl").read_text(encoding="utf-8")
    assert main(["score", str(out), str(tmp_path / "p.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["predicted"], report["unreadable"]) == (len(rows), 0)


def test_score_of_a_fixed_output_with_exact_figures(tmp_path, capsys):
    """Six tasks of known kinds and depths; four right (one by option letter, one by option text)."""
    out = tmp_path / "out"
    run_synth(out, FIXTURES / "generic-sample.jsonl", size="224x224", tasks="locate", tasks_per_sample=1, limit=2)
    shard = out / "shards" / "shard-00000.jsonl"
    records = [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    first, second = records[0], records[1]
    first["turns"] = first.get("turns", []) + [{"instruction": "q", "answer": "7"}, {"instruction": "q", "answer": "B"}, {"instruction": "q", "answer": "42"}]
    first["tasks"] = [
        {"kind": "locate", "turn": 1, "frames": [0], "answer": first["tasks"][0]["answer"]} if first["tasks"] else None,
        {"kind": "count", "turn": 2, "frames": [0], "answer": "7"},
        {"kind": "order", "turn": 3, "frames": [0], "answer": "B", "options": ["A, B, C", "C, B, A"]},
        {"kind": "needle", "turn": 4, "frames": [0], "answer": "42", "variant": "single", "needles": [], "depth": 0.25},
    ]
    second["turns"] = second.get("turns", []) + [{"instruction": "q", "answer": "A"}]
    second["tasks"] = [second["tasks"][0], {"kind": "order", "turn": 2, "frames": [0], "answer": "A", "options": ["A, C, B", "B, A, C"]}]
    shard.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    rows = [
        {"id": first["id"], "turn": 1, "prediction": first["tasks"][0]["answer"].lower()},  # right
        {"id": first["id"], "turn": 2, "prediction": "8"},  # wrong
        {"id": first["id"], "turn": 3, "prediction": "(B) C, B, A"},  # right, by letter
        {"id": first["id"], "turn": 4, "prediction": " 42. "},  # right
        {"id": second["id"], "turn": 1, "prediction": "nothing"},  # wrong
        {"id": second["id"], "turn": 2, "prediction": "a, c, b"},  # right, by option text
        {"id": second["id"], "turn": 2, "prediction": "B"},  # duplicate: ignored
        {"id": "nobody", "turn": 1, "prediction": "x"},  # names no task
        "not json",
    ]
    write_jsonl(tmp_path / "p.jsonl", rows)
    assert main(["score", str(out), str(tmp_path / "p.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"] == {"correct": 4, "total": 6, "accuracy": 0.6667}
    assert report["by_kind"] == {
        "count": {"correct": 0, "total": 1, "accuracy": 0.0},
        "locate": {"correct": 1, "total": 2, "accuracy": 0.5},
        "needle": {"correct": 1, "total": 1, "accuracy": 1.0},
        "order": {"correct": 2, "total": 2, "accuracy": 1.0},
    }
    assert report["by_depth"] == {"25%": {"correct": 1, "total": 1, "accuracy": 1.0}}
    assert (report["predicted"], report["duplicates"], report["unmatched"], report["unreadable"]) == (6, 1, 1, 1)
    assert main(["score", str(out), str(tmp_path / "p.jsonl")]) == 0
    table = capsys.readouterr().out
    assert "tasks 6, predicted 6, correct 4, accuracy 66.7%" in table and "prediction lines ignored: 1 naming no task, 1 duplicate, 1 unreadable" in table


def test_score_errors_are_one_line(tmp_path, capsys, out):
    run_synth(tmp_path / "plain", FIXTURES / "generic-sample.jsonl", size="224x224", limit=1)
    write_jsonl(tmp_path / "p.jsonl", [])
    assert main(["score", str(tmp_path / "plain"), str(tmp_path / "p.jsonl")]) == 2
    assert "has no generated tasks to score (synth with --tasks)" in capsys.readouterr().err
    assert main(["score", str(out), str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# --- stats, diversity, exports --------------------------------------------------------


def test_stats_and_diversity_show_the_mix_of_kinds(out, capsys):
    kinds = Counter(t["kind"] for r in shard_lines(out) for t in r["tasks"])
    assert main(["stats", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tasks_by_kind"] == dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    assert main(["stats", str(out)]) == 0
    assert f"tasks             {sum(kinds.values())}: " in capsys.readouterr().out
    assert main(["diversity", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["task_kinds"] == dict(sorted(kinds.items()))
    assert report["instructions"] == sum(1 + len(r.get("turns", [])) for r in shard_lines(out))
    assert main(["diversity", str(out)]) == 0
    table = capsys.readouterr().out
    assert all(f"task turns: {kind}" in table for kind in kinds)


def test_chat_export_carries_the_task_turns(out, tmp_path):
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.registry import export

    export(out, "llamafactory", ExportOptions(tmp_path / "lf"), progress=False)
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text(encoding="utf-8"))
    data_file = tmp_path / "lf" / next(iter(info.values()))["file_name"]
    text = data_file.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines()]
    records = shard_lines(out)
    assert len(rows) == len(records)
    for row, record in zip(rows, records):
        users = [m["content"] for m in row["messages"] if m["role"] == "user"]
        assistants = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        for task in record["tasks"]:
            assert assistants[task["turn"]] == task["answer"]
            assert users[task["turn"]].endswith(record["turns"][task["turn"] - 1]["instruction"])


def test_diversity_map_draws_each_input(out, tmp_path, capsys):
    pytest.importorskip("sklearn")
    plain = tmp_path / "plain.jsonl"
    write_jsonl(plain, [{"instruction": f"Describe this video in detail. ({n})"} for n in range(30)])
    assert main(["diversity", str(out), str(plain), "--map", str(tmp_path / "maps" / "map.png")]) == 0
    image = Image.open(tmp_path / "maps" / "map.png")
    assert image.size == (1200, 860)
    colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20)}
    assert (0, 114, 178) in colours and (230, 159, 0) in colours  # both legend swatches
    first = (tmp_path / "maps" / "map.png").read_bytes()
    assert main(["diversity", str(out), str(plain), "--map", str(tmp_path / "maps" / "map.png")]) == 0
    assert (tmp_path / "maps" / "map.png").read_bytes() == first

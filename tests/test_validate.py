"""`t2vid validate`: a fresh output passes; each kind of breakage is named with its location and exits 1."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from t2vid.cli import main
from t2vid.inspect.validate import record_problems, validate_output

from conftest import license_text, synth_records


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Two shards; the first two samples share one context, so they share frame files."""
    folder = tmp_path_factory.mktemp("validate")
    records = [
        {"context": license_text("Apache-2.0", 300), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("Apache-2.0", 300), "question": "Who grants it?", "answer": "Each Contributor."},
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": "", "question": "Empty?", "answer": "Rejected."},
    ]
    out = synth_records(folder, records, words_per_frame=40, shard_size=2)
    return out


@pytest.fixture
def out(fresh, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(fresh, copy)
    return copy


def _lines(out, shard="shards/shard-00000.jsonl"):
    return [json.loads(line) for line in (out / shard).read_text().splitlines()]


def _rewrite(out, records, shard="shards/shard-00000.jsonl"):
    (out / shard).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def run_cli(args: list[str]) -> int:
    """main()'s return value, or the code of the SystemExit a command that found problems raises."""
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


def _validate(out, capsys):
    code = run_cli(["validate", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fresh_output_passes(fresh, capsys):
    manifest = json.loads((fresh / "manifest.json").read_text())
    code, stdout, _ = _validate(fresh, capsys)
    assert code == 0
    assert stdout.strip() == f"OK: {manifest['samples']} samples, {manifest['frames']} frames ({manifest['frame_files']} files) checked"
    assert manifest["rejected"] == 1 and manifest["frames_reused"] > 0  # the checks below meet rejects and shared frames


def _delete_frame(out):
    frame = out / _lines(out)[0]["images"][1]
    frame.unlink()
    return f"frame {_lines(out)[0]['images'][1]} does not exist"


def _corrupt_png(out):
    frame = out / _lines(out)[0]["images"][0]
    frame.write_bytes(frame.read_bytes()[:200])
    return f"{frame}: does not decode"


def _wrong_size(out):
    frame = out / _lines(out, "shards/shard-00001.jsonl")[0]["images"][0]
    Image.new("L", (100, 50), 255).save(frame)
    return f"{frame}: is 100x50, record"


def _wrong_num_frames(out):
    records = _lines(out)
    records[1]["num_frames"] += 1
    _rewrite(out, records)
    return "shard-00000.jsonl:2: len(images)="


def _duplicate_id(out):
    records = _lines(out)
    records[1]["id"] = records[0]["id"]
    _rewrite(out, records)
    return f"shard-00000.jsonl:2: id {records[0]['id']!r} already used at {out / 'shards/shard-00000.jsonl'}:1"


def _missing_field(out):
    records = _lines(out)
    del records[0]["source"]["split"]
    records[1]["width"] = "224"
    _rewrite(out, records)
    return "shard-00000.jsonl:1: source.split is missing or not str"


def _orphan_frame(out):
    orphan = out / "frames" / "zz" / "zz-extra" / "f000.png"
    orphan.parent.mkdir(parents=True)
    shutil.copy(out / _lines(out)[0]["images"][0], orphan)
    return f"{orphan}: orphan frame"


def _manifest_count(out):
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["samples"] += 1
    (out / "manifest.json").write_text(json.dumps(manifest))
    return f"manifest.json: samples is {manifest['samples']} but the output holds {manifest['samples'] - 1}"


def _missing_marker(out):
    (out / "shards" / "shard-00001.done.json").unlink()
    return "shard-00001.done.json: completion marker missing"


def _marker_disagrees(out):
    marker = out / "shards" / "shard-00001.done.json"
    counts = json.loads(marker.read_text())
    counts["rejected"] = {}
    marker.write_text(json.dumps(counts))
    return f"{marker}: says 0 rejects but rejects/shard-00001.jsonl holds 1"


def _not_complete(out):
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return "status is 'running', not 'complete'"


def _unlisted_shard(out):
    shutil.copy(out / "shards" / "shard-00001.jsonl", out / "shards" / "shard-00009.jsonl")
    return "shard-00009.jsonl: not listed in the manifest"


def _broken_json(out):
    with open(out / "shards" / "shard-00001.jsonl", "a") as handle:
        handle.write("{broken\n")
    return "shard-00001.jsonl:2: not valid JSON"


@pytest.mark.parametrize(
    "breakage",
    [_delete_frame, _corrupt_png, _wrong_size, _wrong_num_frames, _duplicate_id, _missing_field, _orphan_frame, _manifest_count, _missing_marker, _marker_disagrees, _not_complete, _unlisted_shard, _broken_json],
)
def test_breakage_is_reported_with_its_location(out, capsys, breakage):
    expected = breakage(out)
    code, stdout, stderr = _validate(out, capsys)
    assert code == 1
    assert expected in stdout, stdout
    assert "problem(s)" in stderr and "OK:" not in stdout


def test_problem_list_is_complete_and_ordered(out):
    files = json.loads((out / "manifest.json").read_text())["frame_files"]
    _delete_frame(out)
    _duplicate_id(out)
    problems = [str(p) for p in validate_output(out).problems]
    assert len(problems) == 3
    assert "already used" in problems[0] and "does not exist" in problems[1]
    assert problems[2].endswith(f"manifest.json: frame_files is {files} but the output holds {files - 1}")


def test_quick_mode_reads_headers_only(out):
    frame = out / _lines(out)[0]["images"][0]
    data = frame.read_bytes()
    frame.write_bytes(data[: len(data) // 2])  # header intact, pixel data cut
    assert validate_output(out, decode=True).problems
    assert not validate_output(out, decode=False).problems


def test_record_contract_rules():
    good = {"id": "a", "images": ["frames/ab/x/f000.png"], "instruction": "q", "answer": "a", "texts": ["t"], "num_frames": 1, "source": {"dataset": "d", "split": "train", "index": 0}, "missing_glyphs": [], "width": 8, "height": 8}
    assert record_problems(good) == []
    assert record_problems({**good, "num_frames": True}) == ["field 'num_frames' is bool, not int"]
    assert record_problems({**good, "images": ["../x.png"]}) == ["image path '../x.png' is not under frames/ of this output"]
    assert record_problems({**good, "turns": [{"instruction": "q"}]}) == ["turns[0] needs string instruction and answer"]
    assert record_problems([1]) == ["record is a list, not an object"]


def test_not_an_output_is_a_usage_error(tmp_path, capsys):
    assert run_cli(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: {tmp_path} is not a t2vid output (no manifest.json)"


def test_main_returns_1_when_problems_are_found(out, capsys):
    _delete_frame(out)
    assert main(["validate", str(out), "--quick"]) == 1  # click's exit code, not a SystemExit
    assert "problem(s)" in capsys.readouterr().err


def test_an_image_path_outside_frames_is_reported_and_never_opened(out, capsys):
    records = _lines(out)
    records[0]["images"][0] = "../../../../etc/passwd"
    _rewrite(out, records)
    code, stdout, _ = _validate(out, capsys)
    assert code == 1
    assert "shard-00000.jsonl:1: image path '../../../../etc/passwd' is not under frames/ of this output" in stdout
    assert "passwd:" not in stdout  # never opened as a frame

"""Load stage: every input format, broken lines, streaming arrays, usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from t2vid.errors import UsageError
from t2vid.sources import _read_json_array, iter_records, resolve_sources

from conftest import write_jsonl


def _records(*specs, **kwargs):
    return list(iter_records(resolve_sources(list(specs)), **kwargs))


def test_jsonl_broken_line_keeps_neighbours(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"a": 1}, '{"a": 2, "b": ', {"a": 3}])
    records = _records(str(path))
    assert [r.record for r in records] == [{"a": 1}, None, {"a": 3}]
    assert records[1].error.detail.startswith("line 2 is not valid JSON")
    assert records[1].raw == '{"a": 2, "b": '
    assert [r.source.index for r in records] == [0, 1, 2]


def test_json_array_streams_elements_across_chunks(tmp_path):
    rows = [{"i": i, "text": "word " * (i * 37 % 300)} for i in range(50)] + [12345, 1.5e3, None, "s"]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(rows, indent=1))
    with open(path) as handle:
        got = [value for value, error, _ in _read_json_array(handle, chunk_size=64)]
    assert got == rows


def test_json_array_truncated_reports_rest_unreadable(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"a": 1}, {"a": 2}, {"a": ')
    records = _records(str(path))
    assert [r.record for r in records[:2]] == [{"a": 1}, {"a": 2}]
    assert "not valid JSON" in records[2].error.detail


def test_parquet_csv_directory_and_glob(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.table({"context": ["c1", "c2"], "question": ["q1", "q2"], "answer": ["a1", "a2"]}), folder / "a.parquet")
    (folder / "b.csv").write_text("context,question,answer\nc3,q3,a3\n")
    (folder / "notes.txt").write_text("ignored")
    by_dir = _records(str(folder))
    assert [r.record["context"] for r in by_dir] == ["c1", "c2", "c3"]
    assert [r.position for r in by_dir] == [0, 1, 2]
    assert [r.source.index for r in by_dir] == [0, 1, 0]
    by_glob = _records(str(folder / "*.csv"))
    assert [r.record["question"] for r in by_glob] == ["q3"]


def test_limit_and_builtin_sample():
    records = _records(limit=2)
    assert len(records) == 2
    assert all(isinstance(r.record["context"], str) for r in records)


@pytest.mark.parametrize("spec,message", [
    ("missing.jsonl", "file not found"),
    ("./nothing/here", "file not found"),
    ("*.nomatch.jsonl", "no JSON/JSONL/Parquet/CSV files match"),
])
def test_bad_sources_are_usage_errors(spec, message):
    with pytest.raises(UsageError, match=message):
        resolve_sources([spec])


def test_hub_ids_take_the_hub_path():
    (source,) = resolve_sources(["Yukang/LongAlpaca-12k"])
    assert source.kind == "hub"


def test_unreachable_hub_is_a_one_line_usage_error(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", "Yukang/LongAlpaca-12k", "-o", str(tmp_path / "o")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("t2vid: error: cannot load Yukang/LongAlpaca-12k") and result.stderr.count("\n") == 1


def test_csv_cells_stay_strings(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('context,question,answer\n"long, quoted text",How many?,42\nonly,two\n')
    records = _records(str(path))
    assert records[0].record == {"context": "long, quoted text", "question": "How many?", "answer": "42"}
    assert records[1].record["answer"] is None  # a short row: the missing cell becomes a reject downstream


def test_a_file_named_twice_is_read_once(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"a": 1}])
    assert len(_records(str(path), str(tmp_path), str(tmp_path / "*.jsonl"))) == 1


def test_output_inside_the_input_directory_is_not_read_back(tmp_path):
    from conftest import run_synth

    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "d.jsonl", [{"context": "words " * 50, "question": "q", "answer": "a"}])
    first = run_synth(data / "out", data)
    again = run_synth(data / "out", data)
    assert first.read == again.read == 1
    assert len(_records(str(data))) == 1  # another run's output inside the folder is skipped too

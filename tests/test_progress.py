"""Progress of `t2vid synth` in a log: a line per interval with records of a total, an ETA, and a last line."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.parquet as pq

import t2vid.progress
from t2vid.sources import ReadMeter, iter_records, resolve_sources

from conftest import run_synth, write_jsonl

LINE = re.compile(r"t2vid: ([\d,]+)/(~?)([\d,]+) records \((\d+)%\), ([\d,]+) samples, ([\d,]+) frames, \d+ frames/s, \d+:\d\d elapsed, ETA \d+:\d\d$")


def _records(count: int) -> list[dict]:
    return [{"context": f"Record {i} says a few words about nothing.", "question": "What?", "answer": "Nothing."} for i in range(count)]


def test_log_lines_move_per_chunk_with_total_and_eta(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(t2vid.progress, "PLAIN_INTERVAL", 0.0)  # a line for every finished chunk
    source = write_jsonl(tmp_path / "in.jsonl", _records(300))  # one shard, two chunks (at most 256 records each)
    run_synth(tmp_path / "out", source, size="224x224", quiet=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if re.match(r"t2vid: [\d,]+/", line)]
    figures = [LINE.match(line) for line in lines]
    assert all(figures), lines
    done = [int(m[1].replace(",", "")) for m in figures]
    assert done[0] == 256 and done[-1] == 300  # moved before the shard was committed
    assert [int(m[3].replace(",", "")) for m in figures][-1] == 300 and figures[-1][4] == "100"
    assert figures[-1][2] == ""  # the file was read to its end: the total is exact


def test_quiet_prints_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(t2vid.progress, "PLAIN_INTERVAL", 0.0)
    run_synth(tmp_path / "out", write_jsonl(tmp_path / "in.jsonl", _records(3)), size="224x224", quiet=True)
    assert capsys.readouterr().err == ""


def test_totals_from_limit_parquet_metadata_and_bytes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(t2vid.progress, "PLAIN_INTERVAL", 0.0)
    run_synth(tmp_path / "limited", write_jsonl(tmp_path / "in.jsonl", _records(20)), size="224x224", limit=5, quiet=False)
    assert "5/5 records (100%)" in capsys.readouterr().err
    table = {key: [record[key] for record in _records(7)] for key in ("context", "question", "answer")}
    pq.write_table(pa.table(table), tmp_path / "d.parquet")
    assert ReadMeter.of(resolve_sources([str(tmp_path / "d.parquet")])).estimated_total() == 7
    text = write_jsonl(tmp_path / "big.jsonl", _records(4000))
    meter = ReadMeter.of(resolve_sources([str(text)]))
    for raw in iter_records(resolve_sources([str(text)]), meter=meter):
        if raw.position == 2000:
            assert 3600 <= meter.estimated_total() <= 4400  # half read: an estimate within 10%
    assert meter.estimated_total() == 4000

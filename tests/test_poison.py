"""Read stage on poison input: one record never stops a run, and every good record is written."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from t2vid import sources
from t2vid.sources import iter_records, resolve_sources

from conftest import run_synth, shard_lines

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a": ' * 3000 + "1" + "}" * 3000
HUGE_INT = "1" * 5000
BOM = "\ufeff"


def good(n: int) -> dict:
    return {"context": f"good context number {n} " + "word " * 30, "question": f"Question {n}?", "answer": f"Answer {n}."}


def _records(*specs):
    return list(iter_records(resolve_sources(list(specs))))


def _synth(tmp_path, path):
    summary = run_synth(tmp_path / "out", path, size="224x224", font_size=12)
    written = {line["instruction"] for line in shard_lines(tmp_path / "out")}
    return summary, written


# Poison text for one JSONL line or one JSON array element; each is valid-enough JSON syntax
# that a reader could trip over it (too deep, too long a number, not an object, wrong types).
POISON_VALUES = [
    DEEP,
    DEEP_OBJECT,
    HUGE_INT,
    '{"context": ' + HUGE_INT + ', "question": "q", "answer": "a"}',
    '{"context": "' + "x " * 10 + '", "question": ' + "[" * 50_000 + "]" * 50_000 + ', "answer": "a"}',
    '{"context": "\\ud800 lone", "question": "q", "answer": "a"}',
    '"just a string"',
    "null",
    "[1, 2, 3]",
    '{"context": 1e999, "question": "q", "answer": "a"}',
    "{}",
    '{"context": {"nested": [[[1]]]}, "question": "q", "answer": "a"}',
    '{"context": "\\u0000\\u200b", "question": "q", "answer": "a"}',
]
POISON_LINES = POISON_VALUES + ['{"broken": ', "\x00\x01 not json", "\udcff\udcfe"]  # JSONL only: a broken line is one line


@pytest.mark.parametrize("poison", [DEEP, DEEP_OBJECT, HUGE_INT], ids=["deep-array", "deep-object", "huge-int"])
@pytest.mark.parametrize("layout", ["jsonl", "array"])
def test_one_poison_record_is_a_reject_and_the_run_goes_on(tmp_path, poison, layout):
    goods = [json.dumps(good(n)) for n in range(2)]
    if layout == "jsonl":
        path = tmp_path / "d.jsonl"
        path.write_text(f"{goods[0]}\n{poison}\n{goods[1]}\n")
    else:
        path = tmp_path / "d.json"
        path.write_text(f"[{goods[0]},\n{poison},\n{goods[1]}]")
    summary, written = _synth(tmp_path, path)
    assert summary.read == 3 and summary.samples == 2 and sum(summary.rejected.values()) == 1
    assert written == {"Question 0?", "Question 1?"}
    assert dict(summary.rejected) == {"integer_too_long" if poison == HUGE_INT else "too_deeply_nested": 1}


def test_csv_cell_over_the_field_limit_is_a_reject(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "CSV_FIELD_LIMIT", 1000)
    path = tmp_path / "d.csv"
    path.write_text("context,question,answer\n" + "ok words here,q1,a1\n" + "x" * 5000 + ",q2,a2\n" + "more words,q3,a3\n")
    records = _records(str(path))
    assert [r.record["question"] if r.record else None for r in records] == ["q1", None, "q3"]
    assert records[1].error.code == "csv_unreadable_row" and "larger than" in records[1].error.detail


def test_forty_thousand_word_csv_cell_is_read_whole(tmp_path):
    context = " ".join(f"w{i}" for i in range(40_000))
    path = tmp_path / "d.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["context", "question", "answer"], [context, "q", "a"], ["short", "q2", "a2"]])
    records = _records(str(path))
    assert [r.record["context"] for r in records] == [context, "short"]


@pytest.mark.parametrize("name,text", [
    ("d.csv", BOM + "context,question,answer\nc1,q1,a1\nc2,q2,a2\n"),
    ("d.json", BOM + '[{"context": "c1", "question": "q1", "answer": "a1"}, {"context": "c2", "question": "q2", "answer": "a2"}]'),
    ("d.jsonl", BOM + '{"context": "c1", "question": "q1", "answer": "a1"}\n{"context": "c2", "question": "q2", "answer": "a2"}\n'),
])
def test_utf8_byte_order_mark_is_read(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    records = _records(str(path))
    assert [r.error for r in records] == [None, None]
    assert [(r.record["context"], r.record["question"]) for r in records] == [("c1", "q1"), ("c2", "q2")]


@pytest.mark.parametrize("text,count,message", [
    ('[{"a": 1}, {"a": 2}] trailing', 3, "after the closing ]"),
    ('[{"a": 1}, {"a": 2}]\n[{"a": 3}]', 3, "after the closing ]"),
    ('[{"a": 1}, {"a": 2}\n', 3, "no closing ]"),
    ('[{"a": 1}, {"a": 2},', 3, "no closing ]"),
])
def test_json_array_with_trailing_text_or_no_end_is_counted(tmp_path, text, count, message):
    path = tmp_path / "a.json"
    path.write_text(text)
    records = _records(str(path))
    assert [r.record for r in records[:2]] == [{"a": 1}, {"a": 2}]
    assert len(records) == count and message in records[-1].error.detail


def test_json_array_with_only_whitespace_after_is_clean(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"a": 1}]\n\n  \n')
    assert [r.error for r in _records(str(path))] == [None]


def _write(layout: str, path, rows: list) -> None:
    """`rows` items are ("good", dict) or ("poison", text); written as JSONL, a JSON array or CSV."""
    if layout == "jsonl":
        path.write_text("".join((json.dumps(v) if kind == "good" else v) + "\n" for kind, v in rows), encoding="utf-8", errors="surrogateescape")
    elif layout == "array":
        path.write_text("[" + ",\n".join(json.dumps(v) if kind == "good" else v for kind, v in rows) + "]", encoding="utf-8", errors="surrogateescape")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["context", "question", "answer"])
        for kind, value in rows:
            writer.writerow([value["context"], value["question"], value["answer"]] if kind == "good" else value)
        path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogateescape")


CSV_POISON = [
    ["x" * 2000, "q", "a"],  # over the (lowered) field limit
    ["only one cell"],
    ["c", "q", "a", "one too many"],
    ["", "", ""],
    ["\x00", "\ufeff", "\u202e"],
    ["c", "q"],
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(layout=st.sampled_from(["jsonl", "array", "csv"]), data=st.data())
def test_poison_between_good_records_property(tmp_path_factory, monkeypatch, layout, data):
    monkeypatch.setattr(sources, "CSV_FIELD_LIMIT", 1000)
    pool = {"jsonl": POISON_LINES, "array": POISON_VALUES, "csv": CSV_POISON}[layout]
    kinds = data.draw(st.lists(st.booleans(), min_size=1, max_size=8))
    rows, goods = [], 0
    for is_good in kinds:
        if is_good:
            rows.append(("good", good(goods)))
            goods += 1
        else:
            rows.append(("poison", data.draw(st.sampled_from(pool))))
    root = tmp_path_factory.mktemp("poison")
    path = root / {"jsonl": "d.jsonl", "array": "d.json", "csv": "d.csv"}[layout]
    _write(layout, path, rows)
    summary, written = _synth(root, path)
    assert summary.read == summary.samples + sum(summary.rejected.values())
    assert summary.read >= len(rows)
    assert {f"Question {n}?" for n in range(goods)} <= written

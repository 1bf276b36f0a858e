"""Load -> adapt -> segment on hostile input: no crash, every record written or rejected, counts add up."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings, strategies as st

from t2vid.adapt import Adapter, Sample
from t2vid.config import build_config
from t2vid.fonts import resolve_face
from t2vid.layout import Layouter
from t2vid.rejects import Reject
from t2vid.segment import segment
from t2vid.sources import RawRecord, SourceRef, iter_records, resolve_sources
from t2vid.style import RenderStyle

from conftest import run_synth, shard_lines, write_jsonl

nasty_text = st.text(alphabet=st.characters(codec=None) | st.sampled_from(list("\x00\u200b\u200d\u202e\u2066\u0301\ufeff\U0001f600\ud800")), max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
FACE = resolve_face(None)
LAYOUTER = Layouter(RenderStyle(font=FACE.path, font_index=FACE.index, width=224, height=224, font_size=12))
ADAPTER = Adapter(build_config({"output": "unused"}), ("data.jsonl",))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=st.dictionaries(st.sampled_from(["context", "question", "answer", "other"]), json_values | nasty_text, max_size=4))
def test_any_record_is_a_sample_or_a_reject(record):
    outcome = ADAPTER(RawRecord(0, SourceRef("data.jsonl", "train", 0), record))
    if isinstance(outcome, Reject):
        assert outcome.stage == "adapt" and re.fullmatch(r"[a-z_]+", outcome.code) and outcome.detail
    else:
        assert isinstance(outcome, Sample)
        assert isinstance(record["context"], str) and record["context"].strip()
        question, answer = record["question"], record["answer"]
        if isinstance(question, list) or isinstance(answer, list):  # several questions over one context: lists of equal length
            assert len(question) == len(answer) == 1 + len(outcome.turns) and all(isinstance(t, str) and t.strip() for t in question + answer)
        else:
            assert all(isinstance(t, str) and t.strip() for t in (question, answer))
        frames = segment(outcome.context, LAYOUTER, "words", 40).frames
        assert all(frame.lines for frame in frames)
        assert frames or not any(c.isprintable() and not c.isspace() for c in outcome.context)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.dictionaries(st.sampled_from(["context", "question", "answer"]), json_values | nasty_text, max_size=3) | json_values, max_size=6))
def test_counts_add_up_through_the_whole_pipeline(tmp_path_factory, records):
    root = tmp_path_factory.mktemp("robust")
    lines = [json.dumps(r) if not isinstance(r, str) or r else "{broken" for r in records]  # \ud800 escapes reach the parser
    data = write_jsonl(root / "d.jsonl", lines)
    summary = run_synth(root / "out", data, size="224x224", font_size=12)
    read = len([line for line in lines if line.strip()])
    assert summary.read == read
    assert summary.samples + sum(summary.rejected.values()) == read
    assert len(shard_lines(root / "out")) == summary.samples


def test_million_word_context_is_segmented_whole():
    context = " ".join(f"w{i % 977}" for i in range(1_000_000))
    frames = segment(context, LAYOUTER, "fit").frames
    assert sum(len(f.text.split()) for f in frames) == 1_000_000


def test_wrong_types_in_every_field_are_named(tmp_path):
    records = [{"context": ["a"], "question": "q", "answer": "a"}, {"context": "c", "question": {"x": 1}, "answer": "a"}, {"context": "c", "question": "q", "answer": 3.5}, [1, 2], '"just a string"']
    data = write_jsonl(tmp_path / "d.jsonl", records)
    reasons = [r.detail if isinstance(r, Reject) else None for r in map(ADAPTER, iter_records(resolve_sources([str(data)])))]
    assert reasons == ["'context' is not a string (got list)", "'question' is not a string (got dict)", "'answer' is not a string (got float)", "record is a JSON list, not an object", "record is a JSON str, not an object"]


def test_context_with_nothing_to_draw_is_rejected(tmp_path):
    records = [{"context": "\u200b\u200d \x00", "question": "q", "answer": "a"}, {"context": "\ue000\ue001", "question": "q", "answer": "a"}]
    out = tmp_path / "out"
    summary = run_synth(out, write_jsonl(tmp_path / "d.jsonl", records))
    assert summary.samples == 0 and sum(summary.rejected.values()) == 2
    reasons = [json.loads(line)["reason"] for line in (out / "rejects" / "shard-00000.jsonl").read_text().splitlines()]
    assert reasons[0] == "empty 'context' (only invisible characters)"
    assert reasons[1].startswith("no drawable text in the context (no installed font has")

"""`t2vid diversity`: templated instructions score lower than varied ones; every input shape is read."""

from __future__ import annotations

import importlib.util
import json

import pytest

from t2vid.cli import main
from t2vid.inspect.diversity import find_instruction, load_instructions, measure, template_groups, tfidf_distance, tokenize

from conftest import license_text, run_synth, shard_lines, synth_records, write_jsonl

TEMPLATED = [f"Read the pages shown in the video and answer: what does section {n} of the license say?" for n in range(1, 4)] + [
    f"Look at the document in the video. Which {thing} does it mention?" for thing in ("date", "author", "company", "country", "product", "license")
]
VARIED = [
    "Summarize the patent clause in two sentences.",
    "Who may redistribute the software, and under which conditions?",
    "Does the license require attribution in binary releases?",
    "List every obligation a contributor accepts.",
    "Translate the warranty disclaimer into plain English.",
    "How long does the patent grant last?",
    "Why would a company prefer this license over the GPL?",
    "Compare the notice requirements of sections 4 and 5.",
    "What happens when a licensee files a patent lawsuit?",
]


def test_templated_instructions_score_lower_than_varied_ones():
    templated, varied = measure("templated", TEMPLATED), measure("varied", VARIED)
    assert templated.instructions == varied.instructions == 9
    for name in ("distinct_1", "distinct_2", "distinct_3", "tfidf_distance", "entropy_2"):
        assert getattr(templated, name) < getattr(varied, name), name
    assert templated.template_groups == 2 and templated.largest_group == 6 and templated.in_template_groups == 1.0
    assert varied.template_groups == 9 and varied.largest_group == 1 and varied.in_template_groups == 0.0


def test_metric_definitions_on_tiny_inputs():
    report = measure("x", ["a b a b", "a b"])
    assert report.distinct_1 == round(2 / 6, 4)  # a, b over six unigrams
    assert report.distinct_2 == 0.5  # (a b), (b a) over four bigrams
    assert report.distinct_3 == 1.0  # (a b a), (b a b)
    assert report.entropy_1 == 1.0
    assert tfidf_distance([["cat"], ["cat"]]) == pytest.approx(0.0)
    assert tfidf_distance([["cat"], ["dog"]]) == pytest.approx(1.0)
    assert tfidf_distance([["cat"]]) is None
    assert template_groups([["x", "y", "z"], ["x", "y", "z"], ["p", "q"], ["x", "y", "z", "w"]]) == [3, 1]
    assert tokenize("Hello, 世界! It's 2024") == ["hello", "世", "界", "it", "s", "2024"]


def test_chat_shapes_and_placeholders(tmp_path):
    records = [
        {"conversations": [{"from": "human", "value": "<image>\nWhat is in the picture?"}, {"from": "gpt", "value": "A cat."}]},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Describe the <video> clip."}]}]},
        {"instruction": "Name the author."},
        {"output": "no instruction here"},
        "not a record",
    ]
    path = write_jsonl(tmp_path / "chat.jsonl", records)
    found, skipped = load_instructions(path)
    assert found == ["What is in the picture?", "Describe the clip.", "Name the author."]
    assert skipped == 2
    assert find_instruction(records[0], "conversations.1.value") == "A cat."
    assert find_instruction(records[0], "conversations.7.value") is None


@pytest.mark.parametrize("format_name", ["minicpmv", "llamafactory", "internvl", "qwen"])
def test_exported_rows_score_the_questions_without_media_placeholders(tmp_path, format_name):
    """MiniCPM-V writes <image_00>, <image_01>, ... before the question: none of it is part of the instruction."""
    from t2vid.exports.base import ExportOptions
    from t2vid.exports.registry import export

    questions = ["What does the license grant?", "Who may redistribute the Work?"]
    out = synth_records(tmp_path, [{"context": license_text("Apache-2.0", 600), "question": q, "answer": "See the text."} for q in questions])
    dest = tmp_path / format_name
    report = export(out, format_name, ExportOptions(dest), progress=False)
    found, skipped = load_instructions(dest / report.files[0])
    assert (found, skipped) == (questions, 0)


def test_json_array_and_wrapped_list(tmp_path):
    rows = [{"question": "One?"}, {"question": "Two?"}]
    (tmp_path / "array.json").write_text(json.dumps(rows))
    (tmp_path / "wrapped.json").write_text(json.dumps({"version": 1, "data": rows}))
    assert load_instructions(tmp_path / "array.json") == (["One?", "Two?"], 0)
    assert load_instructions(tmp_path / "wrapped.json") == (["One?", "Two?"], 0)


def test_synth_output_and_side_by_side_table(tmp_path, capsys):
    records = [{"context": license_text("BSD", 120), "question": q, "answer": "See the text."} for q in VARIED[:3]]
    out = tmp_path / "out"
    run_synth(out, write_jsonl(tmp_path / "in.jsonl", records), size="224x224", words_per_frame=40)
    assert load_instructions(out) == ([r["instruction"] for r in shard_lines(out)], 0)
    templated = write_jsonl(tmp_path / "templated.jsonl", [{"instruction": t} for t in TEMPLATED])
    assert main(["diversity", str(out), str(templated)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["out", "templated.jsonl"]
    assert table[1].split() == ["instructions", "3", "9"]
    assert main(["diversity", str(out), str(templated), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == ["out", "templated.jsonl"] and data[1]["template_groups"] == 2


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["diversity", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: no such file or directory: {tmp_path / 'missing.jsonl'}"
    assert main(["diversity", str(tmp_path)]) == 2
    assert "not a t2vid output" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="sentence-transformers is installed")
def test_embeddings_without_the_package(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [{"instruction": t} for t in VARIED])
    assert main(["diversity", str(path), "--embeddings", "all-MiniLM-L6-v2"]) == 2
    assert capsys.readouterr().err.strip() == "t2vid: error: --embeddings needs sentence-transformers: pip install sentence-transformers"


def test_files_are_read_by_the_streaming_reader(tmp_path):
    llava = {"video": "a.mp4", "conversations": [{"from": "human", "value": "<video>\nWhat happens?"}, {"from": "gpt", "value": "Nothing."}]}
    (tmp_path / "one.json").write_text(json.dumps([llava]))  # a one-record array is not mistaken for a wrapper
    assert load_instructions(tmp_path / "one.json") == (["What happens?"], 0)
    (tmp_path / "lines.json").write_text('{"question": "One?"}\n{broken\n{"question": "Two?"}\n')  # JSON Lines named .json
    assert load_instructions(tmp_path / "lines.json") == (["One?", "Two?"], 1)
    (tmp_path / "pretty.json").write_text(json.dumps({"version": 1, "data": [{"question": "One?"}, {"question": "Two?"}]}, indent=2))
    assert load_instructions(tmp_path / "pretty.json") == (["One?", "Two?"], 0)
    (tmp_path / "pretty-array.json").write_text(json.dumps([{"question": "One?"}, {"question": "Two?"}], indent=2))
    assert load_instructions(tmp_path / "pretty-array.json") == (["One?", "Two?"], 0)


def test_cjk_extension_characters_are_one_token_each():
    assert tokenize("𠀀𠀁 ab") == ["𠀀", "𠀁", "ab"]  # U+20000, U+20001: the same CJK rule as layout and budgets

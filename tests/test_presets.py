"""Dataset presets: every prompt shape splits into context and question without losing text, or is rejected with a reason."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from t2vid.adapt import Adapter, Sample
from t2vid.parsers import list_presets, load_preset
from t2vid.budget import list_profiles
from t2vid.cli import main
from t2vid.config import SynthConfig
from t2vid.rejects import Reject
from t2vid.sources import RawRecord, SourceRef

from conftest import FIXTURES, license_text, run_synth, shard_lines, write_jsonl

LONGALPACA_ROWS = json.loads((FIXTURES / "longalpaca-sample.json").read_text())
LONGQLORA_ROWS = [json.loads(line) for line in (FIXTURES / "longqlora-sample.jsonl").read_text().splitlines()]

PAPER_HEAD = "Below is a paper. Memorize the paper and answer my question after the paper.\n The paper begins. \n"
MATERIAL_HEAD = "Below is a paper. Memorize the material and answer my question after the paper.\n"
TWO_PAPERS_HEAD = "There are two papers. Memorize them and answer my question after the paper.\n The first paper begins. \n"
NQ_HEAD = "Write a high-quality answer for the given question using only the provided search results (some of which might be irrelevant).\n\n"
DOC = license_text("Apache-2.0", 400)
DOC2 = license_text("MPL-2.0", 400)


def adapt(record, preset: str = "generic", **settings) -> Sample | Reject:
    adapter = Adapter(SynthConfig(preset=preset, **settings), ("data.jsonl",))
    return adapter(RawRecord(0, SourceRef("data.jsonl", "train", 0), record))


def sample(record, preset: str, **settings) -> Sample:
    outcome = adapt(record, preset, **settings)
    assert isinstance(outcome, Sample), outcome.detail
    return outcome


def reason(record, preset: str, **settings) -> str:
    outcome = adapt(record, preset, **settings)
    assert isinstance(outcome, Reject), f"not rejected: {outcome}"
    return outcome.detail


def squash(text: str) -> str:
    return "".join(text.split())


def assert_accounts_for(original: str, parts: list[str], boilerplate: list[str]) -> None:
    """Every part is verbatim in the original, and the template's fixed text around the parts rebuilds it (whitespace aside).

    boilerplate[i] comes before parts[i]; a last extra item comes after the last part.
    """
    for part in parts:
        assert part in original
    rebuilt = "".join(fixed + part for fixed, part in zip(boilerplate, parts + [""]))
    assert squash(original) == squash(rebuilt)


# --- LongAlpaca ---------------------------------------------------------------

LONGALPACA_EXPECTED = [
    ("paper", "Under what conditions may a contributor's patent license terminate?", "If You institute patent litigation"),
    ("paper", "Please summarize the paper in one paragraph.", "The document is the Mozilla Public License 2.0."),
    ("material", "What does the license say about distributing object code?", "You may distribute the program in object code"),
    ("two_papers", "How do the two licenses differ in their treatment of modified versions?", "The first requires modified libraries"),
    ("book", "What is an Invariant Section?", "An Invariant Section is a Secondary Section"),
]


@pytest.mark.parametrize("row", range(5))
def test_longalpaca_fixture_documents_split_by_their_template(row):
    record = LONGALPACA_ROWS[row]
    template, question, answer_start = LONGALPACA_EXPECTED[row]
    got = sample(record, "longalpaca")
    assert got.meta["template"] == template
    assert got.instruction == question
    assert got.answer.startswith(answer_start) and got.answer == record["output"].removeprefix("Answer: ").strip()
    assert not got.context.startswith(("Below is", "There are")) and "ends." not in got.context[-40:]
    assert len(got.context.split()) >= 300


def test_longalpaca_fixture_split_loses_no_text():
    rows = LONGALPACA_ROWS
    paper = sample(rows[0], "longalpaca")
    assert_accounts_for(rows[0]["instruction"], [paper.context, paper.instruction], [PAPER_HEAD, "Now the paper ends. Question:"])
    summary = sample(rows[1], "longalpaca")
    assert_accounts_for(rows[1]["instruction"], [summary.context, summary.instruction], [PAPER_HEAD, "Now the paper ends."])
    material = sample(rows[2], "longalpaca")
    assert_accounts_for(rows[2]["instruction"], [material.context, material.instruction], [MATERIAL_HEAD, "Now the material ends."])
    two = sample(rows[3], "longalpaca")
    first, second = two.context.split("\n\n")  # these two licenses hold no blank line of their own
    assert first.startswith("GNU LESSER GENERAL PUBLIC LICENSE") and second.startswith('The "Artistic License"')
    assert_accounts_for(rows[3]["instruction"], [first, second, two.instruction], [TWO_PAPERS_HEAD, "Now the first paper ends. The second paper begins.", "Now the second paper ends."])
    book = sample(rows[4], "longalpaca")
    assert book.meta == {"template": "book", "title": "The GNU Free Documentation License"}
    book_head = "Below is some paragraphs in the book, The GNU Free Documentation License. Memorize the content and answer my question after the book.\n"
    assert_accounts_for(rows[4]["instruction"], [book.context, book.instruction], [book_head, "Now the material ends."])


@pytest.mark.parametrize("row", [5, 6])
def test_longalpaca_fixture_short_alpaca_rows_have_no_long_context(row):
    why = reason(LONGALPACA_ROWS[row], "longalpaca")
    assert why.startswith("no long context (")
    assert "fewer than 300" in why and "instruction matches no LongAlpaca document template" in why


@pytest.mark.parametrize("instruction,template,extra_meta", [
    ("Below is a paper. Memorize the paper and answer my question after the paper.\nThe paper begins.\n{doc}\nNow the paper ends.\nQuestion: {q}", "paper", {}),
    ("  Below is a paper.  Memorize the paper and answer my question after the paper.\n\n The paper begins. \n\n{doc}  \n\n Now the paper ends.   \n\n{q}  ", "paper", {}),
    ("Below is a paper. Memorize the material and answer my question after the paper.\n{doc}\n Now the material ends. {q}", "material", {}),
    ("Below is a paper. Memorize the material and answer my question after the paper.\n{doc}\n Now the material ends.{q}", "material", {}),
    ("Below is some paragraphs in the book, Dr. Jekyll and Mr. Hyde. Memorize the content and answer my question after the book.\n{doc} \n Now the material ends.{q}", "book", {"title": "Dr. Jekyll and Mr. Hyde"}),
])
def test_longalpaca_templates_tolerate_whitespace_variants(instruction, template, extra_meta):
    question = "What does the text grant?"
    record = {"instruction": instruction.format(doc=DOC, q=question), "output": "Answer: A license.", "input": "", "file": None}
    got = sample(record, "longalpaca")
    assert (got.context, got.instruction, got.answer) == (DOC, question, "A license.")
    assert got.meta == {"template": template, **extra_meta}


def test_longalpaca_two_papers_keeps_both_papers_apart():
    instruction = (f"{TWO_PAPERS_HEAD}{DOC}\n Now the first paper ends. The second paper begins. \n{DOC2}\n Now the second paper ends.\n"
                   "Which license is longer?")
    got = sample({"instruction": instruction, "output": "The second."}, "longalpaca")
    assert got.context == f"{DOC}\n\n{DOC2}"
    assert (got.instruction, got.answer, got.meta) == ("Which license is longer?", "The second.", {"template": "two_papers"})


WORDS = st.sampled_from(["license", "Work", "paper", "ends", "Now", "the", "Question", "begins.", "§4(b)", "许可", "a\tb", "—"])
GAPS = st.sampled_from(["", " ", "\n", " \n ", "\n\n", "  \t"])


@settings(max_examples=60, deadline=None)
@given(document=st.lists(WORDS, min_size=1, max_size=40).map(" ".join), question=st.lists(WORDS, min_size=1, max_size=8).map(" ".join),
       gaps=st.tuples(GAPS, GAPS, GAPS), template=st.sampled_from(["paper", "material"]))
def test_longalpaca_split_gives_back_exactly_the_document_and_question(document, question, gaps, template):
    head = PAPER_HEAD if template == "paper" else MATERIAL_HEAD
    end = "Now the paper ends." if template == "paper" else "Now the material ends."
    instruction = f"{head}{gaps[0]}{document}{gaps[1]}{end}{gaps[2]}{question}"
    got = sample({"instruction": instruction, "output": "yes"}, "longalpaca", min_context_words=0)
    assert (got.context, got.instruction, got.meta["template"]) == (document.strip(), question.strip(), template)


@pytest.mark.parametrize("instruction,expected", [
    (f"{PAPER_HEAD}{DOC}\nQuestion: where does the paper end?", "LongAlpaca paper template without its end marker ('Now the paper/material ends.' not found)"),
    (f"{PAPER_HEAD}{DOC}\n Now the paper ends. {DOC2}\n Now the paper ends. Why?", "ambiguous LongAlpaca paper template ('Now the paper/material ends.' occurs 2 times)"),
    (f"{PAPER_HEAD}{DOC}\n Now the paper ends. Question:   ", "no question after the document (LongAlpaca paper template)"),
    (f"{PAPER_HEAD}\n Now the paper ends. Why?", "empty document in a LongAlpaca paper template"),
    (f"{TWO_PAPERS_HEAD}{DOC}\n Now the second paper ends. {DOC2} Now the first paper ends. The second paper begins. Why?", "LongAlpaca two_papers template with its markers out of order"),
    (f"Summarise this contract.\n{DOC}\nWhat is it about?", "instruction matches no LongAlpaca document template"),
])
def test_longalpaca_rejects_prompts_it_cannot_split_surely(instruction, expected):
    assert reason({"instruction": instruction, "output": "x"}, "longalpaca") == expected


@pytest.mark.parametrize("record,expected", [
    ({"instruction": f"{PAPER_HEAD}{DOC}\nNow the paper ends. Why?"}, "missing field 'output'"),
    ({"instruction": None, "output": "x"}, "'instruction' is not a string (got null)"),
    ({"instruction": f"{PAPER_HEAD}{DOC}\nNow the paper ends. Why?", "output": "  "}, "empty 'output'"),
])
def test_longalpaca_rejects_missing_fields(record, expected):
    assert reason(record, "longalpaca") == expected


def test_longalpaca_fixture_end_to_end_counts(tmp_path):
    """The documented command on the fixture: 5 samples, 2 rejects, every record accounted for."""
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "t2vid.cli", "synth", str(FIXTURES / "longalpaca-sample.json"), "--preset", "longalpaca", "-o", str(out), "--workers", "1", "--size", "224x224", "-q"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["read"], manifest["samples"], manifest["rejected"]) == (7, 5, 2)
    assert manifest["samples"] + manifest["rejected"] == manifest["read"]
    assert manifest["rejected_by_reason"] == {"no_long_context": 2}
    samples = shard_lines(out)
    assert [s["meta"]["template"] for s in samples] == ["paper", "paper", "material", "two_papers", "book"]
    assert [s["instruction"] for s in samples] == [question for _, question, _ in LONGALPACA_EXPECTED]
    rejects = [json.loads(line) for line in (out / "rejects" / "shard-00000.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rejects] == [5, 6]
    assert rejects[0]["record"] == LONGALPACA_ROWS[5]


# --- LongQLoRA, booksum, Natural Questions -------------------------------------

def test_longqlora_fixture_three_shapes_split_without_loss():
    nq, book, read = (sample(row, "longqlora") for row in LONGQLORA_ROWS)
    assert nq.meta == {"template": "nq", "documents": 4}
    assert nq.instruction == "which license uses the term covered software"
    assert nq.context.startswith("Document [1](Title: GNU General Public License)") and "Document [4](Title: Artistic License)" in nq.context
    assert nq.answer == LONGQLORA_ROWS[0]["output"]
    assert_accounts_for(LONGQLORA_ROWS[0]["input"], [nq.context, nq.instruction], [NQ_HEAD, "Question:"])
    assert book.meta == {"template": "book_summary"}
    assert book.instruction == "Can you write an appropriate summary of the above paragraphs?"
    assert_accounts_for(LONGQLORA_ROWS[1]["input"], [book.context, book.instruction], ["", "Q:", "A:"])
    assert read.meta == {"template": "read_text"}
    assert read.instruction == "What must a modified version list on its title page?"
    assert_accounts_for(LONGQLORA_ROWS[2]["input"], [read.context, read.instruction], ["Read the following text and answer the question.", ""])


def test_nq_short_answer_option_and_flag():
    got = sample(LONGQLORA_ROWS[0], "longqlora", nq_short_answer=True)
    assert got.instruction == "which license uses the term covered software\nAnswer the question in short and give the corresponding document ID."
    assert got.answer == "the Mozilla Public License\nDocument ID: 3"
    assert got.meta["gold_document"] == 3
    record = {"prompt": LONGQLORA_ROWS[0]["input"] + "\nAnswer:", "completion": LONGQLORA_ROWS[0]["output"]}
    got = sample(record, "natural-questions", nq_short_answer=True)
    assert got.answer == "the Mozilla Public License\nDocument ID: 3"
    assert got.instruction.startswith("which license uses the term covered software\n")
    assert sample(record, "natural-questions").answer == LONGQLORA_ROWS[0]["output"]


def _nq_prompt(numbers=(1, 2), question="Question: who wrote it?") -> str:
    documents = "\n".join(f"Document [{n}](Title: License {n}) {DOC}" for n in numbers)
    return f"{NQ_HEAD}{documents}\n\n{question}"


@pytest.mark.parametrize("prompt,completion,expected", [
    (_nq_prompt((1, 3)), "Answer: x\nGold Document ID: 1", "Natural Questions documents not numbered 1 to n (1, 3)"),
    (_nq_prompt(question="who wrote it?"), "Answer: x\nGold Document ID: 1", "Natural Questions prompt without a 'Question:' line"),
    (_nq_prompt(), "The Foundation.", "Natural Questions output without 'Answer:' and 'Gold Document ID:' lines (needed for the short answer)"),
    (_nq_prompt(), "Answer: x\nGold Document ID: 7", "gold document ID out of range (7; 2 documents)"),
    (_nq_prompt(question="Question:   "), "Answer: x\nGold Document ID: 1", "empty question after the Natural Questions documents"),
    (f"{DOC}\n\nQ: Summarise.\nA:", "x", "prompt matches no Natural Questions template"),
])
def test_natural_questions_rejects_what_it_cannot_trust(prompt, completion, expected):
    assert reason({"prompt": prompt, "completion": completion}, "natural-questions", nq_short_answer=True) == expected


def test_book_summary_takes_the_last_question_and_keeps_earlier_ones_in_the_text():
    text = f"{DOC}\n\nQ: What is a Contribution?\nA: Any work of authorship.\n\n{DOC2}"
    got = sample({"prompt": f"{text}\n\nQ: Can you summarise the above paragraphs?\nA:", "completion": "A summary."}, "booksum")
    assert (got.context, got.instruction, got.answer, got.meta) == (text, "Can you summarise the above paragraphs?", "A summary.", {"template": "book_summary"})
    assert reason({"prompt": _nq_prompt(), "completion": "x"}, "booksum") == "prompt matches no book summary template"
    assert reason({"prompt": "Q: Why?\nA:", "completion": "x"}, "booksum").startswith("no long context (")


@pytest.mark.parametrize("prompt,expected", [
    (f"Read the following text and answer the question.\n\n{DOC}\n\n{DOC2}", "last paragraph too long for a question (400 words, more than 100)"),
    (f"Read the following text and answer the question.\n\n{DOC} What is it?", "read-the-text prompt without a blank line before the question"),
    (f"Tell me about this.\n{DOC}\n\nWhat is it?", "input matches no LongQLoRA template"),
])
def test_longqlora_rejects_prompts_without_a_sure_split(prompt, expected):
    assert reason({"input": prompt, "output": "x"}, "longqlora") == expected


def test_longqlora_also_reads_longalpaca_rows():
    got = sample({"input": LONGALPACA_ROWS[2]["instruction"], "output": LONGALPACA_ROWS[2]["output"]}, "longqlora")
    assert got.meta == {"template": "material"}
    assert got.instruction == "What does the license say about distributing object code?"


# --- LongBench -----------------------------------------------------------------

def _longbench(**changes) -> dict:
    record = {"input": "Who grants the license?", "context": DOC, "answers": ["Each Contributor", "the Licensor"], "length": 400,
              "dataset": "qasper", "language": "en", "all_classes": None, "_id": "abc123"}
    record.update(changes)
    return record


def test_longbench_first_answer_is_the_target_and_the_rest_is_kept():
    got = sample(_longbench(), "longbench")
    assert (got.context, got.instruction, got.answer) == (DOC, "Who grants the license?", "Each Contributor")
    assert got.meta == {"template": "longbench", "dataset": "qasper", "language": "en", "_id": "abc123", "length": 400, "other_answers": ["the Licensor"]}
    classes = sample(_longbench(dataset="trec", all_classes=["Number", "Person"], answers=["Person"]), "longbench")
    assert classes.meta["all_classes"] == ["Number", "Person"] and "other_answers" not in classes.meta


def test_longbench_empty_input_takes_the_dataset_question():
    got = sample(_longbench(input="", dataset="gov_report_e"), "longbench")
    assert got.instruction == "Write a one-page summary of the report."
    assert reason(_longbench(input="", dataset="qasper"), "longbench") == "empty 'input' and no default question for the dataset (qasper)"


@pytest.mark.parametrize("answers,expected", [
    ([], "empty 'answers'"),
    ("Each Contributor", "'answers' is not a list of non-empty strings"),
    ([1, 2], "'answers' is not a list of non-empty strings"),
    (["ok", ""], "'answers' is not a list of non-empty strings"),
])
def test_longbench_rejects_bad_answers(answers, expected):
    assert reason(_longbench(answers=answers), "longbench") == expected


# --- generic, several turns ----------------------------------------------------

def test_generic_lists_become_turns_over_one_context(tmp_path):
    record = {"context": DOC, "question": ["What is licensed?", "Who may sue?", "Is there a warranty?"], "answer": ["The Work.", "Nobody.", "No."]}
    got = sample(record, "generic")
    assert (got.instruction, got.answer) == ("What is licensed?", "The Work.")
    assert got.turns == ({"instruction": "Who may sue?", "answer": "Nobody."}, {"instruction": "Is there a warranty?", "answer": "No."})
    source = write_jsonl(tmp_path / "turns.jsonl", [record])
    run_synth(tmp_path / "out", source, size="224x224")
    (written,) = shard_lines(tmp_path / "out")
    assert written["turns"] == list(got.turns)


@pytest.mark.parametrize("question,answer,expected", [
    (["a?", "b?"], ["A."], "'question' and 'answer' differ in length (2 questions, 1 answers)"),
    (["a?", "b?"], "A.", "'answer' is not a list of non-empty strings"),
    (["a?", None], ["A.", "B."], "'question' is not a list of non-empty strings"),
])
def test_generic_turn_lists_must_pair_up(question, answer, expected):
    assert reason({"context": DOC, "question": question, "answer": answer}, "generic") == expected


# --- listing ---------------------------------------------------------------------

def test_presets_command_lists_every_preset_and_profile_on_one_line(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    presets, profiles = list_presets(), list_profiles()
    assert set(presets) >= {"generic", "longalpaca", "longqlora", "booksum", "natural-questions", "longbench"}
    for name, item in [*presets.items(), *profiles.items()]:
        assert item.description
        assert sum(1 for line in lines if line.split()[0] == name and item.description in line) == 1
    assert len(lines) == len(presets) + len(profiles) + 2


def test_a_preset_file_path_works_and_unknown_names_are_usage_errors(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("description: my data\nparser: fields\nfields: {context: body, question: ask, answer: reply}\nmin_context_words: 5\n")
    assert load_preset(str(path)).fields["context"] == "body"
    got = sample({"body": DOC, "ask": "Why?", "reply": "Because."}, str(path))
    assert got.instruction == "Why?"
    assert main(["synth", "-o", str(tmp_path / "out"), "--preset", "nosuch", "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("t2vid: error: unknown preset 'nosuch'; known presets: booksum, generic,") and "\n" not in error


@pytest.mark.parametrize("text,message", [
    ("description: x\nparser: longalpaca\nfields: {instruction: instruction}\n", "t2vid: error: preset bad: `fields` must name prompt, answer for parser longalpaca"),
    ("description: x\nparser: fields\nfeilds: {}\n", "unexpected keyword argument 'feilds'"),
    ("description: x\nparser: nosuch\nfields: {}\n", "t2vid: error: preset bad: unknown parser 'nosuch'"),
])
def test_a_broken_preset_file_is_a_one_line_usage_error(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["synth", "-o", str(tmp_path / "out"), "--preset", str(path), "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and error.startswith("t2vid: error: preset ") and "\n" not in error

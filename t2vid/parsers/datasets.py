"""Dataset-specific parsers that split a combined prompt into context and question.

Each is registered by name with `@parser` and named by a preset file. Prompt
datasets (LongAlpaca, LongQLoRA, Long-Data-Collections) put the document and
the question in one string; a parser tries the dataset's prompt templates in
order. A template returns None when the prompt is not of its shape, and
rejects a prompt that is of its shape but cannot be split without guessing:
a wrong split would hide the question in the frames or leak the document into
the instruction, and nobody would notice until training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from t2vid.parsers.base import Parsed, Preset, parser, require_text
from t2vid.rejects import Rejected


def require_texts(record: dict, name: str) -> list[str]:
    """A required non-empty list of non-empty strings, or a reject naming what is wrong."""
    if name not in record:
        raise Rejected("missing_field", f"missing field {name!r}")
    value = record[name]
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise Rejected("not_a_string_list", f"{name!r} is not a list of non-empty strings")
    if not value:
        raise Rejected("empty_field", f"empty {name!r}")
    return value


@parser("fields", fields=("context", "question", "answer"))
def parse_fields(record: dict, preset: Preset) -> Parsed:
    """Context, question and answer each in a field of their own.

    Question and answer may instead be lists of equal length: several questions
    about one context. The first pair leads the sample; the others become its
    `turns`, so the context is rendered once instead of once per question.
    """
    names = preset.fields
    context = require_text(record, names["context"])
    if not isinstance(record.get(names["question"]), list) and not isinstance(record.get(names["answer"]), list):
        return Parsed(context, require_text(record, names["question"]), require_text(record, names["answer"]))
    questions, answers = require_texts(record, names["question"]), require_texts(record, names["answer"])
    if len(questions) != len(answers):
        raise Rejected("turn_count_mismatch", f"{names['question']!r} and {names['answer']!r} differ in length ({len(questions)} questions, {len(answers)} answers)")
    turns = tuple({"instruction": q.strip(), "answer": a.strip()} for q, a in zip(questions[1:], answers[1:]))
    return Parsed(context, questions[0], answers[0], turns=turns)


@parser("longbench", fields=("context", "question", "answer"))
def parse_longbench(record: dict, preset: Preset) -> Parsed:
    """THUDM/LongBench: the first of `answers` is the target, the others go to meta.

    Summarisation and counting tasks have an empty `input`; their question
    comes from the preset's `questions_for_empty_input`, by `dataset`.
    """
    names, options = preset.fields, preset.options
    context = require_text(record, names["context"])
    answers = require_texts(record, names["answer"])
    question = record.get(names["question"])
    if question is None or (isinstance(question, str) and not question.strip()):
        dataset = str(record.get("dataset", ""))
        question = options.get("questions_for_empty_input", {}).get(dataset.removesuffix("_e"))
        if question is None:
            raise Rejected("no_question", f"empty {names['question']!r} and no default question for the dataset ({dataset or 'unnamed'})")
    else:
        question = require_text(record, names["question"])
    meta = {"template": "longbench"}
    meta.update({key: record[key] for key in options.get("meta_fields", ()) if record.get(key) not in (None, "", [])})
    if len(answers) > 1:
        meta["other_answers"] = answers[1:]
    return Parsed(context, question, answers[0], meta=meta)


# --- prompt templates -------------------------------------------------------

Template = Callable[[str, str, dict], "Parsed | None"]


def _phrase(text: str) -> str:
    """A fixed phrase as a regex: any whitespace (or none) where it has a space, {a|b} for either word."""
    pieces = []
    for i, part in enumerate(re.split(r"\{([^}]*)\}", text)):
        pieces.append("(?:" + "|".join(map(re.escape, part.split("|"))) + ")" if i % 2 else re.escape(part))
    return "".join(pieces).replace(r"\ ", r"\s*")


def _strip_label(text: str, label: str) -> str:
    """'Question: why?' -> 'why?'; LongAlpaca labels some questions and answers, not all."""
    return re.sub(rf"^\s*{label}:\s*", "", text).strip()


@dataclass(frozen=True)
class Marker:
    text: str  # as written in the dataset, {a|b} where it varies

    @cached_property
    def pattern(self) -> re.Pattern:
        return re.compile(_phrase(self.text))

    @property
    def label(self) -> str:
        """The marker as a reject reason names it: 'Now the paper/material ends.'"""
        return re.sub(r"\{([^}]*)\}", lambda m: m.group(1).replace("|", "/"), self.text)


@dataclass(frozen=True)
class DocumentTemplate:
    """A LongAlpaca prompt: a fixed head, documents ended by markers, then the question.

    Every marker must occur exactly once after the head: a second "Now the
    paper ends." inside a paper would make the split a guess.
    """

    name: str
    head: str  # regex matched at the start; may capture `title`
    markers: tuple[Marker, ...]

    def __call__(self, prompt: str, answer: str, options: dict) -> Parsed | None:
        head = re.match(r"\s*" + self.head, prompt)
        if head is None:
            return None
        rest, documents, start = prompt[head.end():], [], 0
        for marker in self.markers:
            hits = list(marker.pattern.finditer(rest))
            if not hits:
                raise Rejected("template_marker_missing", f"LongAlpaca {self.name} template without its end marker ({marker.label!r} not found)")
            if len(hits) > 1:
                raise Rejected("template_ambiguous", f"ambiguous LongAlpaca {self.name} template ({marker.label!r} occurs {len(hits)} times)")
            if hits[0].start() < start:
                raise Rejected("template_out_of_order", f"LongAlpaca {self.name} template with its markers out of order")
            documents.append(rest[start:hits[0].start()].strip())
            start = hits[0].end()
        if not all(documents):
            raise Rejected("empty_document", f"empty document in a LongAlpaca {self.name} template")
        question = _strip_label(rest[start:], "Question")
        if not question:
            raise Rejected("no_question", f"no question after the document (LongAlpaca {self.name} template)")
        meta = {"template": self.name, **head.groupdict()}
        return Parsed("\n\n".join(documents), question, _strip_label(answer, "Answer"), meta=meta)


PAPER_BEGINS = "(?:" + _phrase(" The {paper|material} begins.") + ")?"
PAPER_END = Marker("Now the {paper|material} ends.")
LONGALPACA = (
    DocumentTemplate("paper", _phrase("Below is a paper. Memorize the paper and answer my question after the {paper|material}.") + PAPER_BEGINS, (PAPER_END,)),
    DocumentTemplate("material", _phrase("Below is a paper. Memorize the material and answer my question after the {paper|material}.") + PAPER_BEGINS, (PAPER_END,)),
    DocumentTemplate(
        "two_papers",
        _phrase("There are two papers. Memorize them and answer my question after the {papers|paper}.") + "(?:" + _phrase(" The first paper begins.") + ")?",
        (Marker("Now the first paper ends. The second paper begins."), Marker("Now the second paper ends.")),
    ),
    DocumentTemplate(
        "book",
        _phrase("Below is some paragraphs in the book, ") + r"(?P<title>[^\n]*?)" + _phrase(". Memorize the content and answer my question after the book.") + "(?:" + _phrase(" The book begins.") + ")?",
        (Marker("Now the {material|book} ends."),),
    ),
)

NQ_HEAD = re.compile(r"\s*" + _phrase("Write a high-quality answer for the given question using only the provided search results (some of which might be irrelevant)."))
NQ_DOCUMENT = re.compile(r"Document \[(\d+)\]\(Title:")
NQ_SHORT_INSTRUCTION = "Answer the question in short and give the corresponding document ID."


def natural_questions(prompt: str, answer: str, options: dict) -> Parsed | None:
    """Retrieval prompt: numbered documents, then 'Question: ...'; the labels stay in the frames.

    With options["nq_short_answer"] the target becomes the T2Vid short form
    "{short answer}\\nDocument ID: {N}" and the question asks for it.
    """
    head = NQ_HEAD.match(prompt)
    if head is None:
        return None
    body = prompt[head.end():]
    questions = list(re.finditer(r"\n\s*Question:", body))
    if not questions:
        raise Rejected("no_question", "Natural Questions prompt without a 'Question:' line")
    context = body[: questions[-1].start()].strip()
    question = re.sub(r"\n\s*Answer:\s*$", "", body[questions[-1].end():]).strip()
    numbers = [int(n) for n in NQ_DOCUMENT.findall(context)]
    if not context.startswith("Document [") or numbers != list(range(1, len(numbers) + 1)):
        raise Rejected("documents_not_numbered", f"Natural Questions documents not numbered 1 to n ({', '.join(map(str, numbers[:12])) or 'none found'})")
    if not question:
        raise Rejected("no_question", "empty question after the Natural Questions documents")
    meta = {"template": "nq", "documents": len(numbers)}
    if not options.get("nq_short_answer"):
        return Parsed(context, question, answer, meta=meta)
    short = re.search(r"^\s*Answer:[ \t]*(\S[^\n]*)", answer)
    gold = re.search(r"Gold Document ID:\s*(\d+)", answer)
    if short is None or gold is None:
        raise Rejected("no_short_answer", "Natural Questions output without 'Answer:' and 'Gold Document ID:' lines (needed for the short answer)")
    if not 1 <= int(gold.group(1)) <= len(numbers):
        raise Rejected("gold_document_out_of_range", f"gold document ID out of range ({gold.group(1)}; {len(numbers)} documents)")
    meta["gold_document"] = int(gold.group(1))
    return Parsed(context, f"{question}\n{NQ_SHORT_INSTRUCTION}", f"{short.group(1).strip()}\nDocument ID: {gold.group(1)}", meta=meta)


def book_summary(prompt: str, answer: str, options: dict) -> Parsed | None:
    """'{text}\\n\\nQ: {question}\\nA:': the last 'Q:' line is the question, so a 'Q:' inside the book stays text."""
    questions = list(re.finditer(r"\n\s*Q:", prompt))
    if not questions:
        return None
    tail = re.fullmatch(r"\s*(.*?)\s*\n\s*A:\s*", prompt[questions[-1].end():], re.S)
    if tail is None:
        return None
    context = prompt[: questions[-1].start()].strip()
    if not context or not tail.group(1):
        raise Rejected("empty_document", "book summary prompt with an empty text or question")
    return Parsed(context, tail.group(1), answer, meta={"template": "book_summary"})


READ_TEXT_HEAD = re.compile(r"\s*" + _phrase("Read the following text and answer the question."))


def read_text(prompt: str, answer: str, options: dict) -> Parsed | None:
    """'Read the following text and answer the question.\\n\\n{text}\\n\\n{question}'.

    The question is the last paragraph; one longer than options
    ["max_question_words"] is more likely the end of the text, so it is rejected.
    """
    head = READ_TEXT_HEAD.match(prompt)
    if head is None:
        return None
    body = prompt[head.end():].strip()
    breaks = list(re.finditer(r"\n[ \t]*\n\s*", body))
    if not breaks:
        raise Rejected("no_question", "read-the-text prompt without a blank line before the question")
    context, question = body[: breaks[-1].start()].strip(), body[breaks[-1].end():].strip()
    limit = options.get("max_question_words", 100)
    if len(question.split()) > limit:
        raise Rejected("question_too_long", f"last paragraph too long for a question ({len(question.split())} words, more than {limit})")
    if not context:
        raise Rejected("empty_document", "read-the-text prompt with an empty text")
    return Parsed(context, question, answer, meta={"template": "read_text"})


PROMPT_FIELDS = ("prompt", "answer")


def split_prompt(record: dict, preset: Preset, templates: tuple[Template, ...], family: str) -> Parsed:
    """The first template that fits the prompt field; short unmatched prompts are 'no long context'."""
    prompt = require_text(record, preset.fields["prompt"])
    answer = require_text(record, preset.fields["answer"])
    for template in templates:
        parsed = template(prompt, answer, preset.options)
        if parsed is not None:
            return parsed
    unmatched = f"{preset.fields['prompt']} matches no {family} template"
    words = len(prompt.split())
    if words < preset.min_context_words:
        raise Rejected("no_long_context", f"no long context ({words} words, fewer than {preset.min_context_words}; {unmatched})")
    raise Rejected("no_template", unmatched)


@parser("longalpaca", fields=PROMPT_FIELDS)
def parse_longalpaca(record: dict, preset: Preset) -> Parsed:
    """Yukang/LongAlpaca-12k: one or two papers, or book paragraphs, then the question."""
    return split_prompt(record, preset, LONGALPACA, "LongAlpaca document")


@parser("longqlora", fields=PROMPT_FIELDS)
def parse_longqlora(record: dict, preset: Preset) -> Parsed:
    """YeungNLP/LongQLoRA-Dataset: Natural Questions, book summaries, read-and-answer and LongAlpaca rows."""
    return split_prompt(record, preset, (natural_questions, read_text, *LONGALPACA, book_summary), "LongQLoRA")


@parser("book_summary", fields=PROMPT_FIELDS)
def parse_book_summary(record: dict, preset: Preset) -> Parsed:
    """togethercomputer/Long-Data-Collections fine-tune/booksum."""
    return split_prompt(record, preset, (book_summary,), "book summary")


@parser("natural_questions", fields=PROMPT_FIELDS)
def parse_natural_questions(record: dict, preset: Preset) -> Parsed:
    """togethercomputer/Long-Data-Collections fine-tune/natural_questions_10_200_docs."""
    return split_prompt(record, preset, (natural_questions,), "Natural Questions")

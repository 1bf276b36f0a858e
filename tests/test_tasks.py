"""Generated tasks are right by construction: an independent checker re-derives every answer from `texts`.

The checker below shares no code with t2vid.tasks: it reads the frame texts
(and overlap_lines) the way a person reading the frames would, and computes
each answer from the question's quotes alone.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import FIXTURES, LICENSES

CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
OPENERS = set(" \t\"'“‘(«[{<")
CLOSERS = set(" \t\"'”’).,;:!?»]}>")


# --- the checker ----------------------------------------------------------------


class Frames:
    """A sample's frames as a reader sees them."""

    def __init__(self, record: dict):
        self.texts = record["texts"]
        carried = record.get("overlap_lines") or [0] * len(self.texts)
        self.new = [(k, line) for k, text in enumerate(self.texts) for line in text.split("\n")[carried[k] :]]
        self.squeezed = "".join(re.sub(r"\s", "", line) for _, line in self.new)
        self.starts, offset = [], 0
        for _, line in self.new:
            self.starts.append(offset)
            offset += len(re.sub(r"\s", "", line))
        self.reading = "\n".join(line for _, line in self.new)

    def showing(self, text: str) -> list[int]:
        return [k for k, frame in enumerate(self.texts) if any(text in line for line in frame.split("\n"))]

    def once(self, text: str) -> int:
        """Position of `text` in the squeezed reading; it must occur exactly once."""
        squeezed = re.sub(r"\s", "", text)
        hits = [m.start() for m in re.finditer(f"(?={re.escape(squeezed)})", self.squeezed)]
        assert len(hits) == 1, f"{text!r} occurs {len(hits)} times"
        return hits[0]

    def frames_of_span(self, start: int, length: int) -> list[int]:
        return sorted({k for (k, line), s in zip(self.new, self.starts) if s < start + length and start < s + len(re.sub(r"\s", "", line))})

    def single_frame(self, quote: str) -> int:
        self.once(quote)
        shown = self.showing(quote)
        assert len(shown) == 1, f"{quote!r} shown by frames {shown}"
        return shown[0]


def quoted(instruction: str, text: str, chinese: bool) -> bool:
    return (f"“{text}”" if chinese else f'"{text}"') in instruction


def expected_answer(task: dict, instruction: str, frames: Frames, fps: float | None) -> tuple[str, list[int]]:
    """The answer and frames a reader derives for one task."""
    kind = task["kind"]
    chinese = CJK.search(re.sub(r'“[^”]*”|"[^"]*"|\n.*', "", instruction)) is not None  # the question's own words
    if kind == "locate":
        quote = task["quotes"][0]
        assert quoted(instruction, quote, chinese)
        k = frames.single_frame(quote)
        label = f"第{k + 1}帧" if chinese else f"Frame {k + 1}"
        if fps:
            seconds = k / fps
            stamp = "%02d:%05.2f" % (seconds // 60, seconds - 60 * (seconds // 60))
            label += f"（{stamp}）" if chinese else f" ({stamp})"
        return label, [k]
    if kind == "order":
        quotes = task["quotes"]
        for letter, quote in zip("ABCDE", quotes):
            assert f"({letter}) " + (f"“{quote}”" if chinese else f'"{quote}"') in instruction
        where = [frames.single_frame(q) for q in quotes]
        assert len(set(where)) == len(where) and 3 <= len(where) <= 5
        return ", ".join(letter for _, letter in sorted(zip(where, "ABCDE"))), sorted(where)
    if kind == "before_after":
        a, b = task["quotes"]
        assert quoted(instruction, a, chinese) and quoted(instruction, b, chinese)
        ka, kb = frames.single_frame(a), frames.single_frame(b)
        assert ka != kb
        apart = abs(ka - kb)
        if chinese:
            return f"{'之前' if ka < kb else '之后'}，相隔{apart}帧", sorted([ka, kb])
        return f"{'before' if ka < kb else 'after'}, {apart} frame{'' if apart == 1 else 's'} apart", sorted([ka, kb])
    if kind == "next":
        quote = task["quotes"][0]
        assert quoted(instruction, quote, chinese)
        frames.once(quote)
        at = frames.reading.index(quote)
        rest = frames.reading[at + len(quote) :]
        following = rest.lstrip(" \n")
        answer = task["answer"] if "options" not in task else task["options"]["ABCDE".index(task["answer"])]
        assert following.startswith(answer) and "\n" not in answer
        tail = following[len(answer) :]
        assert not tail or tail[0].isspace() or CJK.match(tail[0]) or CJK.match(answer[-1]), "the answer stops inside a word"
        words = len(CJK.findall(answer)) + len(re.findall(r"[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+", answer))
        if "options" not in task:
            wanted = re.search(r"next (\d+) words|接下来的(\d+)个字", instruction)
            assert int(wanted.group(1) or wanted.group(2)) == words
        start_of_answer = at + len(quote) + len(rest) - len(following)
        frame_of = [k for k, _ in frames.new]  # by line of the reading
        return answer, sorted({frame_of[frames.reading.count("\n", 0, at)], frame_of[frames.reading.count("\n", 0, start_of_answer)]})
    if kind == "count":
        term = task["term"]
        assert quoted(instruction, term, chinese)
        if CJK.match(term):
            showing = [k for k, text in enumerate(frames.texts) if term in text]
            assert frames.squeezed.count(term) == sum(line.count(term) for _, line in frames.new), "a term split over a line break"
        else:
            showing = []
            for k, text in enumerate(frames.texts):
                hits = list(re.finditer(re.escape(term), text, re.IGNORECASE))
                for m in hits:
                    before = text[m.start() - 1] if m.start() else " "
                    after = text[m.end()] if m.end() < len(text) else " "
                    assert m.group() == term and (before in OPENERS or before == "\n") and (after in CLOSERS or after == "\n"), f"{term!r} inside {text[m.start() - 5 : m.end() + 5]!r}"
                if hits:
                    showing.append(k)
        assert 2 <= len(showing) <= 10
        return str(len(showing)), showing
    if kind == "needle":
        needles = task["needles"]
        positions = []
        for needle in needles:
            assert needle["value"] in needle["text"] and needle["key"].lower().removeprefix("the ") in needle["text"].lower()
            positions.append(frames.once(needle["text"]))
            frames.once(needle["value"])
        if task["variant"] == "multi_value":
            assert len({n["key"] for n in needles}) == 1 and len(needles) >= 2 and needles[0]["key"] in instruction
            ordered = [n for _, n in sorted(zip(positions, needles), key=lambda pair: pair[0])]
            spans = sorted({k for p, n in zip(positions, needles) for k in frames.frames_of_span(p, len(re.sub(r"\s", "", n["text"])))})
            return ", ".join(n["value"] for n in ordered), spans
        asked = [(p, n) for p, n in zip(positions, needles) if n["key"] in instruction]
        assert len(asked) == 1 and (task["variant"] == "single") == (len(needles) == 1)
        p, n = asked[0]
        assert task["depth"] == n["depth"]
        return n["value"], frames.frames_of_span(p, len(re.sub(r"\s", "", n["text"])))
    if kind == "first_last":
        if task["variant"] == "first":
            return frames.texts[0].split("\n")[0], [0]
        return frames.texts[-1].split("\n")[-1], [len(frames.texts) - 1]
    raise AssertionError(f"unknown kind {kind}")


def check_record(record: dict, fps: float | None = None) -> Counter:
    """Assert every task of a sample; returns how many of each kind were checked."""
    conversation = [(record["instruction"], record["answer"])] + [(t["instruction"], t["answer"]) for t in record.get("turns", [])]
    frames = Frames(record)
    checked = Counter()
    for task in record["tasks"]:
        instruction, answer = conversation[task["turn"]]
        assert answer == task["answer"]
        question = instruction.split("\n选项：")[0].split("\nOptions:")[0] if "options" in task else instruction
        expected, where = expected_answer(task, question, frames, fps)
        if "options" in task:
            options = task["options"]
            assert 2 <= len(options) <= 4 and len(set(options)) == len(options)
            for letter, option in zip("ABCD", options):
                assert f"\n{letter}. {option}" in instruction
            assert options["ABCD".index(answer)] == expected
        else:
            assert answer == expected
        assert task["frames"] == where, (task, where)
        checked[task["kind"]] += 1
    return checked


# --- generation -------------------------------------------------------------------

ALL_KINDS = ("locate", "order", "next", "count", "before_after", "needle", "first_last")


@lru_cache(maxsize=None)
def chinese_sentences() -> tuple[str, ...]:
    for line in (FIXTURES / "generic-sample.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            context = json.loads(line).get("context")
        except ValueError:
            continue
        if isinstance(context, str) and "。" in context:
            return tuple(s + "。" for s in context.split("。") if s.strip())
    raise AssertionError("no Chinese fixture")


@lru_cache(maxsize=None)
def english_words(name: str) -> tuple[str, ...]:
    return tuple((LICENSES / name).read_text().split())


def context_for(language: str, rng: random.Random) -> str:
    """Real-shaped text: a stretch of a license, shuffled Chinese sentences, or both interleaved."""
    def english(n: int) -> str:
        words = english_words(rng.choice(("Apache-2.0", "GPL-3", "MPL-2.0", "BSD")))
        start = rng.randrange(max(1, len(words) - n))
        return " ".join(words[start : start + n])

    def chinese(n: int) -> str:
        return "".join(rng.choice(chinese_sentences()) for _ in range(n))

    if language == "en":
        return english(rng.randint(150, 900))
    if language == "zh":
        return chinese(rng.randint(8, 40))
    return " ".join(english(rng.randint(20, 80)) if k % 2 else chinese(rng.randint(1, 4)) for k in range(rng.randint(4, 10)))


@lru_cache(maxsize=None)
def layouter(size: int, font_size: int):
    from t2vid.fonts import resolve_face
    from t2vid.layout import Layouter
    from t2vid.style import RenderStyle

    face = resolve_face(None)
    return Layouter(RenderStyle(width=size, height=size, font=face.path, font_index=face.index, font_size=font_size))


def make_record(context: str, sample_id: str, segmenter: str, words: int, overlap: int, task_settings, size: int = 448, font_size: int = 20) -> dict:
    """What the pipeline does for one sample: needles, segmentation, tasks, turns."""
    from t2vid.segment import segment
    from t2vid.tasks import generate_tasks, insert_needles, needle_plan

    plan = needle_plan(task_settings, sample_id, context)
    seg = segment(insert_needles(context, plan), layouter(size, font_size), segmenter, words, overlap)
    overlap_lines = [f.overlap_lines for f in seg.frames]
    tasks = generate_tasks(seg.texts, overlap_lines if overlap else None, task_settings, sample_id, plan)
    record = {"instruction": "q", "answer": "a", "texts": seg.texts, "turns": [], "tasks": []}
    if overlap:
        record["overlap_lines"] = overlap_lines
    for task in tasks:
        record["turns"].append({"instruction": task.instruction, "answer": task.answer})
        record["tasks"].append(task.record(len(record["turns"])))
    return record


def test_thousands_of_tasks_agree_with_the_checker():
    """English, Chinese and mixed contexts; every segmenter; with and without overlap, choices and fps."""
    from t2vid.tasks import TaskSettings

    rng = random.Random(12)
    checked = Counter()
    languages = Counter()
    for n in range(330):
        language = ("en", "zh", "mixed")[n % 3]
        segmenter = ("words", "sentences", "fit")[n // 3 % 3]
        overlap = (0, 1, 2)[n // 9 % 3]
        fps = (None, 2.0)[n % 2]
        choices = n % 5 == 0
        task_settings = TaskSettings(kinds=ALL_KINDS, per_sample=7, multiple_choice=choices, fps=fps, seed=n % 4)
        record = make_record(context_for(language, rng), f"s-{n}", segmenter, rng.choice((30, 60, 115)), overlap, task_settings, size=rng.choice((224, 448)))
        checked += check_record(record, fps)
        languages[language] += len(record["tasks"])
    assert sum(checked.values()) >= 2000, checked
    assert all(checked[kind] >= 100 for kind in ALL_KINDS), checked
    assert min(languages.values()) >= 500, languages


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    language=st.sampled_from(["en", "zh", "mixed"]),
    segmenter=st.sampled_from(["words", "sentences", "fit"]),
    words=st.integers(5, 120),
    overlap=st.integers(0, 3),
    font_size=st.sampled_from([14, 20, 28]),
)
def test_any_layout_gives_checked_tasks(seed, language, segmenter, words, overlap, font_size):
    from t2vid.tasks import TaskSettings

    context = context_for(language, random.Random(seed))
    task_settings = TaskSettings(kinds=ALL_KINDS, per_sample=7, seed=seed, multiple_choice=seed % 2 == 0)
    check_record(make_record(context, f"h-{seed}", segmenter, words, overlap, task_settings, size=224, font_size=font_size))


def test_tasks_do_not_depend_on_anything_but_seed_and_id():
    from t2vid.tasks import TaskSettings

    context = context_for("en", random.Random(3))
    one = make_record(context, "same", "words", 60, 1, TaskSettings(kinds=ALL_KINDS, per_sample=5, seed=7))
    two = make_record(context, "same", "words", 60, 1, TaskSettings(kinds=ALL_KINDS, per_sample=5, seed=7))
    other = make_record(context, "same", "words", 60, 1, TaskSettings(kinds=ALL_KINDS, per_sample=5, seed=8))
    assert one == two and one["tasks"] and one["tasks"] != other["tasks"]


def template_of(instruction: str, templates: dict) -> tuple:
    """Which phrasing a generated instruction was made from."""
    for name, languages in templates.items():
        for language, phrasings in languages.items():
            for k, phrasing in enumerate(phrasings):
                pattern = re.sub(r"\\\{\w+\\\}", "(?s:.+?)", re.escape(phrasing))
                if re.match(pattern, instruction):
                    return name, language, k
    raise AssertionError(f"no phrasing matches {instruction!r}")


def test_no_phrasing_dominates_the_generated_instructions():
    """With every kind asked, no question phrasing makes up more than 5% of the instructions."""
    from t2vid.phrasings import PHRASINGS
    from t2vid.tasks import TaskSettings

    rng = random.Random(5)
    used = Counter()
    for n in range(150):
        record = make_record(context_for(("en", "zh")[n % 2], rng), f"p-{n}", "words", 115, 0, TaskSettings(kinds=ALL_KINDS, per_sample=4, seed=1))
        used.update(template_of(turn["instruction"], PHRASINGS) for turn in record["turns"])
    total = sum(used.values())
    assert total >= 500
    (phrasing, top), = used.most_common(1)
    assert top / total <= 0.05, (phrasing, top, total)


def test_a_too_short_context_gets_only_the_tasks_it_can_carry():
    from t2vid.tasks import TaskSettings

    record = make_record("Just a few words here.", "tiny", "words", 115, 0, TaskSettings(kinds=ALL_KINDS, per_sample=7))
    assert {t["kind"] for t in record["tasks"]} <= {"locate", "next", "first_last", "needle", "count"}
    check_record(record)


def test_every_kind_the_settings_accept_has_a_maker():
    from t2vid.config import TASK_KINDS
    from t2vid.tasks import MAKERS

    assert tuple(MAKERS) == TASK_KINDS == ALL_KINDS

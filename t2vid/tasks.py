"""Tasks: temporal questions about a sample's own frames, with answers correct by construction.

A model that reads frames one at a time can answer most long-text questions
from a single frame. These questions need the order of frames, their count or
reading across a boundary, and t2vid knows exactly which text is on which
frame, so each answer is computed from the frame texts, never guessed.

Everything is computed from what is drawn (`texts`, and `overlap_lines` with
--overlap), so the answer holds for the frames as rendered:
- A *line* is one drawn line. With --overlap a frame starts with the last
  lines of the frame before; such a carried line is one line shown by two (or
  more) frames. The *reading* is every distinct line once, in order.
- A question that quotes a passage to find it (locate, order, before_after)
  only quotes lines shown by exactly one frame, inside one line, and the
  passage occurs exactly once in the whole reading with all whitespace
  removed, so no line or frame break can hide a second occurrence.
- `frames` of a task are 0-based frame indices: for a quoted passage, the
  frame that first shows it; for count, every frame that shows the term
  (carried lines included: that is what a viewer counts).

Randomness comes from --seed and the sample id only, so a sample gets the same
tasks whatever the worker count; needles are seeded from the context instead,
so the samples of one document share their frames.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from t2vid.charset import CJK_CLASS, is_cjk
from t2vid.phrasings import (
    CHOICE_HEAD,
    CHOICE_HINT,
    HINTS,
    NEEDLE_FACT,
    NEEDLE_KEY,
    NEEDLE_VALUE_FACT,
    NEEDLE_WORDS,
    PHRASINGS,
    QUOTES,
)

NEEDLE_VARIANTS = ("single", "multi_key", "multi_value")
DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)  # where needles go, as a share of the context
PHRASE_PIECES = {"en": (3, 6), "zh": (5, 10)}  # quoted passage length: words, or CJK characters
NEXT_PIECES = {"en": (2, 4), "zh": (3, 6)}  # length of a `next` answer
COUNT_RANGE = (2, 10)  # frames a counted term appears in
FUNCTION_HAN = set("的了是在和之一不也就都而及与着或其为以于这那有个")  # a counted Chinese pair holds none: "号之" is no term
LETTERS = "ABCDE"
CHOICES = 4  # options per multiple-choice task, at most
ATTEMPTS = 12  # random draws per task before a kind gives up on a sample
LANGUAGE_SAMPLE = 5000  # characters looked at to pick the language of the phrasings

PIECE = re.compile(f"[{CJK_CLASS}]|[^\\s{CJK_CLASS}]+")
NO_QUOTE = re.compile("[\"“”「」]")
WORD_EDGE = "\"'“”‘’«»()[]{}<>.,;:!?"  # stripped from a token's ends before it is compared with a term
SENTENCE_END = re.compile(r"[.!?](?=\s)|[。！？]")
CJK_LETTER = re.compile(f"(?![\\u3000-\\u303f\\uff00-\\uff0f\\uff1a-\\uff20])[{CJK_CLASS}]")  # CJK, not its punctuation
LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


@dataclass(frozen=True)
class TaskSettings:
    kinds: tuple[str, ...]
    per_sample: int = 3
    multiple_choice: bool = False
    fps: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class Needle:
    key: str  # as the question names it, e.g. "the access code of the north gate"
    value: str
    depth: float  # target position in the context, a share of its length
    text: str  # the sentence inserted


@dataclass(frozen=True)
class NeedlePlan:
    variant: str  # single, multi_key or multi_value
    needles: tuple[Needle, ...]
    asked: int  # the needle asked about (single, multi_key)


@dataclass(frozen=True)
class Task:
    kind: str
    instruction: str
    answer: str
    frames: tuple[int, ...]
    details: dict = field(default_factory=dict)  # variant, quotes, term, needles, depth, options

    def record(self, turn: int) -> dict:
        """The sample's answer key for this task; `turn` indexes the sample's conversation."""
        return {"kind": self.kind, "turn": turn, "frames": list(self.frames), "answer": self.answer, **self.details}


@dataclass(frozen=True)
class DrawnLine:
    text: str
    frames: tuple[int, ...]  # every frame that shows the line, the first one first

    @cached_property
    def pieces(self) -> tuple[tuple[int, int], ...]:
        """Spans of the words and CJK characters of `text` (on demand: most lines are never quoted)."""
        return tuple(m.span() for m in PIECE.finditer(self.text))


@dataclass(frozen=True)
class Reading:
    """The drawn text of a sample: distinct lines in reading order, and which frame shows which."""

    lines: tuple[DrawnLine, ...]
    frame_lines: tuple[tuple[int, ...], ...]  # line numbers shown by each frame, top to bottom
    compact: str  # every line, whitespace removed: where uniqueness is checked
    starts: tuple[int, ...]  # offset of each line in `compact`

    def unique(self, phrase: str) -> bool:
        needle = "".join(phrase.split())
        first = self.compact.find(needle)
        return first >= 0 and self.compact.find(needle, first + 1) < 0

    def first_frames(self, start: int, text: str) -> set[int]:
        """The frames that first show the lines holding `text`, found at `start` in `compact`."""
        end = start + len("".join(text.split()))
        lines = range(bisect.bisect_right(self.starts, start) - 1, bisect.bisect_right(self.starts, max(start, end - 1)))
        return {self.lines[i].frames[0] for i in lines}


def read_frames(texts: list[str], overlap_lines: list[int] | None = None) -> Reading | None:
    """The reading of `texts`; None when the carried lines do not match the frame before."""
    lines: list[list] = []  # [text, frames]
    frame_lines: list[tuple[int, ...]] = []
    for number, text in enumerate(texts):
        shown = text.split("\n")
        carried = overlap_lines[number] if overlap_lines and number else 0
        before = frame_lines[-1] if frame_lines else ()
        if carried > len(before) or carried > len(shown):
            return None
        ids = list(before[len(before) - carried :]) if carried else []
        if [lines[i][0] for i in ids] != shown[:carried]:
            return None
        for i in ids:
            lines[i][1].append(number)
        for line in shown[carried:]:
            ids.append(len(lines))
            lines.append([line, [number]])
        frame_lines.append(tuple(ids))
    compact_lines = ["".join(text.split()) for text, _ in lines]
    starts = tuple(itertools.accumulate((len(c) for c in compact_lines[:-1]), initial=0)) if lines else ()
    drawn = tuple(DrawnLine(text, tuple(frames)) for text, frames in lines)
    return Reading(drawn, tuple(frame_lines), "".join(compact_lines), starts)


def language_of(text: str) -> str:
    """zh when Han characters outnumber Latin words, else en: which phrasings to use."""
    sample = text[:LANGUAGE_SAMPLE]
    return "zh" if len(CJK_LETTER.findall(sample)) > len(LATIN_WORD.findall(sample)) else "en"


# --- needles ------------------------------------------------------------------


def needle_plan(settings: TaskSettings, sample_id: str, context: str) -> NeedlePlan | None:
    """The synthetic facts to insert into this sample's context, if it gets a needle task."""
    if "needle" not in _kind_order(settings, sample_id)[: settings.per_sample]:
        return None
    rng = random.Random(f"{settings.seed}\x00{hashlib.sha256(context.encode('utf-8', 'surrogatepass')).hexdigest()}\x00needle")
    language = language_of(context)
    compact = "".join(context.split()).casefold()
    words = NEEDLE_WORDS[language]
    variant = rng.choice(NEEDLE_VARIANTS)
    count = 1 if variant == "single" else rng.randint(2, 4)
    chosen: list[tuple[str, str, str]] = []
    for _ in range(ATTEMPTS * count):  # keys the context does not already mention
        combo = (rng.choice(words["attribute"]), rng.choice(words["qualifier"]), rng.choice(words["place"]))
        if combo not in chosen and "".join(_key_core(language, *combo).split()).casefold() not in compact:
            chosen.append(combo)
            if len(chosen) == (count if variant == "multi_key" else 1):
                break
    else:
        return None
    chosen = chosen if variant == "multi_key" else chosen * count
    values: list[str] = []
    while len(values) < count:
        value = str(rng.randint(1000, 9_999_999))
        if value not in compact and all(value not in v and v not in value for v in values):
            values.append(value)
    depths = rng.sample(DEPTHS, count)
    fact = NEEDLE_VALUE_FACT if variant == "multi_value" else NEEDLE_FACT
    needles = tuple(
        Needle(NEEDLE_KEY[language].format(attribute=a, qualifier=q, place=p), value, depth, fact[language].format(attribute=a, qualifier=q, place=p, value=value))
        for (a, q, p), value, depth in zip(chosen, values, depths)
    )
    return NeedlePlan(variant, needles, rng.randrange(count) if variant != "multi_value" else 0)


def _key_core(language: str, attribute: str, qualifier: str, place: str) -> str:
    """The part of a key every fact about it contains, whatever the variant."""
    return f"{attribute} of the {qualifier} {place}" if language == "en" else f"{qualifier}{place}的{attribute}"


def insert_needles(context: str, plan: NeedlePlan | None) -> str:
    """The context with each fact at the sentence end nearest its depth (start and end count as sentence ends)."""
    if plan is None:
        return context
    bounds = sorted({0, len(context), *(m.end() for m in SENTENCE_END.finditer(context))})
    space = " " if re.match(r"[A-Za-z]", plan.needles[0].text) else ""  # Chinese facts go in without spaces
    placed = []
    for order, needle in enumerate(plan.needles):
        target = needle.depth * len(context)
        at = bisect.bisect_left(bounds, target)
        position = min(bounds[max(0, at - 1) : at + 1], key=lambda b: (abs(b - target), b))
        placed.append((position, order, needle.text))
    for position, _, text in sorted(placed, reverse=True):
        before, after = context[:position], context[position:]
        context = before + (space if before else "") + text + (space if after else "") + after
    return context


# --- generation ---------------------------------------------------------------


def _kind_order(settings: TaskSettings, sample_id: str) -> list[str]:
    order = list(dict.fromkeys(settings.kinds))
    random.Random(f"{settings.seed}\x00{sample_id}\x00kinds").shuffle(order)
    return order


@dataclass
class _Draw:
    """What a task maker works with for one sample."""

    reading: Reading
    language: str
    rng: random.Random
    settings: TaskSettings
    needles: NeedlePlan | None
    single: list[int]  # lines shown by exactly one frame
    by_frame: dict[int, list[int]]  # those lines, by frame

    @property
    def frames(self) -> int:
        return len(self.reading.frame_lines)

    def quote(self, text: str) -> str:
        left, right = QUOTES[self.language]
        return f"{left}{text}{right}"

    def phrase(self, line_ids: list[int], length: tuple[int, int] | None = None, at_end: bool = False) -> tuple[int, str, int] | None:
        """A passage inside one of `line_ids` that occurs once in the reading: (line, text, offset of its end in the line)."""
        low, high = length or PHRASE_PIECES[self.language]
        for _ in range(ATTEMPTS):
            number = self.rng.choice(line_ids)
            line = self.reading.lines[number]
            if len(line.pieces) < low:
                continue
            size = self.rng.randint(low, min(high, len(line.pieces)))
            start = len(line.pieces) - size if at_end else self.rng.randint(0, len(line.pieces) - size)
            text = _span(line, start, size)
            if _is_passage(line, start, size) and self.reading.unique(text):
                return number, text, line.pieces[start + size - 1][1]
        return None


def _span(line: DrawnLine, start: int, size: int) -> str:
    return line.text[line.pieces[start][0] : line.pieces[start + size - 1][1]]


def _is_passage(line: DrawnLine, start: int, size: int) -> bool:
    """Starts and ends on a word or character (not bare punctuation) and holds no quotation mark."""
    first, last = (line.text[a:b] for a, b in (line.pieces[start], line.pieces[start + size - 1]))
    return any(c.isalnum() for c in first) and any(c.isalnum() for c in last) and not NO_QUOTE.search(_span(line, start, size))


def generate_tasks(texts: list[str], overlap_lines: list[int] | None, settings: TaskSettings, sample_id: str, needles: NeedlePlan | None = None) -> list[Task]:
    """Up to `settings.per_sample` tasks about these frames (fewer when the text is too short for a kind)."""
    reading = read_frames(texts, overlap_lines)
    if reading is None or not reading.lines:
        return []
    single = [i for i, line in enumerate(reading.lines) if len(line.frames) == 1]
    by_frame: dict[int, list[int]] = {}
    for i in single:
        by_frame.setdefault(reading.lines[i].frames[0], []).append(i)
    draw = _Draw(reading, language_of("\n".join(texts)), random.Random(f"{settings.seed}\x00{sample_id}\x00tasks"), settings, needles, single, by_frame)
    order = [kind for kind in _kind_order(settings, sample_id) if kind != "needle" or needles is not None]
    made: list[Task] = []
    given_up: set[str] = set()
    for kind in itertools.cycle(order):
        if len(made) >= settings.per_sample or len(given_up) == len(order):
            break
        if kind in given_up:
            continue
        task = MAKERS[kind](draw)
        if task is None or any(t.instruction == task.instruction for t in made):
            given_up.add(kind)
            continue
        if settings.multiple_choice:
            task = _with_options(draw, task)
            if task is None:
                given_up.add(kind)
                continue
        made.append(task)
        if kind == "needle":
            given_up.add(kind)  # the facts are asked about once
    return made


def _ask(draw: _Draw, phrasing: str, hint: str, **values) -> str:
    template = draw.rng.choice(PHRASINGS[phrasing][draw.language])
    question = template.format(**values)
    if draw.settings.multiple_choice:
        return question
    gap = "\n" if "\n" in question else " " if draw.language == "en" else ""
    return question + gap + HINTS[hint][draw.language].format(**values)


def frame_label(language: str, frame: int, fps: float | None) -> str:
    """'Frame 3' (1-based), with its time stamp at `fps`: 'Frame 3 (00:01.00)'."""
    if fps:
        seconds = frame / fps
        stamp = f"{int(seconds // 60):02d}:{seconds % 60:05.2f}"
        return f"Frame {frame + 1} ({stamp})" if language == "en" else f"第{frame + 1}帧（{stamp}）"
    return f"Frame {frame + 1}" if language == "en" else f"第{frame + 1}帧"


def distance_label(language: str, before: bool, apart: int) -> str:
    """'before, 2 frames apart' / '之前，相隔2帧'."""
    if language == "en":
        return f"{'before' if before else 'after'}, {apart} frame{'s' if apart != 1 else ''} apart"
    return f"{'之前' if before else '之后'}，相隔{apart}帧"


def make_locate(draw: _Draw) -> Task | None:
    if not draw.single:
        return None
    found = draw.phrase(draw.single)
    if found is None:
        return None
    number, phrase, _ = found
    frame = draw.reading.lines[number].frames[0]
    fps = draw.settings.fps
    hint = "locate_fps" if fps else "locate"
    instruction = _ask(draw, "locate", hint, phrase=phrase, fps=f"{fps:g}" if fps else "")
    return Task("locate", instruction, frame_label(draw.language, frame, fps), (frame,), {"quotes": [phrase]})


def make_order(draw: _Draw) -> Task | None:
    frames = sorted(draw.by_frame)
    if len(frames) < 3:
        return None
    chosen = sorted(draw.rng.sample(frames, draw.rng.randint(3, min(5, len(frames)))))
    phrases = []
    for frame in chosen:
        found = draw.phrase(draw.by_frame[frame])
        if found is None:
            return None
        phrases.append(found[1])
    shown = list(range(len(chosen)))
    draw.rng.shuffle(shown)  # shown[k]: reading position of the passage labelled LETTERS[k]
    passages = "\n".join(f"({LETTERS[k]}) {draw.quote(phrases[position])}" for k, position in enumerate(shown))
    answer = ", ".join(LETTERS[shown.index(position)] for position in range(len(chosen)))
    return Task("order", _ask(draw, "order", "order", passages=passages), answer, tuple(chosen), {"quotes": [phrases[p] for p in shown]})


def make_next(draw: _Draw) -> Task | None:
    """Half the time across a frame boundary (the phrase ends a frame's last new line), when there is one."""
    lines = draw.reading.lines
    low, high = NEXT_PIECES[draw.language]
    size = draw.rng.randint(low, high)
    boundary = [i for i in range(len(lines) - 1) if lines[i + 1].frames[0] != lines[i].frames[0] and len(lines[i + 1].pieces) >= size]
    for _ in range(ATTEMPTS):
        if boundary and draw.rng.random() < 0.5:
            found = draw.phrase([draw.rng.choice(boundary)], at_end=True)
        else:
            found = draw.phrase(list(range(len(lines))))
        if found is None:
            continue
        number, phrase, end = found
        line = lines[number]
        after = [k for k, (a, _) in enumerate(line.pieces) if a >= end]
        if after:
            follow, start = number, after[0]
        elif number + 1 < len(lines):
            follow, start = number + 1, 0
        else:
            continue
        if len(lines[follow].pieces) - start < size:
            continue
        answer = _span(lines[follow], start, size)
        instruction = _ask(draw, "next", "next", phrase=phrase, n=size)
        frames = tuple(sorted({line.frames[0], lines[follow].frames[0]}))
        return Task("next", instruction, answer, frames, {"quotes": [phrase]})
    return None


def make_count(draw: _Draw) -> Task | None:
    """A term whose every occurrence is whole, shown by 2-10 frames (carried lines count for the frame they are on)."""
    reading, language = draw.reading, draw.language
    joined = "\n".join(line.text for line in reading.lines)
    if language == "zh":
        occurrences = Counter(a + b for a, b in zip(joined, joined[1:]) if _is_han(a) and _is_han(b) and a not in FUNCTION_HAN and b not in FUNCTION_HAN)
        fold = str

        def clean(term: str) -> bool:  # never across a line break
            return reading.compact.count(term) == joined.count(term)

    else:
        occurrences = Counter(token.strip(WORD_EDGE) for token in joined.split())
        folded = joined.casefold()
        fold = str.casefold

        def clean(term: str) -> bool:  # per line, substring hits are never fewer than whole words of the same case: equal totals, equal on every line
            return folded.count(term.casefold()) == occurrences[term]

    candidates = sorted(term for term, n in occurrences.items() if n >= COUNT_RANGE[0] and (language == "zh" or (len(term) >= 4 and term.isalpha())))
    draw.rng.shuffle(candidates)
    frame_texts = [fold("\n".join(reading.lines[i].text for i in ids)) for ids in reading.frame_lines]
    for term in candidates[: 4 * ATTEMPTS]:
        if not clean(term):
            continue
        frames = tuple(k for k, text in enumerate(frame_texts) if fold(term) in text)
        if COUNT_RANGE[0] <= len(frames) <= COUNT_RANGE[1]:
            return Task("count", _ask(draw, "count", "count", term=term), str(len(frames)), frames, {"term": term})
    return None


def _is_han(char: str) -> bool:
    return char.isalpha() and is_cjk(char)


def make_before_after(draw: _Draw) -> Task | None:
    frames = sorted(draw.by_frame)
    if len(frames) < 2:
        return None
    first, second = draw.rng.sample(frames, 2)
    a, b = draw.phrase(draw.by_frame[first]), draw.phrase(draw.by_frame[second])
    if a is None or b is None:
        return None
    answer = distance_label(draw.language, first < second, abs(first - second))
    return Task("before_after", _ask(draw, "before_after", "before_after", a=a[1], b=b[1]), answer, tuple(sorted((first, second))), {"quotes": [a[1], b[1]]})


def make_needle(draw: _Draw) -> Task | None:
    """Ask about the facts inserted before segmentation; found again in what was drawn."""
    plan, reading = draw.needles, draw.reading
    if plan is None:
        return None
    positions = []
    for needle in plan.needles:
        compact = "".join(needle.text.split())
        at = reading.compact.find(compact)
        if at < 0 or reading.compact.find(compact, at + 1) >= 0 or not reading.unique(needle.value):
            return None
        positions.append(at)
    frames = sorted({frame for at, n in zip(positions, plan.needles) for frame in reading.first_frames(at, n.text)})
    records = [{"key": n.key, "value": n.value, "depth": n.depth, "text": n.text} for n in plan.needles]
    if plan.variant == "multi_value":
        values = [n.value for _, n in sorted(zip(positions, plan.needles), key=lambda pair: pair[0])]
        instruction = _ask(draw, "needle_values", "needle_values", key=plan.needles[0].key)
        return Task("needle", instruction, ", ".join(values), tuple(frames), {"variant": plan.variant, "needles": records, "depth": None})
    asked = plan.needles[plan.asked]
    at = positions[plan.asked]
    asked_frames = sorted(reading.first_frames(at, asked.text))
    instruction = _ask(draw, "needle", "needle", key=asked.key)
    return Task("needle", instruction, asked.value, tuple(asked_frames), {"variant": plan.variant, "needles": records, "depth": asked.depth})


def make_first_last(draw: _Draw) -> Task | None:
    variant = draw.rng.choice(("first", "last"))
    reading = draw.reading
    frame = 0 if variant == "first" else len(reading.frame_lines) - 1
    ids = reading.frame_lines[frame]
    line = reading.lines[ids[0] if variant == "first" else ids[-1]].text
    if not any(c.isalnum() for c in line):
        return None
    return Task("first_last", _ask(draw, variant, variant), line, (frame,), {"variant": variant})


MAKERS: dict[str, Callable[[_Draw], Task | None]] = {
    "locate": make_locate,
    "order": make_order,
    "next": make_next,
    "count": make_count,
    "before_after": make_before_after,
    "needle": make_needle,
    "first_last": make_first_last,
}


# --- multiple choice ----------------------------------------------------------


def _distractors(draw: _Draw, task: Task) -> list[str]:
    """Wrong answers of the same form; passages come from other frames."""
    rng, n, language = draw.rng, draw.frames, draw.language
    kind = task.kind
    if kind == "locate":
        return [frame_label(language, f, draw.settings.fps) for f in rng.sample(range(n), min(n, CHOICES)) if f not in task.frames]
    if kind == "order":
        letters = task.answer.split(", ")
        shuffled = {", ".join(p) for p in itertools.islice(itertools.permutations(letters), 24)} - {task.answer}
        return rng.sample(sorted(shuffled), min(len(shuffled), CHOICES - 1))
    if kind == "count":
        value = int(task.answer)
        return [str(v) for v in rng.sample([v for v in range(1, max(n, value + 3) + 1) if v != value], CHOICES - 1)]
    if kind == "before_after":
        combos = {distance_label(language, before, apart) for before in (True, False) for apart in range(1, max(n, 3))} - {task.answer}
        return rng.sample(sorted(combos), min(len(combos), CHOICES - 1))
    if kind == "needle":
        others = [nd["value"] for nd in task.details["needles"] if nd["value"] != task.answer]
        if task.details["variant"] == "multi_value":
            values = task.answer.split(", ")
            others = [", ".join(reversed(values)), ", ".join(values[1:] + values[:1]), ", ".join(values[:-1])]
        digits = len(task.answer.split(", ")[0])
        while len(set(others) - {task.answer}) < CHOICES - 1:  # as many digits as the answer: length gives nothing away
            others.append(str(rng.randint(10 ** (digits - 1), 10**digits - 1)))
        return sorted(set(others) - {task.answer}, key=others.index)[: CHOICES - 1]
    # next, first_last: text of the same size from other frames
    lines = draw.reading.lines
    size = len(PIECE.findall(task.answer))
    pool = [i for i, line in enumerate(lines) if not set(line.frames) & set(task.frames)]
    found: list[str] = []
    for i in rng.sample(pool, min(len(pool), 3 * CHOICES)):
        if len(lines[i].pieces) < size:
            continue
        text = lines[i].text if kind == "first_last" else _span(lines[i], rng.randint(0, len(lines[i].pieces) - size), size)
        if text != task.answer and text not in found:
            found.append(text)
    return found[: CHOICES - 1]


def _with_options(draw: _Draw, task: Task) -> Task | None:
    """The task as a multiple-choice question: options A-D, the answer is a letter (None: no distractor)."""
    options = [task.answer, *_distractors(draw, task)][:CHOICES]
    if len(options) < 2:
        return None
    draw.rng.shuffle(options)
    language = draw.language
    listed = "\n".join(f"{LETTERS[k]}. {option}" for k, option in enumerate(options))
    instruction = f"{task.instruction}\n{CHOICE_HEAD[language]}\n{listed}\n{CHOICE_HINT[language]}"
    letter = LETTERS[options.index(task.answer)]
    return Task(task.kind, instruction, letter, task.frames, {**task.details, "options": options})


# --- samples ------------------------------------------------------------------


def settings_of(config) -> TaskSettings | None:
    """The task settings of a synth config (None: no tasks asked)."""
    if not config.tasks:
        return None
    return TaskSettings(tuple(config.tasks), config.tasks_per_sample, config.multiple_choice, config.tasks_fps, config.seed)


def with_tasks(conversation: list[tuple[str, str]], tasks: list[Task], tasks_only: bool) -> tuple[list[tuple[str, str]], list[dict]]:
    """The sample's conversation with the task turns after its own (or instead of them), and the answer keys.

    A task's `turn` is its index in the conversation: 0 is the record's
    `instruction`/`answer`, n is `turns[n - 1]`, the order every export writes.
    """
    base = [] if tasks_only else list(conversation)
    keys = [task.record(len(base) + n) for n, task in enumerate(tasks)]
    return base + [(task.instruction, task.answer) for task in tasks], keys

"""`t2vid score`: a model's answers to the generated tasks, against their answer keys.

Every task of OUT counts: a task with no prediction is wrong, so a
predictions file for part of OUT scores that part against the whole. A
prediction matches when it equals the answer after normalising case, width,
whitespace and a trailing full stop; a multiple-choice answer also matches by
its letter ("B", "B.", "(B)") or the option's text. Accuracy is given per
kind, per needle depth (needle tasks that ask for one fact) and per frame
count of the sample.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from t2vid.errors import UsageError
from t2vid.output import read_output
from t2vid.tasks import LETTERS

FRAME_BUCKETS = ((1, 2), (3, 4), (5, 8), (9, 16), (17, 32), (33, 64), (65, None))
_LETTER = re.compile(rf"\(?([{LETTERS}])\)?(?:[\s.)\]:：、]|$)")  # "B", "B.", "(B)": the letter of an option


@dataclass
class Tally:
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        return round(self.correct / self.total, 4) if self.total else None

    def add(self, right: bool) -> None:
        self.correct += right
        self.total += 1


@dataclass
class ScoreReport:
    output: str
    predictions: str
    overall: Tally = field(default_factory=Tally)
    predicted: int = 0  # tasks that have a prediction
    unmatched: int = 0  # prediction lines naming no task of OUT
    duplicates: int = 0  # further lines for a task already predicted (the first one counts)
    unreadable: int = 0  # lines that are not {"id", "turn", "prediction"}
    by_kind: dict[str, Tally] = field(default_factory=dict)
    by_depth: dict[str, Tally] = field(default_factory=dict)
    by_frames: dict[str, Tally] = field(default_factory=dict)

    def to_dict(self) -> dict:
        def tally(t: Tally) -> dict:
            return {"correct": t.correct, "total": t.total, "accuracy": t.accuracy}

        data = asdict(self)
        data["overall"] = tally(self.overall)
        for name in ("by_kind", "by_depth", "by_frames"):
            data[name] = {key: tally(value) for key, value in getattr(self, name).items()}
        return data


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split()).strip().rstrip(".。").strip().strip("\"'“”")


def is_correct(task: dict, prediction: str) -> bool:
    options = task.get("options")
    if options:
        letter = _LETTER.match(prediction.strip())
        if letter:
            return letter.group(1) == task["answer"]
        return normalise(prediction) == normalise(options[LETTERS.index(task["answer"])])
    return normalise(prediction) == normalise(task["answer"])


def frame_bucket(frames: int) -> str:
    for low, high in FRAME_BUCKETS:
        if high is None or frames <= high:
            return f"{low}+" if high is None else f"{low}-{high}"
    raise AssertionError("unreachable")


def read_predictions(path: Path, report: ScoreReport) -> dict[tuple[str, int], str]:
    """(id, turn) -> prediction; bad lines are counted, never fatal."""
    found: dict[tuple[str, int], str] = {}
    try:
        # JSON Lines ends lines at \n only: splitlines() would also cut at U+0085 or U+2028 inside a prediction
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not (isinstance(row, dict) and isinstance(row.get("id"), str) and type(row.get("turn")) is int and isinstance(row.get("prediction"), str)):
            report.unreadable += 1
            continue
        key = (row["id"], row["turn"])
        if key in found:
            report.duplicates += 1
        else:
            found[key] = row["prediction"]
    return found


def score(out: str | Path, predictions: str | Path) -> ScoreReport:
    """Score a predictions file ({"id", "turn", "prediction"} per line) against OUT's tasks."""
    report = ScoreReport(str(out), str(predictions))
    predicted = read_predictions(Path(predictions), report)
    used = set()
    for record in read_output(out):
        for task in record.get("tasks") or ():
            key = (record["id"], task["turn"])
            prediction = predicted.get(key)
            used.add(key)
            right = prediction is not None and is_correct(task, prediction)
            report.predicted += prediction is not None
            report.overall.add(right)
            report.by_kind.setdefault(task["kind"], Tally()).add(right)
            if task["kind"] == "needle" and task.get("depth") is not None:
                report.by_depth.setdefault(f"{task['depth']:.0%}", Tally()).add(right)
            report.by_frames.setdefault(frame_bucket(record["num_frames"]), Tally()).add(right)
    if not report.overall.total:
        raise UsageError(f"{out} has no generated tasks to score (synth with --tasks)")
    report.unmatched = len(set(predicted) - used)
    report.by_kind = dict(sorted(report.by_kind.items()))
    report.by_depth = dict(sorted(report.by_depth.items(), key=lambda kv: float(kv[0].rstrip("%"))))
    report.by_frames = dict(sorted(report.by_frames.items(), key=lambda kv: int(kv[0].split("-")[0].rstrip("+"))))
    return report


def format_report(report: ScoreReport) -> str:
    def row(label: str, tally: Tally) -> str:
        accuracy = "-" if tally.accuracy is None else f"{tally.accuracy:.1%}"
        return f"  {label:<16} {tally.correct:>7} {tally.total:>7} {accuracy:>9}"

    lines = [
        f"score of {report.predictions} on {report.output}",
        f"  tasks {report.overall.total}, predicted {report.predicted}, correct {report.overall.correct}, accuracy {report.overall.accuracy:.1%}",
    ]
    problems = [f"{n} {what}" for n, what in ((report.unmatched, "naming no task"), (report.duplicates, "duplicate"), (report.unreadable, "unreadable")) if n]
    if problems:
        lines.append("  prediction lines ignored: " + ", ".join(problems))
    for title, table in (("kind", report.by_kind), ("needle depth", report.by_depth), ("frames", report.by_frames)):
        if table:
            lines.append(f"  {title:<16} {'correct':>7} {'total':>7} {'accuracy':>9}")
            lines += [row(key, tally) for key, tally in table.items()]
    return "\n".join(lines)

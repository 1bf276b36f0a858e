"""Length limits of exports: cost every sample for one model and keep the trainer from truncating any.

Trainers cut a sample at their length limit (LLaMA-Factory's `cutoff_len`,
ms-swift's `--max_length`, MiniCPM-V's `model_max_length`, InternVL's
`max_seq_length`) and some then fail on the mismatch between image tokens
and features, or silently train on a random other sample. A sample's cost is
its text tokens (estimated, or counted by `--tokenizer`), its media tokens
under the profile's processor rules at the sample's frame size, and the chat
template's tokens. Frames are never dropped to make a sample fit: the answer
may be on any of them (re-synthesise with `--max-frames` / `--fit-budget`).

- `skip` (default): over-length samples are left out and counted;
- `split`: a multi-turn sample becomes several samples over the same frames,
  each with as many consecutive turns as fit; a sample whose first turn
  alone does not fit is skipped;
- `warn`: everything is written and the over-length samples are reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from t2vid.budget import DEFAULT_FRAME_SIZE, Budget
from t2vid.errors import UsageError

OVER_LENGTH = ("skip", "split", "warn")
REPORT = "export_report.json"
EXAMPLES = 10  # over-length sample ids kept in the report


@dataclass
class LengthReport:
    profile: str
    max_length: int
    over_length: str
    tokenizer: str | None
    samples: int = 0
    written: int = 0
    max_tokens_seen: int = 0
    over: int = 0
    over_by_max: int = 0
    over_by_total: int = 0
    skipped: int = 0
    split: int = 0  # samples split
    split_into: int = 0  # samples they became
    examples: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        if not self.over:
            return f"length: all {self.samples} samples within {self.max_length} tokens ({self.profile}; longest {self.max_tokens_seen})"
        mean = self.over_by_total / self.over
        what = {
            "skip": f"skipped {self.skipped}",
            "split": f"split {self.split} into {self.split_into}, skipped {self.skipped}",
            "warn": "written anyway: the trainer will truncate them",
        }[self.over_length]
        return (
            f"length: {self.over} of {self.samples} samples over {self.max_length} tokens ({self.profile}) "
            f"by {mean:.0f} on average, {self.over_by_max} at most; {what}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


class LengthLimit:
    """Costs items for one profile and passes on those that fit (or their parts, or all with `warn`)."""

    def __init__(self, profile: str, max_length: int | None = None, over_length: str = "skip", tokenizer: str | None = None, as_images: bool = False):
        if over_length not in OVER_LENGTH:
            raise UsageError(f"--over-length must be one of {', '.join(OVER_LENGTH)}, not {over_length!r}")
        if max_length is not None and max_length < 1:
            raise UsageError(f"--max-length must be at least 1, not {max_length}")
        self.budget = Budget(profile, tokenizer=tokenizer, max_tokens=max_length, as_images=as_images)
        if self.budget.max_tokens is None:
            raise UsageError(f"profile {self.budget.profile.name} has no max_tokens: give --max-length")
        self.over_length = over_length
        self.report = LengthReport(self.budget.profile.name, self.budget.max_tokens, over_length, tokenizer)

    def cost(self, item, turns=None) -> int:
        texts = [text for turn in (turns if turns is not None else item.turns) for text in turn]
        return self.budget.total_tokens(texts, len(media_frames(item)), frame_size(item))

    def __call__(self, item) -> list:
        """The items to write in place of `item`."""
        report = self.report
        report.samples += 1
        tokens = self.cost(item)
        report.max_tokens_seen = max(report.max_tokens_seen, tokens)
        limit = self.budget.max_tokens
        if tokens <= limit:
            report.written += 1
            return [item]
        report.over += 1
        report.over_by_max = max(report.over_by_max, tokens - limit)
        report.over_by_total += tokens - limit
        parts = self.split(item) if self.over_length == "split" else []
        if len(report.examples) < EXAMPLES:
            report.examples.append({"id": item.id, "tokens": tokens, "frames": len(media_frames(item)), "turns": len(item.turns), "parts": len(parts)})
        if self.over_length == "warn":
            report.written += 1
            return [item]
        if parts:
            report.split += 1
            report.split_into += len(parts)
            report.written += len(parts)
            return parts
        report.skipped += 1
        return []

    def split(self, item) -> list:
        """Consecutive turns packed into parts that fit; [] when one turn with the frames is already too long."""
        groups: list[list] = []
        for turn in item.turns:
            if groups and self.cost(item, groups[-1] + [turn]) <= self.budget.max_tokens:
                groups[-1].append(turn)
            elif self.cost(item, [turn]) <= self.budget.max_tokens:
                groups.append([turn])
            else:
                return []
        return [replace(item, id=f"{item.id}-part{number}", turns=tuple(group)) for number, group in enumerate(groups, 1)]


def media_frames(item) -> tuple:
    return getattr(item.media, "paths", ())


def frame_size(item) -> tuple[int, int]:
    """The synth record's frame size; the default size when the record does not say."""
    width, height = int(item.record.get("width") or 0), int(item.record.get("height") or 0)
    return (width, height) if width and height else DEFAULT_FRAME_SIZE

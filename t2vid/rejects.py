"""A reject: why one record gave no sample, as a value with a stage, a stable code and a detail.

The manifest and every reader group rejects by `code`, so rewording a detail
never changes the statistics; `stage` says which step dropped the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STAGES = ("read", "adapt", "segment", "tasks", "render", "write")
INTERNAL = "internal"  # the code of an unexpected exception in one record


@dataclass(frozen=True)
class Reject:
    stage: str  # one of STAGES
    code: str  # snake_case, stable across releases: what statistics are keyed by
    detail: str  # for a person: what exactly is wrong with this record


class Rejected(Exception):
    """Raised inside a step (a parser, a reader) to reject the record at hand; the step's runner adds the stage."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def at(self, stage: str) -> Reject:
        return Reject(stage, self.code, self.detail)


def reject_line(reject: Reject, position: int, source: dict, record: Any) -> dict:
    """A line of rejects/shard-NNNNN.jsonl: where the record came from, why it was dropped, and the record itself."""
    return {"index": source["index"], "position": position, "source": source, "stage": reject.stage, "code": reject.code, "reason": reject.detail, "record": record}


"""Read a synth output back: the manifest and its samples, in shard order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from t2vid.config import UsageError
from t2vid.writer import MANIFEST


def read_manifest(out: str | Path) -> dict:
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{out} is not a t2vid output (no {MANIFEST})") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None


def read_output(out: str | Path) -> Iterator[dict]:
    """Every sample record of a `t2vid synth` output; image paths stay relative to OUT."""
    root = Path(out)
    for shard in read_manifest(root)["shards"]:
        with open(root / shard, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def reason_kind(reason: str) -> str:
    """Group reject reasons for the summary: numbers and positions vary, the kind does not."""
    return re.sub(r"\d+", "N", reason.split(" (")[0])

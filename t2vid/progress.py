"""Progress of a `synth` run: records done of a total, with an ETA, updated per finished chunk.

A shard of 1,000 long records takes about a minute on two cores, so progress
counts chunks, not shards. The total comes from `--limit`, Parquet metadata,
or the bytes read of JSON/JSONL/CSV files (then it is an estimate, shown with
"~"). A terminal gets a tqdm bar; a log (stderr not a terminal) gets the same
figures as one plain line every PLAIN_INTERVAL seconds, and a last one at the end.
"""

from __future__ import annotations

import sys
import time

from t2vid.pipeline import ChunkResult, Counts
from t2vid.sources import ReadMeter

PLAIN_INTERVAL = 10.0  # seconds between two lines in a log


class SynthProgress:
    """Counts finished chunks against the (estimated) number of input records."""

    def __init__(self, quiet: bool, meter: ReadMeter, limit: int | None, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.meter = meter
        self.limit = limit
        self.processed = 0  # records whose chunk finished in this run (resumed shards excluded): the rate
        self.uncommitted = Counts()  # finished chunks of the shard not yet committed
        self.started = time.monotonic()
        self.last_line = self.started
        self.line = ""
        self.bar = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm

            class Bar(tqdm):
                monitor_interval = 0  # no monitor thread: the bar is redrawn per chunk, and a thread would keep workers from being forked (engines/pool.py)

            self.bar = Bar(total=None, file=self.stream, dynamic_ncols=True, bar_format="{desc}", desc="0 records (the first chunk is running)")

    def update(self, chunk: ChunkResult, committed: Counts, frames_resumed: int) -> None:
        """After each chunk; `committed` holds every committed and resumed shard (the chunk's own included when it was a shard's last)."""
        if self.quiet:
            return
        self.processed += chunk.read
        if chunk.last:
            self.uncommitted = Counts()
        else:
            self.uncommitted.add(chunk)
        done = Counts()
        done.add(committed)
        done.add(self.uncommitted)
        total, estimated = self.total(done.read)
        now = time.monotonic()
        self.line = status_line(done, total, estimated, done.frames - frames_resumed, self.processed, now - self.started)
        if self.bar is not None:
            self.bar.total, self.bar.n = total, done.read
            self.bar.bar_format = "|{bar:24}| {desc}" if total else "{desc}"
            self.bar.set_description_str(self.line, refresh=True)
        elif now - self.last_line >= PLAIN_INTERVAL:
            self.last_line = now
            print(f"t2vid: {self.line}", file=self.stream, flush=True)

    def total(self, done: int) -> tuple[int | None, bool]:
        """(records in the input, whether that is an estimate)."""
        total = self.meter.estimated_total()
        estimated = bool(self.meter.text_bytes) and total is not None and self.meter.bytes_read() < self.meter.text_bytes
        if self.limit is not None and (total is None or self.limit <= total):
            total, estimated = self.limit, False
        if total is not None and total < done:
            total = done
        return total, estimated

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet and self.line:
            print(f"t2vid: {self.line}", file=self.stream, flush=True)


def status_line(done: Counts, total: int | None, estimated: bool, frames_drawn: int, processed: int, elapsed: float) -> str:
    """e.g. `2,100/~3,000 records (70%), 2,050 samples, 15,116 frames, 480 frames/s, 0:32 elapsed, ETA 0:14`."""
    parts = [f"{done.read:,} records"]
    if total:
        parts = [f"{done.read:,}/{'~' if estimated else ''}{total:,} records ({100 * done.read / total:.0f}%)"]
    parts += [f"{done.samples:,} samples", f"{done.frames:,} frames", f"{frames_drawn / elapsed if elapsed else 0:.0f} frames/s", f"{_clock(elapsed)} elapsed"]
    if total and processed and elapsed:
        parts.append(f"ETA {_clock((total - done.read) * elapsed / processed)}")
    return ", ".join(parts)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

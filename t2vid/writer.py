"""Write: the layout of OUT and the atomic steps that commit a shard.

Frames are content-addressed (`frames/<k[:2]>/<k>/f000.png`, k a digest of
the style and the frame texts), so samples over the same context share one set
of files, any worker may write them, and the result does not depend on which
worker got there first. Everything is written under a temporary name and
renamed into place: a killed run leaves either a whole file or none.
Order of commit per shard: frames, JSONL, rejects, completion marker; the
manifest last.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
TMP_DIR = ".tmp"
FAILPOINT_ENV = "T2VID_FAILPOINT"
_failpoint_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Crash-testing aid: T2VID_FAILPOINT=name:N (a file name, "frame" or "frames-committed") kills this process (SIGKILL) the Nth time `name` is reached."""
    wanted = os.environ.get(FAILPOINT_ENV)
    if not wanted or not wanted.startswith(name + ":"):
        return
    _failpoint_hits[name] = _failpoint_hits.get(name, 0) + 1
    if _failpoint_hits[name] == int(wanted.rsplit(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)


def shard_name(number: int) -> str:
    return f"shard-{number:05d}"


class OutputDir:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def shard_path(self, number: int) -> Path:
        return self.root / "shards" / f"{shard_name(number)}.jsonl"

    def rejects_path(self, number: int) -> Path:
        return self.root / "rejects" / f"{shard_name(number)}.jsonl"

    def marker_path(self, number: int) -> Path:
        return self.root / "shards" / f"{shard_name(number)}.done.json"

    def frame_dir(self, key: str) -> Path:
        return self.root / "frames" / key[:2] / key

    @staticmethod
    def frame_name(index: int, count: int, extension: str) -> str:
        """Zero-padded so that a plain sort gives frame order."""
        return f"f{index:0{max(3, len(str(count - 1)))}d}.{extension}"

    def prepare(self) -> None:
        for sub in ("shards", "rejects", "frames", TMP_DIR):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def lock(self) -> bool:
        """Hold an exclusive lock on OUT for this process's lifetime; False when another run holds it."""
        import fcntl

        self._lock = open(self.root / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def clear_temporary(self) -> None:
        """Leftovers of a killed run: never committed, safe to delete before workers start."""
        shutil.rmtree(self.root / TMP_DIR, ignore_errors=True)
        (self.root / TMP_DIR).mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / "shards", self.root / "rejects"):
            for stray in folder.glob(".*.tmp"):
                stray.unlink(missing_ok=True)

    def has_frames(self, key: str) -> bool:
        return self.frame_dir(key).is_dir()

    def commit_frames(self, key: str, frames: list[bytes], extension: str) -> bool:
        """Write one sample's frames as a unit; False when they were already there."""
        final = self.frame_dir(key)
        if final.is_dir():
            return False
        staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=self.root / TMP_DIR))
        try:
            for index, data in enumerate(frames):
                (staging / self.frame_name(index, len(frames), extension)).write_bytes(data)
                failpoint("frame")
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, final)
            except OSError:
                if not final.is_dir():
                    raise
                return False  # another worker committed the same frames first
            return True
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def commit_lines(self, path: Path, lines: list[str]) -> None:
        write_atomic(path, "".join(lines).encode("utf-8"))

    def commit_marker(self, number: int, counts: dict) -> None:
        write_atomic(self.marker_path(number), json.dumps(counts, sort_keys=True).encode())

    def read_marker(self, number: int) -> dict | None:
        """The counts of a complete shard, or None when it must be (re)done."""
        try:
            counts = json.loads(self.marker_path(number).read_text())
        except (OSError, ValueError):
            return None
        if not self.shard_path(number).is_file() or not self.rejects_path(number).is_file():
            return None
        return counts

    def write_manifest(self, manifest: dict) -> None:
        write_atomic(self.root / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())

    def read_manifest(self) -> dict | None:
        try:
            return json.loads((self.root / MANIFEST).read_text())
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class FrameSet:
    """One sample's encoded frames on their way from a worker to the driver."""

    extension: str
    frames: tuple[bytes, ...]


class FrameHandOff(OutputDir):
    """OUT as a worker sees it with --ray-storage driver: frames are kept for the driver instead of written.

    The worker never touches the filesystem; `take` gives the frames of the
    chunk just done, for its result. A key seen twice in one chunk is drawn
    and sent once.
    """

    def __init__(self, root: str | os.PathLike):
        super().__init__(root)
        self._frame_sets: dict[str, FrameSet] = {}

    def has_frames(self, key: str) -> bool:
        return key in self._frame_sets

    def commit_frames(self, key: str, frames: list[bytes], extension: str) -> bool:
        if key in self._frame_sets:
            return False
        self._frame_sets[key] = FrameSet(extension, tuple(frames))
        return True

    def take(self) -> dict[str, FrameSet]:
        frame_sets, self._frame_sets = self._frame_sets, {}
        return frame_sets


class StagedFile:
    """A file written under a hidden temporary name beside its final path and renamed over it when complete.

    A failed or interrupted writer discards it, so the previous complete file
    (or none) stays instead of a half-written one. As a context manager it
    gives the temporary path, commits on success and discards on error.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")

    def commit(self, path: Path | None = None) -> Path:
        """Rename into place: to `path` when the final name is known only at the end (Parquet's -of-N)."""
        final = path or self.path
        os.replace(self.temporary, final)
        return final

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> Path:
        return self.temporary

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.commit()
        else:
            self.discard()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with StagedFile(path) as temporary:
        temporary.write_bytes(data)
        failpoint(path.name)

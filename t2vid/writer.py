"""Write: the layout of OUT and the atomic steps that commit a shard.

Frames are content-addressed (`frames/<k[:2]>/<k>/f000.png`, k a digest of
the style and the frame texts), so samples over the same context share one set
of files, any worker may write them, and the result does not depend on which
worker got there first. Everything is written under a temporary name and
renamed into place: a killed run leaves either a whole file or none. A
sample's frames go into a staging folder under OUT/.tmp as they are drawn
(one encoded frame in memory at a time) and the folder is renamed into
frames/ when the sample is written.
Order of commit per shard: frames, JSONL, rejects, completion marker; the
manifest last.

Ownership: a folder is t2vid's only if it holds OWNER_FILE, a small JSON
file written when t2vid created the folder (or found it empty) that names
the tool, the format version and what the folder is (`synth`, `export` or `gallery`).
Nothing is ever deleted from a folder without it, and inside one only names
t2vid itself writes are deleted (OWN_NAMES and the layout's name patterns).
An image written to a path the user names (render's frames, preview's sheets,
stats' plot, diversity's map) has no folder of its own: it carries t2vid's
mark inside the file instead, and only a marked image is ever replaced.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import stat
import struct
import tempfile
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from t2vid import __version__
from t2vid.errors import UsageError

MANIFEST = "manifest.json"
TMP_DIR = ".tmp"
LOCK = ".lock"
OWNER_FILE = ".t2vid-owner.json"
OWNER_FORMAT = 1  # version of the ownership marker (and of the layout it vouches for)
MAX_OWNER_BYTES = 256 << 20  # an export's marker lists its files
WRITE_SLICE = 1 << 20  # characters of a JSONL line encoded at a time
# Files of OUT that t2vid writes, relative to OUT: nothing else is ever deleted from it.
OWN_NAMES = re.compile(
    r"(manifest\.json|\.manifest\.json\.\d+\.tmp"
    r"|shards/shard-\d{5,}\.(jsonl|done\.json)|rejects/shard-\d{5,}\.jsonl|(shards|rejects)/\.shard-\d{5,}\.[a-z.]+\.\d+\.tmp"
    r"|\.t2vid-owner\.json\.\d+\.tmp|frames/[0-9a-f]{2}/[0-9a-f]{24}/f\d{3,}\.(png|jpg|webp))"
)
# t2vid's mark in an image it writes to a path the user names, one per format; fixed, so the same image always gets the same bytes.
MAKER = b"t2vid"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_MARK_AT = len(PNG_SIGNATURE) + 25  # right after the IHDR chunk, whose data is always 13 bytes
_PNG_TEXT = b"tEXtSoftware\x00" + MAKER
PNG_MARK = struct.pack(">I", len(_PNG_TEXT) - 4) + _PNG_TEXT + struct.pack(">I", zlib.crc32(_PNG_TEXT))
JPEG_START = b"\xff\xd8"
JPEG_MARK = b"\xff\xfe" + struct.pack(">H", 2 + len(MAKER)) + MAKER  # a comment segment
_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="' + MAKER + b'"/></rdf:RDF></x:xmpmeta>'
)
WEBP_MARK = b"XMP " + struct.pack("<I", len(_XMP)) + _XMP + b"\x00" * (len(_XMP) % 2)  # the file's last chunk
MARK_HEAD_BYTES = 4096  # read from the start of a file: a PNG's or JPEG's mark lies within them
LAYOUT_FOLDERS = ("shards", "rejects", "frames", TMP_DIR)  # what `prepare` makes in OUT
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


class OwnershipError(UsageError):
    """A folder t2vid would write into or delete from is not provably its own (a usage error)."""


def owner_of(folder: str | os.PathLike) -> dict | None:
    """The ownership marker of `folder` when it is t2vid's (a regular file, not a link), else None."""
    path = Path(folder) / OWNER_FILE
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > MAX_OWNER_BYTES:
            return None
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    ok = isinstance(marker, dict) and marker.get("tool") == "t2vid" and isinstance(marker.get("format"), int) and isinstance(marker.get("kind"), str)
    return marker if ok else None


def claim_folder(folder: str | os.PathLike, kind: str, what: str, option: str = "-o") -> dict:
    """Make `folder` t2vid's `kind` folder, or refuse: missing or empty -> marked now; marked `kind` -> kept; else OwnershipError.

    `what` names the folder in messages (e.g. "output directory"), `option` the flag that chose it. Returns the marker.
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise OwnershipError(f"{what} {root} exists and is not a directory")
    marker = owner_of(root)
    if marker is not None:
        if marker["kind"] != kind:
            raise OwnershipError(f"{what} {root} is a t2vid {marker['kind']} folder, not a {kind} folder; pick another {option}")
        if marker["format"] > OWNER_FORMAT:
            raise OwnershipError(f"{what} {root} was written by a newer t2vid (layout format {marker['format']}); upgrade t2vid or pick another {option}")
        return marker
    if root.exists() and any(root.iterdir()):
        raise OwnershipError(f"{what} {root} is not empty and was not made by t2vid (no {OWNER_FILE}); t2vid writes only into a new or empty folder, so pick another {option}")
    root.mkdir(parents=True, exist_ok=True)
    marker = {"tool": "t2vid", "format": OWNER_FORMAT, "kind": kind, "created_by": __version__}
    write_owner(root, marker)
    return marker


def write_owner(root: Path, marker: dict) -> None:
    write_atomic(root / OWNER_FILE, (json.dumps(marker, indent=2, sort_keys=True) + "\n").encode())


def remove_own_files(root: Path, relative_paths) -> None:
    """Delete the given files of t2vid's folder `root`, then the folders they leave empty; never follows a link out."""
    parents = set()
    for relative in relative_paths:
        path = root / relative
        if any(p.is_symlink() for p in path.parents if root in p.parents):
            continue  # a folder on the way was replaced by a link: what it points to is not t2vid's
        if os.path.islink(path) or path.is_file():
            path.unlink(missing_ok=True)
            parents.update(p for p in path.parents if p != root and root in p.parents)
    for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # not empty (something else lives there) or already gone
            pass


def own_files(root: Path, folder: str) -> list[str]:
    """Files below OUT/`folder` (relative to OUT) whose names t2vid writes; links are not followed."""
    found = []
    for parent, _, names in os.walk(root / folder):
        prefix = Path(os.path.relpath(parent, root)).as_posix()  # once per folder, not per file: 5x faster
        found.extend(relative for name in names if OWN_NAMES.fullmatch(relative := f"{prefix}/{name}"))
    return sorted(found)


def _files_below(root: Path, path: Path) -> set[str]:
    """Files at or under `path` (a file or a folder), relative to `root`; links are listed, never followed."""
    if not path.is_dir() or path.is_symlink():
        return {path.relative_to(root).as_posix()} if os.path.lexists(path) else set()
    found = set()
    for parent, _, names in os.walk(path):
        prefix = Path(parent).relative_to(root).as_posix()  # once per folder, as in own_files
        found.update(name if prefix == "." else f"{prefix}/{name}" for name in names)
    return found


def mark_image(data: bytes) -> bytes:
    """The PNG, JPEG or WebP bytes t2vid encoded, with its mark: a PNG `Software` text chunk, a JPEG comment, a WebP XMP `CreatorTool`."""
    if data.startswith(PNG_SIGNATURE):
        return data[:PNG_MARK_AT] + PNG_MARK + data[PNG_MARK_AT:]
    if data.startswith(JPEG_START):
        at = _jpeg_mark_at(data)
        return data[:at] + JPEG_MARK + data[at:]
    if data.startswith(b"RIFF") and data[8:16] == b"WEBPVP8 ":  # the simple lossy format Pillow writes: made extended to hold XMP
        from PIL import Image

        width, height = Image.open(io.BytesIO(data)).size
        header = b"VP8X" + struct.pack("<I", 10) + b"\x04\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = b"WEBP" + header + data[12:] + WEBP_MARK
        return b"RIFF" + struct.pack("<I", len(body)) + body
    raise ValueError("not a PNG, JPEG or lossy WebP image")


def _jpeg_mark_at(head: bytes) -> int:
    """After the start of image and its JFIF segment, which readers expect first."""
    if head[2:4] != b"\xff\xe0":
        return len(JPEG_START)
    return len(JPEG_START) + 2 + int.from_bytes(head[4:6], "big")


def is_marked_image(path: str | os.PathLike) -> bool:
    """True when `path` is a regular file (not a link) holding an image t2vid wrote with its mark."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            head = handle.read(MARK_HEAD_BYTES)
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - len(WEBP_MARK)))
            tail = handle.read()
    except OSError:
        return False
    if head.startswith(PNG_SIGNATURE):
        return head[PNG_MARK_AT : PNG_MARK_AT + len(PNG_MARK)] == PNG_MARK
    if head.startswith(JPEG_START):
        at = _jpeg_mark_at(head)
        return head[at : at + len(JPEG_MARK)] == JPEG_MARK
    return head.startswith(b"RIFF") and head[8:16] == b"WEBPVP8X" and tail == WEBP_MARK


def claim_image_paths(paths, option: str = "-o") -> None:
    """Refuse, before anything is written, a path holding anything but an image t2vid wrote: a re-run replaces its own images, never a file of the user's."""
    for path in paths:
        if os.path.lexists(path) and not is_marked_image(path):
            raise OwnershipError(f"{path} exists and was not written by t2vid; pick another {option} or remove it")


def write_own_image(path: str | os.PathLike, data: bytes) -> None:
    """Write encoded image bytes with t2vid's mark, whole or not at all; a link at `path` is replaced, never written through."""
    write_atomic(Path(path), mark_image(data))


class ExportFolder:
    """An export's DEST (or a gallery's DIR, `kind` "gallery"): claimed before writing, and on commit made to hold this run's files and no stale ones.

    The marker lists the files the last export wrote. Files that were in
    DEST when it was claimed and are not on that list are the user's: they
    are never listed, so never deleted. This export's files are what its
    writer returns plus whatever appeared in DEST while it ran (videos an
    encoder wrote); a file the last export wrote and this one did not is
    stale and removed.
    """

    def __init__(self, dest: str | os.PathLike, kind: str = "export", what: str = "destination", option: str = "-o"):
        self.root = Path(dest)
        self.marker = claim_folder(self.root, kind, what, option)
        listed = self.marker.get("files")
        self.previous = {f for f in listed if isinstance(f, str) and _inside_relative(f)} if isinstance(listed, list) else set()
        self.before = _files_below(self.root, self.root)
        self.foreign = self.before - self.previous - {OWNER_FILE}

    def commit(self, written: list[Path]) -> None:
        appeared = _files_below(self.root, self.root) - self.before
        files = (set().union(*(_files_below(self.root, Path(path)) for path in written)) | appeared) - self.foreign - {OWNER_FILE}
        write_owner(self.root, {**self.marker, "files": sorted(files)})
        remove_own_files(self.root, sorted(self.previous - files))


def _inside_relative(relative: str) -> bool:
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts


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
        """The layout's folders, refusing a link or a file where one should be (t2vid never writes through links)."""
        for sub in LAYOUT_FOLDERS:
            path = self.root / sub
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                raise OwnershipError(f"{path} is a link or a file, not the folder t2vid writes there; remove it or pick another -o")
            path.mkdir(parents=True, exist_ok=True)

    def lock(self) -> bool:
        """Hold an exclusive lock on OUT/.lock for this process's lifetime; False when another run holds it.

        The lock file is opened without following a link and never truncated,
        so a `.lock` that points elsewhere is refused rather than emptied.
        """
        import fcntl

        path = self.root / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OwnershipError(f"{path} is a symbolic link; t2vid does not follow it (remove it)") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OwnershipError(f"{path} is not a regular file; remove it")
        self._lock = os.fdopen(fd, "r+b")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def withdraw(self, remove_root: bool) -> None:
        """Undo what a run that committed nothing put in OUT: its empty layout folders, lock and marker, and OUT itself if the run made it.

        A folder that is not empty stays, and so does the marker: an OUT
        holding t2vid's files without it would be refused as someone else's.
        """
        for sub in LAYOUT_FOLDERS:
            try:
                (self.root / sub).rmdir()
            except OSError:  # not empty or not there: leave it
                pass
        if any((self.root / sub).exists() for sub in LAYOUT_FOLDERS):
            return
        remove_own_files(self.root, [MANIFEST, LOCK, OWNER_FILE])
        if remove_root:
            try:
                self.root.rmdir()
            except OSError:
                pass

    def clear_temporary(self) -> None:
        """Leftovers of a killed run: never committed, safe to delete before workers start."""
        shutil.rmtree(self.root / TMP_DIR, ignore_errors=True)
        (self.root / TMP_DIR).mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / "shards", self.root / "rejects"):
            for stray in folder.glob(".*.tmp"):
                if OWN_NAMES.fullmatch(stray.relative_to(self.root).as_posix()):
                    stray.unlink(missing_ok=True)

    def has_frames(self, key: str) -> bool:
        return self.frame_dir(key).is_dir()

    def stage_frames(self, key: str, count: int, extension: str) -> FrameStaging:
        """A private folder under OUT/.tmp that takes the sample's `count` frames one at a time, then goes into frames/ whole."""
        return StagedFrames(self, key, count, extension)

    def commit_frames(self, key: str, frames: list[bytes], extension: str) -> bool:
        """Write frames already in memory (those a Ray worker sent to the driver) as a unit; False when they were already there."""
        if self.has_frames(key):
            return False
        with self.stage_frames(key, len(frames), extension) as staged:
            for data in frames:
                staged.add(data)
            return staged.commit()

    def commit_lines(self, path: Path, lines: list[str]) -> None:
        """A JSONL file of `lines` (each without its newline), whole or not at all.

        Written a slice at a time: joining and encoding a shard whose record
        holds a huge context would copy its ~10 MB line twice more.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        with StagedFile(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
            for line in lines:
                for start in range(0, len(line), WRITE_SLICE):
                    handle.write(line[start : start + WRITE_SLICE])
                handle.write("\n")
            failpoint(path.name)

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

    def images_of(self, shard: str) -> list[str | None]:
        """The image paths named by the records of a shard this run committed; None for a line that does not read."""
        images: list[str | None] = []
        with open(self.root / shard, "rb") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    named = record["images"]
                    images.extend(image if isinstance(image, str) else None for image in named)
                except (ValueError, RecursionError, TypeError, KeyError):
                    images.append(None)
        return images

    def repair_frames(self, number: int) -> bool:
        """True when a complete shard names a frame file that is gone (it must be redone); its incomplete frame folders are removed so they are drawn again."""
        damaged, redo = set(), False
        for image in self.images_of(self.shard_path(number).relative_to(self.root).as_posix()):
            if image is None or not OWN_NAMES.fullmatch(image):
                redo = True  # not a line t2vid wrote: the shard is redone, nothing outside frames/ is touched
            elif not _is_regular(self.root / image):
                damaged.add(Path(image).parent.as_posix())
        for folder in damaged:
            remove_own_files(self.root, own_files(self.root, folder))
            try:
                (self.root / folder).rmdir()  # left empty when its only file was the one lost
            except OSError:
                pass
        return redo or bool(damaged)

    def write_manifest(self, manifest: dict) -> None:
        write_atomic(self.root / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())

    def read_manifest(self) -> dict | None:
        """The manifest of a resumed run, or None when there is none that reads as an object (it is rewritten)."""
        path = self.root / MANIFEST
        try:
            if not _is_regular(path):
                return None
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return manifest if isinstance(manifest, dict) else None


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


class FrameStaging(ABC):
    """One sample's frames between the first one drawn and the sample's record: `add` each in order, then `commit` or `discard`.

    As a context manager it discards on any error, so a failure while frame k
    is drawn leaves nothing behind, and the set stays open on success for the
    write step to commit.
    """

    @abstractmethod
    def add(self, data: bytes) -> None:
        """The next frame's encoded bytes, in frame order."""

    @abstractmethod
    def commit(self) -> bool:
        """Make the frames the key's; False when they were there already (this copy is dropped). Always releases the staging."""

    @abstractmethod
    def discard(self) -> None:
        """Let go of every frame added; nothing of this set remains."""

    def __enter__(self) -> FrameStaging:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is not None:
            self.discard()


class StagedFrames(FrameStaging):
    """Frames written one at a time into OUT/.tmp/<key>-XXXX and renamed into frames/<k[:2]>/<key> when complete.

    Only the frame being added is in memory, however many frames the sample
    has; a killed run leaves the staging folder (cleared by the next run) and
    frames/ holds every frame of a key or none.
    """

    def __init__(self, out: OutputDir, key: str, count: int, extension: str):
        self.final = out.frame_dir(key)
        self.count = count
        self.extension = extension
        self.folder = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=out.root / TMP_DIR))
        self.added = 0

    def add(self, data: bytes) -> None:
        (self.folder / OutputDir.frame_name(self.added, self.count, self.extension)).write_bytes(data)
        self.added += 1
        failpoint("frame")

    def commit(self) -> bool:
        try:
            if self.added != self.count:
                raise ValueError(f"{self.added} of {self.count} frames staged for {self.final.name}")
            if self.final.is_dir():
                return False
            self.final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(self.folder, self.final)
            except OSError:
                if not self.final.is_dir():
                    raise
                return False  # another worker committed the same frames first
            return True
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class FrameSet:
    """One sample's encoded frames on their way from a worker to the driver."""

    extension: str
    frames: tuple[bytes, ...]


class HeldFrames(FrameStaging):
    """FrameHandOff's staging: the frames are kept in memory, because the driver, not the worker, writes them."""

    def __init__(self, hand_off: "FrameHandOff", key: str, extension: str):
        self.hand_off = hand_off
        self.key = key
        self.extension = extension
        self.frames: list[bytes] = []

    def add(self, data: bytes) -> None:
        self.frames.append(data)

    def commit(self) -> bool:
        committed = self.hand_off.keep(self.key, FrameSet(self.extension, tuple(self.frames)))
        self.discard()
        return committed

    def discard(self) -> None:
        self.frames = []


class FrameHandOff(OutputDir):
    """OUT as a worker sees it with --ray-storage driver: frames are kept for the driver instead of written.

    The worker never touches the filesystem; `take` gives the frames of the
    chunk just done, for its result. A key seen twice in one chunk is drawn
    and sent once. Unlike a worker that writes OUT itself, this one holds
    each sample's encoded frames in memory until its chunk is sent.
    """

    def __init__(self, root: str | os.PathLike):
        super().__init__(root)
        self._frame_sets: dict[str, FrameSet] = {}

    def has_frames(self, key: str) -> bool:
        return key in self._frame_sets

    def stage_frames(self, key: str, count: int, extension: str) -> FrameStaging:
        return HeldFrames(self, key, extension)

    def keep(self, key: str, frame_set: FrameSet) -> bool:
        if key in self._frame_sets:
            return False
        self._frame_sets[key] = frame_set
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

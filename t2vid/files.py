"""What a path is, and bounded reads of small files.

t2vid reads only regular files it was pointed at: a FIFO or a device named as
SOURCE, --font or --config would block or never end, and a symlink loop has
no file at all. Each gets a one-line usage error that names what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from t2vid.errors import UsageError

MAX_SMALL_FILE = 4 << 20  # a config, preset or profile file larger than this is not one

_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def kind_of(path: str | os.PathLike) -> str:
    """"file" for a regular file (or a link to one), "missing", or what else the path is, in words."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "broken symlink" if os.path.islink(path) else "missing"
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else f"unreadable path ({exc.strerror})"
    if stat.S_ISREG(mode):
        return "file"
    return next((name for test, name in _KINDS if test(mode)), "special file")


def not_regular(path: str | os.PathLike, what: str) -> str | None:
    """The usage error for a path that is there but is not a regular file; None when it is one or is missing."""
    kind = kind_of(path)
    if kind in ("file", "missing"):
        return None
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{what} {path} is {article} {kind}, not a regular file"


def read_small_text(path: str | os.PathLike, what: str, limit: int = MAX_SMALL_FILE) -> str:
    """A small UTF-8 file, refusing anything but a regular file and reading at most `limit` bytes."""
    problem = not_regular(path, what)
    if problem:
        raise UsageError(problem)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO swapped in after the check must not block
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{what} {path} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"{what} {path} is over {limit >> 20} MiB; that is not a {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def regular_files_under(folder: Path) -> list[Path]:
    """Every file below `folder`, symlinked directories not followed (no loops), sorted."""
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs.sort()
        found.extend(Path(parent) / name for name in names)
    return sorted(found)

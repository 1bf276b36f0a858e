"""Errors every layer may raise; this module imports nothing of t2vid."""

from contextlib import contextmanager


class UsageError(ValueError):
    """Bad settings or arguments; the CLI prints it on one line and exits 2."""


class SynthError(RuntimeError):
    """A run that had to stop midway (disk full, a worker died); the message is one line."""


class OutputWriteError(RuntimeError):
    """Writing to OUT failed (disk full, permissions): stops the run, unlike a problem with one record.

    Raised where t2vid writes OUT, so that an OSError from anything else (a
    font that cannot be loaded, say) is never reported as a write failure.
    """


@contextmanager
def writing_out():
    """Around a write to OUT: its OSError becomes the OutputWriteError that stops the run."""
    try:
        yield
    except OSError as exc:
        raise OutputWriteError(exc.strerror or str(exc)) from exc

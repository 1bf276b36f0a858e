"""A process pool whose workers end with their driver: the processes t2vid renders in, knowing nothing of the work.

Workers watch their driver: each holds the read end of a pipe whose only
write end is the driver's, and exits when it reads end-of-file, which the
kernel delivers however the driver died (SIGKILL, SIGTERM, SIGHUP). Without
it a killed driver left workers waiting on their task queue forever, and
with them the resource tracker and the caller's stdout/stderr.

Workers start from a fork server, so that a Python caller's threads, locks or
GPU state are never inherited. The `t2vid` command's own process has none of
those, so there (`fork_workers`) they are forked from the driver itself, with
t2vid already imported: each run then skips starting the fork server and
importing t2vid in every worker (~0.2 s of wall time and ~0.15 s of CPU a worker).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor

from t2vid.engines.collector import tune_collector

_FORK_WORKERS = False


def fork_workers() -> None:
    """Let pools fork their workers from this process: only for a process that is t2vid's own (the `t2vid` command)."""
    global _FORK_WORKERS
    _FORK_WORKERS = True


def _start_worker(driver_alive, inherited_writer=None) -> None:
    """Worker initializer: rendering's collector settings, and a daemon thread that ends this process when the driver's pipe closes.

    A forked worker also holds a copy of the pipe's write end: closed here, or
    the pipe would never reach end-of-file while a worker lives.
    """
    if inherited_writer is not None:
        inherited_writer.close()
    tune_collector()

    def watch() -> None:
        try:
            driver_alive.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="t2vid-driver-watch", daemon=True).start()


class DriverBoundPool(ProcessPoolExecutor):
    """A process pool whose workers end when this process does, however it ends.

    forkserver (or spawn if that is the start method): workers do not inherit
    this process by fork (threads, open fonts, locks); fork where `fork_workers`
    allowed it and no other thread runs here at that moment.
    """

    def __init__(self, workers: int):
        start = multiprocessing.get_start_method(allow_none=True)
        if start != "spawn":
            start = "fork" if _FORK_WORKERS and threading.active_count() == 1 else "forkserver"
        self.start_method = start
        context = multiprocessing.get_context(start)
        self._driver_alive, self._alive_writer = context.Pipe(duplex=False)
        inherited = self._alive_writer if start == "fork" else None
        super().__init__(workers, mp_context=context, initializer=_start_worker, initargs=(self._driver_alive, inherited))
        if start == "fork":  # a fork pool forks every worker at its first task: do it now, while no other thread runs
            self.submit(int).result()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        self._alive_writer.close()
        self._driver_alive.close()


def process_pool(workers: int) -> DriverBoundPool:
    return DriverBoundPool(workers)

"""Local engine: a pool of processes with a bounded window of chunks in flight.

`Pool.imap` would read the whole input ahead of the workers; a window of
2 x workers keeps memory flat however large the input is.

Workers watch their driver: each holds the read end of a pipe whose only
write end is the driver's, and exits when it reads end-of-file, which the
kernel delivers however the driver died (SIGKILL, SIGTERM, SIGHUP). Without
it a killed driver left workers waiting on their task queue forever, and
with them the resource tracker and the caller's stdout/stderr.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Iterable, Iterator

from t2vid.config import SynthConfig
from t2vid.pipeline import ChunkResult, WorkChunk, process_chunk


def _exit_with_driver(driver_alive) -> None:
    """Worker initializer: a daemon thread that ends this process when the driver's pipe closes."""

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
    this process by fork (threads, open fonts, locks).
    """

    def __init__(self, workers: int):
        start = "spawn" if multiprocessing.get_start_method(allow_none=True) == "spawn" else "forkserver"
        context = multiprocessing.get_context(start)
        self._driver_alive, self._alive_writer = context.Pipe(duplex=False)
        super().__init__(workers, mp_context=context, initializer=_exit_with_driver, initargs=(self._driver_alive,))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        self._alive_writer.close()
        self._driver_alive.close()


def process_pool(workers: int) -> DriverBoundPool:
    return DriverBoundPool(workers)


def run_local(config: SynthConfig, dataset_names: tuple[str, ...], chunks: Iterable[WorkChunk]) -> Iterator[ChunkResult]:
    work = partial(process_chunk, config, dataset_names)
    if config.workers == 1:
        yield from map(work, chunks)
        return
    with process_pool(config.workers) as pool:
        window: deque = deque()
        for chunk in chunks:
            window.append(pool.submit(work, chunk))
            if len(window) >= 2 * config.workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

"""Local engine: work chunks on a process pool (engines/pool.py) with a bounded window of chunks in flight.

`Pool.imap` would read the whole input ahead of the workers; a window of
2 x workers keeps memory flat however large the input is.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from itertools import chain, islice
from typing import Iterable, Iterator

from t2vid.config import SynthConfig
from t2vid.engines.collector import rendering_collector
from t2vid.engines.pool import process_pool
from t2vid.pipeline import ChunkResult, WorkChunk, process_chunk, release_worker


def run_local(config: SynthConfig, dataset_names: tuple[str, ...], chunks: Iterable[WorkChunk]) -> Iterator[ChunkResult]:
    """Chunks on a process pool; in this process when there is one worker or only one chunk.

    Starting a pool means starting and importing t2vid in every worker (~1 s
    on two loaded cores): more than a small input such as the built-in sample
    takes to render.
    """
    work = partial(process_chunk, config, dataset_names)
    chunks = iter(chunks)
    head = list(islice(chunks, 2))
    if config.workers == 1 or len(head) < 2:
        with rendering_collector():
            try:
                yield from map(work, chain(head, chunks))
            finally:
                release_worker()
        return
    with process_pool(config.workers) as pool:
        window: deque = deque()
        for chunk in chain(head, chunks):
            window.append(pool.submit(work, chunk))
            if len(window) >= 2 * config.workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

"""Ray engine: the same work chunks as the local engine, one Ray task per chunk.

Workers write straight into OUT, so OUT must be a path every node sees (NFS,
a shared volume); the driver writes each shard's JSONL when its chunks are
back. Results come back in order and at most 2 x cluster CPUs chunks are in
flight, so the driver's memory stays flat.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator

from t2vid.config import SynthConfig
from t2vid.errors import UsageError
from t2vid.pipeline import ChunkResult, WorkChunk, process_chunk


def run_ray(config: SynthConfig, dataset_names: tuple[str, ...], chunks: Iterable[WorkChunk]) -> Iterator[ChunkResult]:
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 't2vid[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=config.ray_address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(process_chunk)
        config_ref = ray.put(config)
        window_size = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        window: deque = deque()
        for chunk in chunks:
            window.append(remote.remote(config_ref, dataset_names, chunk))
            if len(window) >= window_size:
                yield ray.get(window.popleft())
        while window:
            yield ray.get(window.popleft())
    finally:
        if started_here:
            ray.shutdown()

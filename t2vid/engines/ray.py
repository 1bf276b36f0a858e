"""Ray engine: the same work chunks as the local engine, one Ray task per chunk.

Workers write straight into OUT, so OUT must be a path every node sees (NFS,
a shared volume); the driver writes each shard's JSONL when its chunks are
back. Results come back in order and at most 2 x cluster CPUs chunks are in
flight, so the driver's memory stays flat. Each result names the node that
ran it, for the manifest's `run.nodes`; the bytes written never depend on it.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Iterable, Iterator

from t2vid.config import SynthConfig, UsageError
from t2vid.pipeline import ChunkResult, WorkChunk, process_chunk


def run_chunk_on_node(config: SynthConfig, dataset_names: tuple[str, ...], chunk: WorkChunk) -> ChunkResult:
    """The Ray task: a chunk's result, stamped with the id of the node that ran it."""
    import ray

    result = process_chunk(config, dataset_names, chunk)
    result.node = ray.get_runtime_context().get_node_id()
    return result


def ray_address(config: SynthConfig) -> str:
    """--ray-address, else RAY_ADDRESS (set by `ray job submit`), else a private local Ray.

    Ray's own default would join whatever cluster was last started on this
    machine; a run without an address must not land on someone else's cluster.
    """
    return config.ray_address or os.environ.get("RAY_ADDRESS") or "local"


def run_ray(config: SynthConfig, dataset_names: tuple[str, ...], chunks: Iterable[WorkChunk]) -> Iterator[ChunkResult]:
    try:
        import ray
        from ray.exceptions import RayTaskError
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 't2vid[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=ray_address(config), include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(run_chunk_on_node)
        config_ref = ray.put(config)
        window_size = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        window: deque = deque()

        def next_result() -> ChunkResult:
            try:
                return ray.get(window.popleft())
            except RayTaskError as exc:  # the worker's own exception, so the driver reports it as the local engine does
                raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None

        for chunk in chunks:
            window.append(remote.remote(config_ref, dataset_names, chunk))
            if len(window) >= window_size:
                yield next_result()
        while window:
            yield next_result()
    finally:
        if started_here:
            ray.shutdown()

"""Ray engine: the same shard tasks as the local engine, one Ray task per shard.

Workers write straight into OUT, so OUT must be a path every node sees (NFS,
a shared volume). Results come back in shard order and at most
2 x cluster CPUs shards are in flight, so the driver's memory stays flat.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator

from t2vid.config import SynthConfig, UsageError
from t2vid.pipeline import ShardResult, ShardTask, process_shard


def run_ray(config: SynthConfig, dataset_names: tuple[str, ...], tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 't2vid[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=config.ray_address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = ray.remote(process_shard)
        config_ref = ray.put(config)
        window_size = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        window: deque = deque()
        for task in tasks:
            window.append(remote.remote(config_ref, dataset_names, task))
            if len(window) >= window_size:
                yield ray.get(window.popleft())
        while window:
            yield ray.get(window.popleft())
    finally:
        if started_here:
            ray.shutdown()

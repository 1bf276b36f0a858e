"""Engines run shard tasks and yield their results in shard order; they know nothing of frames."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from t2vid.pipeline import ShardResult, ShardTask

ShardFunction = Callable[[ShardTask], ShardResult]


def get_engine(name: str):
    if name == "ray":
        from t2vid.engines.ray import run_ray

        return run_ray
    from t2vid.engines.local import run_local

    return run_local


__all__ = ["ShardFunction", "get_engine", "Iterable", "Iterator"]

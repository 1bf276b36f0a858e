"""Engines run work chunks and yield their results in order; they know nothing of frames."""

from __future__ import annotations


def get_engine(name: str):
    """`local` (process pool) or `ray`; both take (config, dataset names, chunks) and yield ChunkResults."""
    if name == "ray":
        from t2vid.engines.ray import run_ray

        return run_ray
    from t2vid.engines.local import run_local

    return run_local

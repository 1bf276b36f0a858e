#!/usr/bin/env python3
"""Measure what `--ray-storage driver` costs the driver, against workers writing OUT themselves (`shared`).

Three measurements on one corpus of distinct license-text contexts:

1. payload: the encoded frames each work chunk carries back to the driver
   (what in-flight chunks hold in the object stores; the driver holds one),
   and what rendering them cost one worker, per CPU-second;
2. driver write rate: unpickling chunk results and committing their frames
   (`commit_frame_sets`) on one core, with no rendering going on;
3. end to end on a local Ray of --cpus CPUs, both modes and the local engine:
   wall time, frames/s, the driver's own CPU seconds per 1000 frames, and its
   peak RSS above what it held before the run.

    python scripts/bench_ray_storage.py                  # 40 contexts x 5,750 words (~50 frames each)
    python scripts/bench_ray_storage.py --contexts 10    # quicker
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import corpus_words, write_corpus  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """Samples this process's RSS every 20 ms while the block runs."""

    def __enter__(self):
        self.before = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def driver_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process only: Ray's raylet and workers are children
    return usage.ru_utime + usage.ru_stime


def chunk_results(config):
    """Every work chunk of the corpus, rendered in this process with the driver hand-off on."""
    from t2vid.pipeline import ShardWorker, chunks_of
    from t2vid.sources import iter_records, resolve_sources

    sources = resolve_sources(config.sources)
    worker = ShardWorker(config, tuple(s.name for s in sources))
    return [worker.process(chunk) for chunk in chunks_of(0, iter_records(sources, config.split, config.subset, config.limit))]


def measure_payload(config, root: Path) -> None:
    from t2vid.pipeline import commit_frame_sets
    from t2vid.writer import OutputDir

    started, cpu = time.perf_counter(), driver_cpu_seconds()
    results = chunk_results(config)
    render_seconds, render_cpu = time.perf_counter() - started, driver_cpu_seconds() - cpu
    blobs = [pickle.dumps(r, protocol=5) for r in results]
    frames = sum(len(fs.frames) for r in results for fs in r.frame_sets.values())
    frame_bytes = [sum(len(b) for fs in r.frame_sets.values() for b in fs.frames) for r in results]
    print(f"payload: {len(results)} chunks, {frames} frames, {sum(frame_bytes) / frames / 1024:.1f} KiB/frame; "
          f"per chunk: median {statistics.median(frame_bytes) / 2**20:.2f} MiB, max {max(frame_bytes) / 2**20:.2f} MiB of frames, "
          f"max {max(map(len, blobs)) / 2**20:.2f} MiB pickled")
    print(f"render (one worker in this process): {frames / render_seconds:.0f} frames/s wall, {frames / render_cpu:.0f} frames per CPU-second")
    out = OutputDir(root / "write-rate")
    out.prepare()
    started, cpu = time.perf_counter(), driver_cpu_seconds()
    for blob in blobs:
        commit_frame_sets(out, pickle.loads(blob))
    seconds, cpu = time.perf_counter() - started, driver_cpu_seconds() - cpu
    print(f"driver write rate (unpickle + commit, one core, no rendering): {frames / seconds:,.0f} frames/s wall, {frames / cpu:,.0f} frames per CPU-second")


def measure_end_to_end(config, cpus: int, root: Path) -> None:
    import ray

    from t2vid.run import synth

    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        synth(replace(config, limit=1, output=str(root / "warm-up")))  # Ray's first tasks start worker processes and import t2vid
        runs = [("ray", "shared"), ("ray", "driver"), ("local", "driver")]
        for engine, storage in runs:
            run = replace(config, engine=engine, ray_storage=storage, workers=cpus, output=str(root / f"{engine}-{storage}"))
            cpu = driver_cpu_seconds()
            with PeakRss() as rss:
                summary = synth(run)
            cpu = driver_cpu_seconds() - cpu
            label = f"{engine} {storage}" if engine == "ray" else "local engine"
            print(f"{label:12s}: {summary.frames} frames in {summary.seconds:.1f} s = {summary.frames / summary.seconds:.1f} frames/s "
                  f"({summary.frames / summary.seconds / cpus:.1f} per CPU); driver {1000 * cpu / summary.frames:.2f} CPU-s per 1000 frames, "
                  f"peak RSS +{(rss.peak - rss.before) / 2**20:.0f} MiB")
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=40, help="distinct contexts to render")
    parser.add_argument("--words", type=int, default=5750, help="words per context (115 per frame: 5,750 is 50 frames)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs of the local Ray and local engine")
    args = parser.parse_args()

    from t2vid.config import build_config

    with tempfile.TemporaryDirectory(prefix="t2vid-ray-bench-") as temp:
        root = Path(temp)
        corpus = root / "corpus.jsonl"
        write_corpus(corpus, corpus_words(None), args.contexts, args.words, label=True)
        config = build_config({"sources": (str(corpus),), "output": str(root / "unused"), "engine": "ray", "ray_storage": "driver", "workers": 1, "quiet": True})
        print(f"{args.contexts} contexts x {args.words} words, default style, {os.cpu_count()} CPUs on this machine, load {os.getloadavg()[0]:.1f}")
        measure_payload(config, root)
        measure_end_to_end(config, args.cpus, root)


if __name__ == "__main__":
    main()

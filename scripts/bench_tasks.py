"""What generated tasks add to a synth run: the same inputs with and without --tasks, in one process.

Runs `synth` with one worker (in this process, so CPU time is measured
exactly), alternating plain and task runs, after one warm-up run of each (font
lookups, caches), and reports the best of --repeat runs of each: on a shared
machine the minimum is the least disturbed measurement. Because two runs on a
loaded machine can differ by more than the effect measured, it also reports
the CPU time spent inside the task functions (needles and generation) as a
share of the task run it belongs to: that number does not depend on the
neighbours.

    PYTHONPATH=$PWD python3 scripts/bench_tasks.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from t2vid import tasks
from t2vid.config import build_config
from t2vid.run import synth

ROOT = Path(__file__).resolve().parent.parent
LICENSES = Path("/usr/share/common-licenses")


def inputs(folder: Path) -> dict[str, tuple[tuple[str, ...], dict]]:
    """Built-in sample, the three fixtures, and 60 license documents (5 questions each)."""
    corpus = folder / "licenses.jsonl"
    names = ("Apache-2.0", "GPL-2", "GPL-3", "LGPL-2.1", "MPL-2.0", "Artistic")
    with corpus.open("w", encoding="utf-8") as handle:
        for n in range(60):
            words = (LICENSES / names[n % len(names)]).read_text().split()
            start = (n * 997) % max(1, len(words) - 1500)
            handle.write(json.dumps({"context": " ".join(words[start : start + 1500]), "question": f"Question {n}?", "answer": "Answer."}) + "\n")
    fixtures = ROOT / "tests" / "fixtures"
    return {
        "built-in sample": ((), {}),
        "fixtures": ((str(fixtures / "longalpaca-sample.json"),), {"preset": "longalpaca"}),
        "licenses (60 x 1500 words)": ((str(corpus),), {}),
    }


SPENT = {"cpu": 0.0}


def timed(function):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT["cpu"] += time.process_time() - started

    return wrapper


for _name in ("needle_plan", "insert_needles", "generate_tasks"):
    setattr(tasks, _name, timed(getattr(tasks, _name)))


def run(sources, settings: dict, output: Path) -> tuple[float, float, int]:
    shutil.rmtree(output, ignore_errors=True)
    SPENT["cpu"] = 0.0
    config = build_config({"sources": sources, "output": str(output), "workers": 1, "quiet": True, **settings})
    wall, cpu = time.perf_counter(), time.process_time()
    summary = synth(config)
    return time.perf_counter() - wall, time.process_time() - cpu, summary.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs of each setting (best is reported).")
    parser.add_argument("--tasks", default="all", help="Kinds for the task runs.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'input':<28} {'frames':>7} {'plain CPU s':>12} {'tasks CPU s':>12} {'overhead':>9} {'in task code':>13}")
        for name, (sources, settings) in inputs(folder).items():
            variants = {"plain": settings, "tasks": {**settings, "tasks": args.tasks}}
            best = {key: float("inf") for key in variants}
            frames, shares = {}, []
            for n in range(args.repeat + 1):
                for key, values in variants.items():
                    _, cpu, frames[key] = run(sources, values, folder / key)
                    if n:  # the first round warms caches
                        best[key] = min(best[key], cpu)
                        if key == "tasks":
                            shares.append(SPENT["cpu"] / cpu)
            overhead = best["tasks"] / best["plain"] - 1
            share = sorted(shares)[len(shares) // 2]
            print(f"{name:<28} {frames['tasks']:>7} {best['plain']:>12.2f} {best['tasks']:>12.2f} {overhead:>8.1%} {share:>12.1%}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Random SIGKILL trials: kill `t2vid synth` at a random moment, resume, and compare with an uninterrupted run.

Each trial picks a random moment within the reference run's duration, a
target (the driver alone, or its whole process group), a worker count (1 or
2) and a shard size (1 or 3), kills with SIGKILL, checks that no process of
the run survives its driver (workers watch it), re-runs the same command and
compares every file of OUT (the manifest without its `run` section) with the
uninterrupted run of the same settings. Exit 1 if any trial differs.

    python scripts/kill_test.py                # 20 trials, seed 0
    python scripts/kill_test.py --trials 50 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LICENSES = Path("/usr/share/common-licenses")


def dataset(path: Path) -> Path:
    """Ten long-text records over five licence texts, one broken line and one reject, as JSONL."""
    texts = [" ".join((LICENSES / name).read_text().split()[:400]) for name in ("Apache-2.0", "GPL-3", "MPL-2.0", "LGPL-2.1", "Artistic")]
    lines = [json.dumps({"context": texts[i % 5], "question": f"Question {i}?", "answer": f"Answer {i}."}) for i in range(10)]
    lines.insert(4, '{"broken": ')
    lines.insert(7, json.dumps({"context": "", "question": "q", "answer": "a"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def command(data: Path, out: Path, workers: int, shard_size: int) -> list[str]:
    return [sys.executable, "-m", "t2vid.cli", "synth", str(data), "-o", str(out), "-q", "--workers", str(workers), "--shard-size", str(shard_size), "--size", "224x224", "--words-per-frame", "60"]


def environment() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("T2VID_FAILPOINT", None)
    return env


def snapshot(out: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != ".lock":
            data = path.read_bytes()
            if path.name == "manifest.json":
                manifest = json.loads(data)
                manifest.pop("run", None)
                data = json.dumps(manifest, sort_keys=True).encode()
            files[path.relative_to(out).as_posix()] = data
    return files


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="Number of kills.")
    parser.add_argument("--seed", type=int, default=0, help="Seeds the moments, targets and settings.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = environment()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="t2vid-kill-") as tmp:
        root = Path(tmp)
        data = dataset(root / "data.jsonl")
        references: dict[tuple[int, int], tuple[dict, float]] = {}
        for trial in range(args.trials):
            workers, shard_size = rng.choice((1, 2)), rng.choice((1, 3))
            if (workers, shard_size) not in references:
                ref = root / f"ref-{workers}-{shard_size}"
                started = time.perf_counter()
                subprocess.run(command(data, ref, workers, shard_size), env=env, check=True)
                references[(workers, shard_size)] = (snapshot(ref), time.perf_counter() - started)
            expected, duration = references[(workers, shard_size)]
            target, delay = rng.choice(("driver", "group")), rng.uniform(0.05, duration)
            out = root / f"trial-{trial}"
            run = subprocess.Popen(command(data, out, workers, shard_size), env=env, start_new_session=True)
            time.sleep(delay)
            if target == "driver":
                os.kill(run.pid, signal.SIGKILL)
            else:
                os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            deadline = time.monotonic() + 20
            while group_alive(run.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            orphans = group_alive(run.pid)
            if orphans:
                os.killpg(run.pid, signal.SIGKILL)
            resumed = subprocess.run(command(data, out, workers, shard_size), env=env, capture_output=True, text=True)
            same = resumed.returncode == 0 and snapshot(out) == expected
            failures += not same or orphans
            verdict = "ok" if same and not orphans else ("ORPHANS" if orphans else f"DIFFERS (exit {resumed.returncode}: {resumed.stderr.strip()[:200]})")
            print(f"trial {trial:2d}: kill {target:<6} after {delay:5.2f}s of {duration:4.1f}s, workers {workers}, shard size {shard_size}: {verdict}", flush=True)
    print(f"{args.trials - failures}/{args.trials} trials resumed to byte-identical output")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

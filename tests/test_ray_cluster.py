"""The Ray engine on a multi-node cluster writes what the local engine writes, survives losing a node, and resumes after losing its driver.

One cluster for the module, as on real hardware: a head without CPUs (it
runs only the driver) and two 1-CPU worker nodes, each its own raylet and
object store. It lives under a private RAY_TMPDIR so that no other Ray
program on the machine finds and joins it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import license_text, run_synth, tree_bytes, write_jsonl

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.slow

SETTINGS = {"shard_size": 2, "size": "224x224"}
FLAGS = ["--shard-size", "2", "--size", "224x224", "-q"]
SHARDS = 14
LICENSES = ("Apache-2.0", "GPL-3", "MPL-2.0", "LGPL-2.1", "Artistic", "GPL-2", "BSD", "LGPL-3")


@pytest.fixture(scope="module")
def cluster():
    temp = tempfile.mkdtemp(prefix="t2vray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    previous = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        yield cluster
    finally:
        cluster.shutdown()
        if previous is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = previous
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def workers(cluster) -> Cluster:
    """Two live 1-CPU worker nodes (a test before may have removed one)."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """SHARDS shards of two 400-word records: long enough to act on a run midway; and the local engine's output of it."""
    root = tmp_path_factory.mktemp("cluster")
    records = []
    for i in range(2 * SHARDS):
        words = license_text(LICENSES[i % len(LICENSES)]).split()
        start = (i * 97) % (len(words) - 400)
        records.append({"context": " ".join(words[start:start + 400]), "question": f"Question {i}?", "answer": f"Answer {i}."})
    data = write_jsonl(root / "data.jsonl", records)
    run_synth(root / "local", data, workers=2, **SETTINGS)
    return data, root / "local"


def _synth_command(data: Path, out: Path, address: str, storage: str) -> list[str]:
    """`t2vid synth --engine ray` as a user runs it, in its own process (the driver)."""
    return [sys.executable, "-m", "t2vid.cli", "synth", str(data), "-o", str(out), "--engine", "ray", "--ray-address", address, "--ray-storage", storage, *FLAGS]


def _start_driver(data: Path, out: Path, address: str, storage: str, failpoint: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "T2VID_FAILPOINT"}
    if failpoint:
        env["T2VID_FAILPOINT"] = failpoint  # the driver's only: Ray's workers do not inherit the driver's environment
    return subprocess.Popen(_synth_command(data, out, address, storage), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_shards(out: Path, driver: subprocess.Popen, count: int) -> int:
    """Block until `count` shards are committed; how many were, at that moment."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = len(list((out / "shards").glob("*.done.json"))) if (out / "shards").is_dir() else 0
        if done >= count:
            return done
        assert driver.poll() is None, driver.communicate()[1]
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} shards after 120 s")


@pytest.mark.parametrize("storage", ["driver", "shared"])
def test_cluster_output_identical_to_local_and_spread_over_nodes(tmp_path, workers, dataset, storage):
    data, local = dataset
    summary = run_synth(tmp_path / "out", data, engine="ray", ray_address=workers.address, ray_storage=storage, **SETTINGS)
    assert tree_bytes(tmp_path / "out") == tree_bytes(local)
    worker_ids = {node.node_id for node in workers.worker_nodes}
    assert set(summary.nodes) == worker_ids  # both worker nodes ran chunks; the head has no CPUs
    assert sum(summary.nodes.values()) == SHARDS  # one chunk per shard of short records
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["run"]["nodes"] == dict(sorted(summary.nodes.items()))


def test_worker_node_lost_midway_still_gives_identical_output(tmp_path, workers, dataset):
    """Chunk results, frames included (--ray-storage driver), are lost with the node's object store; Ray runs them again."""
    data, local = dataset
    out = tmp_path / "out"
    driver = _start_driver(data, out, workers.address, "driver")
    done = _wait_for_shards(out, driver, 2)
    workers.remove_node(next(iter(workers.worker_nodes)), allow_graceful=False)
    stderr = driver.communicate(timeout=300)[1]
    assert done < SHARDS
    if driver.returncode:  # Ray gave up on the lost chunks: one line, and re-running finishes the job
        assert driver.returncode == 1 and len(stderr.strip().splitlines()) == 1 and stderr.startswith("t2vid: error: "), stderr
        run_synth(out, data, engine="ray", ray_address=workers.address, **SETTINGS)
    assert tree_bytes(out) == tree_bytes(local)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("storage", [
    "shared",  # workers write frames: the driver is killed from outside between shards
    "driver",  # the driver writes frames: it is killed halfway through the first sample of the fourth shard
])
def test_driver_killed_midway_resumes_to_identical_output(tmp_path, workers, dataset, storage):
    data, local = dataset
    out = tmp_path / "out"
    if storage == "driver":
        first_three = sum(len(json.loads(line)["images"]) for n in range(3) for line in (local / "shards" / f"shard-{n:05d}.jsonl").read_text().splitlines())
        driver = _start_driver(data, out, workers.address, storage, failpoint=f"frame:{first_three + 2}")
    else:
        driver = _start_driver(data, out, workers.address, storage)
        _wait_for_shards(out, driver, 2)
        driver.send_signal(signal.SIGKILL)
    driver.communicate(timeout=120)
    assert driver.returncode == -signal.SIGKILL
    done = len(list((out / "shards").glob("*.done.json")))
    assert 0 < done < SHARDS
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    summary = run_synth(out, data, engine="ray", ray_address=workers.address, ray_storage=storage, **SETTINGS)
    assert summary.shards_resumed == done
    assert tree_bytes(out) == tree_bytes(local)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="a driver-only mount needs root and unshare")
@pytest.mark.parametrize("storage", ["driver", "shared"])
def test_out_mounted_on_the_driver_only(tmp_path, workers, dataset, storage):
    """OUT on a tmpfs that only the driver's mount namespace has, as on a cluster without a shared filesystem."""
    data, local = dataset
    private, copy = tmp_path / "private", tmp_path / "copy"
    private.mkdir()
    synth = " ".join(shlex.quote(part) for part in _synth_command(data, private / "out", workers.address, storage))
    script = f"mount -t tmpfs tmpfs {shlex.quote(str(private))} && {synth} && cp -a {shlex.quote(str(private / 'out'))} {shlex.quote(str(copy))}"
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert not any(private.iterdir())  # the workers' view: nothing was written outside the driver's mount
    if storage == "driver":
        assert result.returncode == 0, result.stderr
        assert tree_bytes(copy) == tree_bytes(local)
    else:
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "does not see OUT" in result.stderr and "--ray-storage driver" in result.stderr


def test_a_source_failing_partway_leaves_no_chunk_drawing_into_out(tmp_path, workers, monkeypatch):
    """The caller's own Ray keeps running submitted tasks after synth() fails: synth waits for them, so an OUT it made is gone and stays gone."""
    from t2vid import run
    from t2vid.errors import UsageError
    from t2vid.pipeline import CHUNK_WORK
    from t2vid.sources import RawRecord, SourceRef

    def failing_stream(*_args, **_kwargs):
        for index in range(24):  # 12 chunks: the driver waits on the first results while later chunks run
            yield RawRecord(index, SourceRef("data", "train", index), {"context": f"record {index} " + "lorem ipsum dolor " * (CHUNK_WORK // 20), "question": "q", "answer": "a"})
        raise UsageError("cannot read second.parquet: broken")

    monkeypatch.setattr(run, "iter_records", failing_stream)
    out = tmp_path / "out"
    source = write_jsonl(tmp_path / "data.jsonl", [{"context": "x", "question": "q", "answer": "a"}])  # resolved, never read
    ray.init(address=workers.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        with pytest.raises(UsageError, match="broken"):
            run_synth(out, source, engine="ray", ray_storage="shared", size="224x224")  # one shard: none is committed
        assert not out.exists()
        time.sleep(3)  # a task still running would have written its frames by now
        assert not out.exists()
    finally:
        ray.shutdown()

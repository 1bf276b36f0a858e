"""A driver killed alone (SIGTERM, SIGKILL, SIGHUP) takes its workers, forkserver and resource tracker with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import license_text, write_jsonl


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaks")
    text = license_text("GPL-3")
    return write_jsonl(root / "big.jsonl", [{"context": text, "question": f"Q{i}?", "answer": "A."} for i in range(400)])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP], ids=["TERM", "KILL", "HUP"])
def test_workers_exit_when_the_driver_dies(tmp_path, big_input, sig):
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "-m", "t2vid.cli", "synth", str(big_input), "-o", str(out), "--workers", "2", "--shard-size", "50", "--size", "224x224"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    pgid = driver.pid
    try:
        deadline = time.monotonic() + 60
        while len(_children(driver.pid)) < 2 and time.monotonic() < deadline:  # forkserver and resource tracker at least
            time.sleep(0.2)
        while not any((out / "frames").rglob("*.png")) and time.monotonic() < deadline:  # workers are drawing
            time.sleep(0.2)
        assert driver.poll() is None, "the run ended before it could be killed"
        os.kill(driver.pid, sig)
        driver.wait(timeout=30)
        drained = threading.Event()
        threading.Thread(target=lambda: (driver.stdout.read(), driver.stderr.read(), drained.set()), daemon=True).start()
        deadline = time.monotonic() + 20
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(pgid), "worker processes outlived their driver"
        assert drained.wait(10), "someone still holds the caller's stdout/stderr"
    finally:
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def test_the_command_forks_its_workers_and_a_python_caller_gets_a_fork_server(monkeypatch):
    """Forked workers skip starting Python and importing t2vid; only the command's own process, with no other thread, forks them.

    The command's runs above fork theirs (and still take them down with the driver).
    """
    from t2vid.engines import local

    monkeypatch.setattr(local, "_FORK_WORKERS", False)
    monkeypatch.setattr(local.threading, "active_count", lambda: 1)  # this process may hold other tests' threads
    with local.DriverBoundPool(1) as pool:
        assert pool.start_method == "forkserver"
    local.fork_workers()
    with local.DriverBoundPool(1) as pool:
        assert pool.start_method == "fork"
        assert pool.submit(os.getppid).result(timeout=60) == os.getpid()  # a child of this process, running the pool's work
    monkeypatch.setattr(local.threading, "active_count", lambda: 2)
    with local.DriverBoundPool(1) as pool:
        assert pool.start_method == "forkserver"  # another thread may hold a lock the child would need

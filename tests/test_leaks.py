"""A driver killed alone (SIGTERM, SIGKILL, SIGHUP) takes its workers, and any fork server and resource tracker, with it.

The `t2vid` command forks its workers; a Python caller's run gets them from a fork server: both are killed here.
"""

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


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize(
    "sig, caller",
    [(signal.SIGTERM, "command"), (signal.SIGKILL, "command"), (signal.SIGHUP, "command"), (signal.SIGKILL, "python")],
    ids=["TERM", "KILL", "HUP", "KILL-python-caller"],
)
def test_workers_exit_when_the_driver_dies(tmp_path, big_input, sig, caller):
    out = tmp_path / "out"
    arguments = ["synth", str(big_input), "-o", str(out), "--workers", "2", "--shard-size", "50", "--size", "224x224"]
    launch = ["-m", "t2vid.cli", *arguments] if caller == "command" else ["-c", f"from t2vid.cli import main; main({arguments!r})"]
    driver = subprocess.Popen([sys.executable, *launch], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    pgid = driver.pid
    try:
        deadline = time.monotonic() + 60
        while len(_children(driver.pid)) < 2 and time.monotonic() < deadline:  # two forked workers, or a fork server and a resource tracker
            time.sleep(0.2)
        while not any((out / "frames").rglob("*.png")) and time.monotonic() < deadline:  # workers are drawing
            time.sleep(0.2)
        assert driver.poll() is None, "the run ended before it could be killed"
        fork_server = any("forkserver" in _cmdline(child) for child in _children(driver.pid))
        assert fork_server == (caller == "python"), "the command forks its workers; a Python caller gets a fork server"
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
    from t2vid.engines import pool as engine_pool

    monkeypatch.setattr(engine_pool, "_FORK_WORKERS", False)
    monkeypatch.setattr(engine_pool.threading, "active_count", lambda: 1)  # this process may hold other tests' threads
    with engine_pool.DriverBoundPool(1) as pool:
        assert pool.start_method == "forkserver"
    engine_pool.fork_workers()
    with engine_pool.DriverBoundPool(1) as pool:
        assert pool.start_method == "fork"
        assert pool.submit(os.getppid).result(timeout=60) == os.getpid()  # a child of this process, running the pool's work
    monkeypatch.setattr(engine_pool.threading, "active_count", lambda: 2)
    with engine_pool.DriverBoundPool(1) as pool:
        assert pool.start_method == "forkserver"  # another thread may hold a lock the child would need

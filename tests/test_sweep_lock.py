"""benchmark.sweeps.lock: one sweep per study folder, released when its holder dies.

The holder runs in a subprocess (flock conflicts between open files; the real case is two
processes). No fixed sleeps: the test polls for the holder's ready-file with a generous
deadline, and waits for a killed holder to be reaped, after which the kernel has released its
lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchmark.contracts import ContractError
from benchmark.sweeps import lock as lock_module
from benchmark.sweeps.lock import LOCK_NAME, study_lock

REPO = Path(__file__).resolve().parents[1]
DEADLINE = 180.0  # seconds; imports of torch on a loaded machine can take long

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from benchmark.sweeps.lock import study_lock
    folder, ready = Path(sys.argv[1]), Path(sys.argv[2])
    with study_lock(folder):
        ready.write_text("ready")
        while True:
            time.sleep(60)
""")

CONTENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from benchmark.contracts import ContractError
    from benchmark.sweeps.lock import study_lock
    try:
        with study_lock(Path(sys.argv[1])):
            print("ACQUIRED")
    except ContractError as exc:
        print(exc)
        sys.exit(3)
""")


def _python(script: str, *args: str) -> list[str]:
    return [sys.executable, "-c", script, *args]


def _start_holder(folder: Path, tmp_path: Path) -> subprocess.Popen:
    ready = tmp_path / "holder.ready"
    proc = subprocess.Popen(
        _python(HOLDER, str(folder), str(ready)), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + DEADLINE
    while not ready.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"holder exited early ({proc.returncode}): {err.decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"holder not ready after {DEADLINE} s")
        time.sleep(0.05)
    return proc


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=DEADLINE)  # reaped: its files are closed, its flock released
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_second_sweep_fails_naming_the_holder_and_sigkill_releases(tmp_path):
    folder = tmp_path / "runs" / "study"  # created by the lock
    holder = _start_holder(folder, tmp_path)
    try:
        with pytest.raises(ContractError) as info:
            with study_lock(folder):
                pytest.fail("second lock acquired while the holder runs")
        message = str(info.value)
        assert f"pid {holder.pid}" in message
        assert str(folder) in message
        assert socket.gethostname() in message
        assert "since " in message and "command: " in message and "benchmark.sweeps.lock" in message
        described = json.loads((folder / LOCK_NAME).read_text())
        assert described["pid"] == holder.pid and described["what"] == "sweep"
    finally:
        _kill(holder)
    assert holder.returncode == -signal.SIGKILL
    assert (folder / LOCK_NAME).exists()  # the stale file is left behind and does not block
    with study_lock(folder, what="runs --clean"):
        described = json.loads((folder / LOCK_NAME).read_text())
        assert described["pid"] == os.getpid() and described["what"] == "runs --clean"
    assert (folder / LOCK_NAME).exists()  # not deleted on release


def test_subprocess_is_refused_while_this_process_holds(tmp_path):
    folder = tmp_path / "study"
    with study_lock(folder):
        result = subprocess.run(
            _python(CONTENDER, str(folder)), cwd=REPO, capture_output=True, text=True, timeout=DEADLINE
        )
        assert result.returncode == 3, result.stderr
        assert f"pid {os.getpid()}" in result.stdout and str(folder) in result.stdout
    result = subprocess.run(_python(CONTENDER, str(folder)), cwd=REPO, capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode == 0 and "ACQUIRED" in result.stdout, result.stderr


def test_same_process_conflicts_and_release_allows_relock(tmp_path):
    with study_lock(tmp_path):
        with pytest.raises(ContractError, match=f"pid {os.getpid()}"):
            with study_lock(tmp_path):
                pass
    with study_lock(tmp_path):  # released on leaving the block
        pass
    with pytest.raises(RuntimeError):
        with study_lock(tmp_path):
            raise RuntimeError("the sweep fails")
    with study_lock(tmp_path):  # released on an exception too
        pass


def test_undescribed_holder_is_reported_as_unknown(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setattr(lock_module, "DESCRIBE_DEADLINE", 0.05)
    (tmp_path / LOCK_NAME).write_text("not json\n")
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)  # a holder that never described itself
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ContractError, match="unknown process"):
            with study_lock(tmp_path):
                pass
    finally:
        os.close(fd)

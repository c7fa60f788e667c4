"""One sweep per study folder: an exclusive ``flock`` on ``FOLDER/.sweep.lock``.

    with study_lock(folder):          # raises ContractError at once if another holder runs
        ...                            # run the sweep; nobody else writes into ``folder``

The lock belongs to the open file, not to the file's existence: the kernel releases it when
the holder closes it, exits or is SIGKILLed, so a lock file left behind by a dead sweep never
blocks the next one (only a held flock blocks). The file is therefore never deleted (deleting
a flock'd file races with a newcomer that opened the old inode); a released lock file is
harmless. After acquiring, the holder writes its description into it as one JSON line
(``what``, ``pid``, ``host``, ``command``, ``since`` as ISO 8601 UTC); a refused newcomer
names the folder and that holder in its error.

Limits: ``flock`` locks a file for every process of one host; on some systems (old Linux
kernels, some BSDs and NFS setups) it does not lock across NFS clients. A sweep's driver runs
on one host (with SLURM, only the array's tasks run elsewhere), so that is enough here.
Processes forked while the lock is held share it (same open file description), so the lock
lasts until they exit too; spawned/exec'd processes do not inherit it (the fd is
close-on-exec). Two ``study_lock`` on one folder in the same process also conflict.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..contracts import ContractError

LOCK_NAME = ".sweep.lock"
# A newcomer may read the lock file in the microseconds between the holder's flock and its
# description (empty, torn, or the previous, dead holder's line); it rereads until then.
DESCRIBE_DEADLINE = 2.0


def _description(what: str) -> dict[str, Any]:
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return {
        "what": what,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join(argv),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _alive_here(holder: dict[str, Any]) -> bool:
    """False only when ``holder`` claims this host and its pid is not running."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OverflowError):
        return True
    return True


def _read_holder(fd: int) -> dict[str, Any] | None:
    """The held lock's description; rereads briefly while it is missing or names a dead pid."""
    deadline = time.monotonic() + DESCRIBE_DEADLINE
    holder = None
    while True:
        line = os.pread(fd, 1 << 16, 0).split(b"\n", 1)[0]
        try:
            holder = json.loads(line)
            if not isinstance(holder, dict) or "pid" not in holder:
                holder = None
        except ValueError:
            holder = None
        if (holder is not None and _alive_here(holder)) or time.monotonic() > deadline:
            return holder
        time.sleep(0.02)


def _holder_text(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "an unknown process (its lock file holds no description)"
    text = (
        f"{holder.get('what', 'sweep')} (pid {holder.get('pid')} on host {holder.get('host')}, "
        f"since {holder.get('since')}, command: {holder.get('command')})"
    )
    if not _alive_here(holder):
        text += "; that process has exited but a process it forked still holds the lock"
    return text


@contextmanager
def study_lock(folder: Path, what: str = "sweep") -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` (created if missing) for the ``with`` block.

    ``what`` describes the holder in a refused newcomer's message (e.g. ``"sweep"``,
    ``"runs --clean"``). Raises ``ContractError`` at once, naming the folder and the holder
    (pid, host, command, since), when another open file holds the lock. Released on leaving the
    block, or by the kernel when the process dies; the lock file stays.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise ContractError(
                f"cannot start {what}: study folder {folder} is in use by {_holder_text(holder)}; "
                f"wait for it to finish or stop it (the lock is a flock on {path}, released when "
                f"its holder exits)"
            ) from None
        line = (json.dumps(_description(what), sort_keys=True) + "\n").encode()
        os.pwrite(fd, line, 0)
        os.ftruncate(fd, len(line))
        yield
    finally:
        os.close(fd)

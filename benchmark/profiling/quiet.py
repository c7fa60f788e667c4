"""Native stderr silenced around a profiler session.

Every ``torch.profiler`` session makes libkineto print ``USDT: ... profiler_start`` and
``profiler_stop`` lines on the process's stderr (its USDT logger, pytorch/kineto#1325), and
``profile_memory`` adds a c10 warning when a block allocated before the session is freed in it;
no setting turns them off (``KINETO_LOG_LEVEL`` does not). The profile command opens dozens of
sessions, so file descriptor 2 points at ``/dev/null`` while one is open; Python's own stderr is
flushed first and errors still arrive as exceptions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 redirected to ``/dev/null`` inside, restored after (also on an exception)."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
    except (AttributeError, OSError, ValueError):  # no real descriptor (an embedded interpreter)
        yield
        return
    for stream in (sys.stderr, sys.__stderr__):
        if stream is not None:
            stream.flush()
    saved = os.dup(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(null)

"""Atomic writes: a file or a folder appears complete under its name, or not at all.

Every writer of the project (records, checkpoints, code stamps, probe-map folders, built
datasets, reports) goes through here. A file is written to a temporary sibling
``.NAME.XXXX.tmp``, flushed, fsync'd and renamed over ``NAME`` (``os.replace`` is atomic on
POSIX); a folder is filled under ``.NAME.XXXX.tmp`` and renamed into place, an older folder
of that name being moved aside to ``.NAME.XXXX.old`` first. A writer killed midway leaves
only such dot-named temporaries, which ``benchmark.records.leftovers`` recognises and removes.
Files and folders get the permissions of any the user creates (0666 / 0777 minus the umask),
not ``mkstemp``'s / ``mkdtemp``'s private 0600 / 0700.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TMP_SUFFIX = ".tmp"
OLD_SUFFIX = ".old"


def _umask_mode(base: int = 0o666) -> int:
    """``base`` (0666 for files, 0777 for folders) less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def atomic_save(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(handle)`` on a temporary sibling of ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_save(path, lambda handle: handle.write(data))


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def _fsync_tree(folder: Path) -> None:
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())


@contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield an empty temporary sibling folder; on success it replaces ``final`` in one rename.

    On an exception the temporary folder is removed and ``final`` is left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=TMP_SUFFIX, dir=final.parent))
    try:
        os.chmod(tmp, _umask_mode(0o777))  # mkdtemp's folder is private; a results folder is not
        yield tmp
        _fsync_tree(tmp)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=OLD_SUFFIX, dir=final.parent))
            os.replace(final, old / "previous")
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

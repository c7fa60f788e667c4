"""Temporary files and folders that killed writers leave in a record folder, and their removal.

Every writer of the project writes under a temporary name and renames into place, so a writer
killed midway leaves only names of the shapes in ``PATTERNS`` (a direct child of the folder,
of the given kind):

* ``.NAME.XXXX.tmp`` file: ``tempfile.mkstemp(prefix=f".{NAME}.", suffix=".tmp")`` of an atomic
  file write (records ``RUN_ID.json``, stamps ``RUN_ID.ckpt.code``, checkpoints ...), e.g.
  ``.0123456789abcdef.json.k2j3x8ab.tmp``;
* ``.NAME.XXXX.tmp`` folder: ``tempfile.mkdtemp(...)`` of an atomic folder write (probe maps
  ``RUN_ID.saliency``), e.g. ``.0123456789abcdef.saliency.q9w8e7r6.tmp``;
* ``.NAME.XXXX.old`` folder: the older folder moved aside while its replacement is renamed in;
* ``RUN_ID.ckpt.tmp`` file: the older checkpoint writer's ``torch.save`` target (``RUN_ID`` is
  the 16 hex digits of ``benchmark.records.identity.run_id``).

``XXXX`` is tempfile's random part (lowercase letters, digits, ``_``). Nothing else matches: a
user's ``notes.tmp`` (no leading dot), ``.hidden`` or ``.notes.tmp`` (no random part),
``abc.ckpt``, ``RUN_ID.saliency/`` or the sweep's ``.sweep.lock`` are kept. A symlink whose
name matches any pattern is a leftover whatever it points to; it is unlinked, never followed.

Remove leftovers only while no writer is alive in the folder (e.g. holding
``benchmark.sweeps.lock.study_lock``): a live writer's temporary looks the same as a dead one's.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

# (regular expression for the whole name, kind: "file" or "folder")
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\.[^/]+\.[a-z0-9_]+\.tmp", "file"),
    (r"\.[^/]+\.[a-z0-9_]+\.tmp", "folder"),
    (r"\.[^/]+\.[a-z0-9_]+\.old", "folder"),
    (r"[0-9a-f]{16}\.ckpt\.tmp", "file"),
)
_COMPILED = tuple((re.compile(pattern, re.DOTALL), kind) for pattern, kind in PATTERNS)


def _kinds(name: str) -> set[str]:
    return {kind for pattern, kind in _COMPILED if pattern.fullmatch(name)}


def _is_leftover(entry: os.DirEntry) -> bool:
    kinds = _kinds(entry.name)
    if not kinds:
        return False
    if entry.is_symlink():
        return True
    if entry.is_dir(follow_symlinks=False):
        return "folder" in kinds
    return entry.is_file(follow_symlinks=False) and "file" in kinds


def find_leftovers(folder: Path) -> list[Path]:
    """The leftovers among the direct children of ``folder`` (sorted); [] if it is missing."""
    folder = Path(folder)
    try:
        with os.scandir(folder) as entries:
            return sorted(folder / entry.name for entry in entries if _is_leftover(entry))
    except FileNotFoundError:
        return []


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete ``find_leftovers(folder)``: files and symlinks with unlink, folders with rmtree
    (which does not follow symlinks inside them). Returns what it removed; [] if ``folder`` is
    missing. A leftover that vanishes meanwhile is skipped."""
    removed = []
    for path in find_leftovers(folder):
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed

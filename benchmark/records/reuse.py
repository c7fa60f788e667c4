"""A run another study already did: copied, not retrained.

A run id hashes everything that identifies the computation (``records.identity``), and a record is
current when the code fingerprint it was written with is today's (``records.run_states``): so a done
record of the same run id in another study's folder (``results/runs/OTHER/RUN_ID.json``) is the record
this study's run would write, bitwise the same numbers on this machine (only its timing, date and
environment would differ). A guidance study's scale-1 points and its ERM runs, or an annotation
study's arm with the dataset's own maps, are such runs of the default studies (DomainBed's hash-named
runs, shared across sweeps). A study opts in by naming those studies (``reuse_from: [decoy]``), so a
default study retrained to replicate it never copies instead. A study opts in by naming those studies (``reuse_from: [decoy]``), so a
default study retrained to replicate it never copies instead. The copy keeps the source's bytes: its artifacts folder first, renamed into
place, then the record (``benchmark.atomic``), so a killed copy leaves the run missing, never half there.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from ..atomic import atomic_folder, atomic_write_bytes
from ..contracts import ContractError
from .artifacts import folder_for
from .record_store import read_record, record_path
from .run_states import Fingerprints, classify


def done_elsewhere(folder: Path, studies: Iterable[str], run_ids: Iterable[str]) -> dict[str, Path]:
    """Run id -> the path of a done, current record of that run in the folder of one of ``studies`` beside
    ``folder`` (``results/runs/STUDY``; the first in the given order); ids without one are left out. Only the
    asked-for files are read."""
    folder = Path(folder)
    siblings = [folder.parent / name for name in studies if (folder.parent / name).resolve() != folder.resolve()]
    fingerprints = Fingerprints()
    found: dict[str, Path] = {}
    for rid in run_ids:
        for sibling in siblings:
            path = record_path(sibling, rid)
            if not path.is_file():
                continue
            try:
                record = read_record(path)
            except ContractError:
                continue
            if classify(rid, path, record, fingerprints).state == "done":
                found[rid] = path
                break
    return found


def copy_record(source: Path, folder: Path) -> Path:
    """Copy the record ``source`` and its artifacts folder into ``folder``; the record's path there."""
    target = record_path(folder, Path(source).stem)
    artifacts = folder_for(source)
    if artifacts.is_dir():
        with atomic_folder(folder_for(target)) as tmp:
            shutil.copytree(artifacts, tmp, dirs_exist_ok=True)
    return atomic_write_bytes(target, Path(source).read_bytes())

"""Is a record current? Each run is done, failed, stale, missing or corrupt.

done: a valid record with status "ok" whose code fingerprint matches the current code;
failed: the same with status "failed" (exception or NaN; rerun only on request);
stale: a valid record written by other code (method, dataset, architecture or core changed);
missing: no record (a checkpoint may exist: the run resumes from it);
corrupt: ``RUN_ID.json`` exists but breaks the schema, or is truncated or foreign (the message
names the file and the field); it is rerun.
A record of an older schema is stale for its run id, and the other files of a folder that
are not runs asked for are reported: unreadable ones by name, valid records of other
configs (or of an older schema) as orphans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..contracts import ContractError
from ..registry import ARCHS, DATASETS, METHODS
from .provenance import core_fingerprint
from .record_store import iter_records, record_path
from .schema import OutdatedRecord, RunRecord

STATES = ("done", "failed", "stale", "missing", "corrupt")
TO_RUN = ("missing", "stale", "corrupt")


@dataclass
class RunState:
    run_id: str
    state: str
    path: Path
    record: RunRecord | None = None
    problem: str = ""  # why corrupt, what changed (stale), the error (failed)
    checkpoint: bool = False


class Fingerprints:
    """The current code fingerprint per (method, dataset family, arch). Each part (a method's, a
    family's, an architecture's closure, the core's) is hashed once, however many cells share it."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, str], str] = {}

    def _part(self, kind: str, name: str, compute: Callable[[], str]) -> str:
        if (kind, name) not in self._parts:
            self._parts[kind, name] = compute()
        return self._parts[kind, name]

    def __call__(self, method: str, dataset: str, arch: str) -> dict[str, str]:
        return {
            "method": self._part("method", method, lambda: METHODS.fingerprint(method)),
            "dataset": self._part("dataset", dataset, lambda: DATASETS.fingerprint(dataset)),
            "arch": self._part("arch", arch, lambda: ARCHS.fingerprint(arch)),
            "core": self._part("core", "", core_fingerprint),
        }


def classify(rid: str, path: Path, found: RunRecord | ContractError | None, fingerprints: Fingerprints) -> RunState:
    checkpoint = path.with_suffix(".ckpt").exists()
    if found is None:
        return RunState(rid, "missing", path, checkpoint=checkpoint)
    if isinstance(found, OutdatedRecord):
        return RunState(rid, "stale", path, problem=str(found).split(": ", 1)[-1], checkpoint=checkpoint)
    if isinstance(found, ContractError):
        return RunState(rid, "corrupt", path, problem=str(found), checkpoint=checkpoint)
    config = found.config
    try:
        current = fingerprints(config["method"], config["dataset"], config["arch"])
    except ContractError as exc:  # its method, dataset or architecture is no longer registered
        return RunState(rid, "stale", path, found, problem=f"code gone: {exc}", checkpoint=checkpoint)
    changed = sorted(part for part in current if found.fingerprint.get(part) != current[part])
    if changed:
        return RunState(rid, "stale", path, found, problem=f"code changed: {', '.join(changed)}", checkpoint=checkpoint)
    if found.status == "failed":
        error = found.error or {}
        return RunState(rid, "failed", path, found, problem=f"{error.get('type', '?')}: {error.get('message', '')}")
    return RunState(rid, "done", path, found)


@dataclass
class FolderStatus:
    """The state of each asked-for run id, and what else the folder holds."""

    folder: Path
    runs: dict[str, RunState]
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        tally = Counter(run.state for run in self.runs.values())
        return {state: tally.get(state, 0) for state in STATES}


def folder_status(folder: Path, run_ids: Iterable[str] | None = None) -> FolderStatus:
    """Read every ``*.json`` of ``folder`` once (validated) and classify ``run_ids`` (default: every
    record in the folder)."""
    folder = Path(folder)
    found = {path.stem: (path, item) for path, item in iter_records(folder)} if folder.is_dir() else {}
    wanted = list(dict.fromkeys(run_ids)) if run_ids is not None else list(found)
    fingerprints = Fingerprints()
    runs = {}
    for rid in wanted:
        _, item = found.pop(rid, (None, None))
        runs[rid] = classify(rid, record_path(folder, rid), item, fingerprints)
    old_or_valid = [
        path for path, item in found.values() if not isinstance(item, ContractError) or isinstance(item, OutdatedRecord)
    ]
    unreadable = [(path, str(item)) for path, item in found.values() if path not in old_or_valid]
    orphans = old_or_valid
    return FolderStatus(folder=folder, runs=runs, unreadable=unreadable, orphans=orphans)

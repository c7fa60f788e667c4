"""What the results store holds for a study: each run is done, failed, stale, missing or corrupt.

done: a valid record with status "ok" whose code fingerprint matches the current code;
failed: the same with status "failed" (exception or NaN; rerun only on request);
stale: a valid record written by other code (method, dataset, architecture or core changed);
missing: no record (a checkpoint may exist: the run resumes from it);
corrupt: ``RUN_ID.json`` exists but is truncated, foreign or inconsistent (read_record's error).
Files that are not records of the study are reported too: unreadable ones by name, valid
records of other configs (an older study definition, another profile) as orphans.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..contracts import ContractError, RunRecord
from ..records.provenance import code_fingerprint
from ..records.store import iter_records, record_path
from .study import RunSpec, Study

STATES = ("done", "failed", "stale", "missing", "corrupt")
TO_RUN = ("missing", "stale", "corrupt")


@dataclass
class RunState:
    spec: RunSpec
    state: str
    path: Path
    record: RunRecord | None = None
    problem: str = ""  # why corrupt, what changed (stale), the error (failed)
    checkpoint: bool = False


@dataclass
class StudyStatus:
    folder: Path
    runs: list[RunState]
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        tally = Counter(run.state for run in self.runs)
        return {state: tally.get(state, 0) for state in STATES}

    def todo(self, retry_failed: bool = False) -> list[RunState]:
        wanted = TO_RUN + (("failed",) if retry_failed else ())
        return [run for run in self.runs if run.state in wanted]

    def records(self, state: str = "done") -> list[RunRecord]:
        """The records of the study's current runs in ``state`` (what statistics should read)."""
        return [run.record for run in self.runs if run.state == state and run.record is not None]


class Fingerprints:
    """The current code fingerprint per (method, dataset family, arch), computed once each."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], dict[str, str]] = {}

    def __call__(self, method: str, dataset: str, arch: str) -> dict[str, str]:
        key = (method, dataset, arch)
        if key not in self._cache:
            self._cache[key] = code_fingerprint(*key)
        return self._cache[key]


def classify(spec: RunSpec, path: Path, found: RunRecord | ContractError | None, current: dict[str, str]) -> RunState:
    checkpoint = path.with_suffix(".ckpt").exists()
    if found is None:
        return RunState(spec, "missing", path, checkpoint=checkpoint)
    if isinstance(found, ContractError):
        return RunState(spec, "corrupt", path, problem=str(found), checkpoint=checkpoint)
    changed = sorted(part for part in current if found.fingerprint.get(part) != current[part])
    if changed:
        return RunState(spec, "stale", path, found, problem=f"code changed: {', '.join(changed)}", checkpoint=checkpoint)
    if found.status == "failed":
        error = found.error or {}
        return RunState(spec, "failed", path, found, problem=f"{error.get('type', '?')}: {error.get('message', '')}")
    return RunState(spec, "done", path, found)


def study_status(study: Study, folder: Path) -> StudyStatus:
    """Read every ``*.json`` in ``folder`` once (validated) and classify each run of ``study``."""
    folder = Path(folder)
    found = {path.stem: (path, item) for path, item in iter_records(folder)} if folder.is_dir() else {}
    fingerprints = Fingerprints()
    runs = []
    for spec in study.runs:
        cfg = spec.config
        _, item = found.pop(spec.run_id, (None, None))
        runs.append(classify(spec, record_path(folder, spec.run_id), item, fingerprints(cfg.method, cfg.dataset, cfg.arch)))
    unreadable = [(path, str(item)) for path, item in found.values() if isinstance(item, ContractError)]
    orphans = [path for path, item in found.values() if not isinstance(item, ContractError)]
    return StudyStatus(folder=folder, runs=runs, unreadable=unreadable, orphans=orphans)

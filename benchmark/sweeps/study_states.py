"""What the results store holds for a study: the state of each of its runs (``records.run_states``).

The classification itself (done, failed, stale, missing, corrupt) lives in the records layer,
so the statistics and reports read it without the sweep; this module pairs it with the
study's run specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..records.run_states import STATES, TO_RUN, RunState, folder_status
from ..records.schema import RunRecord
from .study import RunSpec, Study

__all__ = ["STATES", "TO_RUN", "StudyRun", "StudyStatus", "study_status"]


@dataclass
class StudyRun:
    spec: RunSpec
    state: str
    path: Path
    record: RunRecord | None = None
    problem: str = ""
    checkpoint: bool = False

    @classmethod
    def of(cls, spec: RunSpec, run: RunState) -> StudyRun:
        return cls(spec, run.state, run.path, run.record, run.problem, run.checkpoint)


@dataclass
class StudyStatus:
    folder: Path
    runs: list[StudyRun]
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {state: sum(run.state == state for run in self.runs) for state in STATES}

    def todo(self, retry_failed: bool = False) -> list[StudyRun]:
        wanted = TO_RUN + (("failed",) if retry_failed else ())
        return [run for run in self.runs if run.state in wanted]


def study_status(study: Study, folder: Path) -> StudyStatus:
    """Read every ``*.json`` in ``folder`` once (validated) and classify each run of ``study``."""
    status = folder_status(folder, [spec.run_id for spec in study.runs])
    return StudyStatus(
        folder=Path(folder),
        runs=[StudyRun.of(spec, status.runs[spec.run_id]) for spec in study.runs],
        unreadable=status.unreadable,
        orphans=status.orphans,
    )

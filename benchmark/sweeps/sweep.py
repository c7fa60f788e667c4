"""A sweep: classify the study's runs, hand what is not done to an executor, report progress.

Done runs (a valid record for the current code) are skipped; a run that the folder of a study named in
``reuse_from`` holds done and current (the same run id: the same computation) is copied from there
(``records.reuse``); missing, stale and corrupt ones run (a corrupt file is named and then
overwritten); failed ones rerun only on request.
A sweep-level tqdm bar counts runs (with ETA) and one status line is printed per run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm

from ..records.leftovers import find_leftovers, remove_leftovers
from ..records.reuse import copy_record, done_elsewhere
from .executors import Executor
from .lock import study_lock
from .study import Study
from .study_states import StudyStatus, study_status
from .worker import RunOutcome, make_task


@dataclass
class SweepSummary:
    study: str
    profile: str
    executor: str
    total: int
    skipped: int
    reused: int = 0  # copied from another study's current record of the same run (``records.reuse``)
    ok: int = 0
    failed: int = 0
    lost: int = 0
    wall_seconds: float = 0.0
    compute_seconds: float = 0.0  # sum of train + eval seconds of the runs that ran now
    problems: list[str] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.ok + self.failed + self.lost

    def line(self) -> str:
        text = (
            f"sweep {self.study} (profile {self.profile}, {self.executor}): {self.total} runs: "
            f"{self.ok} done now, {self.skipped} skipped (done before), {self.failed} failed"
        )
        if self.reused:
            text += f", {self.reused} copied from other studies (the same runs, current)"
        if self.lost:
            text += f", {self.lost} lost (no record: rerun the sweep)"
        text += f"; wall {self.wall_seconds:.1f} s"
        if self.ran:
            text += f", runs' own train+eval {self.compute_seconds:.1f} s"
        return text


def report_problems(status: StudyStatus) -> list[str]:
    """One line per file that is not a usable record, naming it."""
    lines = [f"corrupt record {run.path} ({run.problem}): rerunning" for run in status.runs if run.state == "corrupt"]
    lines += [
        f"unreadable file {path} ({problem}): skipped, not part of the study" for path, problem in status.unreadable
    ]
    return lines


def leftover_lines(folder: Path) -> list[str]:
    """One line per temporary file or folder that a killed writer left in ``folder``."""
    return [
        f"temporary {'folder' if path.is_dir() else 'file'} {path} left by a killed writer: the next sweep removes it"
        for path in find_leftovers(folder)
    ]


def remove_finished_checkpoints(status: StudyStatus) -> None:
    """A run killed between writing its record and deleting its checkpoint leaves both behind."""
    for run in status.runs:
        if run.state == "done":
            ckpt = run.path.with_suffix(".ckpt")
            ckpt.unlink(missing_ok=True)
            ckpt.with_name(ckpt.name + ".code").unlink(missing_ok=True)


def run_sweep(
    study: Study,
    folder: Path,
    executor: Executor,
    retry_failed: bool = False,
    progress: bool = True,
    data_root: Path | None = None,
    stream: TextIO | None = None,
) -> SweepSummary:
    """Run every run of ``study`` that has no valid, current record in ``folder``.

    The sweep holds the folder's lock while it runs (a second sweep on it refuses, naming this
    one), and first removes the temporary files and folders that killed writers left there.
    """
    with study_lock(folder):
        return _run_locked(study, Path(folder), executor, retry_failed, progress, data_root, stream or sys.stderr)


def _run_locked(
    study: Study,
    folder: Path,
    executor: Executor,
    retry_failed: bool,
    progress: bool,
    data_root: Path | None,
    stream: TextIO,
) -> SweepSummary:
    started = time.perf_counter()
    removed = remove_leftovers(folder)
    if removed:
        print(
            f"removed {len(removed)} temporary file(s) left by killed writers in {folder}: "
            f"{', '.join(p.name for p in removed[:5])}{' ...' if len(removed) > 5 else ''}",
            file=stream,
        )
    status = study_status(study, folder)
    remove_finished_checkpoints(status)
    todo = status.todo(retry_failed)
    elsewhere = done_elsewhere(folder, study.reuse_from, [run.spec.run_id for run in todo])
    for run in todo:
        if run.spec.run_id in elsewhere:
            copy_record(elsewhere[run.spec.run_id], folder)
    summary = SweepSummary(
        study=study.name,
        profile=study.profile.name,
        executor=executor.describe(),
        total=len(study.runs),
        skipped=len(study.runs) - len(todo),
        reused=len(elsewhere),
        problems=report_problems(status),
    )
    todo = [run for run in todo if run.spec.run_id not in elsewhere]
    for line in summary.problems:
        print(f"warning: {line}", file=stream)
    tasks = [make_task(run.spec, study.profile, folder, data_root) for run in todo]
    bar = tqdm(
        total=len(tasks),
        desc=f"sweep {study.name}",
        unit="run",
        file=stream,
        dynamic_ncols=True,
        disable=None if progress and tasks else True,
    )  # None: a bar on terminals only; lines always

    def on_done(result: RunOutcome) -> None:
        setattr(summary, result.status, getattr(summary, result.status) + 1)
        summary.compute_seconds += result.compute_seconds
        note = f"  {result.message}" if result.message else ""
        elapsed = time.perf_counter() - started
        eta = elapsed / summary.ran * (len(tasks) - summary.ran)
        line = (
            f"[{summary.ran}/{len(tasks)}] {result.status:<6} {result.label}  {result.run_id}  "
            f"{result.seconds:.1f}s  (elapsed {tqdm.format_interval(elapsed)}, eta {tqdm.format_interval(eta)}){note}"
        )
        if progress:
            bar.write(line, file=stream)
        bar.update(1)

    try:
        if tasks:
            executor.run(tasks, on_done)
    finally:
        bar.close()
        summary.wall_seconds = time.perf_counter() - started
    return summary

"""Step 5 of ``submit``: train a method in the leaderboard studies and rank it against every method there.

For each study of ``leaderboard:`` (``sweeps.submission_study``) at the chosen profile:

1. the submission's runs (its comparison cells x seeds) train into the submission's own work folder,
   ``results/submission-work/METHOD/runs/STUDY`` (git-ignored), never into a study's records;
2. the study's own runs are read from ``results/runs/STUDY`` (what ``dvc repro`` / ``sweep STUDY
   --profile P`` wrote); those not done and current there train into the work folder as well, with
   a line saying so (``dvc repro`` trains them once for every later submission);
3. the statistics of ``stats`` (``reports.study.writer.write_statistics``) run on the study's and the
   submission's records together, with ERM as the baseline, into ``results/submission-work/METHOD/leaderboards``; and the same
   families once more with the submission as the baseline (``statistics.analyze``), which gives the
   paired test of the submission against every other method in every cell (paired t-test over
   seeds, Benjamini-Hochberg over the family's comparisons; docs/statistics.md §1.9-1.13).

A run of the submission that fails stops the protocol with its error; nothing is bundled.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from ..contracts import ContractError
from ..records.run_states import folder_status
from ..records.table import RecordSet, combine, load_records
from ..reports.study.writer import StatsOptions, Written, study_tables, write_statistics
from ..statistics import FamilyResult, analyze
from ..sweeps.executors import local_executor
from ..sweeps.study import Study, expand
from ..sweeps.submission_study import submission_study
from ..sweeps.sweep import run_sweep


@dataclass
class StudyOutcome:
    """One leaderboard study after the protocol: the records, the ERM-baseline statistics and the
    submission-baseline comparisons (``versus``: one ``FamilyResult`` per family)."""

    reference: Study
    submission: Study
    records: RecordSet
    written: Written
    versus: list[FamilyResult]


@dataclass
class ProtocolOptions:
    """How the protocol runs: parallel jobs, bootstrap repetitions and seed, significance level."""

    jobs: int | str = 1
    reps: int = 10_000
    seed: int = 0
    alpha: float = 0.05
    bayes_samples: int = 50_000
    progress: bool = True
    profiles: Path | None = None


def work_folder(work_root: Path, method: str) -> Path:
    """The submission's scratch space, ``results/submission-work/METHOD`` by default (records with their
    probe maps, the statistics): git-ignored, outside the bundles (which the leaderboard stage reads), kept
    between submissions so that finished runs are reused."""
    return work_root / method


def done_in(folder: Path, specs: list) -> set[str]:
    """The run ids of ``specs`` with a done, current record in ``folder``."""
    status = folder_status(folder, [spec.run_id for spec in specs])
    return {rid for rid, run in status.runs.items() if run.state == "done"}


def gather(
    reference: Study, submission: Study, reference_folders: list[Path], submission_folder: Path
) -> tuple[RecordSet, list]:
    """The study's and the submission's records as one set: each study run from the first of
    ``reference_folders`` where it is done (else from the last, where it is then reported not done),
    the submission's from ``submission_folder``; also the study runs done nowhere."""
    labels = reference.method_labels()
    mine = {s.run_id for s in submission.runs}
    left = [s for s in reference.runs if s.run_id not in mine]
    parts = []
    for i, folder in enumerate(reference_folders):
        last = i == len(reference_folders) - 1
        done = done_in(folder, left) if not last else set()
        here = [s for s in left if last or s.run_id in done]
        if here:
            parts.append(load_records(folder, [s.config for s in here], method_labels=labels))
        left = [s for s in left if s not in here]
    missing = [
        s
        for s in reference.runs
        if s.run_id not in mine
        and s.run_id not in {rid for part in parts for rid, run in part.status.runs.items() if run.state == "done"}
    ]
    parts.append(load_records(submission_folder, [s.config for s in submission.runs], method_labels=labels))
    return combine(*parts), missing


def together(reference: Study, submission: Study) -> Study:
    """The study with the submission's runs added (what the statistics see)."""
    known = {r.run_id for r in reference.runs}
    return Study(
        name=reference.name,
        description=reference.description,
        profile=reference.profile,
        runs=tuple(list(reference.runs) + [s for s in submission.runs if s.run_id not in known]),
        aliases=reference.aliases,
    )


def versus_submission(done: pd.DataFrame, keys: list[str], method: str, options: ProtocolOptions) -> list[FamilyResult]:
    """Each family again with the submission as the baseline: its paired test against every method, per cell."""
    return [
        analyze(
            done,
            key,
            method,
            alpha=options.alpha,
            reps=options.reps,
            seed=options.seed,
            bayes_samples=options.bayes_samples,
        )
        for key in keys
    ]


def stats_options(study: Study, folder: Path, options: ProtocolOptions) -> StatsOptions:
    """The ``stats`` options the protocol uses: ERM as the baseline, the default metrics and scale, the
    protocol's significance level, bootstrap and sampler settings."""
    return StatsOptions(
        study=study.name,
        folder=folder,
        alpha=options.alpha,
        reps=options.reps,
        seed=options.seed,
        bayes_samples=options.bayes_samples,
        profiles=options.profiles,
    )


def failed_runs(study: Study, folder: Path) -> list[str]:
    """One line per run of ``study`` that is not done in ``folder`` after the sweep, with its error."""
    status = folder_status(folder, [spec.run_id for spec in study.runs])
    lines = []
    for spec in study.runs:
        run = status.runs[spec.run_id]
        if run.state != "done":
            error = (run.record.error or {}) if run.record is not None else {}
            why = error.get("message") or run.problem or run.state
            lines.append(f"{spec.label} ({spec.run_id}): {run.state}: {why}")
    return lines


def run_study(
    reference: Study,
    submission: Study,
    runs_folder: Path,
    work: Path,
    options: ProtocolOptions,
    stream: TextIO = sys.stderr,
) -> StudyOutcome:
    """Steps 1-3 above for one study; raises ``ContractError`` listing the submission's failed runs."""
    folder = work / "runs" / reference.name
    mine = {s.run_id for s in submission.runs}
    missing = [
        s for s in reference.runs if s.run_id not in mine and s.run_id not in done_in(runs_folder, list(reference.runs))
    ]
    if missing:
        print(
            f"{len(missing)} of {len(reference.runs)} runs of study {reference.name} at profile "
            f"{reference.profile.name} are not done in {runs_folder}: they train in {folder} (done ones are reused) "
            f"(`dvc repro` or `python -m benchmark sweep {reference.name} --profile {reference.profile.name}` "
            f"trains them once for every submission)",
            file=stream,
        )
    to_train = Study(
        name=reference.name,
        description=reference.description,
        profile=reference.profile,
        runs=tuple(list(submission.runs) + missing),
    )
    executor = local_executor(reference.profile, options.jobs)
    summary = run_sweep(to_train, folder, executor, progress=options.progress, stream=stream)
    print(summary.line(), file=stream)
    failures = failed_runs(submission, folder)
    if failures:
        raise ContractError(
            f"{len(failures)} run(s) of the submission in study {reference.name} did not finish:\n  "
            + "\n  ".join(failures)
        )
    records, _ = gather(reference, submission, [runs_folder, folder], folder)
    both = together(reference, submission)
    written = write_statistics(both, records, stats_options(both, folder, options), work / "leaderboards")
    versus = versus_submission(records.done(), written.keys, submission.runs[0].method, options)
    return StudyOutcome(reference, submission, records, written, versus)


def submission_rows(outcome: StudyOutcome) -> pd.DataFrame:
    """The submission's done runs of ``outcome`` as score rows (what its claim summarizes)."""
    done = outcome.records.done()
    ids = {s.run_id for s in outcome.submission.runs}
    return done[done["run_id"].isin(ids)].reset_index(drop=True)


def run_protocol(
    pairs: list[tuple[Study, Study]], runs_root: Path, work: Path, options: ProtocolOptions, stream: TextIO = sys.stderr
) -> list[StudyOutcome]:
    """``run_study`` for every (reference, submission) pair; ``runs_root/STUDY`` holds each study's records."""
    return [
        run_study(reference, submission, runs_root / reference.name, work, options, stream)
        for reference, submission in pairs
    ]


def describe_pairs(pairs: list[tuple[Study, Study]]) -> list[str]:
    """One line per study: how many runs the submission makes, in which cells."""
    out = []
    for reference, submission in pairs:
        cells = sorted({f"{s.dataset}/{s.arch}" for s in submission.runs})
        seeds = sorted({s.seed for s in submission.runs})
        out.append(
            f"study {reference.name} (profile {reference.profile.name}): {len(submission.runs)} runs, "
            f"{len(seeds)} seeds in {len(cells)} cell(s): {', '.join(cells)}"
        )
    return out


def protocol_configs(pairs: list[tuple[Study, Study]]) -> list:
    """One resolved config per (dataset, arch) cell of the protocol, seed 0 (what the checks run)."""
    seen: dict[tuple[str, str], Any] = {}
    for _, submission in pairs:
        for spec in submission.runs:
            seen.setdefault((spec.dataset, spec.arch), spec.config)
    return list(seen.values())


@dataclass
class Rederived:
    """What ``verify`` re-derives a study's ranking from: ``bundle.ranking``'s arguments but the method, and the
    folders the study's own records were read from."""

    results: list[FamilyResult]
    boards: Mapping[str, pd.DataFrame]
    versus: list[FamilyResult]
    sources: list[Path]


def rederiver(
    method: str, params: Mapping[str, Any], runs_root: Path, work: Path, options: ProtocolOptions
) -> Callable[[str, str, Path], Rederived | str]:
    """For ``verify``: (study, profile, the bundle's records folder) -> the statistics the ranking is
    re-derived from, or a note saying which study runs are not done (in ``runs_root/STUDY`` or the work folder)."""

    def inputs(study: str, profile: str, folder: Path) -> Rederived | str:
        reference = expand(study, profile, params=params)
        submission = submission_study(reference, method)
        records, missing = gather(reference, submission, [runs_root / study, work / "runs" / study], folder)
        if missing:
            return (
                f"{len(missing)} of {len(reference.runs)} runs of the study at profile {profile} are not done in "
                f"{runs_root / study} (`python -m benchmark sweep {study} --profile {profile}` trains them)"
            )
        both = together(reference, submission)
        tables = study_tables(records, stats_options(both, folder, options))
        mine = {s.run_id for s in submission.runs}
        sources = sorted({run.path.parent for rid, run in records.status.runs.items() if rid not in mine})
        return Rederived(
            tables.results, tables.boards, versus_submission(tables.done, tables.keys, method, options), sources
        )

    return inputs

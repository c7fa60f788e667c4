"""``runs STUDY``: what the results store holds for a study (done / failed / stale / missing)."""

from __future__ import annotations

import argparse
from collections import Counter

from .sweep_cmd import add_study_arguments, study_folder


def detail_rows(status) -> list[list[str]]:
    rows = []
    for run in status.runs:
        note = run.problem
        if run.state == "done" and run.record is not None:
            note = ", ".join(
                f"{split} acc {m['accuracy']:.3f}"
                for split, m in run.record.metrics.items()
                if split.startswith("test") and m.get("accuracy") is not None
            )
        if run.checkpoint:
            note = f"checkpoint present; {note}".rstrip("; ")
        rows.append([run.state, run.spec.method, run.spec.arch, run.spec.dataset, run.spec.seed, run.spec.run_id, note])
    return rows


def cell_rows(status) -> list[list]:
    from ..sweeps.study_states import STATES

    cells: dict[tuple[str, str, str], Counter] = {}
    for run in status.runs:
        cells.setdefault((run.spec.method, run.spec.arch, run.spec.dataset), Counter())[run.state] += 1
    return [[*key, *(tally.get(state, 0) for state in STATES), sum(tally.values())] for key, tally in cells.items()]


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ..sweeps.study import expand
    from ..sweeps.study_states import STATES, study_status
    from ..sweeps.sweep import leftover_lines, report_problems

    study = expand(args.study, args.profile)
    status = study_status(study, study_folder(study.name, args.out))
    if args.detail:
        print(
            tabulate(
                detail_rows(status),
                headers=["state", "method", "arch", "dataset", "seed", "run_id", "note"],
                tablefmt="github",
                maxcolwidths=[None] * 6 + [80],
            )
        )
    else:
        print(tabulate(cell_rows(status), headers=["method", "arch", "dataset", *STATES, "runs"], tablefmt="github"))
    counts = status.counts()
    print(
        f"\nstudy {study.name} (profile {study.profile.name}), {len(study.runs)} runs in {status.folder}: "
        + ", ".join(f"{n} {state}" for state, n in counts.items())
    )
    for line in report_problems(status) + leftover_lines(status.folder):
        print(f"warning: {line}")
    if status.orphans:
        print(
            f"{len(status.orphans)} other valid record(s) in the folder are not runs of this study/profile "
            f"(an older study definition or another profile), e.g. {status.orphans[0].name}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("runs", help="status of a study's runs: done, failed, stale, missing, corrupt")
    add_study_arguments(p)
    p.add_argument("--detail", action="store_true", help="one row per run, with test accuracy or the error")
    p.set_defaults(func=run)

"""``sweep STUDY``: run every run of a study that has no valid record for the current code."""
from __future__ import annotations

import argparse
from pathlib import Path

from tabulate import tabulate

from ..paths import project_root
from ..sweeps.executors import EXECUTORS, make_executor
from ..sweeps.runner import leftover_lines, report_problems, run_sweep
from ..sweeps.status import study_status
from ..sweeps.study import Study, expand


def study_folder(study: str, out: str | None) -> Path:
    """Where a study's records live: ``--out``, else ``results/runs/STUDY`` in the project."""
    return Path(out) if out else project_root() / "results" / "runs" / study


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """STUDY, --profile and --out: how the commands that read a study's records find them."""
    p.add_argument("study", help="a study under 'studies:' in params.yaml")
    p.add_argument("--profile", help="the profile of the runs (default: the study's, else quick)")
    p.add_argument("--out", help="folder of the study's records (default: results/runs/STUDY)")


def parse_jobs(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {value!r}") from None


def dry_run(study: Study, folder: Path, retry_failed: bool) -> int:
    status = study_status(study, folder)
    todo = {run.spec.run_id for run in status.todo(retry_failed)}
    rows = [["run" if run.spec.run_id in todo else "skip", run.state, run.spec.label, run.spec.run_id,
             "checkpoint" if run.checkpoint else ""] for run in status.runs]
    print(tabulate(rows, headers=["action", "state", "run", "run_id", "resume"], tablefmt="github"))
    for line in report_problems(status) + leftover_lines(status.folder):
        print(f"warning: {line}")
    print(f"study {study.name} (profile {study.profile.name}): {len(study.runs)} runs, {len(todo)} would run, "
          f"{len(study.runs) - len(todo)} skipped; records in {folder}")
    return 0


def run(args: argparse.Namespace) -> int:
    study = expand(args.study, args.profile)
    folder = study_folder(study.name, args.out)
    if args.dry_run:
        return dry_run(study, folder, args.retry_failed)
    executor = make_executor(
        args.executor, jobs=args.jobs, device=study.profile.device, address=args.address,
        profile_slurm=study.profile.slurm, profile_ray=study.profile.ray, cluster=args.cluster, threads=study.profile.threads,
        log_dir=Path(args.log_dir) if args.log_dir else project_root() / "results" / "logs" / study.name,
    )
    summary = run_sweep(study, folder, executor, retry_failed=args.retry_failed, progress=not args.quiet)
    print(summary.line())
    return 1 if summary.lost else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="run a study from params.yaml (skips runs already done)")
    add_study_arguments(p)
    p.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    p.add_argument("--jobs", type=parse_jobs, default=1,
                   help="parallel runs (local: worker processes, one GPU each when present; ray: CPUs of a local "
                        "instance); 'auto' = number of GPUs, else CPU cores / the profile's threads per run (default 1: in this process)")
    p.add_argument("--executor", choices=EXECUTORS, default="local")
    p.add_argument("--address", help="ray: address of an existing cluster (default: start a local instance)")
    p.add_argument("--cluster", choices=["slurm", "local", "debug"],
                   help="slurm: submitit back end (default: slurm when sbatch is found, else local processes)")
    p.add_argument("--log-dir", help="slurm: submitit job folder (default: results/logs/STUDY)")
    p.add_argument("--retry-failed", action="store_true", help="rerun runs whose record says 'failed'")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-run lines")
    p.set_defaults(func=run)

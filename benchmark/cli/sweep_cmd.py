"""``sweep STUDY``: run every run of a study that has no valid record for the current code.

Before anything runs: the study and every run config are resolved (a problem fails at once,
naming its place), the records folder is checked (not a file), the executor's requirements
(``sbatch`` for SLURM unless its local test mode is asked for by name) and, when the runs use
this machine, the profile's device (CUDA asked for and absent refuses). ``--dry-run`` lists
the runs with every problem found: exit 2 for a value no machine could run, a warning and
exit 0 for what only this machine lacks (CUDA), so a GPU profile's expansion can be checked
on a laptop. Datasets and pretrained weights the runs need and this machine lacks
(``sweeps.prerequisites``: torchvision data not downloaded, an ``annotated_folder`` root unset or
missing, weights not in the torch hub cache) get one line each: warnings in a dry run, a refusal
(exit 2, every line, nothing written) in a sweep. The dry run also prints the expansion per cell
(seeds, epochs, batch size, optimizer, schedule, image size) and the profile's device.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def study_folder(study: str, out: str | None) -> Path:
    """Where a study's records live: ``--out``, else ``results/runs/STUDY`` in the project;
    refused when it (or a parent) is a file."""
    from ..paths import project_root
    from .run_cmd import check_out_folder

    folder = Path(out) if out else project_root() / "results" / "runs" / study
    check_out_folder(folder)
    return folder


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """STUDY, --profile and --out: how the commands that read a study's records find them."""
    p.add_argument("study", help="a study under 'studies:' in params.yaml")
    p.add_argument("--profile", help="the profile of the runs (default: the study's, else quick)")
    p.add_argument("--out", help="folder of the study's records (default: results/runs/STUDY)")


def parse_jobs(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {value!r}")
    return jobs


def machine_problems(study, args: argparse.Namespace) -> list[str]:
    """What this machine lacks for the sweep as asked (device, ``sbatch``): refusals for a real sweep,
    warnings for a dry run."""
    from ..contracts import ContractError
    from ..sweeps.executors import check_slurm_cluster
    from ..sweeps.study import device_problem

    problems = []
    slurm_here = args.cluster in ("local", "debug")
    if args.executor == "slurm":
        try:
            check_slurm_cluster(args.cluster)
        except ContractError as exc:
            problems.append(str(exc))
    here = (
        args.executor == "local"
        or (args.executor == "ray" and not args.address)
        or (args.executor == "slurm" and slurm_here)
    )
    problem = device_problem(study.profile.device) if here else None
    if problem:
        problems.append(
            f"profile '{study.profile.name}': {problem}; the runs would fail here: use a profile with "
            f"device cpu or auto (e.g. --profile quick), or run on a machine (or a SLURM cluster) with CUDA"
        )
    elif here:
        problems.extend(precision_problems(study))
    return problems


def precision_problems(study) -> list[str]:
    """The run precisions this machine's device for the profile cannot run (e.g. bf16 on a CUDA card without
    native bfloat16), one line each naming the profile: refused before any run, not once per run."""
    from ..contracts import ContractError
    from ..runs.precision import check_precision_device
    from ..runs.run import select_device

    device = select_device(study.profile.device)
    problems = []
    for precision in sorted({spec.config.precision for spec in study.runs}):
        try:
            check_precision_device(precision, device)
        except ContractError as exc:
            problems.append(f"profile '{study.profile.name}': {exc}")
    return problems


def _settings_text(settings: dict) -> str:
    settings = dict(settings or {})
    name = settings.pop("name", "")
    return " ".join([str(name), *(f"{k}={v}" for k, v in settings.items())])


def cell_rows(study) -> list[list]:
    """One row per method/arch/dataset cell of the study: its seeds and run settings."""
    cells: dict[tuple[str, str, str], list] = {}
    for spec in study.runs:
        cells.setdefault((spec.method, spec.arch, spec.dataset), []).append(spec)
    rows = []
    for (method, arch, dataset), specs in cells.items():
        seeds = sorted({s.seed for s in specs})
        seeds_text = (
            f"{len(seeds)} ({seeds[0]}-{seeds[-1]})"
            if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2
            else f"{len(seeds)} ({', '.join(map(str, seeds))})"
        )
        config = specs[0].config
        settings = {
            (c.config.epochs, c.config.batch_size, repr(c.config.optimizer), repr(c.config.schedule)) for c in specs
        }
        size = config.dataset_params.get("image_size", "")
        rows.append(
            [
                method,
                arch,
                dataset,
                size if size else "native",
                seeds_text,
                len(specs),
                config.epochs if len(settings) == 1 else "varies",
                config.batch_size if len(settings) == 1 else "varies",
                _settings_text(config.optimizer),
                _settings_text(config.schedule),
                config.precision,
            ]
        )
    return rows


def checkpoint_text(profile) -> str:
    """``checkpoint every epoch``, ``checkpoint every 5 epochs or 10 minutes``, ``no checkpoints``."""
    if not profile.checkpoint:
        return "no checkpoints"
    every = profile.checkpoint_every_epochs
    parts = [] if every is None else ["epoch" if every == 1 else f"{every} epochs"]
    if profile.checkpoint_every_minutes is not None:
        parts.append(f"{profile.checkpoint_every_minutes:g} minutes")
    return f"checkpoint every {' or '.join(parts)}"


def print_expansion(study) -> None:
    from tabulate import tabulate

    profile = study.profile
    print(
        f"study {study.name} at profile {profile.name}: device {profile.device}, "
        f"{checkpoint_text(profile)}, "
        f"{profile.threads if profile.threads is not None else 'shared'} CPU thread(s) per run"
    )
    if study.description:
        print(study.description)
    print(
        tabulate(
            cell_rows(study),
            headers=[
                "method",
                "arch",
                "dataset",
                "image size",
                "seeds",
                "runs",
                "epochs",
                "batch",
                "optimizer",
                "schedule",
                "precision",
            ],
            tablefmt="github",
        )
    )
    print()


def dry_run(
    study, folder: Path, retry_failed: bool, problems: list[str], machine: list[str], needs: list[list[str]]
) -> int:
    from tabulate import tabulate

    from ..sweeps.study_states import study_status
    from ..sweeps.sweep import leftover_lines, report_problems

    print_expansion(study)
    print(tabulate(needs, headers=["needs", "name", "on this machine"], tablefmt="github"))
    print()
    status = study_status(study, folder)
    todo = {run.spec.run_id for run in status.todo(retry_failed)}
    rows = [
        [
            "run" if run.spec.run_id in todo else "skip",
            run.state,
            run.spec.label,
            run.spec.run_id,
            "checkpoint" if run.checkpoint else "",
        ]
        for run in status.runs
    ]
    print(tabulate(rows, headers=["action", "state", "run", "run_id", "resume"], tablefmt="github"))
    for line in report_problems(status) + leftover_lines(status.folder):
        print(f"warning: {line}")
    print(
        f"study {study.name} (profile {study.profile.name}): {len(study.runs)} valid runs, {len(todo)} would run, "
        f"{len(study.runs) - len(todo)} skipped; records in {folder}"
    )
    for line in machine:
        print(f"WARNING: {line}", file=sys.stderr)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return 2 if problems else 0


def run(args: argparse.Namespace) -> int:
    from ..config import load_params
    from ..contracts import ContractError
    from ..paths import project_root
    from ..sweeps.prerequisites import absent_lines, state_rows
    from ..sweeps.study import expand
    from .run_cmd import check_out_folder

    folder_arg = args.out
    params = load_params()
    if args.dry_run:
        problems: list[str] = []
        study = expand(args.study, args.profile, params=params, problems=problems)
        return dry_run(
            study,
            study_folder(study.name, folder_arg),
            args.retry_failed,
            problems,
            machine_problems(study, args) + absent_lines(study, params),
            state_rows(study, params),
        )
    study = expand(args.study, args.profile, params=params)
    folder = study_folder(study.name, folder_arg)
    refusals = machine_problems(study, args)
    if refusals:
        raise ContractError(refusals[0])
    absent = absent_lines(study, params)
    if absent:  # every line, before anything is computed or written
        for line in absent:
            print(f"error: {line}", file=sys.stderr)
        return 2
    log_dir = Path(args.log_dir) if args.log_dir else project_root() / "results" / "logs" / study.name
    if args.executor == "slurm":
        check_out_folder(log_dir, "--log-dir")

    from ..sweeps.executors import make_executor
    from ..sweeps.sweep import run_sweep

    executor = make_executor(
        args.executor,
        jobs=args.jobs,
        device=study.profile.device,
        address=args.address,
        profile_slurm=study.profile.slurm,
        profile_ray=study.profile.ray,
        cluster=args.cluster,
        threads=study.profile.threads,
        runs_per_gpu=study.profile.runs_per_gpu,
        log_dir=log_dir,
    )
    summary = run_sweep(study, folder, executor, retry_failed=args.retry_failed, progress=not args.quiet)
    print(summary.line())
    return 1 if summary.lost else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="run a study from params.yaml (skips runs already done)")
    add_study_arguments(p)
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would run and every problem found, run nothing (exit 2 on an invalid value; "
        "what only this machine lacks, such as CUDA, is a warning)",
    )
    p.add_argument(
        "--jobs",
        type=parse_jobs,
        default=1,
        help="parallel runs (local: worker processes, one GPU each when present; ray: CPUs of a local "
        "instance); 'auto' = number of GPUs, else CPU cores / the profile's threads per run (default 1: in this process)",
    )
    p.add_argument("--executor", choices=("local", "ray", "slurm"), default="local")
    p.add_argument("--address", help="ray: address of an existing cluster (default: start a local instance)")
    p.add_argument(
        "--cluster",
        choices=["slurm", "local", "debug"],
        help="slurm: submitit back end (default: slurm, which needs sbatch on this machine; local or debug: "
        "submitit's test modes, here)",
    )
    p.add_argument("--log-dir", help="slurm: submitit job folder (default: results/logs/STUDY)")
    p.add_argument("--retry-failed", action="store_true", help="rerun runs whose record says 'failed'")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-run lines")
    p.set_defaults(func=run)

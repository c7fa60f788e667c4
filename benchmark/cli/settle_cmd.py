"""``settle [PAPER ...|--all]``: seeds added where a claim's verdict is not settled (issue 23; docs/statistics.md §1.18).

Evaluates the papers' claims as ``claims`` does, one look at a time (``reports.claims.settle.walk``): every
row that is not decisive and stable at its look gets the study's next ``--group`` seeds on every run its
cells use (both sides, paired by seed), trained as ordinary records into ``--root/STUDY`` (default
``results/settle/STUDY``) through the sweep machinery (a current record is skipped, so a rerun resumes; a
failing run is recorded and left out, never stops the settle), then is judged again at its next look with
that look's nominal alpha (``statistics.sequential``), up to ``--max-seeds`` seeds per cell. The design
(papers, ``--max-seeds``, ``--group``) is written to ``--root/plan.json``, which ``claims`` reads to make
the same looks from the same records. Bad input (an unknown paper, ``--max-seeds`` below a study's seeds,
``--group`` < 1) is one line and exit 2 before anything is computed. ``--dry-run`` prints the rows that
would get seeds at their next look and the runs' cost from their own records' wall times.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .sweep_cmd import parse_jobs

DEFAULT_MAX_SEEDS, DEFAULT_GROUP = 11, 3


def check(args: argparse.Namespace, studies: dict) -> None:
    """--group and --max-seeds against every study the papers use (before anything is computed)."""
    from ..contracts import ContractError

    if not 0 < args.alpha < 1:
        raise ContractError(f"settle: --alpha must be in (0, 1), got {args.alpha}")
    if args.group < 1:
        raise ContractError(f"settle: --group must be at least 1, got {args.group}")
    for name, study in studies.items():
        seeds = len({spec.seed for spec in study.runs})
        if args.max_seeds < seeds:
            raise ContractError(f"settle: --max-seeds {args.max_seeds} is below study '{name}''s {seeds} seeds")


def design_of(args: argparse.Namespace, names: list[str], root: Path):
    """This settle's design; the papers of an earlier plan with the same seeds and group are kept."""
    from ..reports.claims.settle import Design

    old = Design.read(root)
    kept = (
        old.papers if old and (old.max_seeds, old.group, old.alpha) == (args.max_seeds, args.group, args.alpha) else ()
    )
    return Design(tuple(sorted({*kept, *names})), args.max_seeds, args.group, args.alpha)


def trainer(studies: dict, base: dict, root: Path, args: argparse.Namespace):
    """``train(wanted)`` for ``walk``: the wanted runs swept into ``root/STUDY``, then every record reloaded."""
    from ..reports.claims.settle import added_specs, with_settle
    from ..sweeps.executors import local_executor
    from ..sweeps.study import Study
    from ..sweeps.sweep import run_sweep

    def train(wanted):
        by_study: dict[str, dict] = {}
        for study, side, seeds in wanted:
            for spec in added_specs(studies[study], side, seeds):
                by_study.setdefault(study, {})[spec.run_id] = spec
        for name, specs in by_study.items():
            study = studies[name]
            executor = local_executor(study.profile, args.jobs)
            settle_study = Study(name, f"seeds added to {name}", study.profile, tuple(specs.values()))
            summary = run_sweep(settle_study, root / name, executor, progress=not args.quiet)
            print(summary.line().replace("sweep", "settle", 1), file=sys.stderr)
        return with_settle(base, root)[0]

    return train


def estimate(base: dict, starts: dict):
    """``train`` for ``--dry-run``: adds up the cost of the wanted runs and trains nothing."""
    from ..reports.claims.settle import cost_seconds

    def train(wanted):
        seconds = cost_seconds(base, wanted)
        runs = sum(len(seeds) for *_, seeds in dict.fromkeys((s, side, tuple(x)) for s, side, x in wanted))
        print(f"  next look: {runs} runs, ≈{seconds / 60:.1f} min of compute (their records' mean total seconds)")
        return base

    return train


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from ..contracts import ContractError
    from ..reports.claims.settle import settle_root, walk, with_settle
    from ..reports.claims.spec import load_paper
    from ..sweeps.study import expand
    from .claims_cmd import claims_folder, default_papers, load_studies, paper_path

    if bool(args.paper) == bool(args.all):
        raise ContractError("settle: name PAPER(s) (files claims/PAPER.yaml) or give --all")
    folder = Path(args.claims_dir) if args.claims_dir else claims_folder()
    paths = sorted(folder.glob("*.yaml")) if args.all else [paper_path(name, folder) for name in args.paper]
    papers = [load_paper(p) for p in paths]
    names = list(dict.fromkeys(c.study for paper in papers for c in paper.claims))
    studies = {name: expand(name, args.profile) for name in names}
    check(args, studies)
    root = settle_root(args.root)
    base = load_studies(papers, args.profile, args.out)
    papers = [p for p in default_papers(papers, base, args.profile)[0] if p.claims]  # the default cells only
    records, starts = with_settle(base, root)
    design = design_of(args, [p.name for p in papers], root)
    train = estimate(base, starts) if args.dry_run else trainer(studies, base, root, args)
    if not args.dry_run:
        design.write(root)
    bar = tqdm(papers, desc="settle", unit="paper", file=sys.stderr, disable=args.quiet or None)
    for paper in bar:
        table = walk(paper, records, starts, design, train, on_look=bar.write)
        if not args.dry_run:
            records = with_settle(base, root)[0]
        more = table.claims[table.claims["looks"] > 1]
        said = ", ".join(f"{r['id']} {r['looks']} looks ({r['seeds']} seeds)" for _, r in more.iterrows())
        print(f"{paper.name}: {len(table.claims)} claims; {len(more)} with added seeds{': ' + said if said else ''}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("settle", help="add seeds where a claim's verdict is not settled (alpha spending)")
    p.add_argument("paper", nargs="*", help="claims files claims/PAPER.yaml (e.g. cyborg sage)")
    p.add_argument("--all", action="store_true", help="every claims file in the claims folder")
    p.add_argument("--max-seeds", type=int, default=DEFAULT_MAX_SEEDS, help="seeds per cell at most (default 11)")
    p.add_argument("--group", type=int, default=DEFAULT_GROUP, help="seeds added per look (default 3)")
    p.add_argument("--alpha", type=float, default=0.05, help="overall significance level (default 0.05)")
    p.add_argument("--jobs", type=parse_jobs, default=1, help="parallel runs, or 'auto' (as sweep)")
    p.add_argument("--profile", help="the profile of the runs (default: each study's, else quick)")
    p.add_argument("--out", help="folder of the records when the papers name one study (default: results/runs/STUDY)")
    p.add_argument("--root", help="folder of the added records, one folder per study (default: results/settle)")
    p.add_argument("--claims-dir", help="folder of the claims files (default: claims/)")
    p.add_argument(
        "--dry-run", action="store_true", help="the rows that would get seeds and their cost; trains nothing"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-run lines")
    p.set_defaults(func=run)

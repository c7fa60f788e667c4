"""``stats STUDY``: a significance-tested leaderboard and the saliency consistency of a study's runs.

Reads the study's records (``records.table.load_records`` with the study's expected configs),
lists every run that is not done (missing, failed, stale, corrupt: one line each, with why) and
flags it in every table it would have entered; validates the baseline and the metrics before
computing anything (an unknown one prints one line naming it and the known ones, exit 2, nothing
written). Each ``--metric SPLIT/METRIC`` is its own correction family (``statistics.analyze``).

Default metrics: accuracy and AUC of every test split (``test*``), plus the per-run human-agreement
scores of the saliency evaluation on every evaluated split: pixel AUROC (threshold-free ranking of
the annotated pixels) and energy pointing (share of the saliency mass inside the annotation) of
the class-activation map (``cam`` on GAP-head networks, ``gradcam`` otherwise; both when a study
has both) and of the vanilla input gradient (what RRR constrains and SGT masks by). These are what
saliency-guided training claims to improve; the other saliency metrics (wrong-reason share,
faithfulness, sanity) are one ``--metric`` away. A default metric that no done run defines is
left out.

Writes, atomically and byte-identical on rerun (seeded bootstraps, fixed float formats, no
timestamps), into ``--dest`` (default ``results/leaderboards``):

- ``STUDY.md``: completeness, per family the leaderboard, notes on the across-cell tests and
  the per-cell detail table, saliency consistency, figures, and a footer naming every test,
  correction, alpha, ROPE, bootstrap setting, the seeds and the package versions;
- ``STUDY.csv``: the detail rows of every family (one per family x cell x method, raw numbers);
- ``STUDY.tex``: the board and the detail table of every family (booktabs, ``pandas.to_latex``);
- ``STUDY.json``: DVC metrics, ``{"metrics": {"runs": {...}, FAMILY: {METHOD: {numbers, "cells":
  {"DATASET/ARCH": {...}}}}, "consistency": {SPLIT/ATTRIBUTION: {METHOD: {CELL: spearman}}}}}``:
  numbers only, so ``dvc metrics show`` has columns;
- ``STUDY.tables.json``: every table in full (leaderboards, detail rows, Friedman, pairwise Holm,
  gains, Bayesian signed-rank, W/T/L, consistency and its comparisons, the runs and their states);
- ``STUDY.seeds.csv``: one row per done run with its value of every family, as round-trip floats (DVC
  plots; the replication report of ``repro`` compares them bitwise);
- ``STUDY/``: the figures (critical-difference diagram, forest plot, cell means, consistency maps).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..paths import project_root
from ..records.table import load_records
from ..reports.study.writer import StatsOptions, write_statistics
from ..statistics.aggregate import SCALES
from ..sweeps.study import expand
from .sweep_cmd import add_study_arguments, study_folder


def run(args: argparse.Namespace) -> int:
    study = expand(args.study, args.profile)
    folder = study_folder(study.name, args.out)
    records = load_records(folder, [spec_.config for spec_ in study.runs], method_labels=study.method_labels())
    dest = Path(args.dest) if args.dest else project_root() / "results" / "leaderboards"
    options = StatsOptions(
        study=args.study,
        folder=folder,
        baseline=args.baseline,
        metrics=tuple(args.metric or ()),
        alpha=args.alpha,
        reps=args.reps,
        seed=args.seed,
        bayes_samples=args.bayes_samples,
        scale=args.scale,
        profiles=Path(args.profiles) if args.profiles else None,
    )
    out = write_statistics(study, records, options, dest)
    completeness, keys, base = out.completeness, out.keys, out.folder
    for line in completeness.lines():
        print(f"not done: {line}")
    counts = completeness.counts()
    print(
        f"study {study.name}: {counts['done']} of {counts['expected']} runs done; {len(keys)} metric families "
        f"({', '.join(keys)}); baseline {args.baseline}"
    )
    print(f"wrote {', '.join(str(p) for p in out.files)} and {out.figures} figures in {base}/")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("stats", help="significance-tested leaderboard and saliency consistency of a study")
    add_study_arguments(p)
    p.add_argument("--baseline", default="erm", help="method label every method is compared with (default: erm)")
    p.add_argument(
        "--metric",
        action="append",
        help="SPLIT/METRIC family, repeatable (default: accuracy and AUC of "
        "every test split, and AUROC / energy pointing of the CAM and the input gradient)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--reps", type=int, default=10_000, help="bootstrap repetitions (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of every bootstrap and the Bayesian sampler (default 0)")
    p.add_argument("--bayes-samples", type=int, default=50_000, help="draws of the Bayesian signed-rank test")
    p.add_argument("--scale", choices=SCALES, default="rope", help="per-cell normalization of the aggregate gain")
    p.add_argument("--dest", help="output folder (default: results/leaderboards)")
    p.add_argument(
        "--profiles",
        help="folder of the stored step-time profiles whose ratios to ERM the board shows "
        "(default: results/profiles; reads PROFILE.json and PROFILE-*.json of the study's training profile)",
    )
    p.set_defaults(func=run)

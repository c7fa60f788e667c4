"""``curves STUDY``: each method's metric against the annotation budget and each annotation degradation.

Reads the study's records (``records.table.load_records`` with the study's expected configs) and places every
done run on an annotation axis by its ``config.annotations`` (``reports.curves.frame``). Per cell (dataset,
arch) and axis: the mean of each method at each level with its 95% t-interval over seeds, the baseline (ERM,
which reads no map) as a band, and at each level the paired t-test on the seeds against the baseline and against
the method's own full-budget / true-map arm, Holm within each cell, axis and comparison, for each metric of
``--metric`` (default: the study's ``curves: {metrics: [...]}`` in params.yaml, else the target metric)
(``statistics.curves``; docs/statistics.md §1.21). Validated before anything is computed (an unknown study,
a study without done runs or without an annotation axis, an unknown metric or baseline: one line, exit 2,
nothing written). Writes, atomically and byte-identical on rerun, ``--dest/STUDY/`` (default
``results/curves/STUDY/``): ``curves.md``, ``curves.json`` and ``curve_METRIC_DATASET_ARCH_AXIS.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_params
from ..paths import project_root
from ..records.table import load_records
from ..reports.curves.report import CurvesOptions, write_curves
from ..sweeps.study import declared_metrics, expand
from .sweep_cmd import add_study_arguments, study_folder


def run(args: argparse.Namespace) -> int:
    study = expand(args.study, args.profile)
    folder = study_folder(study.name, args.out)
    records = load_records(folder, [spec_.config for spec_ in study.runs], method_labels=study.method_labels())
    dest = Path(args.dest) if args.dest else project_root() / "results" / "curves"
    metrics = tuple(args.metric or ()) or declared_metrics(load_params(), args.study, "curves", "metrics")
    options = CurvesOptions(study=args.study, folder=folder, baseline=args.baseline, metrics=metrics, alpha=args.alpha)
    keys, out, figures = write_curves(study, records, options, dest)
    print(f"study {study.name}: curves of {', '.join(keys)} against the annotation levels; baseline {args.baseline}")
    print(f"wrote {out}/curves.md, curves.json and {figures} figures")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("curves", help="each method's metric against the annotation budget and quality levels")
    add_study_arguments(p)
    p.add_argument("--baseline", default="erm", help="the band and the 'vs baseline' comparison (default: erm)")
    p.add_argument(
        "--metric",
        action="append",
        help="SPLIT/METRIC, repeatable (default: the study's curves.metrics, else the AUC of the first test split, "
        "else its accuracy; e.g. test/saliency/cam/energy_pointing for an alignment metric)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the Holm-adjusted tests (0.05)")
    p.add_argument("--dest", help="output folder (default: results/curves)")
    p.set_defaults(func=run)

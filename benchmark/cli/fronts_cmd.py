"""``fronts STUDY``: accuracy–alignment fronts over guidance strength, with the dominance of each method's
front over another's tested on the paired seeds (issue 26 item 2; docs/statistics.md §1.22).

Reads only the study's records (``records.table.load_records`` with the study's expected configs). Per cell
(dataset × arch): every series' mean (x, y) point per guidance scale with 95% t-intervals on both axes, the
Pareto front among them, each series' hypervolume per seed (its scales plus the baseline's point, above the
cell's reference point) and, per pair of series, the paired t-test of the hypervolume differences with Holm
over the pairs of the cell. ``--x`` / ``--y`` name the axes (each must be defined by some done run); without
them, the study's declaration ``fronts: {x: [...], y: [...]}`` in params.yaml gives candidates, else the target
metric and the CAM's energy pointing (``cam``, else ``gradcam``) of the toy faces' closed test split and of the digits' test split: the
candidates no done run defines are left out, a cell uses the first x and every y it defines. Validated before
anything is computed: an unknown study, no done run, a metric with no declared direction, a named metric no
done run has, an axis left empty or no cell with both an x and a y metric prints one line and exits 2 (a cell
without one is left out and listed),
nothing written. Writes ``DEST/STUDY/fronts.md``, ``fronts.json`` and one PNG per cell (default DEST:
results/fronts), atomically and byte-identically on rerun.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .sweep_cmd import add_study_arguments, study_folder

KEY = "fronts"


def declared(params: Mapping[str, Any], study: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The study's ``fronts: {x, y}`` (each a key or a list of keys; an ``extends`` study inherits its base's)."""
    from ..sweeps.study import declared_metrics

    return declared_metrics(params, study, KEY, "x"), declared_metrics(params, study, KEY, "y")


def run(args: argparse.Namespace) -> int:
    from ..config import load_params
    from ..paths import project_root
    from ..records.table import load_records
    from ..reports.fronts.writer import FrontsOptions, write_fronts
    from ..sweeps.study import expand

    study = expand(args.study, args.profile)
    own_x, own_y = declared(load_params(), args.study)
    folder = study_folder(study.name, args.out)
    records = load_records(folder, [spec.config for spec in study.runs], method_labels=study.method_labels())
    options = FrontsOptions(
        study=study.name,
        description=study.description,
        profile=study.profile.name,
        folder=folder,
        x=tuple(args.x or ()),
        y=tuple(args.y or ()),
        declared_x=own_x,
        declared_y=own_y,
        baseline=args.baseline,
        alpha=args.alpha,
    )
    dest = Path(args.dest) if args.dest else project_root() / "results" / "fronts"
    result, written = write_fronts(records, options, dest)
    for line in result.not_done:
        print(f"not done: {line}")
    panels = sum(len(cell) for cell in result.cells)
    print(
        f"study {study.name}: {len(result.cells)} cells, {panels} panels (x: {', '.join(result.x)}; "
        f"y: {', '.join(result.y)}); wrote {written}/fronts.md, fronts.json and {len(result.cells)} figures"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("fronts", help="accuracy–alignment fronts over guidance strength, dominance tested")
    add_study_arguments(p)
    p.add_argument(
        "--x",
        action="append",
        help="SPLIT/METRIC of the x axis, repeatable: a cell uses the first it defines "
        "(default: the study's fronts.x, else test_closed/auc, test/accuracy)",
    )
    p.add_argument(
        "--y",
        action="append",
        help="SPLIT/METRIC of an alignment axis, repeatable: one panel each where a cell defines it "
        "(default: the study's fronts.y, else the energy pointing of the CAM, cam or else gradcam, of test_closed and test)",
    )
    p.add_argument("--baseline", default="erm", help="the series whose point joins every series (default: erm)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--dest", help="output folder (default: results/fronts; writes DEST/STUDY/)")
    p.set_defaults(func=run)

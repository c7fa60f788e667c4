"""``summary STUDY``: mean ± sd over seeds of chosen metrics, per method/arch/dataset cell."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .sweep_cmd import add_study_arguments, study_folder


def cell_config(records, frame, cell: dict) -> dict:
    """What a cell's runs were trained with (shared by its seeds)."""
    from ..reports.study.summary import run_settings

    match = frame[
        (frame["method"] == cell["method"]) & (frame["arch"] == cell["arch"]) & (frame["dataset"] == cell["dataset"])
    ]
    return run_settings(records.record(match["run_id"].iloc[0]).config)


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ..atomic import atomic_write_text
    from ..contracts import ContractError
    from ..records.table import load_records
    from ..reports.study.summary import default_metrics, display_table, summarize, wide_frame
    from ..reports.study.summary_plot import plot_summary
    from ..sweeps.study import expand

    study = expand(args.study, args.profile)
    records = load_records(
        study_folder(study.name, args.out), [spec.config for spec in study.runs], method_labels=study.method_labels()
    )
    frame = wide_frame(records.done())
    if frame.empty:
        raise ContractError(
            f"summary: study '{study.name}' has no done runs in {records.status.folder} "
            f"(run `python -m benchmark sweep {study.name}`)"
        )
    metrics = args.metric or default_metrics(frame)
    summary = summarize(frame, metrics)
    counts = records.status.counts()
    text = tabulate(display_table(summary, metrics), headers="keys", tablefmt="github", showindex=False)
    left_out = {state: n for state, n in counts.items() if state != "done" and n}
    note = (
        f"study {study.name} (profile {study.profile.name}): mean ± sd over seeds of "
        f"{counts['done']} done runs of {len(study.runs)}"
        + (f"; not included: {', '.join(f'{n} {state}' for state, n in left_out.items())}" if left_out else "")
    )
    print(text + "\n\n" + note)
    if args.plot:
        plot_summary(frame, summary, metrics, f"study {study.name}", Path(args.plot))
    if args.markdown:
        figure = f"\n![{study.name}]({os.path.relpath(args.plot, Path(args.markdown).parent)})\n" if args.plot else ""
        atomic_write_text(Path(args.markdown), f"# {study.name}\n\n{note}\n\n{text}\n{figure}")
    if args.json:
        rows = json.loads(summary.to_json(orient="records"))
        for row in rows:
            row["config"] = cell_config(records, frame, row)
        atomic_write_text(
            Path(args.json),
            json.dumps(
                {
                    "study": study.name,
                    "profile": study.profile.name,
                    "description": study.description,
                    "metrics": metrics,
                    "cells": rows,
                },
                indent=1,
            )
            + "\n",
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("summary", help="mean ± sd over seeds of a study's metrics, per cell")
    add_study_arguments(p)
    p.add_argument(
        "--metric",
        action="append",
        help="SPLIT/METRIC column, repeatable (default: accuracy and AUC of every test split)",
    )
    p.add_argument("--markdown", help="also write the table to this Markdown file")
    p.add_argument("--plot", help="also draw the cells (bars: mean; dots: seeds) to this PNG file")
    p.add_argument("--json", help="also write the numbers (mean, sd, n per cell) to this JSON file")
    p.set_defaults(func=run)

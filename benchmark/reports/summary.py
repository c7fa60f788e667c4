"""A study's results as a table: mean, standard deviation and count over seeds per
(method, architecture, dataset) cell, for chosen ``split/metric`` columns.

This is a descriptive summary (what a calibration or a quick look needs); significance
tests between methods belong to the statistics layer.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import pandas as pd

from ..contracts import ContractError, RunConfig
from ..sweeps.status import StudyStatus

CELL = ["method", "arch", "dataset"]
SETTINGS = ("epochs", "batch_size", "optimizer", "method_params", "dataset_params", "arch_params")


def run_settings(config: RunConfig) -> dict[str, Any]:
    """What a run was trained with: its settings and resolved parameters (shared by a cell's seeds)."""
    return {name: getattr(config, name) for name in SETTINGS}


def records_frame(status: StudyStatus) -> pd.DataFrame:
    """One row per done run: its cell, seed, and a ``split/metric`` column per scalar metric."""
    rows = []
    for run in status.runs:
        if run.state != "done" or run.record is None:
            continue
        row = {"method": run.spec.method, "arch": run.spec.arch, "dataset": run.spec.dataset, "seed": run.spec.seed}
        for split, values in run.record.metrics.items():
            row.update({f"{split}/{name}": value for name, value in values.items() if isinstance(value, (int, float))})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else CELL + ["seed"])


def default_metrics(frame: pd.DataFrame) -> list[str]:
    """Accuracy and AUC of every test split (``test*``), in column order."""
    return [c for c in frame.columns if c.startswith("test") and c.split("/", 1)[1] in ("accuracy", "auc")]


def summarize(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per cell, in study order: ``n`` (seeds) and, per metric, ``METRIC mean`` and ``METRIC sd`` (ddof=1)."""
    unknown = [m for m in metrics if m not in frame.columns]
    if unknown:
        known = sorted(c for c in frame.columns if "/" in c)
        raise ContractError(f"summary: unknown metric(s) {unknown}; the records have {known[:40]}")
    grouped = frame.groupby(CELL, sort=False)
    out = grouped.size().rename("n").to_frame()
    for metric in metrics:
        out[f"{metric} mean"] = grouped[metric].mean()
        out[f"{metric} sd"] = grouped[metric].std(ddof=1)
    return out.reset_index()


def format_cell(mean: float, sd: float, digits: int = 3) -> str:
    """``mean ± sd``; the mean alone for one seed; ``-`` where the cell's runs lack the metric."""
    if math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def display_table(summary: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    """Cells as ``mean ± sd`` strings, one column per metric."""
    table = summary[CELL + ["n"]].copy()
    for metric in metrics:
        table[metric] = [format_cell(m, s) for m, s in zip(summary[f"{metric} mean"], summary[f"{metric} sd"])]
    return table

"""A study's results as a table: mean, standard deviation and count over seeds per
(method, architecture, dataset) cell, for chosen ``split/metric`` columns.

This is a descriptive summary (what a calibration or a quick look needs); significance
tests between methods belong to the statistics layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ...contracts import ContractError

CELL = ["method", "arch", "dataset"]
SETTINGS = ("epochs", "batch_size", "optimizer", "method_params", "dataset_params", "arch_params")


def run_settings(config: dict[str, Any]) -> dict[str, Any]:
    """What a run was trained with: its settings and resolved parameters (shared by a cell's seeds)."""
    return {name: config[name] for name in SETTINGS}


def wide_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per run and method label (in the order of ``scores``; a run two study items name, a tuned
    selection equal to the defaults, has a row per label): its cell, seed, run id and a ``split/metric``
    column per metric (NaN where the record stores null). ``scores`` is ``RecordSet.done()``."""
    if scores.empty:
        return pd.DataFrame(columns=CELL + ["seed", "run_id"])
    keyed = scores.assign(column=scores["split"] + "/" + scores["metric"])
    wide = keyed.pivot_table(
        index="run_id", columns="column", values="value", aggfunc="first", dropna=False, sort=False
    )
    runs = keyed.drop_duplicates(["run_id", "method"]).set_index("run_id")[CELL + ["seed"]]
    return runs.join(wide).reset_index()[CELL + ["seed", "run_id", *wide.columns]]


def default_metrics(frame: pd.DataFrame) -> list[str]:
    """Accuracy and AUC of every test split (``test*``), in column order."""
    return [c for c in frame.columns if "/" in c and c.startswith("test") and c.split("/", 1)[1] in ("accuracy", "auc")]


def summarize(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per cell, in study order: ``n`` (runs) and, per metric, ``METRIC mean``, ``METRIC sd`` (ddof=1)
    and ``METRIC n`` (runs where it is defined: a null metric is not averaged as if present)."""
    unknown = [m for m in metrics if m not in frame.columns]
    if unknown:
        known = sorted(c for c in frame.columns if "/" in c)
        raise ContractError(f"summary: unknown metric(s) {unknown}; the records have {known[:40]}")
    grouped = frame.groupby(CELL, sort=False)
    out = grouped.size().rename("n").to_frame()
    for metric in metrics:
        out[f"{metric} mean"] = grouped[metric].mean()
        out[f"{metric} sd"] = grouped[metric].std(ddof=1)
        out[f"{metric} n"] = grouped[metric].count()
    return out.reset_index()


def format_cell(mean: float, sd: float, digits: int = 3, n: int | None = None, runs: int | None = None) -> str:
    """``mean ± sd``; the mean alone for one seed; ``-`` where the cell's runs lack the metric;
    ``(n=k)`` when the metric is defined on fewer of the cell's runs than it has."""
    if math.isnan(mean):
        return "-"
    text = f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"
    return text + (f" (n={n})" if n is not None and runs is not None and n < runs else "")


def display_table(summary: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    """Cells as ``mean ± sd`` strings, one column per metric."""
    table = summary[CELL + ["n"]].copy()
    for metric in metrics:
        table[metric] = [
            format_cell(m, s, n=int(k), runs=int(r))
            for m, s, k, r in zip(
                summary[f"{metric} mean"], summary[f"{metric} sd"], summary[f"{metric} n"], summary["n"]
            )
        ]
    return table

"""From the tidy score table to arrays: one family's rows, its cells and a (method, cell, seed) cube.

``scores`` columns: ``method, arch, dataset, seed, split, metric, value`` (``value`` NaN where a
metric is undefined for a run). A cell is (dataset, arch) inside one family (split, metric).
Seeds are paired across methods: the same seed means the same initial weights and data order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .orient import Family

COLUMNS = ("method", "arch", "dataset", "seed", "split", "metric", "value")
CELL = ["dataset", "arch"]
KEY = ["method", "dataset", "arch", "split", "metric", "seed"]


def check_scores(scores: pd.DataFrame) -> None:
    """Raise ValueError when a column is missing or a (method, cell, seed) appears twice."""
    missing = [c for c in COLUMNS if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lack columns {missing}; expected {list(COLUMNS)}")
    duplicated = scores.duplicated(KEY)
    if duplicated.any():
        first = scores.loc[duplicated, KEY].iloc[0].to_dict()
        raise ValueError(f"{int(duplicated.sum())} duplicated score rows, e.g. {first}")


def select(scores: pd.DataFrame, fam: Family) -> pd.DataFrame:
    """The rows of one family (split and metric), validated."""
    check_scores(scores)
    rows = scores[(scores["split"] == fam.split) & (scores["metric"] == fam.metric)]
    if rows.empty:
        raise ValueError(f"no scores for '{fam.key}'")
    return rows.reset_index(drop=True)


@dataclass(frozen=True)
class Cube:
    """``values[m, c, s]``: method m, cell c, seed s; NaN where absent or undefined."""

    methods: list[str]
    cells: pd.MultiIndex  # (dataset, arch)
    seeds: np.ndarray
    values: np.ndarray

    def index(self, method: str) -> int:
        if method not in self.methods:
            raise KeyError(f"method '{method}' has no scores; present: {self.methods}")
        return self.methods.index(method)


def cube(rows: pd.DataFrame, methods: list[str] | None = None) -> Cube:
    """One family's rows as a cube; ``methods`` fixes the order (default: sorted names)."""
    methods = sorted(rows["method"].unique()) if methods is None else list(methods)
    cells = pd.MultiIndex.from_frame(rows[CELL].drop_duplicates().sort_values(CELL))
    seeds = np.sort(rows["seed"].unique())
    values = np.full((len(methods), len(cells), len(seeds)), np.nan)
    m = pd.Index(methods).get_indexer(rows["method"])
    c = cells.get_indexer(pd.MultiIndex.from_frame(rows[CELL]))
    s = np.searchsorted(seeds, rows["seed"].to_numpy())
    keep = m >= 0
    values[m[keep], c[keep], s[keep]] = rows["value"].to_numpy(dtype=float)[keep]
    return Cube(methods, cells, seeds, values)


def cell_means(rows: pd.DataFrame, methods: list[str] | None = None) -> pd.DataFrame:
    """Cell x method matrix of seed means over the defined (non-NaN) values; NaN when a method has none."""
    data = cube(rows, methods)
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(data.values), axis=2)
        means = np.where(counts > 0, np.nansum(data.values, axis=2) / np.maximum(counts, 1), np.nan)
    return pd.DataFrame(means.T, index=data.cells, columns=pd.Index(data.methods, name="method"))


def complete_cells(matrix: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple]]:
    """Rows with a value for every method (Friedman needs complete blocks) and the dropped cells."""
    full = matrix.notna().all(axis=1)
    return matrix[full], [tuple(i) if isinstance(i, tuple) else (i,) for i in matrix.index[~full]]

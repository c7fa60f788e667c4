"""The grid's records as the arrays ``statistics.gap_closed`` takes: per ranked cell the (label, seed) values of
its metric, the reference ERM's seeds, each label's run ids, and which labels are in every usable cell.

``scores`` and ``runs`` are ``records.table.RecordSet`` frames of the grid's studies stacked, with a ``study``
column; a label is in a cell when the study expects a run of it there (``runs``), and it is ranked only when it has
at least 2 done seeds shared with the baseline in every usable cell (else it is listed apart, with why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...statistics.orient import Family, family


@dataclass(frozen=True)
class GridCell:
    """One cell of ``leaderboard_grid`` (params.yaml; ``params_schema.BoardCell``)."""

    study: str
    dataset: str
    arch: str
    metric: str  # SPLIT/METRIC
    reference: str  # the no-shortcut dataset ERM trains on, same arch
    shortcut: str

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.arch}"

    @property
    def family(self) -> Family:
        return family(self.metric)

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> GridCell:
        return cls(*(str(item[k]) for k in ("study", "dataset", "arch", "metric", "reference", "shortcut")))


@dataclass(frozen=True)
class Arrays:
    """``values[label, cell, seed]`` and ``reference[cell, seed]`` over the sorted ``seeds``; ``run_ids[label]``
    the label's runs over every cell; ``present[label]`` the cells the study expects it in."""

    labels: list[str]
    seeds: np.ndarray
    values: np.ndarray
    reference: np.ndarray
    run_ids: dict[str, frozenset[str]]
    present: dict[str, list[str]]


def _in_cell(frame: pd.DataFrame, cell: GridCell, dataset: str) -> pd.Series:
    return (frame["study"] == cell.study) & (frame["dataset"] == dataset) & (frame["arch"] == cell.arch)


def arrays(cells: Sequence[GridCell], runs: pd.DataFrame, scores: pd.DataFrame, baseline: str) -> Arrays:
    """See the module docstring; NaN where a run is not done or its metric undefined."""
    labels = list(
        dict.fromkeys(runs.loc[pd.concat([_in_cell(runs, c, c.dataset) for c in cells], axis=1).any(axis=1), "method"])
    )
    done = scores[scores["state"] == "done"]
    seeds = np.sort(pd.concat([runs["seed"], pd.Series([0])]).unique())
    values = np.full((len(labels), len(cells), len(seeds)), np.nan)
    reference = np.full((len(cells), len(seeds)), np.nan)
    run_ids: dict[str, set[str]] = {label: set() for label in labels}
    present: dict[str, list[str]] = {label: [] for label in labels}
    for c, cell in enumerate(cells):
        expected = runs[_in_cell(runs, cell, cell.dataset)]
        for label, ids in expected.groupby("method", sort=False)["run_id"]:
            run_ids[str(label)].update(ids)
            present[str(label)].append(cell.name)
        split, metric = cell.metric.split("/", 1)
        picked = done[(done["split"] == split) & (done["metric"] == metric)]
        here = picked[_in_cell(picked, cell, cell.dataset)]
        m = pd.Index(labels).get_indexer(here["method"])
        s = np.searchsorted(seeds, here["seed"].to_numpy())
        values[m[m >= 0], c, s[m >= 0]] = here["value"].to_numpy(float)[m >= 0]
        ref = picked[_in_cell(picked, cell, cell.reference) & (picked["method"] == baseline)]
        reference[c, np.searchsorted(seeds, ref["seed"].to_numpy())] = ref["value"].to_numpy(float)
    return Arrays(labels, seeds, values, reference, {k: frozenset(v) for k, v in run_ids.items()}, present)


def apart_reason(label: str, data: Arrays, usable: Sequence[int], cells: Sequence[GridCell], baseline: str) -> str:
    """Why ``label`` is not ranked ("" when it is): a cell it is not trained in, or fewer than 2 done seeds
    shared with the baseline in a usable cell."""
    m, b = data.labels.index(label), data.labels.index(baseline)
    missing = [cells[c].name for c in usable if cells[c].name not in data.present[label]]
    if missing:
        return f"not trained in {len(missing)} of the {len(usable)} usable cells ({', '.join(missing)})"
    shared = np.isfinite(data.values[m]) & np.isfinite(data.values[b])
    short = [cells[c].name for c in usable if shared[c].sum() < 2]
    if short:
        return f"fewer than 2 done seeds shared with {baseline} in {', '.join(short)}"
    return ""

"""The fronts of a study's records, per cell and alignment metric: mean points with intervals on both axes, the
Pareto front among them, each series' hypervolume per seed and the paired dominance tests
(``statistics.fronts``; docs/statistics.md §1.22).

A cell is (dataset, arch), and the train maps' view when a study also sweeps it. Its x metric is the first
of the x keys its runs define (the decoy digits' ``test/accuracy``, the toy faces' ``test_closed/auc``);
every y key it defines is a panel of its own (its own Holm family). A series is a method with its non-guidance
settings (``axes_frame``); its points are its guidance scales; the baseline's point of the same seed (ERM, the
weight-zero point of every series) is added to every series' points before its hypervolume is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...statistics.descriptive import describe
from ...statistics.fronts import compare_fronts, dominance, pareto_front, reference_point, seed_hypervolumes
from ...statistics.orient import Family

POINT_COLUMNS = ["series", "scale", "guidance", "n", "x", "x_low", "x_high", "y", "y_low", "y_high", "front"]
VOLUME_COLUMNS = ["series", "n", "hv", "hv_low", "hv_high", "seeds"]


@dataclass
class Panel:
    """One cell and one alignment metric: what the page, the JSON and the figure show."""

    dataset: str
    arch: str
    x: Family
    y: Family
    reference: tuple[float, float]  # oriented (larger is better on both axes)
    points: pd.DataFrame  # POINT_COLUMNS, in the metric's own units; ``front``: on the cell's overall front
    volumes: pd.DataFrame  # VOLUME_COLUMNS: each series' hypervolume over seeds (mean, t-interval, per seed)
    comparisons: pd.DataFrame  # statistics.fronts.COMPARISON_COLUMNS + share_b_by_a, share_a_by_b
    baseline: str | None  # the series added to every other series' points (None: absent from the cell)

    @property
    def cell(self) -> str:
        return f"{self.dataset} / {self.arch}"


def cell_keys(scores: pd.DataFrame) -> list[tuple[str, str]]:
    """(dataset label, arch) of every cell, sorted; a non-default train-map view is part of the dataset label."""
    label = scores["dataset"].where(scores["annotations"] == "", scores["dataset"] + " " + scores["annotations"])
    return sorted(set(zip(label, scores["arch"])))


def in_cell(scores: pd.DataFrame, dataset: str, arch: str) -> pd.DataFrame:
    label = scores["dataset"].where(scores["annotations"] == "", scores["dataset"] + " " + scores["annotations"])
    return scores[(label == dataset) & (scores["arch"] == arch)]


def defined(rows: pd.DataFrame, key: str) -> bool:
    split, metric = key.split("/", 1)
    return bool(rows.loc[(rows["split"] == split) & (rows["metric"] == metric), "value"].notna().any())


def _wide(rows: pd.DataFrame, x: Family, y: Family) -> pd.DataFrame:
    """One row per run placed on a scale: series, scale, guidance, seed and its raw x and y values."""
    keys = ["series", "scale", "guidance", "seed"]
    placed = rows[np.isfinite(rows["scale"].to_numpy(dtype=float))]
    out = []
    for name, fam in (("x", x), ("y", y)):
        part = placed[(placed["split"] == fam.split) & (placed["metric"] == fam.metric)]
        out.append(part.set_index(keys)["value"].rename(name))
    return pd.concat(out, axis=1).reset_index().sort_values(keys, kind="stable").reset_index(drop=True)


def _points(wide: pd.DataFrame, x: Family, y: Family, order: list[str]) -> pd.DataFrame:
    rows = []
    for (series, scale, guidance), runs in wide.groupby(["series", "scale", "guidance"], sort=False):
        both = runs[runs["x"].notna() & runs["y"].notna()]
        dx, dy = describe(both["x"].to_numpy(float)), describe(both["y"].to_numpy(float))
        rows.append(
            {"series": series, "scale": scale, "guidance": guidance, "n": dx["n"]}
            | {"x": dx["mean"], "x_low": dx["ci_low"], "x_high": dx["ci_high"]}
            | {"y": dy["mean"], "y_low": dy["ci_low"], "y_high": dy["ci_high"]}
        )
    points = pd.DataFrame(rows, columns=POINT_COLUMNS[:-1])
    points["rank"] = points["series"].map({s: i for i, s in enumerate(order)})
    points = points.sort_values(["rank", "scale"], kind="stable").drop(columns="rank").reset_index(drop=True)
    points["front"] = pareto_front(oriented(points, x, y))
    return points


def oriented(frame: pd.DataFrame, x: Family, y: Family, columns: tuple[str, str] = ("x", "y")) -> np.ndarray:
    """(n, 2): the two columns multiplied by their metrics' signs (larger is better on both)."""
    return np.column_stack([frame[columns[0]].to_numpy(float) * x.sign, frame[columns[1]].to_numpy(float) * y.sign])


def _cube(wide: pd.DataFrame, series: str, seeds: np.ndarray, x: Family, y: Family) -> np.ndarray:
    """(scales, seeds, 2) oriented points of one series; NaN where a run is missing or its metric undefined."""
    runs = wide[wide["series"] == series]
    scales = sorted(runs["scale"].unique())
    cube = np.full((len(scales), len(seeds), 2), np.nan)
    k = np.searchsorted(scales, runs["scale"].to_numpy(float))
    s = np.searchsorted(seeds, runs["seed"].to_numpy())
    cube[k, s] = oriented(runs, x, y)
    return cube


def panel(rows: pd.DataFrame, dataset: str, arch: str, x: Family, y: Family, baseline: str, alpha: float) -> Panel:
    """The panel of one cell's scores (``axes_frame.axes_scores`` rows) and one y metric."""
    wide = _wide(rows, x, y)
    names = sorted(wide["series"].unique())
    anchor_name = baseline if baseline in names else None
    order = ([anchor_name] if anchor_name else []) + [n for n in names if n != anchor_name]
    points = _points(wide, x, y, order)
    seeds = np.sort(wide["seed"].unique())
    reference = reference_point(oriented(wide, x, y))
    anchor = _cube(wide, anchor_name, seeds, x, y)[0] if anchor_name else None
    volumes = np.stack(
        [seed_hypervolumes(_cube(wide, n, seeds, x, y), None if n == anchor_name else anchor, reference) for n in order]
    )
    # ERM is every series' zero point, not a rival front: its pairs could only come out one way (a series'
    # area includes ERM's point), so the Holm family is the pairs of guided series (docs/statistics.md §1.22)
    rivals = slice(1, None) if anchor_name else slice(None)
    comparisons = compare_fronts(volumes[rivals], order[rivals], alpha)
    mean_points = {n: oriented(points[points["series"] == n], x, y) for n in order}
    with_anchor = {
        n: mean_points[n] if n == anchor_name or not anchor_name else np.vstack([mean_points[anchor_name], p])
        for n, p in mean_points.items()
    }

    def share(a: str, b: str) -> float:
        own = mean_points[b][np.isfinite(mean_points[b]).all(-1)]
        return float(dominance(with_anchor[a], own).any(0).mean()) if own.size and b != anchor_name else np.nan

    comparisons["share_b_by_a"] = [share(a, b) for a, b in zip(comparisons["a"], comparisons["b"])]
    comparisons["share_a_by_b"] = [share(b, a) for a, b in zip(comparisons["a"], comparisons["b"])]
    return Panel(
        dataset,
        arch,
        x,
        y,
        (float(reference[0]), float(reference[1])),
        points,
        _volumes(volumes, order, seeds),
        comparisons,
        anchor_name,
    )


def _volumes(volumes: np.ndarray, order: list[str], seeds: np.ndarray) -> pd.DataFrame:
    rows = []
    for name, row in zip(order, volumes):
        d = describe(row)
        seeds_text = {int(s): (float(v) if np.isfinite(v) else None) for s, v in zip(seeds, row)}
        rows.append(
            {"series": name, "n": d["n"], "hv": d["mean"], "hv_low": d["ci_low"], "hv_high": d["ci_high"]}
            | {"seeds": seeds_text}
        )
    return pd.DataFrame(rows, columns=VOLUME_COLUMNS)

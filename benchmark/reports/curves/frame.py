"""From a study's records to the curve points: each done run placed on an annotation axis by its
``config.annotations`` (``RunConfig.annotations``, the train split's annotation view of
``data.annotation_views``), read from the records only (``reports.axes_frame``: each run's view, from its identity).

An *axis* is what one annotation setting varies, the others fixed: ``budget`` (the share of the annotated
train images that keep their map; 1 = all) or one degradation kind (``box``, ``dilate``, ``shift``, ...) at
its ``level``; a kind that takes no level (``box``) is the point 1 against the true maps at 0. A setting
that also fixes other keys (a degradation at budget 0.2) is its own axis, named with them
(``dilate (budget=0.2)``). The *reference* of an axis is the method's own arm with the varied setting at its
default (budget 1, or the true maps at the same budget): it is drawn on the axis (x = 1 for the budget, 0 for
a degradation) and is what the "vs reference" comparison pairs with. The baseline (ERM) reads no map: its
runs at the default annotations are the band of every axis of its cell (another setting's runs when the
study has none at the default: they are the same runs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...data.annotation_views import ANNOTATION_PARAMS, LEVELS
from ...records.identity import canonical_json
from ...records.table import RecordSet
from ..axes_frame import axes_table

# the declared defaults (every map kept, the true maps, no level): a value equal to one is no change (a resolved
# record holds them all)
DEFAULTS: dict[str, Any] = {name: hp.default for name, hp in ANNOTATION_PARAMS.items()}
BUDGET = "budget"
DEFAULT_VIEW = canonical_json({})  # the dataset's own maps, all of them


def _context(settings: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))


@dataclass(frozen=True)
class AxisPoint:
    """Where one setting sits: its axis, its x, the setting of the axis' reference arm and that arm's x."""

    axis: str
    kind: str  # "budget" or the degradation kind
    level: float
    reference: str  # canonical JSON of the reference arm's settings
    reference_level: float
    levelled: bool  # False for a degradation that takes no level (x is 0 or 1)


def axis_point(settings: Mapping[str, Any]) -> AxisPoint:
    """The axis, x and reference of a (non-default-only) setting (module docstring)."""
    rest = dict(settings)
    kind = rest.pop("degradation", None)
    level = rest.pop("level", None)
    if kind is None:
        budget = float(rest.pop(BUDGET, DEFAULTS[BUDGET]))
        axis = f"{BUDGET} ({_context(rest)})" if rest else BUDGET
        return AxisPoint(axis, BUDGET, budget, canonical_json(rest), float(DEFAULTS[BUDGET]), True)
    axis = f"{kind} ({_context(rest)})" if rest else str(kind)
    x = 1.0 if level is None else float(level)
    return AxisPoint(axis, str(kind), x, canonical_json(rest), 0.0, level is not None)


@dataclass(frozen=True)
class CurveFrames:
    """One metric's curve points (``statistics.curves.CURVE_COLUMNS``), the baseline's runs, each axis (one of its
    ``AxisPoint``s: what its x means), and notes (which baseline runs form the band)."""

    points: pd.DataFrame
    baseline: pd.DataFrame
    axes: dict[str, AxisPoint]
    notes: list[str]


def x_label(point: AxisPoint) -> str:
    """What the x of ``point``'s axis means."""
    if point.kind == BUDGET:
        return "annotation budget: share of the annotated train images kept"
    if point.levelled:
        meaning = LEVELS.get(point.kind)
        return f"{point.kind} level" + (f": {meaning[0]}" if meaning else "") + " (0 = the true maps)"
    return f"train maps: the true maps or {point.kind}"


def level_text(point: AxisPoint, level: float) -> str:
    """A level as tables and ticks print it: the number, or "true maps" / the kind on an axis without levels."""
    if point.levelled:
        return f"{level:g}"
    return "true maps" if level == point.reference_level else point.kind


def run_table(records: RecordSet, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (score rows with ``run_id``) with ``cell_dataset`` (the dataset label without the annotation view)
    and ``settings`` (canonical JSON of the non-default annotations), from ``reports.axes_frame.axes_table``."""
    axes = axes_table(records)[["run_id", "cell_dataset", "annotations"]]
    out = rows.merge(axes, on="run_id", how="left", validate="m:1")
    out["settings"] = out.pop("annotations").replace("", DEFAULT_VIEW)
    return out


def _band(rows: pd.DataFrame, baseline: str, notes: list[str]) -> pd.DataFrame:
    """The baseline's runs per cell: those at the default view, else those of its first view (with a note)."""
    out = []
    for (dataset, arch), runs in rows[rows["method"] == baseline].groupby(["cell_dataset", "arch"], sort=True):
        chosen = DEFAULT_VIEW if (runs["settings"] == DEFAULT_VIEW).any() else min(runs["settings"])
        if chosen != DEFAULT_VIEW:
            notes.append(
                f"{dataset} / {arch}: {baseline} has no run at the default view; its band is its runs at {chosen}"
            )
        out += [
            {"dataset": dataset, "arch": arch, "seed": int(r.seed), "value": float(r.value)}
            for r in runs[runs["settings"] == chosen].itertuples()
        ]
    return pd.DataFrame(out, columns=["dataset", "arch", "seed", "value"])


def curve_frames(records: RecordSet, scores: pd.DataFrame, baseline: str) -> CurveFrames:
    """The points and the baseline of one metric's done ``scores`` (one row per run; see the module docstring).
    A method of a cell with runs at the default view only (it reads no map, like SGT, or no other view is done) is
    left off the curves, with a note."""
    rows = run_table(records, scores)
    points: list[dict[str, Any]] = []
    axes: dict[str, AxisPoint] = {}
    notes: list[str] = []
    band = _band(rows, baseline, notes)
    for (dataset, arch), cell in rows[rows["method"] != baseline].groupby(["cell_dataset", "arch"], sort=True):
        fixed = sorted(m for m, runs in cell.groupby("method") if set(runs["settings"]) == {DEFAULT_VIEW})
        if fixed:
            notes.append(f"{dataset} / {arch}: {', '.join(fixed)} ran at the default view only; not on the curves")
        cell = cell[~cell["method"].isin(fixed)]
        placed = {s: axis_point(json.loads(s)) for s in cell["settings"].unique()}
        varied = {p.axis: p for s, p in placed.items() if s != p.reference}  # axes with a point off the reference
        for r in cell.itertuples():
            point = placed[r.settings]
            row = {"dataset": dataset, "arch": arch, "method": r.method, "seed": int(r.seed), "value": float(r.value)}
            if point.axis in varied and r.settings != point.reference:
                points.append({**row, "axis": point.axis, "level": point.level, "reference": False})
            for axis, owner in varied.items():
                if owner.reference == r.settings:  # the method's reference arm, on every axis it is the reference of
                    points.append({**row, "axis": axis, "level": owner.reference_level, "reference": True})
        axes.update(varied)
    columns = ["dataset", "arch", "axis", "method", "level", "reference", "seed", "value"]
    return CurveFrames(pd.DataFrame(points, columns=columns), band, dict(sorted(axes.items())), notes)

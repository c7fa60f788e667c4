"""``curves STUDY``'s files: ``results/curves/STUDY/curves.md`` (tabulate), ``curves.json`` and one PNG per metric,
cell and axis, computed from the records only and validated before anything is computed; written atomically as one
folder, byte-identical on a rerun (fixed formats, no timestamps, seeded nothing: every number is exact)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...atomic import atomic_folder
from ...contracts import ContractError
from ...records.table import RecordSet
from ...saliency.metrics import spec
from ...statistics.curves import VERSUS_BASELINE, VERSUS_REFERENCE, CurvesResult, analyze_curves, curve_tests
from ..formatting import design, interval, markdown_table, pval, rows_json_text
from ..study.tables import Completeness
from . import plot
from .frame import AxisPoint, CurveFrames, curve_frames, level_text, x_label


@dataclass(frozen=True)
class CurvesOptions:
    """How ``curves`` reads a study: ``metrics`` empty = the default target metric (``default_metric``)."""

    study: str
    folder: Path
    baseline: str = "erm"
    metrics: tuple[str, ...] = ()
    alpha: float = 0.05


def known_metrics(done: pd.DataFrame) -> list[str]:
    """Every ``SPLIT/METRIC`` of the done runs with a finite value and a declared direction, in record order."""
    finite = done[done["value"].notna()]
    out = []
    for key in dict.fromkeys(f"{s}/{m}" for s, m in zip(finite["split"], finite["metric"])):
        try:
            spec(key.split("/", 1)[1])
        except KeyError:
            continue
        out.append(key)
    return out


def default_metric(known: list[str]) -> str | None:
    """The target metric: the AUC of the first test split (``test_closed/auc`` on the toy faces), else its accuracy."""
    for metric in ("auc", "accuracy"):
        for key in known:
            split, name = key.split("/", 1)
            if split.startswith("test") and name == metric:
                return key
    return None


def validate(options: CurvesOptions, done: pd.DataFrame, states: pd.Series | None = None) -> list[str]:
    """The metrics to draw, or a ContractError naming what is wrong (nothing computed yet); ``states``: the
    expected runs' states, counted in the message when none is done."""
    if not 0 < options.alpha < 1:
        raise ContractError(f"curves: --alpha must be in (0, 1), got {options.alpha}")
    if done.empty:
        counts = states.value_counts().sort_index() if states is not None else pd.Series(dtype=int)
        found = ", ".join(f"{n} {state}" for state, n in counts.items()) or "no record"
        raise ContractError(
            f"curves: the study has no done runs in {options.folder} ({found}; "
            f"run `python -m benchmark sweep {options.study}`)"
        )
    known = known_metrics(done)
    keys = list(dict.fromkeys(options.metrics)) or [k for k in [default_metric(known)] if k]
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        raise ContractError(f"curves: unknown metric(s) {unknown or '(no default)'}; known: {known}")
    if options.baseline not in set(done["method"]):
        methods = sorted(set(done["method"]))
        raise ContractError(f"curves: baseline '{options.baseline}' has no done run; methods with done runs: {methods}")
    for key in keys:
        split, metric = key.split("/", 1)
        rows = done[(done["split"] == split) & (done["metric"] == metric) & done["value"].notna()]
        if options.baseline not in set(rows["method"]):
            raise ContractError(f"curves: baseline '{options.baseline}' has no value of '{key}'")
    return keys


@dataclass(frozen=True)
class Curves:
    """What ``curves`` computed: the metrics, one result each, notes, the axes and the runs' states."""

    keys: list[str]
    results: dict[str, CurvesResult]
    notes: list[str]
    axes: dict[str, AxisPoint]
    completeness: Completeness


def analyze(records: RecordSet, options: CurvesOptions) -> Curves:
    """Validate, then per metric the curve frames and ``statistics.curves.analyze_curves``."""
    done = records.done()
    keys = validate(options, done, records.runs["state"])
    results: dict[str, CurvesResult] = {}
    notes: list[str] = []
    axes: dict[str, AxisPoint] = {}
    for key in keys:
        split, metric = key.split("/", 1)
        rows = done[(done["split"] == split) & (done["metric"] == metric)]
        frames: CurveFrames = curve_frames(records, rows, options.baseline)
        if frames.points.empty:
            raise ContractError(
                f"curves: no run of study '{options.study}' varies the annotations (config.annotations) on {key}; "
                "an annotation study sweeps `annotations: [{budget: 0.05}, ...]`"
            )
        results[key] = analyze_curves(
            frames.points,
            frames.baseline,
            metric=key,
            direction=spec(metric).direction,
            baseline_label=options.baseline,
            alpha=options.alpha,
        )
        notes += [n for n in frames.notes if n not in notes]
        axes.update(frames.axes)
    return Curves(keys, results, notes, axes, Completeness(records.runs))


def _points_table(result: CurvesResult, cell_axis: tuple[str, str, str], point: AxisPoint) -> str:
    pts = result.points.set_index(["dataset", "arch", "axis"]).loc[[cell_axis]]
    levels = sorted(pts["level"].unique())
    rows = []
    for method, line in pts.groupby("method", sort=False):
        by = {r.level: r for r in line.itertuples()}
        rows.append(
            {
                "method": method,
                **{
                    level_text(point, lv) + (" (ref.)" if lv in by and by[lv].reference else ""): (
                        f"{interval(by[lv].mean, by[lv].ci_low, by[lv].ci_high)} (n={int(by[lv].n)})"
                        if lv in by
                        else ""
                    )
                    for lv in levels
                },
            }
        )
    return markdown_table(pd.DataFrame(rows).fillna(""))


def _comparison_table(result: CurvesResult, cell_axis: tuple[str, str, str], point: AxisPoint) -> str:
    comp = result.comparisons.set_index(["dataset", "arch", "axis"]).loc[[cell_axis]]
    rows = []
    for (method, level), pair in comp.groupby(["method", "level"], sort=True):
        row: dict[str, Any] = {"method": method, "level": level_text(point, level)}
        for versus, name in ((VERSUS_BASELINE, f"vs {result.baseline_label}"), (VERSUS_REFERENCE, "vs reference")):
            hit = pair[pair["versus"] == versus]
            r = hit.iloc[0] if len(hit) else None
            row[f"{name}: gain [95% CI]"] = interval(r["gain"], r["gain_low"], r["gain_high"]) if r is not None else ""
            row[f"{name}: p"] = pval(r["p"]) if r is not None else ""
            row[f"{name}: p_Holm"] = pval(r["p_holm"]) if r is not None else ""
            row[f"{name}: verdict"] = r["verdict"] if r is not None else ""
        rows.append(row)
    return markdown_table(pd.DataFrame(rows))


def markdown(study: Any, curves: Curves, figures: dict[tuple[str, str, str, str], str]) -> str:
    """The report's text (``figures``: (metric, dataset, arch, axis) -> PNG name, beside the Markdown file)."""
    completeness, results, notes, axes = curves.completeness, curves.results, curves.notes, curves.axes
    counts = completeness.counts()
    alpha = next(iter(results.values())).alpha
    tests = curve_tests(alpha)
    out = [
        f"# Annotation budget and quality curves: {study.name}",
        "",
        *design(study.description),
        f"Profile `{study.profile.name}`; {counts['done']} of {counts['expected']} expected runs done. "
        "Every number below is computed from the study's run records (docs/statistics.md §1.21).",
        "",
        "## Statistics",
        "",
        f"- Points and the {next(iter(results.values())).baseline_label} band: {tests['interval'].text()}.",
        f"- Comparisons: {tests['paired'].text()}.",
        "- *vs baseline*: does the guidance still help at this level; *vs reference*: what the level loses against the "
        "method's own full-budget / true-map arm (the column marked *ref.*). Gains are oriented: positive = the "
        f"method at this level is better. win / loss: p_Holm < {alpha:g}; tie otherwise; identical runs: every "
        "paired difference 0.",
        "",
    ]
    out += [f"Note: {n}" for n in notes] + ([""] if notes else [])
    lines = completeness.lines()
    if lines:
        out += ["Runs not done (left out of every table):", ""] + [f"- {line}" for line in lines] + [""]
    for key, result in results.items():
        out += [f"## {key}", ""]
        for cell_axis in plot.panels(result).itertuples(index=False, name=None):
            dataset, arch, axis = cell_axis
            out += [f"### {dataset} / {arch}: {axis}", "", f"![{key} against {axis}]({figures[(key, *cell_axis)]})", ""]
            band = result.baseline[(result.baseline["dataset"] == dataset) & (result.baseline["arch"] == arch)]
            if len(band):
                b = band.iloc[0]
                out += [
                    f"{result.baseline_label}: {interval(b['mean'], b['ci_low'], b['ci_high'])} (n={int(b['n'])})",
                    "",
                ]
            out += [
                _points_table(result, cell_axis, axes[axis]),
                "",
                _comparison_table(result, cell_axis, axes[axis]),
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"


def json_document(study: Any, curves: Curves) -> str:
    """``curves.json``: the settings, the tests, what each axis' x means and every table's rows."""
    results, axes = curves.results, curves.axes
    first = next(iter(results.values()))
    return rows_json_text(
        {
            "study": study.name,
            "description": study.description,
            "profile": study.profile.name,
            "baseline": first.baseline_label,
            "alpha": first.alpha,
            "tests": {k: t.to_json() for k, t in first.tests.items()},
            "axes": {axis: x_label(point) for axis, point in axes.items()},
            "metrics": {
                key: {
                    "direction": r.direction,
                    "points": r.points,
                    "baseline": r.baseline,
                    "comparisons": r.comparisons,
                }
                for key, r in results.items()
            },
        }
    )


def write_curves(study: Any, records: RecordSet, options: CurvesOptions, dest: Path) -> tuple[list[str], Path, int]:
    """Validate and compute, then write ``dest/STUDY/`` in one rename; returns (metrics, folder, figures)."""
    curves = analyze(records, options)
    with atomic_folder(dest / study.name) as folder:
        figures = {
            (key, dataset, arch, axis): plot.draw(result, dataset, arch, axis, curves.axes[axis], folder)
            for key, result in curves.results.items()
            for dataset, arch, axis in plot.panels(result).itertuples(index=False, name=None)
        }
        (folder / "curves.md").write_text(markdown(study, curves, figures), encoding="utf-8")
        (folder / "curves.json").write_text(json_document(study, curves), encoding="utf-8")
    return curves.keys, dest / study.name, len(figures)

"""``fronts.md``: the statement of the test once, then per cell its figure and, per alignment metric, the mean
points with their intervals and front membership, each series' hypervolume and the dominance table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...statistics.fronts import FRONT_TEST, REFERENCE_RULE
from ..formatting import design, interval, markdown_table, num, pval
from .analysis import Panel

INTERVALS = (
    "95% t-interval over the seeds (`scipy.stats.t.interval`, n − 1 df), each axis on its own "
    "(`statistics.descriptive.t_interval`)"
)
FRONT_RULE = (
    "the Pareto front of the cell's mean points, every series and scale together (both axes oriented larger is "
    "better; a point is on it when no other point is at least as good on both axes and better on one; equal "
    "points are all on it)"
)


def _keys(keys: list[str], several: str, where: str) -> str:
    shown = ", ".join(f"`{k}`" for k in keys)
    return shown if len(keys) == 1 else f"{several} {shown} {where}"


def front_line(panel: Panel) -> str:
    """The cell's front as one line, left to right on the drawn x axis: ``series@scale`` of each point on it."""
    front = panel.points[panel.points["front"]]
    order = np.argsort(front["x"].to_numpy(float) * panel.x.sign, kind="stable")
    items = [f"`{r.series}`@{r.scale:.3g}" for r in front.iloc[order].itertuples()]
    return (
        "Pareto front of the mean points (left to right in the figure): " + (" → ".join(items) if items else "–") + "."
    )


def header(study: Mapping[str, Any], alpha: float) -> list[str]:
    """The page's head: what is drawn and the one statement of the test, its unit, correction and reference."""
    return [
        f"# Fronts over guidance strength: study `{study['study']}`",
        "",
        *design(study.get("description")),
        f"Profile `{study['profile']}`; {study['done']} of {study['expected']} expected runs done. "
        f"Baseline point of every series: `{study['baseline']}` (guidance scale 0). x: "
        f"{_keys(study['x'], 'the first of', 'a cell defines')}; y: {_keys(study['y'], 'each of', 'a cell defines')}. "
        "Scale: the guidance strength relative to the method's declared default (`Guidance.scale_of`: 1 = the "
        "default, 0 = off).",
        "",
        f"- **Points:** the mean over seeds on each axis with its {INTERVALS}.",
        f"- **Front:** {FRONT_RULE}.",
        f"- **Hypervolume:** the area a series' points dominate above the cell's reference point (Zitzler & Thiele "
        f"1999), per seed; {REFERENCE_RULE}.",
        f"- **Dominance test:** {FRONT_TEST.at(alpha).text()}. Verdict \"A's front dominates B's\" when the Holm "
        "p < α (a larger hypervolume: Pareto-compliant, but not every B point need be dominated); the shares "
        "beside it are descriptive: the fraction of B's mean points (its scales) that A's mean points (with the "
        "baseline's) dominate.",
        "",
    ]


def _points_table(panel: Panel) -> str:
    p = panel.points
    frame = pd.DataFrame(
        {
            "series": p["series"],
            "scale": [f"{s:.3g}" for s in p["scale"]],
            "guidance": p["guidance"].replace("", "–"),
            "n": p["n"],
            f"{panel.x.key} [95% CI]": [interval(*r) for r in zip(p["x"], p["x_low"], p["x_high"])],
            f"{panel.y.key} [95% CI]": [interval(*r) for r in zip(p["y"], p["y_low"], p["y_high"])],
            "front": ["✓" if f else "" for f in p["front"]],
        }
    )
    return markdown_table(frame)


def _volumes_table(panel: Panel) -> str:
    v = panel.volumes
    frame = pd.DataFrame(
        {
            "series": v["series"],
            "seeds": v["n"],
            "hypervolume [95% CI]": [interval(*r, digits=4) for r in zip(v["hv"], v["hv_low"], v["hv_high"])],
        }
    )
    return markdown_table(frame)


def _comparisons_table(panel: Panel) -> str:
    c = panel.comparisons
    frame = pd.DataFrame(
        {
            "A": c["a"],
            "B": c["b"],
            "seeds": c["n"],
            "HV A − B [95% CI]": [interval(*r, digits=4) for r in zip(c["diff"], c["diff_low"], c["diff_high"])],
            "t": [num(t, 2) for t in c["t"]],
            "p": [pval(p) for p in c["p"]],
            "p (Holm)": [pval(p) for p in c["p_holm"]],
            "verdict": c["verdict"],
            "B's points A dominates": [num(s, 2) for s in c["share_b_by_a"]],
            "A's points B dominates": [num(s, 2) for s in c["share_a_by_b"]],
        }
    )
    return markdown_table(frame)


def cell_section(panels: list[Panel], figure: str) -> list[str]:
    """One cell: its figure, then per alignment metric the three tables."""
    first = panels[0]
    lines = [f"## {first.cell}", "", f"![Fronts of {first.cell}]({figure})", ""]
    for panel in panels:
        ref = f"({num(panel.reference[0], 4)}, {num(panel.reference[1], 4)})"
        lines += [
            f"### y = `{panel.y.key}`, x = `{panel.x.key}`",
            "",
            f"Reference point (oriented: larger is better on both axes): {ref}."
            + ("" if panel.baseline else " No baseline run in this cell: each series' points alone."),
            "",
            _points_table(panel),
            "",
            front_line(panel),
            "",
            _volumes_table(panel),
            "",
            _comparisons_table(panel) if len(panel.comparisons) else "One series only: nothing to compare.",
            "",
        ]
    return lines


def notes(not_done: list[str], unplaced: list[str], skipped: list[str]) -> list[str]:
    """Runs not done, runs on no guidance scale, metrics a cell does not define: one bullet each."""
    out = []
    for title, items in (
        ("Not done (left out)", not_done),
        ("Not on one guidance scale (left out)", unplaced),
        ("Not defined in a cell (that metric, or the whole cell, left out)", skipped),
    ):
        if items:
            out += [f"**{title}:**", "", *[f"- {item}" for item in items], ""]
    return out


def page(study: Mapping[str, Any], alpha: float, cells: list[tuple[list[Panel], str]], extra: list[str]) -> str:
    lines = header(study, alpha) + extra
    for panels, figure in cells:
        lines += cell_section(panels, figure)
    return "\n".join(lines).rstrip("\n") + "\n"

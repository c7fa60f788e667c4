"""results/README.md's "Guidance as a trade-off" (issue 26 item 5), read only from the reports' JSON files.

Per study with a guidance axis, ``results/fronts/STUDY/fronts.json`` (``fronts STUDY``, docs/statistics.md §1.22;
Rao et al., ICCV 2023, arXiv 2303.11932): per cell and alignment metric the series ordered by mean hypervolume
with its 95% interval, the pairs whose dominance is significant after Holm, and the best single point on each
axis. Per study with an annotation axis, ``results/curves/STUDY/curves.json`` (``curves STUDY``, §1.21): per cell
and axis the levels at which each method still beats the baseline, and those at which it loses against its own
full-budget / true-map arm, both significant after Holm. Each report's test is stated once, in the JSON's own
words (``TestDescription.from_json``); a study whose JSON is absent is one line naming the command that makes it.
Pure functions of the files: byte-identical on rerun.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...contracts import ContractError
from ...data.annotation_views import LEVELS
from ...statistics.description import TestDescription
from ...statistics.orient import family
from ...statistics.paired import IDENTICAL
from ..curves.plot import file_name
from ..formatting import ARROW, design, interval, pval, read_json

FRONTS, CURVES = "fronts", "curves"
TITLES = {FRONTS: "fronts over guidance strength", CURVES: "curves over the annotation budget and quality"}
COMMAND = "make tradeoffs"  # optional/dvc.yaml:tradeoff, every trade-off study and its report
BUDGET = "budget"

Study = tuple[str, str]  # (study, report): FRONTS or CURVES


def declared_studies(params: Mapping[str, Any]) -> list[Study]:
    """The optional studies (params.yaml ``optional_studies``, in order) with a guidance axis (FRONTS) or else an
    annotation axis (CURVES), declared on the study or on one of its grids."""
    out = []
    for name, entry in (params.get("optional_studies") or {}).items():
        keys = set(entry or {}) | {k for grid in (entry or {}).get("grids") or [] for k in grid}
        report = FRONTS if "guidance" in keys else CURVES if "annotations" in keys else None
        if report:
            out.append((str(name), report))
    return out


def _studies(declared: Sequence[Study], folders: Mapping[str, Path]) -> list[Study]:
    """The declared studies, then every other study with a report file in ``folders`` (sorted)."""
    found = sorted(
        (path.parent.name, report)
        for report, folder in folders.items()
        for path in folder.glob(f"*/{report}.json")
        if (path.parent.name, report) not in declared
    )
    return list(declared) + found


def _seeds(ns: list[int]) -> str:
    return f"{min(ns)}" if min(ns) == max(ns) else f"{min(ns)}–{max(ns)}"


def _point(p: Mapping[str, Any], axis: str) -> str:
    value = interval(p[axis], p[f"{axis}_low"], p[f"{axis}_high"])
    return f"`{p['series']}`@{p['scale']:.3g} ({value})"


def best_points(points: list[dict[str, Any]], key: str, axis: str) -> str:
    """The mean point(s) best on ``axis`` ("x" or "y", metric ``key``: its declared direction), ties all named."""
    sign = family(key).sign
    finite = [p for p in points if p[axis] is not None]
    if not finite:
        return f"no point defines `{key}`"
    top = max(p[axis] * sign for p in finite)
    return " = ".join(_point(p, axis) for p in finite if p[axis] * sign == top)


def dominance_text(comparisons: list[dict[str, Any]], alpha: float) -> str:
    """The significant dominances (Holm p < alpha) with their hypervolume difference, or that none is."""
    if not comparisons:
        return "one guided series only: no pair of fronts to compare"
    same = [f"`{c['a']}` and `{c['b']}` are identical runs" for c in comparisons if c["verdict"] == IDENTICAL]
    hits = [
        f"{c['verdict']} (hypervolume difference {c['a']} − {c['b']} "
        f"{interval(c['diff'], c['diff_low'], c['diff_high'], digits=4)}, Holm p = {pval(c['p_holm'])})"
        for c in comparisons
        if c["verdict"] != IDENTICAL and c["p_holm"] is not None and c["p_holm"] < alpha
    ]
    if not hits:
        hits = [f"no pair of fronts is separated at {_seeds([c['n'] for c in comparisons])} seeds"]
    return "; ".join(hits + same)


def panel_text(panel: dict[str, Any], root: str, alpha: float) -> str:
    """One cell and alignment metric of ``fronts.json`` as one bullet."""
    volumes = sorted(panel["hypervolumes"], key=lambda v: -v["hv"] if v["hv"] is not None else float("inf"))
    alone = {panel["baseline"]: " (its point alone)"}
    order = ", ".join(
        f"`{v['series']}` {interval(v['hv'], v['hv_low'], v['hv_high'], digits=4)}{alone.get(v['series'], '')}"
        for v in volumes
    )
    x, y = panel["x"], panel["y"]
    return (
        f"- **{panel['dataset']} / {panel['arch']}**, y = `{y}` against x = `{x}` "
        f"([figure]({root}/{panel['figure']})): by mean hypervolume [95% CI], {order}. "
        f"Dominance after Holm: {dominance_text(panel['comparisons'], alpha)}. Best single point on `{x}`: "
        f"{best_points(panel['points'], x, 'x')}; on `{y}`: {best_points(panel['points'], y, 'y')}."
    )


def fronts_text(doc: dict[str, Any], root: str) -> list[str]:
    """A study's ``fronts.json`` (``root``: its folder, relative to results/): the paragraph and one bullet per
    panel."""
    test = TestDescription.from_json(doc["test"]).text()
    head = (
        f"[{root}/fronts.md]({root}/fronts.md): profile `{doc['profile']}`, {doc['done']} of {doc['expected']} expected "
        f"runs done. Each method's mean (x, y) point per guidance scale (a multiple of its default guidance "
        f"strength) with `{doc['baseline']}` as every series' weight-zero point, and the Pareto front of all of "
        f"them. Dominance: {test}; {doc['reference_rule']}."
    )
    return [*design(doc.get("description")), head, "", *[panel_text(p, root, doc["alpha"]) for p in doc["panels"]]]


def level_text(axis: str, level: float, reference: bool) -> str:
    """A level as curves.md prints it: the number, "ref." beside the method's own arm (a degradation that takes
    no level: "true maps" or its kind)."""
    kind = axis.split(" (", 1)[0]
    if kind == BUDGET or LEVELS.get(kind) is not None:
        return f"{level:g}" + (" (ref., " if reference else " (")
    return "true maps (" if reference else f"{kind} ("


def _levels(rows: list[dict[str, Any]], verdict: str, versus: str, alpha: float) -> dict[str, list[str]]:
    """Per method, the levels (ascending) whose ``versus`` comparison is a Holm-significant ``verdict``."""
    out: dict[str, list[str]] = {}
    hits = [
        r
        for r in rows
        if r["versus"] == versus and r["verdict"] == verdict and r["p_holm"] is not None and r["p_holm"] < alpha
    ]
    for r in sorted(hits, key=lambda r: r["level"]):
        text = f"{level_text(r['axis'], r['level'], r['reference'])}Holm p = {pval(r['p_holm'])})"
        out.setdefault(r["method"], []).append(text)
    return out


def _methods(levels: dict[str, list[str]]) -> str:
    return "; ".join(f"`{m}` at {', '.join(lv)}" for m, lv in levels.items())


def axis_text(rows: list[dict[str, Any]], baseline: str, alpha: float) -> str:
    """The two sentences of one cell and axis: where each method beats the baseline, where it loses to its arm."""
    wins, losses = _levels(rows, "win", "baseline", alpha), _levels(rows, "loss", "reference", alpha)
    beats = (
        f"Beats `{baseline}` significantly: {_methods(wins)}"
        if wins
        else (f"No method beats `{baseline}` significantly at any level")
    )
    lost = (
        f"Significant loss against its own full-budget / true-map arm: {_methods(losses)}"
        if losses
        else "No significant loss of any method against its own full-budget / true-map arm"
    )
    return f"{beats}. {lost}."


def curves_text(doc: dict[str, Any], root: str, folder: Path) -> list[str]:
    """A study's ``curves.json`` (``root``: its folder relative to results/; ``folder``: on disk, for the
    figures): the paragraph and one bullet per metric, cell and axis."""
    tests = {k: TestDescription.from_json(t).text() for k, t in doc["tests"].items()}
    metrics = ", ".join(f"`{k}` {ARROW.get(m['direction'], '')}" for k, m in doc["metrics"].items())
    head = (
        f"[{root}/curves.md]({root}/curves.md): profile `{doc['profile']}`, metric {metrics}, each method's mean per "
        f"annotation level against `{doc['baseline']}` and against its own full-budget / "
        f"true-map arm (ref.). Points: {tests['interval']}. Comparisons: {tests['paired']}."
    )
    out = [*design(doc.get("description")), head, ""]
    for key, metric in doc["metrics"].items():
        cells = dict.fromkeys((r["dataset"], r["arch"], r["axis"]) for r in metric["points"])
        for dataset, arch, axis in sorted(cells):
            rows = [r for r in metric["comparisons"] if (r["dataset"], r["arch"], r["axis"]) == (dataset, arch, axis)]
            figure = file_name(key, dataset, arch, axis)
            link = f"; [figure]({root}/{figure})" if (folder / figure).is_file() else ""
            what = f"`{key}`, " if len(doc["metrics"]) > 1 else ""
            out.append(
                f"- **{dataset} / {arch}, {axis}** ({what}{doc['axes'].get(axis, axis)}{link}): "
                + axis_text(rows, doc["baseline"], doc["alpha"])
            )
    return out


def tradeoff_section(fronts: Path, curves: Path, declared: Sequence[Study]) -> list[str]:
    """The section's lines: each study's paragraph from its JSON, or the line saying how to make it."""
    folders = {FRONTS: fronts, CURVES: curves}
    lines = [
        "## Guidance as a trade-off",
        "",
        "Optional studies, outside `make reproduce` (`make tradeoffs`: optional/dvc.yaml `tradeoff`; issue 26): "
        "accuracy–alignment fronts over each method's guidance strength (`python -m benchmark fronts STUDY`) and "
        "curves of the target metric over the annotation budget and quality (`python -m benchmark curves STUDY`). "
        "Every sentence below is read from the study's committed `fronts.json` / `curves.json`; its page holds the "
        "full tables.",
        "",
    ]
    for study, report in _studies(declared, folders):
        folder = folders[report] / study
        root = f"{folders[report].name}/{study}"
        lines += [f"### Study `{study}`: {TITLES[report]}", ""]
        path = folder / f"{report}.json"
        if not path.is_file():
            lines += [
                f"Not run by default: `{COMMAND}` (or `python -m benchmark sweep {study}`, then "
                f"`python -m benchmark {report} {study}`) writes {root}/{report}.json.",
                "",
            ]
            continue
        doc = read_json(path, f"readme: {path}")
        try:
            lines += (fronts_text(doc, root) if report == FRONTS else curves_text(doc, root, folder)) + [""]
        except (KeyError, TypeError) as exc:
            raise ContractError(
                f"readme: {path} lacks field {exc} (rewrite it: `python -m benchmark {report} {study}`)"
            ) from None
    return lines

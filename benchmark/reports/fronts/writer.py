"""``fronts STUDY`` as files: validate the options against the records before computing anything, compute every
panel (``analysis``), then write ``DEST/STUDY/`` at once (``atomic_folder``): ``fronts.md``, ``fronts.json`` and
one PNG per cell. Fixed formats, sorted cells, no timestamps: a rerun writes the same bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...atomic import atomic_folder
from ...contracts import ContractError
from ...records.table import RecordSet
from ...statistics.fronts import FRONT_TEST, REFERENCE_RULE
from ...statistics.orient import Family, family
from ..axes_frame import axes_scores
from ..formatting import clean
from . import markdown
from .analysis import Panel, cell_keys, defined, in_cell, panel
from .plot import draw_cell

# the suite's target metric and the energy-based pointing game (Rao et al.'s EPG) of the class activation map: the
# toy faces' closed test split, else the digits' test split (the defaults keep those some done run defines); the
# CAM row is `cam` where a cell has it (a GAP head: the exact CAM), else `gradcam`, as `stats` picks it
DEFAULT_X = ("test_closed/auc", "test/accuracy")
DEFAULT_Y = tuple(
    f"{split}/saliency/{row}/energy_pointing" for split in ("test_closed", "test") for row in ("cam", "gradcam")
)


def cam_row(keys: list[str]) -> list[str]:
    """``keys`` without a ``gradcam`` key whose ``cam`` twin is among them (the default y axes' rule)."""
    return [k for k in keys if "/saliency/gradcam/" not in k or k.replace("/gradcam/", "/cam/", 1) not in keys]


@dataclass(frozen=True)
class FrontsOptions:
    """What ``fronts`` draws. ``x`` / ``y``: keys asked for by name (``--x`` / ``--y``): each must be defined by
    some done run. Else the candidates ``declared_x`` / ``declared_y`` (the study's ``fronts:`` block), else
    ``DEFAULT_X`` / ``DEFAULT_Y``: the ones no done run defines are left out (and listed). A cell uses the first
    x it defines and every y it defines (a panel each)."""

    study: str
    profile: str
    folder: Path
    x: tuple[str, ...] = ()
    y: tuple[str, ...] = ()
    declared_x: tuple[str, ...] = ()
    declared_y: tuple[str, ...] = ()
    baseline: str = "erm"
    alpha: float = 0.05
    description: str = ""  # the study's, from params.yaml: printed under the page's title and in the JSON


@dataclass
class Fronts:
    """Every panel, by cell, and the notes the page prints."""

    x: list[str]
    y: list[str]
    cells: list[list[Panel]]
    not_done: list[str]
    unplaced: list[str]
    skipped: list[str]


def _family(key: str) -> Family:
    try:
        return family(key)
    except ValueError as exc:
        raise ContractError(f"fronts: {exc}") from exc
    except KeyError:
        raise ContractError(
            f"fronts: metric '{key}' has no declared direction (benchmark/saliency/metrics.py)"
        ) from None


def _keys(scores: pd.DataFrame, given: tuple[str, ...], candidates: tuple[str, ...], axis: str) -> list[str]:
    """One axis' keys (``FrontsOptions``): every key needs a declared direction; a key given by name must be
    defined by some done run, a candidate no run defines is left out; at least one must remain."""
    known = sorted(dict.fromkeys(f"{s}/{m}" for s, m in zip(scores["split"], scores["metric"])))
    keys = list(dict.fromkeys(given or candidates))
    for key in keys:
        _family(key)
        if given and not defined(scores, key):
            raise ContractError(f"fronts: no done run has a value of {axis} metric '{key}'; known: {known}")
    kept = [k for k in keys if defined(scores, k)]
    if not kept:
        raise ContractError(f"fronts: no done run defines any {axis} metric of {keys}; name one with --{axis}")
    return kept


def _one_run_per_point(scores: pd.DataFrame) -> None:
    """Refuse two runs at one (cell, series, scale, seed): they differ in a setting no label shows (e.g. epochs)."""
    key = ["dataset", "annotations", "arch", "series", "scale", "seed", "split", "metric"]
    twice = scores[scores.duplicated(key, keep=False)]
    if not twice.empty:
        first = twice.iloc[0]
        ids = sorted(twice[(twice[key] == first[key]).all(axis=1)]["run_id"])
        raise ContractError(
            f"fronts: runs {ids} are one point ({first['series']} at scale {first['scale']:g}, seed {first['seed']}, "
            f"{first['dataset']} / {first['arch']}): they differ in a setting the labels do not show"
        )


def fronts(records: RecordSet, options: FrontsOptions) -> Fronts:
    """Validate (one ``ContractError`` line naming the culprit; a cell without an x or a y metric is left out and
    listed, none left is an error), then every cell's panels."""
    if not 0 < options.alpha < 1:
        raise ContractError(f"fronts: --alpha must be in (0, 1), got {options.alpha}")
    scores = axes_scores(records)
    if scores.empty:
        raise ContractError(
            f"fronts: study '{options.study}' has no done runs in {options.folder} "
            f"(run `python -m benchmark sweep {options.study}`)"
        )
    xs = _keys(scores, options.x, options.declared_x or DEFAULT_X, "x")
    ys = _keys(scores, options.y, options.declared_y or DEFAULT_Y, "y")
    _one_run_per_point(scores)
    skipped = [f"every cell: `{k}` (declared; no done run defines it)" for k in options.declared_y if k not in ys]
    plan = []
    for dataset, arch in cell_keys(scores):
        rows = in_cell(scores, dataset, arch)
        x = next((k for k in xs if defined(rows, k)), None)
        y_here = [k for k in ys if defined(rows, k)]
        y_here = y_here if options.y or options.declared_y else cam_row(y_here)
        if x is None or not y_here:
            skipped.append(
                f"{dataset} / {arch}: left out, it defines " + ("no x metric" if x is None else "no y metric")
            )
            continue
        skipped += [f"{dataset} / {arch}: `{k}`" for k in ys if not defined(rows, k)]
        plan.append((rows, dataset, arch, x, y_here))
    if not plan:
        raise ContractError(f"fronts: no cell defines both an x metric of {xs} and a y metric of {ys}")
    cells = [
        [panel(rows, dataset, arch, _family(x), _family(k), options.baseline, options.alpha) for k in y_here]
        for rows, dataset, arch, x, y_here in plan
    ]
    runs = records.runs.drop_duplicates("run_id")
    not_done = [
        f"{r.method} / {r.dataset} / {r.arch} seed {r.seed} (run {r.run_id}): {r.state}"
        + (f" ({r.problem})" if r.problem else "")
        for r in runs.itertuples()
        if r.state != "done"
    ]
    loose = scores[scores["scale"].isna()].drop_duplicates(["series", "guidance", "dataset", "arch"])
    unplaced = [f"{r.series} ({r.guidance}) on {r.dataset} / {r.arch}" for r in loose.itertuples()]
    return Fronts(xs, ys, cells, not_done, unplaced, skipped)


def _json(result: Fronts, head: dict[str, Any], options: FrontsOptions, figures: list[str]) -> str:
    cells = [
        {
            "dataset": p.dataset,
            "arch": p.arch,
            "x": p.x.key,
            "y": p.y.key,
            "baseline": p.baseline,
            "reference": list(p.reference),
            "figure": figure,
            "points": p.points,
            "hypervolumes": p.volumes,
            "comparisons": p.comparisons,
        }
        for panels, figure in zip(result.cells, figures)
        for p in panels
    ]
    body = {
        **head,
        "alpha": options.alpha,
        "test": FRONT_TEST.at(options.alpha).to_json(),
        "reference_rule": REFERENCE_RULE,
        "panels": cells,
        "not_done": result.not_done,
        "unplaced": result.unplaced,
        "skipped": result.skipped,
    }
    return json.dumps(clean(body), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_fronts(records: RecordSet, options: FrontsOptions, dest: Path) -> tuple[Fronts, Path]:
    """Compute (validated first: nothing is written on an error), then write ``dest/STUDY/`` whole."""
    result = fronts(records, options)
    counts = records.runs.drop_duplicates("run_id")["state"].value_counts()
    head = {
        "study": options.study,
        "description": options.description,
        "profile": options.profile,
        "baseline": options.baseline,
        "x": result.x,
        "y": result.y,
        "expected": int(counts.sum()),
        "done": int(counts.get("done", 0)),
    }
    with atomic_folder(dest / options.study) as folder:
        figures = [draw_cell(panels, folder) for panels in result.cells]
        extra = markdown.notes(result.not_done, result.unplaced, result.skipped)
        text = markdown.page(head, options.alpha, list(zip(result.cells, figures)), extra)
        (folder / "fronts.md").write_text(text, encoding="utf-8")
        (folder / "fronts.json").write_text(_json(result, head, options, figures), encoding="utf-8")
    return result, dest / options.study

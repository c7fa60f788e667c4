"""One study's page of the leaderboard (``results/leaderboard/STUDY.html``), from its tables file.

The stored tables of each family become the ``FamilyResult`` / ``StudyReport`` the stats' own Markdown
renderers read (``reports.study.board``: board, notes, per-cell detail, the Methods footer), so the
page shows what ``STUDY.md`` shows, with the same words; the frames the tables file does not keep
are empty. Plus the saliency consistency summary and the figures of ``STUDY/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...records.profiles import Overheads
from ...statistics.family import FamilyResult
from ...statistics.orient import Family
from ..formatting import DASH, interval
from ..study.board import StudyReport, board_display, detail_display, family_notes, family_title
from ..study.overhead import overhead_note, overhead_texts
from ..study.tables import Completeness
from .page import overheads

FIGURE_ORDER = ("cd_diagram", "forest", "cell_means")
CAPTIONS = {
    "cd_diagram": "Critical-difference diagrams: mean ranks per family; a bar joins methods that "
    "Wilcoxon–Holm over cells does not separate",
    "forest": "Forest plot: paired difference to the baseline per cell, 95% CI, zero line and ROPE band",
    "cell_means": "Cell means with 95% CIs, seeds as dots, the baseline's mean dashed",
}
COUNTS = (
    "place",
    "wins",
    "ties",
    "losses",
    "untested",
    "n_cells",
    "n_pairs",
    "runs_done",
    "runs_expected",
    "underpowered_cells",
    "n",
    "n_undefined",
    "seeds_needed",
)


def frame(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of a tables file as a frame whose count columns stay integers (JSON nulls make them float)."""
    out = pd.DataFrame(rows)
    for col in COUNTS:
        if col in out and out[col].dropna().map(lambda v: float(v).is_integer()).all():
            out[col] = out[col].astype("Int64")
    return out


def family_result(tables: Mapping[str, Any], key: str) -> FamilyResult:
    """The stored tables of one family as the ``FamilyResult`` the Markdown renderers read (the frames the
    tables file does not keep are empty)."""
    fam, empty = tables["families"][key], pd.DataFrame()
    split, metric = key.split("/", 1)
    return FamilyResult(
        family=Family(split, metric, fam["direction"], float(fam["rope"])),
        baseline=tables["baseline"],
        alpha=float(tables["alpha"]),
        reps=tables.get("bootstrap_reps", 0),
        seed=tables.get("seed", 0),
        scale=tables.get("scale", ""),
        cells=empty,
        paired=empty,
        matrix=empty,
        dropped_cells=[tuple(c) for c in fam.get("dropped_cells") or []],
        mean_ranks=pd.DataFrame(fam.get("mean_ranks") or []),
        friedman=fam["friedman"],
        pairwise=pd.DataFrame(fam.get("pairwise_holm") or []),
        versus_baseline=pd.DataFrame(fam.get("versus_baseline_holm") or []),
        significance=empty,
        gains=pd.DataFrame(fam.get("gains") or []),
        bayes=pd.DataFrame(fam.get("bayes_signed_rank") or []),
        wtl=pd.DataFrame(fam.get("win_tie_loss") or []),
        leaderboard=frame(fam["leaderboard"]),
    )


def study_report(tables: Mapping[str, Any]) -> StudyReport:
    """The ``StudyReport`` fields the stats' footer reads, from the tables file."""
    results = [family_result(tables, k) for k in tables["families"]]
    over = tables.get("overhead") or {}
    rep = StudyReport(
        tables["study"],
        tables.get("profile", ""),
        tables.get("description", ""),
        tables["baseline"],
        float(tables["alpha"]),
        tables.get("bootstrap_reps", 0),
        tables.get("seed", 0),
        tables.get("bayes_samples", 0),
        tables.get("scale", ""),
        Completeness(pd.DataFrame(tables["runs"])),
        results,
        {},
        {},
        dict(tables.get("versions") or {}),
    )
    rep.overhead_note = overhead_note(
        Overheads({}, list(over.get("files") or []), list(over.get("problems") or [])), rep.profile, "results/profiles"
    )
    return rep


@dataclass
class FamilySection:
    """One family on a study's page: the stats' board, notes and per-cell detail, as strings."""

    key: str
    title: str
    board: pd.DataFrame
    notes: list[str]
    detail: pd.DataFrame


def family_sections(tables: Mapping[str, Any]) -> list[FamilySection]:
    """Every family of the study, rendered by the stats' own Markdown renderers (``reports.study.board``)."""
    archs = list(dict.fromkeys(r["arch"] for r in tables["runs"]))
    over = Overheads(overheads([tables]), [], [])
    out = []
    for key, fam in tables["families"].items():
        r = family_result(tables, key)
        costs = overhead_texts(list(r.leaderboard["method"]), archs, over, r.baseline)
        out.append(
            FamilySection(
                key,
                family_title(r),
                board_display(r.leaderboard, r, costs),
                family_notes(r),
                detail_display(frame(fam["detail"]), r),
            )
        )
    return out


def consistency_frame(tables: Mapping[str, Any]) -> pd.DataFrame:
    """The saliency consistency summary as strings (one row per cell x split x attribution x method)."""
    rows = [
        {
            "cell": f"{r['dataset']} / {r['arch']}",
            "split": r["split"],
            "attribution": r["attribution"],
            "method": r["method"],
            "runs used": f"{r.get('runs_used', DASH)}/{r.get('runs_expected', DASH)}",
            "images": str(r.get("n_images", DASH)),
            "Spearman ρ [95% CI] ↑": interval(r.get("spearman"), r.get("spearman_low"), r.get("spearman_high"), 2),
            "Pearson [95% CI] ↑": interval(r.get("pearson"), r.get("pearson_low"), r.get("pearson_high"), 2),
            "top-10% IoU [95% CI] ↑": interval(r.get("topk_iou"), r.get("topk_iou_low"), r.get("topk_iou_high"), 2),
            "flags": r.get("flags") or "",
        }
        for r in (tables.get("consistency") or {}).get("summary") or []
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Figure:
    caption: str
    path: Path


def caption(stem: str) -> str:
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    parts = stem.split("_")
    if parts[0] == "consistency" and len(parts) == 5:
        _, dataset, arch, split, attribution = parts
        return (
            f"Saliency consistency: the probe-set-mean {attribution} map of every run, {dataset} / {arch}, "
            f"split {split}"
        )
    return stem


def figures(folder: Path, kinds: tuple[str, ...] | None = None) -> list[Figure]:
    """The PNGs of a study's figure folder in a fixed order (CD diagram, forest, cell means, consistency);
    ``kinds``: only the figures whose name starts with one of these."""
    files = sorted(Path(folder).glob("*.png")) if Path(folder).is_dir() else []
    order = {name: i for i, name in enumerate(FIGURE_ORDER)}
    files.sort(key=lambda p: (order.get(p.stem, len(order)), p.name))
    return [Figure(caption(p.stem), p) for p in files if kinds is None or p.stem.startswith(kinds)]

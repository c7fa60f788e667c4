"""One study's page of the leaderboard (``results/leaderboard/STUDY.html``), from its tables file.

The typed tables file (``study.tables_file.StudyTables``) is what the stats' own Markdown renderers read
(``reports.study.board``: board, notes, per-cell detail, the Methods footer), so the page shows what
``STUDY.md`` shows, with the same words. Plus the saliency consistency summary and the figures of
``STUDY/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...records.profiles import Overheads
from ...statistics.descriptions import FAMILY_TESTS
from ..formatting import DASH, interval
from ..study.board import StudyReport, board_display, detail_display, family_notes, family_title
from ..study.overhead import overhead_note, overhead_texts
from ..study.tables import Completeness
from ..study.tables_file import StudyTables
from .page import overheads

FIGURE_ORDER = ("cd_diagram", "forest", "cell_means")
CAPTIONS = {
    "cd_diagram": "Critical-difference diagrams: mean ranks per family; a bar joins methods that "
    "{pairwise} does not separate",
    "forest": "Forest plot: paired difference to the baseline per cell, 95% CI, zero line and ROPE band",
    "cell_means": "Cell means with 95% CIs, seeds as dots, the baseline's mean dashed",
    "gap_closed": "Gap closed across cells: each row's IQM with its simultaneous interval; 0 = ERM, 1 = the reference",
}


def study_report(tables: StudyTables) -> StudyReport:
    """The ``StudyReport`` the stats' footer reads, from the typed tables file."""
    rep = StudyReport.of(tables, Completeness(tables.runs))
    rep.overhead_note = overhead_note(
        Overheads({}, list(tables.overhead.files), list(tables.overhead.problems)), rep.profile, "results/profiles"
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


def family_sections(tables: StudyTables) -> list[FamilySection]:
    """Every family of the study, rendered by the stats' own Markdown renderers (``reports.study.board``)."""
    archs = list(dict.fromkeys(tables.runs["arch"]))
    over = Overheads(overheads([tables]), [], [])
    out = []
    for key, fam in tables.families.items():
        costs = overhead_texts(list(fam.leaderboard["method"]), archs, over, fam.baseline)
        out.append(
            FamilySection(
                key,
                family_title(fam),
                board_display(fam.leaderboard, fam, costs),
                family_notes(fam),
                detail_display(fam.detail, fam),
            )
        )
    return out


def consistency_frame(tables: StudyTables) -> pd.DataFrame:
    """The saliency consistency summary as strings (one row per cell x split x attribution x method)."""
    rows = [
        {
            "cell": f"{r['dataset']} / {r['arch']}",
            "split": r["split"],
            "attribution": r["attribution"],
            "method": r["method"],
            "runs used": f"{r.get('runs_used', DASH)}/{r.get('runs_expected', DASH)}",
            "images": str(r.get("n_images", DASH)),
            "constant maps": DASH if r.get("constant_maps") is None else str(r["constant_maps"]),
            "Spearman ρ [95% CI] ↑": interval(r.get("spearman"), r.get("spearman_low"), r.get("spearman_high"), 2),
            "Pearson [95% CI] ↑": interval(r.get("pearson"), r.get("pearson_low"), r.get("pearson_high"), 2),
            "top-10% IoU [95% CI] ↑": interval(r.get("topk_iou"), r.get("topk_iou_low"), r.get("topk_iou_high"), 2),
            "flags": r.get("flags") or "",
        }
        for r in tables.consistency.summary
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Figure:
    caption: str
    path: Path


def caption(stem: str) -> str:
    if stem in CAPTIONS:
        return CAPTIONS[stem].format(pairwise=FAMILY_TESTS["pairwise"].short)
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

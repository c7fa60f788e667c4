"""Every claim of a paper measured on the records of its studies, with its verdict (``statistics.verdicts``).

Reads only the records (``records.table.RecordSet`` per study): a cell's side is the done runs of one
method label in one dataset x architecture cell. Within one dataset the two sides are paired by seed
(seeds only one side has are named and left out); across datasets they share no randomness and every
seed of each side enters an unpaired (Welch) test. A side's runs that are expected but not done
(missing, failed, stale, corrupt) are named in the row and left out: a verdict never rests on a stale
record. Consistency claims (``consistency/SPLIT/ATTRIBUTION``) compare the mean over probe images of the
mean pairwise Spearman correlation of each side's stored probe maps across its runs (the same images for
both sides, checked), with the runs as the unit: a leave-one-seed-out jackknife over the seeds both sides
have (docs/statistics.md §2.2; ``statistics.consistency.consistency_claim_test``). A claim whose every
cell has identical arms gets the records' check of whether its option was exercised
(``identical.exercised``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...contracts import ContractError
from ...records.table import RecordSet
from ...statistics import descriptions
from ...statistics.consistency import consistency_claim_test
from ...statistics.paired import IDENTICAL
from ...statistics.verdicts import TEST_NAMES, claim_test, judge, simultaneous_level
from ..sources import sources_text
from .identical import exercised
from .spec import Claim, Paper, Side

TUNED = "[tuned]"
NO_MAPS = np.zeros((0, 0, 1, 1))  # (runs, images, H, W) of a side without comparable maps


def side_runs(records: RecordSet, side: Side) -> pd.DataFrame:
    """The side's expected runs (any state), by seed."""
    runs = records.runs
    mine = runs[(runs["method"] == side.method) & (runs["dataset"] == side.dataset) & (runs["arch"] == side.arch)]
    return mine.sort_values("seed", kind="stable")


def check_sides(paper: Paper, records: Mapping[str, RecordSet]) -> None:
    """Every claim's study is loaded and both sides have expected runs in it; else one ContractError."""
    for claim in paper.claims:
        if claim.study not in records:
            raise ContractError(f"{paper.path}: claim {claim.id}: study '{claim.study}' is not loaded")
        runs = records[claim.study].runs
        for role, side in (("method", claim.side), ("reference", claim.reference)):
            if side_runs(records[claim.study], side).empty:
                cells = sorted(set(zip(runs["method"], runs["dataset"], runs["arch"])))
                raise ContractError(
                    f"{paper.path}: claim {claim.id}: {role} '{side.label()}' has no run in study '{claim.study}'; "
                    f"its (method, dataset, arch): {[' · '.join(c) for c in cells]}"
                )


def _not_done(runs: pd.DataFrame) -> str:
    bad = runs[runs["state"] != "done"]
    if bad.empty:
        return ""
    states = ", ".join(f"{n} {s}" for s, n in bad["state"].value_counts().sort_index().items())
    return f"{len(bad)} of {len(runs)} runs not done ({states})"


def seed_values(records: RecordSet, side: Side, metric: str) -> pd.Series:
    """The side's done values of ``SPLIT/RECORD_KEY`` by seed (NaN where undefined)."""
    split, key = metric.split("/", 1)
    done = records.done()
    rows = done[
        (done["method"] == side.method)
        & (done["dataset"] == side.dataset)
        & (done["arch"] == side.arch)
        & (done["split"] == split)
        & (done["metric"] == key)
    ]
    return rows.set_index("seed")["value"].sort_index()


def side_maps(records: RecordSet, side: Side, metric: str) -> tuple[list[int], np.ndarray | None, np.ndarray | None]:
    """The seeds of the side's done runs with stored maps of ``consistency/SPLIT/ATTRIBUTION``, their maps
    (runs, images, H, W) and the probe index (None without such a run)."""
    _, split, attribution = metric.split("/")
    runs = side_runs(records, side)
    done = runs[runs["state"] == "done"]
    kept = [
        (int(seed), rid)
        for seed, rid in zip(done["seed"], done["run_id"])
        if f"saliency/{split}/{attribution}" in records.record(rid).artifacts
    ]
    if not kept:
        return [], None, None
    index = np.asarray(records.artifact(kept[0][1], f"saliency/{split}/index"))
    maps = np.stack([np.asarray(records.artifact(r, f"saliency/{split}/{attribution}")) for _, r in kept])
    return [s for s, _ in kept], maps, index


def consistency_row(claim: Claim, records: RecordSet) -> tuple[dict[str, Any], list[str]]:
    """The claim test of a consistency claim (runs paired by seed) and its notes."""
    seeds, maps, index = side_maps(records, claim.side, claim.metric)
    seeds_ref, maps_ref, index_ref = side_maps(records, claim.reference, claim.metric)
    notes = []
    if maps is None or maps_ref is None:
        notes.append("consistency needs done runs with stored maps on both sides")
    elif maps.shape[1:] != maps_ref.shape[1:] or not np.array_equal(index, index_ref):
        notes.append("the two sides saw different probe images: not comparable")
    elif unpaired := sorted(set(seeds) ^ set(seeds_ref)):
        notes.append(f"seeds without a pair left out: {unpaired}")
    if maps is None or maps_ref is None or notes and not notes[0].startswith("seeds"):
        maps, seeds, maps_ref, seeds_ref = NO_MAPS, [], NO_MAPS, []  # nothing comparable: an untestable row
    row = consistency_claim_test(
        maps, seeds, maps_ref, seeds_ref, test=claim.test, direction=claim.direction, rope=claim.rope
    )
    if row["note"]:
        notes.append(f"test {row['note']}: {row['n']} paired runs")
    if row["constant"] or row["constant_ref"]:
        total = row["n"] * row["images"]
        notes.append(
            f"constant maps (no ranking, similarity scored 0): method {row['constant']} of {total}, "
            f"reference {row['constant_ref']} of {total} (run, image) maps"
        )
    return row, notes


def varies(claim: Claim, records: RecordSet) -> str:
    """What varies inside the claim's interval (Bouthillier et al. 2021; DomainBed #103/#139): the sources the
    sides' done runs draw from their seeds (``reports.sources``, from the records' configs), the hyperparameters,
    and for consistency the probe images (fixed)."""
    done = pd.concat([side_runs(records, s) for s in (claim.side, claim.reference)])
    ids = done[done["state"] == "done"]["run_id"]
    seeds = sources_text(records.record(rid).config for rid in ids)
    tuned = any(TUNED in s.method for s in (claim.side, claim.reference))
    hyper = (
        "hyperparameters fixed (tuned ones by the published search, selected on validation)"
        if tuned
        else "hyperparameters fixed at the defaults"
    )
    probe = "; the probe images are fixed (runs are the jackknife unit)" if claim.consistency else ""
    return f"{seeds}; {hyper}{probe}"


def measure(claim: Claim, records: RecordSet) -> dict[str, Any]:
    """The unadjusted test of one claim and its notes."""
    notes = [
        f"{role}: {note}"
        for role, s in (("method", claim.side), ("reference", claim.reference))
        if (note := _not_done(side_runs(records, s)))
    ]
    if claim.consistency:
        values, more = consistency_row(claim, records)
        notes += more
        values = {k: v for k, v in values.items() if k not in ("constant", "constant_ref", "note")}
    else:
        ya, yb = seed_values(records, claim.side, claim.metric), seed_values(records, claim.reference, claim.metric)
        if claim.paired:
            seeds = sorted(set(ya.index) & set(yb.index))
            unpaired = sorted(set(ya.index) ^ set(yb.index))
            if unpaired:
                notes.append(f"seeds without a pair left out: {unpaired}")
            ya, yb = ya.reindex(seeds), yb.reindex(seeds)
        else:
            notes.append("unpaired (Welch): the two datasets share no randomness, every seed of each side enters")
        values = claim_test(
            ya.to_numpy(float),
            yb.to_numpy(float),
            test=claim.test,
            direction=claim.direction,
            rope=claim.rope,
            paired=claim.paired,
        )
    return {**values, "images": values.get("images", np.nan), "notes": "; ".join(notes)}


@dataclass
class ClaimsTable:
    """A paper's judged table: one row per claim (``claims``) and one per cell (``cells``, ``claim`` = the id of
    its claim); ``cells_total`` R sets the simultaneous intervals' level 1 - alpha/R."""

    claims: pd.DataFrame
    cells: pd.DataFrame
    alpha: float
    cells_total: int

    @property
    def simultaneous_level(self) -> float:
        return simultaneous_level(self.cells_total, self.alpha)

    def cells_of(self, claim_id: str) -> pd.DataFrame:
        return self.cells[self.cells["claim"] == claim_id]


def empty_table(alpha: float) -> ClaimsTable:
    """The table of a paper none of whose cells the loaded studies train (``optional_cells``)."""
    return ClaimsTable(pd.DataFrame(columns=["id", "verdict"]), pd.DataFrame(columns=["claim", "id"]), alpha, 0)


def evaluate(paper: Paper, records: Mapping[str, RecordSet], alpha: float = 0.05) -> ClaimsTable:
    """Every cell measured, every claim judged (one verdict per claims-file entry, its cells beneath it)."""
    check_sides(paper, records)
    measured = [{**measure(c, records[c.study]), "cell": c.cell} for c in paper.claims]
    cells, claims = judge(
        measured,
        [c.entry for c in paper.claims],
        [c.test for c in paper.claims],
        [c.rope for c in paper.claims],
        alpha=alpha,
    )
    first = {c.entry: c for c in reversed(paper.claims)}
    for row in claims:
        claim, mine = first[row["id"]], [c for c in paper.claims if c.entry == row["id"]]
        if row["verdict"] == IDENTICAL:
            row["reason"] = "; ".join(dict.fromkeys(exercised(c, records[c.study]) for c in mine))
        consistency = f", {descriptions.CONSISTENCY_CLAIM.short}" if any(c.consistency for c in mine) else ""
        row.update(
            claim=claim.text,
            published=claim.published,
            study=claim.study,
            test_name=TEST_NAMES[claim.test] + consistency,
        )
    cell_rows = [
        {
            "id": claim.id,
            "claim": claim.entry,
            "study": claim.study,
            "metric": claim.metric,
            "direction": claim.direction,
            "test": claim.test,
            "rope": claim.rope,
            "method": claim.side.label(),
            "reference": claim.reference.label(),
            "varies": varies(claim, records[claim.study]),
            **row,
        }
        for claim, row in zip(paper.claims, cells)
    ]
    return ClaimsTable(pd.DataFrame(claims), pd.DataFrame(cell_rows), alpha, len(cell_rows))

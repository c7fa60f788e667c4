"""Every claim of a paper measured on the records of its studies, with its verdict (``statistics.verdicts``).

Reads only the records (``records.table.RecordSet`` per study): a claim side is the done runs of
one method label in one dataset x architecture cell; the two sides are paired by seed. A side's
runs that are expected but not done (missing, failed, stale, corrupt) are named in the row and
left out: a verdict never rests on a stale record. Consistency claims
(``consistency/SPLIT/ATTRIBUTION``) compare the per-image mean pairwise Spearman correlation of
the side's stored probe maps across its runs (docs/statistics.md §2.2; ``statistics.consistency``),
paired over the probe images (the same images for both sides, checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...contracts import ContractError
from ...records.table import RecordSet
from ...statistics.consistency import image_consistency
from ...statistics.verdicts import TEST_NAMES, claim_test, judge
from .spec import Claim, Paper, Side

TUNED = "[tuned]"


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


def image_values(records: RecordSet, side: Side, metric: str) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Per-probe-image Spearman consistency of the side's done runs, the probe index, and the run count."""
    _, split, attribution = metric.split("/")
    runs = side_runs(records, side)
    ids = [
        rid
        for rid in runs[runs["state"] == "done"]["run_id"]
        if f"saliency/{split}/{attribution}" in records.record(rid).artifacts
    ]
    if len(ids) < 2:
        return np.array([]), None, len(ids)
    index = np.asarray(records.artifact(ids[0], f"saliency/{split}/index"))
    maps = np.stack([np.asarray(records.artifact(r, f"saliency/{split}/{attribution}")) for r in ids])
    return image_consistency(maps)["spearman"], index, len(ids)


def varies(claim: Claim) -> str:
    """What varies inside the claim's interval (DomainBed #103/#139)."""
    if claim.consistency:
        return "probe images (consistency over each side's independently trained runs)"
    tuned = any(TUNED in s.method for s in (claim.side, claim.reference))
    return (
        "seeds only; hyperparameters fixed (tuned ones by the published search, selected on validation)"
        if tuned
        else "seeds only; hyperparameters fixed at the defaults"
    )


def measure(claim: Claim, records: RecordSet) -> dict[str, Any]:
    """The unadjusted test of one claim and its notes."""
    notes = [
        f"{role}: {note}"
        for role, s in (("method", claim.side), ("reference", claim.reference))
        if (note := _not_done(side_runs(records, s)))
    ]
    runs = np.nan
    if claim.consistency:
        a, index_a, runs_a = image_values(records, claim.side, claim.metric)
        b, index_b, runs_b = image_values(records, claim.reference, claim.metric)
        runs = min(runs_a, runs_b)
        if index_a is not None and index_b is not None and not np.array_equal(index_a, index_b):
            notes.append("the two sides saw different probe images: not comparable")
            a, b = np.array([]), np.array([])
        elif index_a is None or index_b is None:
            notes.append("consistency needs >= 2 done runs with stored maps per side")
            a, b = np.array([]), np.array([])
        values = claim_test(a, b, test=claim.test, direction=claim.direction, rope=claim.rope)
    else:
        ya, yb = seed_values(records, claim.side, claim.metric), seed_values(records, claim.reference, claim.metric)
        seeds = sorted(set(ya.index) & set(yb.index))
        unpaired = sorted(set(ya.index) ^ set(yb.index))
        if unpaired:
            notes.append(f"seeds without a pair left out: {unpaired}")
        values = claim_test(
            ya.reindex(seeds).to_numpy(float),
            yb.reindex(seeds).to_numpy(float),
            test=claim.test,
            direction=claim.direction,
            rope=claim.rope,
        )
    return {**values, "runs": runs, "notes": "; ".join(notes)}


def evaluate(paper: Paper, records: Mapping[str, RecordSet], alpha: float = 0.05) -> pd.DataFrame:
    """One row per claim: what was claimed, what was measured, the Holm-adjusted p and the verdict."""
    check_sides(paper, records)
    measured = [measure(c, records[c.study]) for c in paper.claims]
    judged = judge(measured, [c.test for c in paper.claims], [c.rope for c in paper.claims], alpha=alpha)
    rows = []
    for claim, row in zip(paper.claims, judged):
        if claim.consistency:
            row["seeds_needed"] = np.nan  # more runs add pairs, not images: no seed count to state
        rows.append(
            {
                "id": claim.id,
                "claim": claim.text,
                "published": claim.published,
                "study": claim.study,
                "metric": claim.metric,
                "direction": claim.direction,
                "test": claim.test,
                "test_name": TEST_NAMES[claim.test],
                "rope": claim.rope,
                "method": claim.side.label(),
                "reference": claim.reference.label(),
                "varies": varies(claim),
                **row,
            }
        )
    return pd.DataFrame(rows)

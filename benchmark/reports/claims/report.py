"""A paper's claims table as Markdown and JSON (written by ``python -m benchmark claims PAPER``).

One verdict per claim (an entry of the claims file), its cells beneath it: per cell the method's and
the reference's means over the seeds, the oriented gain with the interval the family-wise standard
shows (simultaneous over the paper's cells; 90% for equivalence), the cell's test and raw p; per claim
the combined p (intersection-union or union) with its Holm adjustment and the verdict, which says why
when it is inconclusive and how many seeds would settle it. Every number is computed from the records;
nothing is written by hand.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...statistics import descriptions
from ...statistics.descriptions import verdict_tests
from ...statistics.stability import STABLE
from ...statistics.verdicts import INCONCLUSIVE, VERDICTS
from ..formatting import DASH, interval, markdown_table, num, pval
from .evaluate import ClaimsTable
from .spec import Paper

COUNTS = VERDICTS  # the summary's columns, in this order
NUMBERS = (
    "seeds_needed",
    "seeds_alpha",
    "stability",
    "looks",
    "looks_planned",
    "alpha_look",
    "images",
    "gain",
    "gain_low",
    "gain_high",
    "sim_low",
    "sim_high",
)


def percent(level: float) -> str:
    """0.996875 -> '99.69%', 0.95 -> '95%' (two decimals at most, trailing zeros dropped)."""
    return f"{100 * level:.2f}".rstrip("0").rstrip(".") + "%"


def seeds_text(row: pd.Series) -> str:
    """What would settle an inconclusive claim (empty otherwise)."""
    if row["verdict"] != INCONCLUSIVE:
        return ""
    needed, unit = row.get("seeds_needed"), row.get("seeds_unit") or "paired seeds"
    per = " a cell" if int(row["n_cells"]) > 1 else ""
    used = max((int(n) for n in str(row.get("seeds", "")).split("–") if n.isdigit()), default=0)
    if str(row.get("reason")).startswith("unstable") and isinstance(needed, float) and needed <= used:
        return (
            f"; {used} {unit}{per} already give 80% power at one ROPE (≈{int(needed)} needed): the estimate sits "
            "on a decision boundary, and only more seeds move it off"
        )
    if isinstance(needed, float) and math.isfinite(needed):
        return (
            f"; ≈{int(needed)} {unit}{per} would settle it (80% power at one ROPE, α = {row['seeds_alpha']:.3g}, "
            "safeguard SD)"
        )
    if isinstance(needed, float) and math.isinf(needed):
        return f"; more than 10000 {unit}{per}: the differences are too noisy"
    return "; no seed count for this test" if "zero spread" not in str(row.get("reason")) else ""


def looks_text(row: pd.Series) -> str:
    """'; look 2 of 3, α = 0.0166' for a row of a settled paper (``settle``: the looks it took and the nominal
    level of its last one), else ''."""
    looks, planned, alpha = row.get("looks"), row.get("looks_planned"), row.get("alpha_look")
    if not isinstance(planned, (int, float)) or not planned or math.isnan(planned) or planned < 2:
        return ""
    return f"; look {int(looks)} of {int(planned)}, α = {float(alpha):.3g}"


def stability_text(row: pd.Series) -> str:
    """'93% (5 seeds)': the share of seeded reruns giving the claim's verdict, and the seeds per cell it used;
    below ``STABLE`` also what the reruns say ('62% (5 seeds): reproduced 62%, inconclusive 38%')."""
    value, seeds, reruns = row.get("stability"), row.get("seeds"), row.get("reruns")
    seeds = f" ({seeds} seeds{looks_text(row)})" if isinstance(seeds, str) and seeds not in ("", DASH) else ""
    if not isinstance(value, float) or not math.isfinite(value):
        return f"{DASH}{seeds}"
    said = f": {reruns}" if value < STABLE and isinstance(reruns, str) and reruns else ""
    return f"{100 * value:.0f}%{seeds}{said}"


def verdict_text(row: pd.Series) -> str:
    reason = row.get("reason")
    said = f": {reason}" if isinstance(reason, str) and reason else ""
    return f"**{row['verdict']}**{said}{seeds_text(row)}"


def measured_text(row: pd.Series) -> str:
    if row["metric"].startswith("consistency/"):
        images = f", {int(row['images'])} probe images" if math.isfinite(float(row["images"])) else ""
        return f"{num(row['mean'])} vs {num(row['mean_ref'])} (n={int(row['n'])} runs paired by seed{images})"
    if row.get("design") == "unpaired":
        return (
            f"{num(row['mean'])} (n={int(row['n'])}) vs {num(row['mean_ref'])} (n={int(row['n_ref'])} seeds), unpaired"
        )
    return f"{num(row['mean'])} vs {num(row['mean_ref'])} (n={int(row['n'])} seeds)"


def versus(method: str, reference: str) -> str:
    same_cell = method.split(" · ")[1:] == reference.split(" · ")[1:]
    return f"{method} vs {reference.split(' · ')[0]}" if same_cell else f"{method} vs {reference}"


def cell_test(row: pd.Series) -> str:
    how = row.get("p_method")
    return (
        f"{row['test']}{f' ({how})' if isinstance(how, str) and how not in ('', 'paired t') else ''}: {pval(row['p'])}"
    )


def claim_p(claim: pd.Series) -> str:
    rule = "" if int(claim["n_cells"]) == 1 else (" (union)" if claim["test"] == "difference" else " (every cell)")
    text = f"{pval(claim['p'])}{rule} → {pval(claim['p_holm'])}"
    if claim["test"] == "difference":
        text += f"; TOST {pval(claim['p_tost'])} → {pval(claim['p_tost_holm'])}"
    return text


def _cell_columns(cell: pd.Series, gain_column: str) -> dict[str, str]:
    shown = interval(cell["gain"], cell["gain_low"], cell["gain_high"])
    if cell["test"] == "equivalence" and shown != DASH:
        shown += " (90%)"
    return {
        "method vs reference": versus(cell["method"], cell["reference"]),
        "metric": cell["metric"],
        "measured": measured_text(cell),
        gain_column: f"{shown} ({num(cell['rope'], 3)})",
        "test: p": cell_test(cell),
    }


def display(table: ClaimsTable) -> pd.DataFrame:
    """The claims table as printed: a claim row (alone for a one-cell claim), then its cells."""
    gain_column = f"gain [{percent(table.simultaneous_level)} simultaneous CI; equivalence: 90%] (ROPE)"
    blank = dict.fromkeys(("method vs reference", "metric", "measured", gain_column, "test: p"), "")
    rows = []
    for _, claim in table.claims.iterrows():
        cells = table.cells_of(claim["id"])
        head = {
            "id": claim["id"],
            "claim": claim["claim"],
            "paper": claim["published"] or DASH,
            **(_cell_columns(cells.iloc[0], gain_column) if len(cells) == 1 else blank),
            "claim p → Holm": claim_p(claim),
            "verdict": verdict_text(claim),
            "stability (seeds)": stability_text(claim),
        }
        if len(cells) > 1:
            head["method vs reference"] = f"{len(cells)} cells:"
        rows.append(head)
        if len(cells) > 1:
            for _, cell in cells.iterrows():
                rows.append(
                    {"id": f"↳ {cell['id']}", "claim": "", "paper": "", **_cell_columns(cell, gain_column)}
                    | {"claim p → Holm": "", "verdict": "", "stability (seeds)": ""}
                )
    return pd.DataFrame(rows)


def counts(table: ClaimsTable) -> dict[str, int]:
    if "verdict" not in table.claims:  # a paper without a trained cell (``optional_cells``)
        return {}
    verdicts = table.claims["verdict"]
    return {k: int((verdicts == k).sum()) for k in COUNTS if (verdicts == k).any()}


def how_verdicts_are_made(table: ClaimsTable) -> str:
    """The legend: every test and rule once, from ``descriptions.verdict_tests``."""
    tests = verdict_tests(float(table.alpha))
    return (
        f"**How a verdict is made** (`benchmark/statistics/verdicts.py`): α = {table.alpha}. Superiority: "
        f"{tests['superiority'].text()}. Equivalence: {tests['equivalence'].text()}. Difference (ablations): "
        f"{tests['difference'].text()}. Intervals: {tests['intervals'].text()}; this table has R = "
        f"{table.cells_total} cells, so each is a {percent(table.simultaneous_level)} interval. Verdicts: "
        f"{tests['negligible'].text()}. Degenerate data: {tests['degenerate'].text()}. *Inconclusive* says why and "
        f"what would settle it: {tests['seeds'].text()}. Stability (seeds per cell): {tests['stability'].text()}. Gains are oriented (positive = the method is better); the "
        "ROPE is the metric's declared smallest effect of interest unless the claim sets one; 'claim p → Holm' "
        "is the claim's combined p and its Holm adjustment."
        + (f" Looks (`settle`): {tests['sequential'].text()}." if "looks_planned" in table.claims else "")
    )


def markdown(
    paper: Paper,
    table: ClaimsTable,
    figures: dict[str, str],
    incomplete: list[str],
    heading: str = "#",
    not_run: str = "",
) -> str:
    """The section of one paper: header, notes, claims table, figures, what varies, how verdicts are made;
    ``not_run``: the paragraph naming the cells only an optional study trains (``optional_cells``)."""
    tally = ", ".join(f"{n} {k}" for k, n in counts(table).items())
    lines = [
        f"{heading} {paper.paper}: {paper.title}",
        "",
        f"{paper.citation}. <{paper.url}>",
        "",
        f"{len(table.claims)} claims ({table.cells_total} cells){': ' + tally if tally else ''}. "
        f"Studies: {', '.join(f'`{s}`' for s in paper.studies)}.",
        "",
    ]
    lines += [f"- {note}" for note in paper.notes] + ([""] if paper.notes else [])
    lines += [not_run, ""] if not_run else []
    if table.claims.empty:
        return "\n".join(lines)
    if incomplete:
        lines += ["Runs not done (left out of every test):", ""] + [f"- {x}" for x in incomplete] + [""]
    lines += [markdown_table(display(table)), ""]
    notes = [f"- **{r['id']}**: {r['notes']}" for _, r in table.cells.iterrows() if r["notes"]]
    if notes:
        lines += ["Notes on cells:", ""] + notes + [""]
    for caption, path in figures.items():
        lines += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    kinds = sorted(set(table.cells["varies"]))
    lines += (
        ["**What varies inside the intervals:** " + kinds[0] + ".", ""]
        if len(kinds) == 1
        else ["**What varies inside the intervals:**", ""] + [f"- {kind}." for kind in kinds] + [""]
    )
    lines += [how_verdicts_are_made(table), ""]
    if table.cells["metric"].str.startswith("consistency/").any():
        consistency = descriptions.CONSISTENCY_CLAIM.at(table.alpha).text()
        lines += [f"Consistency claims (`consistency/SPLIT/ATTRIBUTION`): {consistency}.", ""]
    return "\n".join(lines)


def as_json(
    paper: Paper, table: ClaimsTable, figures: dict[str, str], incomplete: list[str], not_run: str = ""
) -> dict[str, Any]:
    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return frame.astype(object).where(pd.notna(frame), None).to_dict(orient="records")

    claims = [{**claim, "cells": records(table.cells_of(claim["id"]))} for claim in records(table.claims)]
    return {
        "paper": paper.paper,
        "name": paper.name,
        "order": paper.order,
        "title": paper.title,
        "citation": paper.citation,
        "url": paper.url,
        "studies": paper.studies,
        "notes": paper.notes,
        "alpha": table.alpha,
        "cells_total": table.cells_total,
        "simultaneous_level": table.simultaneous_level,
        "counts": counts(table),
        "incomplete": incomplete,
        "not_run": not_run,
        "figures": figures,
        "claims": claims,
    }


def from_json(data: dict[str, Any]) -> ClaimsTable:
    """The table a claims JSON holds (``as_json``), for results/README.md."""

    def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
        out = pd.DataFrame(rows).astype(object).where(lambda f: f.notna(), float("nan"))
        for column in {*NUMBERS, "mean", "mean_ref", "p", "p_holm", "p_tost", "p_tost_holm", "rope"} & set(out):
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
        return out

    claims = [{k: v for k, v in c.items() if k != "cells"} for c in data["claims"]]
    cells = [cell for c in data["claims"] for cell in c["cells"]]
    return ClaimsTable(frame(claims), frame(cells), float(data["alpha"]), int(data["cells_total"]))

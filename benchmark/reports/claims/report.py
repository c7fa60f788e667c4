"""A paper's claims table as Markdown and JSON (written by ``python -m benchmark claims PAPER``).

One row per claim: the claim and the paper's number, what this suite measured (the method's
and the reference's means over n paired seeds, the oriented gain with its 95% t-interval), the
test with its raw and Holm-adjusted p (one Holm family per paper), and the verdict; an
inconclusive verdict names the paired seeds a power analysis says would settle it. Every number
is computed from the records; nothing is written by hand.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...statistics import descriptions
from ...statistics.descriptions import verdict_tests
from ..formatting import DASH, interval, markdown_table, num, pval
from .spec import Paper

COUNTS = ("reproduced", "not reproduced", "inconclusive", "changes the result", "no practical difference", "untestable")


def verdict_text(row: pd.Series) -> str:
    text = f"**{row['verdict']}**"
    needed = row["seeds_needed"]
    if row["verdict"] == "inconclusive":
        if isinstance(needed, float) and math.isfinite(needed):
            text += f" (≈{int(needed)} paired seeds would settle it)"
        elif isinstance(needed, float) and math.isinf(needed):
            text += " (more than 10000 seeds: the differences are too noisy)"
    return text


def measured_text(row: pd.Series) -> str:
    if row["metric"].startswith("consistency/"):
        images = f", {int(row['images'])} probe images" if math.isfinite(float(row["images"])) else ""
        return f"{num(row['mean'])} vs {num(row['mean_ref'])} (n={int(row['n'])} runs paired by seed{images})"
    return f"{num(row['mean'])} vs {num(row['mean_ref'])} (n={int(row['n'])} seeds)"


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The claims table as printed."""
    repeated = (table["claim"] == table["claim"].shift()) & (table["published"] == table["published"].shift())
    return pd.DataFrame(
        {
            "id": table["id"],
            "claim": ["〃" if r else c for c, r in zip(table["claim"], repeated)],  # a row expanded from the one above
            "paper": ["〃" if r else (p or DASH) for p, r in zip(table["published"], repeated)],
            "method vs reference": [
                f"{m} vs {r.split(' · ')[0]}" if m.split(" · ")[1:] == r.split(" · ")[1:] else f"{m} vs {r}"
                for m, r in zip(table["method"], table["reference"])
            ],
            "metric": table["metric"],
            "measured": [measured_text(r) for _, r in table.iterrows()],
            "gain [95% CI] (ROPE)": [
                f"{interval(r['gain'], r['gain_low'], r['gain_high'])} ({num(r['rope'], 3)})"
                for _, r in table.iterrows()
            ],
            "test: p (Holm)": [f"{r['test']}: {pval(r['p'])} ({pval(r['p_holm'])})" for _, r in table.iterrows()],
            "verdict": [verdict_text(r) for _, r in table.iterrows()],
        }
    )


def counts(table: pd.DataFrame) -> dict[str, int]:
    return {k: int((table["verdict"] == k).sum()) for k in COUNTS if (table["verdict"] == k).any()}


def markdown(
    paper: Paper, table: pd.DataFrame, figures: dict[str, str], incomplete: list[str], alpha: float, heading: str = "#"
) -> str:
    """The section of one paper: header, notes, claims table, figures, what varies, how verdicts are made."""
    tally = ", ".join(f"{n} {k}" for k, n in counts(table).items())
    tests = verdict_tests(float(alpha))
    lines = [
        f"{heading} {paper.paper}: {paper.title}",
        "",
        f"{paper.citation}. <{paper.url}>",
        "",
        f"{len(table)} claims: {tally}. Studies: {', '.join(f'`{s}`' for s in paper.studies)}.",
        "",
    ]
    lines += [f"- {note}" for note in paper.notes] + ([""] if paper.notes else [])
    if incomplete:
        lines += ["Runs not done (left out of every test):", ""] + [f"- {x}" for x in incomplete] + [""]
    lines += [markdown_table(display(table)), ""]
    notes = [f"- **{r['id']}**: {r['notes']}" for _, r in table.iterrows() if r["notes"]]
    if notes:
        lines += ["Notes on rows:", ""] + notes + [""]
    for caption, path in figures.items():
        lines += [f"![{caption}]({path})", "", f"*{caption}*", ""]
    kinds = sorted(set(table["varies"]))
    lines += (
        ["**What varies inside the intervals:** " + kinds[0] + ".", ""]
        if len(kinds) == 1
        else ["**What varies inside the intervals:**", ""] + [f"- {kind}." for kind in kinds] + [""]
    )
    lines += [
        f"**How a verdict is made** (`benchmark/statistics/verdicts.py`): α = {alpha}. Superiority: "
        f"{tests['superiority'].text()}; *not reproduced* when the 95% interval of the gain lies below +ROPE. "
        f"Equivalence: {tests['equivalence'].text()}; *not reproduced* when the interval lies outside the ROPE. "
        f"Difference (ablations): {tests['difference'].text()}. Gains are oriented (positive = the method is "
        "better); the "
        "ROPE is the metric's declared smallest effect of interest unless the claim sets one. "
        "*Inconclusive* rows give the paired seeds for 80% power against a one-ROPE effect at the "
        "observed SD of the differences.",
        "",
    ]
    if table["metric"].str.startswith("consistency/").any():
        lines += [
            f"Consistency claims (`consistency/SPLIT/ATTRIBUTION`): {descriptions.CONSISTENCY_CLAIM.at(alpha).text()}.",
            "",
        ]
    return "\n".join(lines)


def as_json(
    paper: Paper, table: pd.DataFrame, figures: dict[str, str], incomplete: list[str], alpha: float
) -> dict[str, Any]:
    rows = table.astype(object).where(pd.notna(table), None).to_dict(orient="records")
    return {
        "paper": paper.paper,
        "name": paper.name,
        "order": paper.order,
        "title": paper.title,
        "citation": paper.citation,
        "url": paper.url,
        "studies": paper.studies,
        "notes": paper.notes,
        "alpha": alpha,
        "counts": counts(table),
        "incomplete": incomplete,
        "figures": figures,
        "claims": rows,
    }

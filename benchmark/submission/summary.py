"""The summary ``submit`` prints (and bundles as ``summary.md``): the method's row on the across-cell board (the
claim's ``board``, printed as the page prints it: ``submission.board``), its per-study numbers (labelled per
study: each study's own cells and methods), the significance of each comparison, and its measured overhead. Reads
only the claim (``bundle.claim``) and the cost rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from .board import summary_lines


def _f(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _interval(entry: Mapping[str, Any], key: str = "gain") -> str:
    if entry.get(key) is None:
        return "-"
    low, high = entry.get(f"{key}_low"), entry.get(f"{key}_high")
    bounds = f" [{_f(low)}, {_f(high)}]" if low is not None and high is not None else ""
    return f"{entry[key]:+.3f}{bounds}"


def ranking_rows(content: Mapping[str, Any]) -> list[list[str]]:
    """One row per study x family: the method's mean over cells, place of N, mean rank, gain over ERM."""
    rows = []
    for study, entry in content["studies"].items():
        for key, rank in entry["ranking"].items():
            cells = entry["cells"].get(key, {})
            means = [c["mean"] for c in cells.values() if c["mean"] is not None]
            mean = sum(means) / len(means) if means else None
            place = f"{rank['place']} of {rank['of']}" if rank.get("place") is not None else f"unranked ({rank['of']})"
            rows.append([study, key, rank["direction"], _f(mean), place, _f(rank.get("mean_rank"), 2), _interval(rank)])
    return rows


def comparison_rows(content: Mapping[str, Any]) -> list[list[str]]:
    """One row per study x family x other method x cell: the submission's gain, adjusted p and verdict."""
    rows = []
    for study, entry in content["studies"].items():
        for key, rank in entry["ranking"].items():
            for other, comp in rank["versus"].items():
                for cell, c in comp["cells"].items():
                    rows.append([study, key, other, cell, c["n"], _interval(c), _f(c["p_adjusted"], 4), c["verdict"]])
    return rows


def measured_text(row: Mapping[str, Any]) -> str:
    """``2.60 [2.51, 2.70]`` (the measured ratio and its 95% CI), or ``unreliable (CI too wide: ...)``."""
    if row.get("unreliable"):
        return f"unreliable ({row['unreliable']})"
    low, high = row.get("measured_low"), row.get("measured_high")
    ci = f" [{low:.2f}, {high:.2f}]" if isinstance(low, (int, float)) and isinstance(high, (int, float)) else ""
    return f"{row['measured']:.2f}{ci}"


def overhead_rows(cost_rows: list[Mapping[str, Any]]) -> list[list[str]]:
    return [
        [r["arch"], _f(r.get("declared"), 2), measured_text(r), str(r.get("rounds", "-")), _f(r.get("ratio"), 2)]
        for r in cost_rows
    ]


def summary_text(content: Mapping[str, Any], cost_rows: list[Mapping[str, Any]], check_lines: list[str]) -> str:
    """Markdown: the checks, the ranking, every comparison, the overhead."""
    method, profile = content["method"], content["profile"]
    parts = [
        f"# Submission: {method} (profile {profile})",
        "",
        f"{content['citation']} <{content['url']}>",
        "",
        "## Checks",
        "",
        *[f"- {line}" for line in check_lines],
        "",
        "## On the board",
        "",
        *summary_lines(content.get("board"), method),
        "",
        "## Per study",
        "",
        "Each study on its own (its cells, its methods and this one; not the board's numbers): the per-study "
        "mean over the study's cells of the method's seed means; the per-study place by mean rank over those "
        "cells (Friedman/Nemenyi ranks of `stats`); gain: the paired difference to ERM, oriented so that "
        "positive is better, with its bootstrap 95% CI.",
        "",
        tabulate(
            ranking_rows(content),
            headers=[
                "study",
                "family",
                "better",
                "per-study mean",
                "per-study place",
                "per-study mean rank",
                "gain over erm [95% CI]",
            ],
            tablefmt="github",
        ),
        "",
        "## Every comparison",
        "",
        f"{method} against each method, per cell: {next(iter(_tests(content)), 'no comparison')}; "
        "verdict win/loss when the adjusted p < 0.05, else tie.",
        "",
        tabulate(
            comparison_rows(content),
            headers=["study", "family", "versus", "cell", "seeds", f"gain of {method} [95% CI]", "p (BH)", "verdict"],
            tablefmt="github",
        ),
        "",
        "## Overhead",
        "",
        "Training-step time in ERM steps on this machine: declared (the method's `cost`, from measured unit "
        "times) and measured (the median over interleaved rounds of the method's step time over ERM's, with its "
        "bootstrap 95% CI; rounds are added up to 60 while the CI is wider than ±10%, else the cost is "
        "unreliable); a ratio above 1.2 is a warning. The leaderboard shows the cost its profile stage measures "
        "for every method in one run, this one only when that stage has not timed the method.",
        "",
        tabulate(
            overhead_rows(cost_rows),
            headers=["arch", "declared", "measured [95% CI]", "rounds", "measured/declared"],
            tablefmt="github",
        ),
        "",
    ]
    return "\n".join(parts)


def _tests(content: Mapping[str, Any]) -> list[str]:
    return list(
        dict.fromkeys(
            comp["test"]
            for entry in content["studies"].values()
            for rank in entry["ranking"].values()
            for comp in rank["versus"].values()
        )
    )

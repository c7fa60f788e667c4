"""``board.md``, ``board.csv`` and ``board.json`` from ``BoardTables``: the ranked table, the raw per-cell table,
the rows listed apart, Friedman and the pairwise Holm tests over the usable cells, and the tests' descriptions."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ..formatting import DASH, clean, interval, markdown_table, num, pval
from .tables_file import BoardTables


def marker_title(row: Any) -> str:
    """The marker's tooltip: what it is read from, and the interval's confidence ("" without an interval)."""
    confidence = row.get("confidence")
    if confidence is None or pd.isna(confidence) or pd.isna(row.get("gap_closed_low")):
        return ""
    side = {"▲": "is above 0 (ERM): ▲", "▼": "is below 0 (ERM): ▼"}.get(row.get("marker") or "", "includes 0 (ERM)")
    return f"the row's own {100 * float(confidence):.2f}% simultaneous interval (Bonferroni) {side}"


def rank_text(row: Any, gate: str = "") -> str:
    """Mean rank [t interval over cells]; the gate's "n.a. (N cells < 6)" in place of an interval below 6 cells."""
    if gate and num(row.get("mean_rank"), 2) != DASH:
        return f"{num(row['mean_rank'], 2)} [{gate}]"
    return interval(row.get("mean_rank"), row.get("rank_low"), row.get("rank_high"), 2)


def row_notes(row: Any) -> list[str]:
    """What a row's name carries: "submission" (and its re-run mark) for a submission, then its note."""
    kind = "submission" + (f"; {row['rerun']}" if row.get("rerun") else "") if row.get("kind") == "submission" else ""
    return [x for x in (kind, str(row.get("note") or "")) if x]


def ranked_display(t: BoardTables) -> pd.DataFrame:
    """The ranked table as printed: place, row (note), cells, seeds per cell, gap closed [CI] marker, mean rank."""
    out = []
    for row in t.rows.to_dict("records"):
        place = row.get("place")
        score = (
            "0 (by definition)"
            if row["method"] == t.baseline
            else interval(row["gap_closed"], row.get("gap_closed_low"), row.get("gap_closed_high"))
        )
        out.append(
            {
                "place": DASH if place is None or pd.isna(place) else f"{int(place)}/{int(row['of'])}",
                "method": row["method"] + "".join(f" ({x})" for x in row_notes(row)),
                "cells": str(row["n_cells"]),
                "seeds per cell": str(row["seeds"]),
                "gap closed (IQM [simultaneous CI])": f"{score} {row.get('marker') or ''}".rstrip(),
                "mean rank [CI]": rank_text(row, t.gates.get("mean_rank", "")),
            }
        )
    return pd.DataFrame(out)


def cells_display(t: BoardTables) -> pd.DataFrame:
    """One row per grid cell: its shortcut, metric, reference and ERM means, gap, usable/reason."""
    return pd.DataFrame(
        {
            "cell": t.cells["cell"],
            "shortcut": t.cells["shortcut"],
            "metric": t.cells["metric"],
            "reference": [f"{r} {num(m)}" for r, m in zip(t.cells["reference"], t.cells["reference_mean"])],
            "ERM": [num(m) for m in t.cells["erm_mean"]],
            "gap": [num(g) for g in t.cells["gap"]],
            "Welch p": [pval(p) for p in t.cells["p"]],
            "usable": ["yes" if u else f"no: {r}" for u, r in zip(t.cells["usable"], t.cells["reason"])],
        }
    )


def raw_display(t: BoardTables) -> pd.DataFrame:
    """Each row's raw mean of the cell's metric (n seeds) per cell, and its gap closed there."""
    wide = t.raw.assign(
        text=[
            f"{num(m)} (n={int(n)})" + ("" if pd.isna(g) else f", g {num(g, 2)}")
            for m, n, g in zip(t.raw["mean"], t.raw["n"], t.raw["gap_closed"])
        ]
    ).pivot(index="method", columns="cell", values="text")
    order = list(dict.fromkeys(t.raw["method"]))
    return wide.reindex(index=order, columns=list(t.cells["cell"])).fillna(DASH).reset_index()


def friedman_text(t: BoardTables) -> str:
    f = t.friedman
    test = f"Friedman over {f.get('n_cells')} usable cells, k = {f.get('k')}"
    if f.get("status") != "ok":
        return f"{test}: not computed ({f.get('reason')})"
    return f"{test}: χ² = {num(f['chi2'], 2)} (p {pval(f['p_chi2'])}), Iman–Davenport F = {num(f['f'], 2)} (p {pval(f['p_f'])})"


def pairwise_display(t: BoardTables) -> pd.DataFrame:
    p = t.pairwise
    if p.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "pair": [f"{a} vs {b}" for a, b in zip(p["method"], p["other"])],
            "cells": p["n_cells"].astype(str),
            "W/T/L": [f"{w}/{ti}/{lo}" for w, ti, lo in zip(p["wins"], p["ties"], p["losses"])],
            "p": [pval(x) for x in p["p"]],
            "p (Holm)": [pval(x) for x in p["p_holm"]],
        }
    )


def markdown(t: BoardTables) -> str:
    """``board.md``."""
    usable = int(t.cells["usable"].sum())
    lines = [
        "# The across-cell leaderboard",
        "",
        f"Each method's score is the fraction of the shortcut gap it closes in a cell, (method − {t.baseline}) / "
        f"(reference − {t.baseline}), pooled over the {usable} usable cells of {len(t.cells)} and their seeds by "
        f"the IQM: 0 is {t.baseline}, 1 is {t.baseline} trained without the shortcut (docs/statistics.md, "
        '"The across-cell leaderboard"). One row per distinct set of runs; ▲/▼: the row\'s own simultaneous '
        f"interval (Bonferroni over the {max(len(t.rows) - 1, 0)} ranked rows, α = {t.alpha:g}) is above/below 0.",
        "",
        markdown_table(ranked_display(t)),
        "",
    ]
    if t.not_done:
        lines += [f"{len(t.not_done)} runs not done (never ranked):", ""]
        lines += [f"- {line}" for line in t.not_done] + [""]
    lines += ["## The cells", "", markdown_table(cells_display(t)), ""]
    lines += ["## Raw per-cell means", "", markdown_table(raw_display(t)), ""]
    if len(t.apart):
        lines += ["## Listed apart, not ranked", "", markdown_table(t.apart), ""]
    lines += ["## Across the cells", "", friedman_text(t), ""]
    if t.gates.get("cd_diagram"):
        lines += [f"Pairwise Wilcoxon–Holm and the CD diagram: {t.gates['cd_diagram']}.", ""]
    elif len(t.pairwise):
        lines += ["Pairwise Wilcoxon signed-rank over cells, Holm over every pair:", ""]
        lines += [markdown_table(pairwise_display(t)), ""]
    lines += ["![critical-difference diagram](board/cd_diagram.png)", "", "![gap closed](board/gap_closed.png)", ""]
    lines += ["## Tests", ""] + [f"- {k}: {d.text()}" for k, d in t.tests.items()] + [""]
    lines += [f"Bootstrap: {t.reps} repetitions, seed {t.seed}, the uniforms shared by every row.", ""]
    return "\n".join(lines)


def csv(t: BoardTables) -> str:
    """``board.csv``: the raw per-cell rows with the cell's gap and whether it is usable."""
    cells = t.cells[["cell", "metric", "reference_mean", "erm_mean", "gap", "usable"]]
    return t.raw.merge(cells, on="cell", how="left").to_csv(index=False, lineterminator="\n", float_format="%.6g")


def metrics(t: BoardTables) -> str:
    """``board.json`` (DVC metrics, numbers only)."""
    rows = {
        r["method"]: {k: r.get(k) for k in ("gap_closed", "gap_closed_low", "gap_closed_high", "mean_rank", "n_cells")}
        for r in t.rows.to_dict("records")
    }
    cells = {
        r["cell"]: {"gap": r["gap"], "p": r["p"], "usable": int(bool(r["usable"]))} for r in t.cells.to_dict("records")
    }
    out = {"metrics": {"rows": rows, "cells": cells, "friedman_p_f": t.friedman.get("p_f")}}
    return json.dumps(clean(out), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

"""The across-cell leaderboard's numbers from the grid's arrays (``inputs``): which cells are usable, which labels
are one row, the gap-closed score of each ranked row with its simultaneous interval (``statistics.gap_closed``),
and the ranks, Friedman and all-pairs Wilcoxon–Holm over the usable cells (``statistics.across``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...statistics import across
from ...statistics.gap_closed import board, cell_gaps, distinct_rows
from .bundles import KIND, Bundles
from .inputs import Arrays, GridCell, apart_reason
from .tables_file import APART_COLUMNS, BoardTables


def _raw(cells: Sequence[GridCell], data: Arrays, rows: list[str], matrix: pd.DataFrame) -> pd.DataFrame:
    """Every row's raw mean of the cell's metric per cell (over its done seeds) and its mean gap closed there."""
    out = []
    for c, cell in enumerate(cells):
        for label in rows:
            y = data.values[data.labels.index(label), c]
            y = y[np.isfinite(y)]
            gap = matrix.at[cell.name, label] if cell.name in matrix.index and label in matrix else np.nan
            out.append(
                {
                    "cell": cell.name,
                    "method": label,
                    "mean": float(y.mean()) if y.size else np.nan,
                    "sd": float(y.std(ddof=1)) if y.size > 1 else np.nan,
                    "n": int(y.size),
                    "gap_closed": float(gap),
                }
            )
    return pd.DataFrame(out)


def analyse(
    cells: Sequence[GridCell],
    data: Arrays,
    baseline: str,
    *,
    alpha: float = 0.05,
    reps: int = 10_000,
    seed: int = 0,
    not_done: Sequence[str] = (),
    bundles: Bundles | None = None,
) -> BoardTables:
    """Every table of ``board.tables.json`` (see ``BoardTables``); ``bundles``: the submissions whose records are
    in ``data`` (their rows' kind and re-run mark) and those listed apart."""
    bundles = bundles or Bundles()
    fams = [cell.family for cell in cells]
    sign = np.array([f.sign for f in fams], float)
    rope = np.array([f.rope for f in fams], float)
    b = data.labels.index(baseline)
    gaps = cell_gaps(data.reference, data.values[b], sign, rope, alpha)
    usable = [c for c in range(len(cells)) if gaps.at[c, "usable"]]
    kept, notes = distinct_rows(data.run_ids)
    reasons = {label: apart_reason(label, data, usable, cells, baseline) for label in kept if label != baseline}
    ranked = [baseline, *(label for label in kept if label in reasons and not reasons[label])]
    idx = [data.labels.index(label) for label in ranked]
    names = [cell.name for cell in cells]
    out = board(
        data.values[idx], data.reference, ranked, names, baseline, sign, rope, alpha=alpha, reps=reps, seed=seed
    )
    meta = pd.DataFrame(
        {
            "cell": names,
            "study": [c.study for c in cells],
            "dataset": [c.dataset for c in cells],
            "arch": [c.arch for c in cells],
            "metric": [c.metric for c in cells],
            "direction": [f.direction for f in fams],
            "rope": rope,
            "reference": [c.reference for c in cells],
            "shortcut": [c.shortcut for c in cells],
        }
    )
    cell_table = meta.merge(out.cells, on="cell")
    ranks = across.mean_ranks(out.matrix, "higher", confidence=1 - alpha)
    rows = out.rows.merge(ranks[["method", "mean_rank", "rank_low", "rank_high"]], on="method", how="left")
    rows.insert(1, "note", [notes.get(m, "") for m in rows["method"]])
    rows.insert(2, "kind", [KIND if m in bundles.reruns else "study" for m in rows["method"]])
    rows["rerun"] = [bundles.reruns.get(m, "") for m in rows["method"]]
    rows = rows.sort_values(["gap_closed", "mean_rank"], ascending=[False, True], na_position="last", kind="stable")
    rows.insert(0, "place", np.arange(1, len(rows) + 1))
    rows["of"] = len(rows)
    base_rank = ranks.set_index("method").loc[baseline]
    seeds = int(np.isfinite(data.values[b][usable]).sum(axis=-1).min()) if usable else 0
    erm = {
        "method": baseline,
        "note": "the baseline: 0 by definition",
        "kind": "study",
        "rerun": "",
        "n_cells": len(usable),
        "seeds": str(seeds),
        "gap_closed": 0.0,
        "mean_rank": base_rank["mean_rank"],
        "rank_low": base_rank["rank_low"],
        "rank_high": base_rank["rank_high"],
        "marker": "",
    }
    rows = pd.concat([rows, pd.DataFrame([erm])], ignore_index=True)
    rows[["place", "of"]] = rows[["place", "of"]].astype("Int64")  # the baseline has no place
    apart = pd.DataFrame(
        [
            {
                "method": label,
                "kind": KIND if label in bundles.reruns else "study",
                "cells": ", ".join(data.present[label]),
                "reason": reason,
            }
            for label, reason in reasons.items()
            if reason
        ]
        + [{"method": m, "kind": KIND, "cells": "", "reason": why} for m, why in sorted(bundles.apart.items())],
        columns=APART_COLUMNS,
    )
    pairwise = across.pairwise_wilcoxon(out.matrix, "higher", alpha=alpha)
    return BoardTables(
        baseline=baseline,
        alpha=alpha,
        reps=reps,
        seed=seed,
        cells=cell_table,
        rows=rows,
        raw=_raw(cells, data, [*ranked, *(m for m in apart["method"] if m in data.labels)], out.matrix),
        apart=apart,
        friedman=across.friedman(out.matrix, alpha),
        pairwise=pairwise,
        not_done=list(not_done),
        tests=out.tests,
        gates={
            "cd_diagram": across.cd_gate(out.matrix),
            "mean_rank": ranks["rank_ci_na"].iloc[0] if len(ranks) else "",
        },
    )

"""A submission's numbers on the across-cell board (issue 27 item 4: one meaning per number).

``submit`` ranks its method with ``cli.board_cmd.board_tables``, the function ``python -m benchmark board`` runs,
on the same cells and beside the same rows (the studies' methods and the current bundles at the profile), and
claims the method's row of that board as ``claim.json``'s ``board``: its gap closed with its simultaneous interval,
its mean rank with its interval and its place of N. The summary prints that entry and the page shows that row, so
the three give one number for each. ``beside`` names the submissions ranked with it: ``--verify`` re-derives the
entry beside those same bundles (a later submission moves the page's place, never the claim's meaning).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..reports.board.markdown import rank_text
from ..reports.board.tables_file import BoardTables
from ..reports.formatting import interval, json_number

# the row's columns the claim keeps, as the board writes them
COLUMNS = (
    "place",
    "of",
    "gap_closed",
    "gap_closed_low",
    "gap_closed_high",
    "confidence",
    "marker",
    "mean_rank",
    "rank_low",
    "rank_high",
    "n_cells",
    "seeds",
)


def _value(x: Any) -> Any:
    if isinstance(x, str):
        return x
    value = json_number(x, digits=10)
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


def board_entry(tables: BoardTables, method: str) -> dict[str, Any]:
    """The claim's ``board``: the method's row of ``tables`` (``reason`` instead when it is not ranked) with the
    usable cells, the other submissions ranked and the bootstrap's settings."""
    rows = tables.rows
    beside = sorted(str(m) for m, k in zip(rows["method"], rows["kind"]) if k == "submission" and m != method)
    entry: dict[str, Any] = {
        "cells": [str(c) for c, u in zip(tables.cells["cell"], tables.cells["usable"]) if bool(u)],
        "beside": beside,
        "alpha": tables.alpha,
        "bootstrap_reps": tables.reps,
        "seed": tables.seed,
        "runs_not_done": len(tables.not_done),
        "rank_gate": tables.gates.get("mean_rank", ""),
    }
    row = rows[rows["method"] == method]
    if row.empty:
        apart = tables.apart[tables.apart["method"] == method]["reason"]
        entry["reason"] = str(apart.iloc[0]) if len(apart) else f"{method} has no run in the board's cells"
        return entry
    first = row.iloc[0]
    entry.update({key: _value(first.get(key)) for key in COLUMNS})
    return entry


def gap_text(entry: Mapping[str, Any]) -> str:
    """The gap closed as the page prints it: ``IQM [low, high]`` and the marker."""
    text = interval(entry.get("gap_closed"), entry.get("gap_closed_low"), entry.get("gap_closed_high"))
    return f"{text} {entry.get('marker') or ''}".rstrip()


def place_text(entry: Mapping[str, Any]) -> str:
    return f"{entry['place']} of {entry['of']}" if entry.get("place") is not None else "not ranked"


def summary_lines(entry: Mapping[str, Any] | None, method: str) -> list[str]:
    """The summary's "On the board" section: the claim's ``board`` entry, printed as the page prints its row."""
    if not entry:
        return ["Not computed: params.yaml has no leaderboard_grid."]
    cells = entry.get("cells") or []
    beside = ", ".join(f"`{m}`" for m in entry.get("beside") or []) or "no other submission"
    head = (
        f"The across-cell board (`python -m benchmark board`, the leaderboard page's overall table): the same "
        f"function, the same {len(cells)} usable cells ({', '.join(cells) or 'none'}) and the same rows (the "
        f"studies' methods, {beside}). Gap closed: the IQM of (method − ERM) / (reference − ERM) over the cells' "
        "seeds, 0 = ERM, 1 = ERM without the shortcut."
    )
    if "cells" not in entry:
        return [f"`{method}` is not ranked on the board: {entry['reason']}."]
    if "reason" in entry:
        return [head, "", f"`{method}` is not ranked on the board: {entry['reason']}."]
    confidence = 100 * float(entry["confidence"])
    return [
        head,
        "",
        f"- gap closed [{confidence:.2f}% simultaneous CI]: {gap_text(entry)}",
        f"- mean rank [CI] over the cells: {rank_text(entry, str(entry.get('rank_gate') or ''))}",
        f"- place: {place_text(entry)}",
        f"- cells x seeds per cell: {entry['n_cells']} x {entry['seeds']}",
    ]

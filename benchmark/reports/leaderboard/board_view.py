"""The across-cell board on the index page (issue 24 item 4): its ranked rows with the studies' step-time overhead,
the raw per-cell table, its figures and its tests, read from ``results/leaderboards/board.tables.json``
(``python -m benchmark board``) through ``reports.board.tables_file.BoardTables``. Every column of a row is over the
same cells and seeds. A current submission is ranked there as a row of its own kind (marked, linked to its paper as
its claim gives it, with its re-run mark); the stale and other-profile ones keep a table of their own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ...contracts import ContractError
from ..board.markdown import cells_display, friedman_text, marker_title, rank_text, raw_display
from ..board.tables_file import BoardTables
from ..formatting import DASH, interval
from .page import registry_link
from .rows import Link, Marker, OverheadCell, Page

NAME = "board"


def load_board(folder: Path, shown: str | None = None) -> BoardTables:
    """``FOLDER/board.tables.json``; a ContractError saying how to make it when absent, unreadable or malformed."""
    path = Path(folder) / f"{NAME}.tables.json"
    where = shown or str(path)
    if not path.is_file():
        raise ContractError(f"leaderboard: no across-cell board ({where}); run python -m benchmark board")
    try:
        return BoardTables.read(path, where)
    except ContractError as exc:
        raise ContractError(f"leaderboard: {exc}; run python -m benchmark board") from exc


@dataclass(frozen=True)
class BoardRow:
    """One row of the index's overall table: a distinct set of runs ranked over the board's cells."""

    label: str
    link: str | None
    note: str
    cells: int
    seeds: str
    score: str  # IQM [simultaneous CI]
    score_value: float | None
    marker: Marker
    rank: str  # mean rank [CI] (place/of)
    rank_value: float | None
    overhead: dict[str, OverheadCell]
    baseline: bool = False
    kind: str = "study"
    rerun: str = ""  # a submission's "re-run: K/K identical" (its verification.json)
    profile: str = ""


def _number(x: object) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if pd.notna(value) else None


def board_rows(board: BoardTables, page: Page, link: Link = registry_link) -> list[BoardRow]:
    """The board's rows, best first and the baseline last, with each label's link and overhead from the page's
    rows of the same kind (a submission's from its claim)."""
    known_rows = {(r.kind, r.label): r for r in page.rows}
    gate = board.gates.get("mean_rank", "")
    out = []
    for row in board.rows.to_dict("records"):
        label, place = str(row["method"]), row.get("place")
        base = label == board.baseline
        where = "" if base or place is None or pd.isna(place) else f" ({int(place)}/{int(row['of'])})"
        symbol = str(row.get("marker") or "")
        kind = str(row.get("kind") or "study")
        known = known_rows.get((kind, label))
        out.append(
            BoardRow(
                label,
                known.link if known else link(label),
                str(row.get("note") or ""),
                int(row["n_cells"]),
                str(row["seeds"]),
                "0 (by definition)"
                if base
                else interval(row["gap_closed"], row.get("gap_closed_low"), row.get("gap_closed_high")),
                _number(row["gap_closed"]),
                Marker(symbol, "" if base else marker_title(row)),
                rank_text(row, gate) + where,
                _number(row.get("mean_rank")),
                dict(known.overhead) if known else {},
                base,
                kind,
                str(row.get("rerun") or ""),
                known.profile if known else "",
            )
        )
    return out


def board_columns(board: BoardTables, archs: list[str]) -> list[tuple[str, str]]:
    """(header, tooltip) of the overall table."""
    cells = "; ".join(board.cells.loc[board.cells["usable"].astype(bool), "cell"]) or "none"
    k = max(len(board.rows) - 1, 0)
    return [
        ("method", "the method, linked to its paper; one row per distinct set of runs"),
        ("cells", f"usable cells the row is scored over ({cells})"),
        ("seeds per cell", "the seeds the row shares with the baseline in each cell"),
        (
            "gap closed [simultaneous CI] ↑",
            f"IQM over the usable cells' seeds of (method − {board.baseline}) / (reference − {board.baseline}); "
            f"t × stratified-bootstrap SE interval at 1 − {board.alpha:g}/{k} (Bonferroni over the {k} rows); "
            "marker: the row's own interval above (▲) or below (▼) 0",
        ),
        ("mean rank [CI] (place) ↓", "mean rank of the per-cell gap closed over the usable cells, 1 = best"),
        *((f"step time ÷ ERM, {a}", f"measured training-step time over ERM's on {a}") for a in archs),
    ]


def board_legend(board: BoardTables) -> list[str]:
    """The legend of the board (Markdown inline syntax), printed from its tests' descriptions."""
    t = board.tests
    return [
        f"**Gap closed**: {t['gap_closed'].text()}. 0 is `{board.baseline}` with the shortcut, 1 is "
        f"`{board.baseline}` trained without it (the cell's reference). **▲ / ▼**: the row's own simultaneous "
        "interval is above / below 0, so a marker never contradicts its number.",
        f"**Usable cells**: {t['reference_gap'].text()}; a cell failing it stays in the raw table with its reason.",
        f"**Mean rank**: {t['mean_rank'].text()}. **Friedman**: {t['friedman'].text()}. **CD diagram**: "
        f"{t['pairwise'].text()}.",
        "**Rows**: one per distinct set of runs (a tuned label whose selection equals the defaults is shown once, "
        "“tuned = defaults”); labels not trained in every usable cell are listed apart on the board "
        "(`results/leaderboards/board.md`), not ranked. A current submission is a row like any method, marked "
        "*submission* with its re-run mark: its bundle's runs in the same cells, paired by seed with ERM; its "
        "claim states the same numbers (`claim.json`'s `board`).",
    ]


def raw_tables(board: BoardTables) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The cells table, the raw per-cell means and the Friedman line, as the board prints them."""
    return cells_display(board), raw_display(board), friedman_text(board)


def board_texts(row: BoardRow, archs: list[str]) -> list[str]:
    """A row's cells as text (the Markdown twin)."""
    name = f"[`{row.label}`]({row.link})" if row.link else f"`{row.label}`"
    if row.kind == "submission":
        name += (
            f" *(submission{f', profile {row.profile}' if row.profile else ''}{f'; {row.rerun}' if row.rerun else ''})*"
        )
    name += f" ({row.note})" if row.note else ""
    score = f"{row.score} {row.marker.symbol}".rstrip()
    costs = [row.overhead[a].text if a in row.overhead else DASH for a in archs]
    return [name, str(row.cells), row.seeds, score, row.rank, *costs]

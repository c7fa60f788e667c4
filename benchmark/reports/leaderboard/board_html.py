"""The across-cell board on the index page as HTML context (``html.index_context``): its sortable table, the
raw per-cell tables, Friedman, the figures and the legend (``board_view`` gives the rows and texts)."""

from __future__ import annotations

from typing import Any

from ..board.tables_file import BoardTables
from .board_view import board_columns, board_legend, board_rows, raw_tables
from .html_parts import Badge, Cell, Head, Table, frame_table, markdown_blocks, overhead_cells, side_by_side, sig, table
from .rows import Page
from .study_page import Figure


def board_table(page_: Page, board: BoardTables) -> Table:
    """The index's overall table: the board's rows over the same cells and seeds, with the studies' overhead."""
    heads = [Head(h, t, "descending" if "↑" in h else "ascending") for h, t in board_columns(board, page_.archs)]
    body = []
    for r in board_rows(board, page_):
        cells = [
            Cell(
                r.label,
                r.label,
                link=r.link or None,
                note=r.note,
                badge=Badge(r.profile, False, r.rerun) if r.kind == "submission" else None,
            ),
            Cell(str(r.cells), r.cells, cls="num"),
            Cell(r.seeds, r.seeds, cls="num"),
            Cell(
                r.score, r.score_value if r.score_value is not None else "", r.marker.title, "num", marker=sig(r.marker)
            ),
            Cell(r.rank, r.rank_value if r.rank_value is not None else "", cls="num"),
        ]
        cells += overhead_cells(r.overhead, page_.archs)
        body.append(("baseline" if r.baseline else "", cells))
    return table(heads, [("ranked", body)], sorted_by=None, ident="overall")


def board_context(page_: Page, board: BoardTables, figs: list[Figure]) -> dict[str, Any]:
    """The board on the index: its table, the raw per-cell tables, Friedman, the figures and the legend."""
    cells, raw, friedman = raw_tables(board)
    usable = int(board.cells["usable"].astype(bool).sum())
    return {
        "overall": board_table(page_, board),
        "usable": usable,
        "cells_total": len(board.cells),
        "baseline": board.baseline,
        "cells": frame_table(cells),
        "raw": frame_table(raw),
        "friedman": friedman,
        "figures": side_by_side(figs),
        "legend": markdown_blocks(f"- {line}" for line in board_legend(board)),
    }

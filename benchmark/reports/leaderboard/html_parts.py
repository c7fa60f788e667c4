"""The pieces of the leaderboard's HTML context (``html``): sortable tables and their cells, Markdown blocks, the
embedded figures. Plain data the templates print."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..formatting import DASH
from ..png import palette_png
from .rows import DOWN, MIXED, SAME, UP, Marker, OverheadCell
from .study_page import Figure

SIG_CLASS = {UP: "up", DOWN: "down", MIXED: "mixed", SAME: "same"}


@dataclass(frozen=True)
class Sig:
    """A significance marker in a cell: its symbol, class (colour) and tooltip."""

    symbol: str
    cls: str
    title: str


@dataclass(frozen=True)
class Badge:
    """A submission's badge on its method cell."""

    profile: str
    stale: bool = False
    rerun: str = ""  # "re-run: K/K identical" (``Row.rerun``)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the key it sorts by (None: the page parses the text), a tooltip, a class;
    a method cell may link its text, a Δ cell may carry a marker, a submission a badge and a note."""

    text: str
    sort: float | str | None = None
    title: str = ""
    cls: str = ""
    link: str | None = None
    marker: Sig | None = None
    badge: Badge | None = None
    note: str = ""


@dataclass(frozen=True)
class Head:
    text: str
    title: str = ""
    first: str = "ascending"  # the direction of the first click
    sorted: bool = False  # the table's initial order


@dataclass(frozen=True)
class TableRow:
    index: int  # the default order (the page's sort breaks ties by it)
    cells: list[Cell]
    cls: str = ""


@dataclass(frozen=True)
class Body:
    rows: list[TableRow]
    cls: str = ""


@dataclass(frozen=True)
class Table:
    heads: list[Head]
    bodies: list[Body]
    ident: str = ""


def table(
    heads: list[Head],
    bodies: list[tuple[str, list[tuple[str, list[Cell]]]]],
    sorted_by: int | None = None,
    ident: str = "",
) -> Table:
    """A sortable table; ``bodies``: (tbody class, [(tr class, cells)]); rows numbered across the bodies."""
    heads = [Head(h.text, h.title, h.first, i == sorted_by) for i, h in enumerate(heads)]
    out, index = [], 0
    for cls, body in bodies:
        rows = []
        for tr_cls, cells in body:
            rows.append(TableRow(index, cells, tr_cls))
            index += 1
        out.append(Body(rows, cls))
    return Table(heads, out, ident)


def frame_table(frame: pd.DataFrame) -> Table:
    """A frame of strings (the stats' renderers) as a sortable table; "↑" columns sort high first."""
    heads = [Head(str(c), first="descending" if "↑" in str(c) else "ascending") for c in frame.columns]
    wrap = [str(c) == "flags" for c in frame.columns]
    body = [
        ("", [Cell(str(v), cls="" if w else "nw") for v, w in zip(row, wrap)]) for row in frame.itertuples(index=False)
    ]
    return table(heads, [("", body)])


@dataclass(frozen=True)
class Block:
    """A Markdown block: ``list`` (items), ``table`` (head, rows), ``heading`` (level, text), ``paragraph``."""

    kind: str
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def markdown_blocks(lines: Iterable[str]) -> list[Block]:
    """Markdown blocks (``## heading``, ``- bullet``, a pipe table, paragraphs): the stats' notes and footer."""
    out: list[Block] = []
    items: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if items:
            out.append(Block("list", items=list(items)))
            items.clear()
        if rows:
            head, *body = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            out.append(Block("table", head=head, rows=body))
            rows.clear()

    for line in "\n".join(lines).splitlines():
        text = line.strip()
        if text.startswith("|"):
            if items:
                flush()
            rows.append([c.strip() for c in text.strip("|").split("|")])
            continue
        if rows:
            flush()
        if text.startswith("- "):
            items.append(text[2:])
        elif text.startswith("#"):
            flush()
            level = min(len(text) - len(text.lstrip("#")), 4)
            out.append(Block("heading", text.lstrip("#").strip(), level))
        elif text:
            flush()
            out.append(Block("paragraph", text))
    flush()
    return out


def embedded_png(path: Path) -> bytes:
    """The figure as a 256-colour palette PNG (``reports.png.palette_png``), so every page stays a few MB at most.
    The PNG files themselves are untouched."""
    return palette_png(Path(path))


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(embedded_png(Path(path))).decode("ascii")


@dataclass(frozen=True)
class FigureView:
    caption: str
    src: str  # a data: URI


@dataclass(frozen=True)
class Figures:
    """A page's figures: the (tall) CD diagram beside a gallery of the rest, or (``tall`` None) one gallery."""

    tall: FigureView | None
    rest: list[FigureView]


EMBED_LIMIT = 256 * 1024  # bytes of an embedded figure above which a page links the PNG file instead


def side_by_side(figs: list[Figure], page_folder: Path | None = None) -> Figures:
    """The figures of a page, embedded; with ``page_folder`` (where the page is written) a figure whose embedded
    PNG would exceed ``EMBED_LIMIT`` (a forest plot of every cell x method) is shown from its file by a relative
    path instead, so a study page stays small and the figure keeps its full resolution."""

    def view(fig: Figure) -> FigureView:
        if page_folder is not None and len(embedded_png(fig.path)) > EMBED_LIMIT:
            return FigureView(fig.caption, Path(os.path.relpath(fig.path, page_folder)).as_posix())
        return FigureView(fig.caption, data_uri(fig.path))

    tall = [f for f in figs if f.path.stem == "cd_diagram"]
    rest = [f for f in figs if f not in tall]
    if not tall or not rest:
        return Figures(None, [view(f) for f in figs])
    return Figures(view(tall[0]), [view(f) for f in rest])


def sig(marker: Marker) -> Sig | None:
    return Sig(marker.symbol, SIG_CLASS[marker.symbol], marker.title) if marker.symbol else None


def overhead_cells(overhead: Mapping[str, OverheadCell], archs: list[str]) -> list[Cell]:
    """The overhead cells of a row, one per architecture ("–" where not measured)."""
    cells = []
    for arch in archs:
        cost = overhead.get(arch)
        cells.append(
            Cell(cost.text, cost.value if cost.value is not None else "", cost.title, "num")
            if cost
            else Cell(DASH, "", cls="num")
        )
    return cells

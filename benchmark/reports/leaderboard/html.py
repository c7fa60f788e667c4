"""The leaderboard as self-contained HTML: ``results/leaderboard.html`` and one page per study.

Every page is one file: inline CSS and JavaScript, the figures embedded as base64 ``data:`` URIs, no
network at view time. Tables sort by a click (or Enter) on a column header: numbers numerically,
missing values last, a visible indicator on the sorted column; each ``<tbody>`` sorts on its own,
so stale submissions stay below the ranked rows. Nothing time-dependent is written: a rerun gives
the same bytes.

The pages are Jinja2 templates (``templates/``: ``base.html.j2`` with ``leaderboard.css`` and
``leaderboard.js``, ``index.html.j2``, ``study.html.j2``, the shared ``macros.html.j2``); this module
builds their context, plain data (strings, numbers and the dataclasses of ``html_parts``; the board's in
``board_html``), and renders it. The
numbers come from ``page`` (and, on a study's page, from the stats' own renderers). Every value a
template prints is escaped as ``html.escape`` escapes it (``finalize``); the only markup that is not
the templates' own comes from the ``inline`` filter, which escapes first.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..board.tables_file import BoardTables
from ..formatting import DASH, num
from ..study.board import footer
from ..study.tables_file import StudyTables
from .board_html import board_context
from .html_parts import (  # noqa: F401 - the page's pieces, imported from here as before
    Badge,
    Block,
    Body,
    Cell,
    Figures,
    FigureView,
    Head,
    Sig,
    Table,
    TableRow,
    data_uri,
    embedded_png,
    frame_table,
    markdown_blocks,
    overhead_cells,
    side_by_side,
    sig,
    table,
)
from .page import columns, legend
from .rows import DOWN, MIXED, SAME, UP, Page, Row
from .study_page import Figure, consistency_frame, family_sections, study_report

# --- rendering --------------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def finalize(value: Any) -> Any:
    """Every value a template prints, escaped by ``html.escape`` (quotes as ``&quot;`` and ``&#x27;``, where
    Jinja2's own escaping writes ``&#34;`` and ``&#39;``); markup (a macro's output, ``inline``) passes. A
    constant expression (``{{ "it's" }}``) is escaped by Jinja2 itself when compiled: templates write such
    text literally."""
    if hasattr(value, "__html__"):
        return value
    return Markup(esc(value))


def inline(text: str) -> Markup:
    """Escaped text with the Markdown inline marks the stats' notes use: ``**bold**`` and ```code```."""
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", out))


@cache
def environment() -> Environment:
    """The templates of this package: autoescaped, strict about undefined names, the exact newlines."""
    env = Environment(
        loader=PackageLoader(__package__ or "benchmark.reports.leaderboard", "templates"),
        autoescape=True,
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = inline
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)


# --- the index page ---------------------------------------------------------------------------------------


def method_cell(row: Row, stale: bool) -> Cell:
    badge = Badge(row.profile, stale, row.rerun) if row.kind == "submission" else None
    return Cell(row.label, row.label, link=row.link or None, badge=badge, note=row.note)


def row_cells(row: Row, page_: Page, stale: bool = False) -> list[Cell]:
    cells = [method_cell(row, stale)]
    for s in page_.studies:
        sc = row.scores.get(s.name)
        if sc is None:
            cells += [Cell(DASH, "", cls="num")] * 3
            continue
        cells += [
            Cell(num(sc.mean), sc.mean if sc.mean is not None else "", cls="num"),
            Cell(
                sc.rank_text() if not stale else num(sc.mean_rank, 2) + " (not ranked)",
                sc.mean_rank if sc.mean_rank is not None else "",
                cls="num",
            ),
            Cell(
                sc.delta_text(),
                sc.delta if sc.delta is not None else "",
                sc.marker.title,
                "num",
                marker=sig(sc.marker),
            ),
        ]
    return cells + overhead_cells(row.overhead, page_.archs)


def overall_table(page_: Page, rows: list[Row], stale: list[Row], ident: str, ranked: bool = True) -> Table:
    heads = [Head(h, t, "descending" if "↑" in h else "ascending") for _, h, t in columns(page_)]
    bodies = [("ranked", [("", row_cells(r, page_)) for r in rows])]
    if stale:
        bodies.append(("unranked", [("stale", row_cells(r, page_, stale=True)) for r in stale]))
    return table(heads, bodies, sorted_by=2 if page_.studies and ranked else None, ident=ident)


def boards(page_: Page, ident: str = "overall") -> dict[str, Any]:
    """The overall table (ranked rows, stale submissions greyed below; ``ident`` its id), the claims at another
    profile apart and the legend: the index's, and a study page's submissions (``page.study_gather``)."""
    return {
        "overall": overall_table(page_, page_.rows, page_.stale, ident),
        "apart": overall_table(page_, page_.apart, [], "apart", ranked=False) if page_.apart else None,
        "legend": markdown_blocks(f"- {line}" for line in legend(page_)),
    }


def submissions_only(page_: Page) -> Page:
    """The submissions the board does not rank (stale, another profile): on the index with a board, the studies'
    methods and the current submissions are the board's rows."""
    return replace(page_, rows=[])


def index_context(
    page_: Page,
    figs: dict[str, list[Figure]],
    board: BoardTables | None = None,
    board_figs: list[Figure] | None = None,
) -> dict[str, Any]:
    """What ``index.html.j2`` shows; ``figs``: study -> the figures shown (CD diagram, consistency); ``board``: the
    across-cell board (its rows are the overall table; the submissions then have a table of their own)."""
    subs = submissions_only(page_) if board is not None else page_
    return {
        "title": "Saliency-guided training leaderboard",
        "markers": {"up": UP, "down": DOWN, "mixed": MIXED, "same": SAME},
        "studies": [
            {
                "name": s.name,
                "profile": s.profile,
                "baseline": s.baseline,
                "alpha": f"{s.alpha:g}",
                "family": s.family,
                "description": s.description,
                "figures": side_by_side(figs.get(s.name, [])),
            }
            for s in page_.studies
        ],
        "archs": list(page_.archs),
        "problems": list(page_.problems),
        "boards": boards(subs, "submissions" if board is not None else "overall"),
        "board": board_context(page_, board, board_figs or []) if board is not None else None,
        "submissions": len(subs.rows) + len(subs.stale) + len(subs.apart),
    }


def index_html(
    page_: Page,
    figs: dict[str, list[Figure]],
    board: BoardTables | None = None,
    board_figs: list[Figure] | None = None,
) -> str:
    """The overall leaderboard page; ``figs``: study -> the figures shown (CD diagram, consistency); ``board``: the
    across-cell board and ``board_figs`` its figures."""
    return render("index.html.j2", index_context(page_, figs, board, board_figs))


# --- a study's page ---------------------------------------------------------------------------------------


CONSISTENCY_NOTE = (
    "Per image, the mean over seed pairs of the similarity of two runs' maps (a pair with a constant map scores 0; "
    "the constant (run, image) maps are counted), averaged over the probe images. Intervals: "
)


def anchor(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")


def submissions_context(page_: Page | None) -> dict[str, Any] | None:
    """A study page's submissions (``page.study_gather``; None: not shown): how many, the headline family and
    the index's tables and legend for that study."""
    if page_ is None:
        return None
    shown = sum(r.kind == "submission" for r in [*page_.rows, *page_.stale, *page_.apart])
    return {"count": shown, "family": page_.studies[0].family, "boards": boards(page_)}


def study_context(
    tables: StudyTables, figs: list[Figure], subs: Page | None = None, page_folder: Path | None = None
) -> dict[str, Any]:
    """What ``study.html.j2`` shows: every family's board, notes and per-cell detail, the submissions with a
    claim for the study (``subs``, from ``page.study_gather``), consistency, figures (a large one linked from
    ``page_folder``, ``html_parts.side_by_side``), the stats' Methods footer."""
    rep = study_report(tables)
    counts = rep.completeness.counts()
    consistency = consistency_frame(tables)
    return {
        "title": f"Leaderboard: {rep.study}",
        "study": rep.study,
        "description": rep.description,
        "profile": rep.profile,
        "baseline": rep.baseline,
        "alpha": f"{rep.alpha:g}",
        "done": counts["done"],
        "expected": counts["expected"],
        "incomplete": [(counts[k], k) for k in ("failed", "stale", "missing", "corrupt") if counts[k]],
        "run_lines": rep.completeness.lines(),
        "sections": [
            {
                "key": s.key,
                "anchor": anchor(s.key),
                "title": s.title,
                "board": frame_table(s.board),
                "notes": markdown_blocks(f"- {n}" for n in s.notes),
                "detail": frame_table(s.detail),
            }
            for s in family_sections(tables)
        ],
        "submissions": submissions_context(subs),
        "consistency": None if consistency.empty else frame_table(consistency),
        "consistency_note": markdown_blocks([CONSISTENCY_NOTE + tables.consistency.tests["interval"].text() + "."]),
        "figures": side_by_side(figs, page_folder),
        "methods": markdown_blocks(footer(rep)),
    }


def study_html(
    tables: StudyTables, figs: list[Figure], subs: Page | None = None, page_folder: Path | None = None
) -> str:
    """One study's page: every family's board, notes and per-cell detail, the submissions (``subs``), consistency,
    figures (those above ``html_parts.EMBED_LIMIT`` linked from ``page_folder`` when given), Methods."""
    return render("study.html.j2", study_context(tables, figs, subs, page_folder))

"""``leaderboard``: the leaderboard page, from the statistics files only (nothing trained or tested).

Reads the across-cell board ``--leaderboards/board.tables.json`` and its figures in ``--leaderboards/board/``
(what ``python -m benchmark board`` wrote: the overall table ranks its rows), and, for each study of
``leaderboard:`` in params.yaml, ``--leaderboards/STUDY.tables.json`` and the
figures in ``--leaderboards/STUDY/`` (what ``python -m benchmark stats STUDY`` wrote), and the accepted
submissions' ``--submissions/METHOD/claim.json``; writes into ``--dest`` (default ``results/``):

- ``leaderboard.html``: one self-contained page (inline CSS/JS, embedded figures): the overall
  table ranks the board's rows (gap closed with its simultaneous interval and marker, mean rank, cells and
  seeds, paper links and the measured overhead, sortable), the raw per-cell tables and the board's figures,
  the submissions in a table of their own (their claim's per-study numbers), the studies' CD diagrams and
  consistency figures, a legend naming every test;
- ``leaderboard/STUDY.html``: one self-contained page per study: every family's board, the submissions
  with a claim for the study (as the overall table shows them), the figures, the statistics' Methods section;
- ``leaderboard.md``: the Markdown twin for GitHub.

A missing board, or a study without its tables file, stops the command with one line saying how to make it, before
anything is written. Files are written atomically and byte-identically on rerun.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def shown(path: Path, root: Path) -> str:
    """``path`` relative to the project when inside it."""
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def run(args: argparse.Namespace) -> int:
    from ..atomic import atomic_folder, atomic_write_text
    from ..config import load_params
    from ..params_schema import leaderboard_studies
    from ..paths import project_root
    from ..reports.leaderboard.board_view import NAME, load_board
    from ..reports.leaderboard.html import index_html, study_html
    from ..reports.leaderboard.markdown import markdown_page
    from ..reports.leaderboard.page import gather, load_tables, study_gather, tables_path
    from ..reports.leaderboard.study_page import figures

    root = project_root()
    dest = Path(args.dest) if args.dest else root / "results"
    boards = Path(args.leaderboards) if args.leaderboards else root / "results" / "leaderboards"
    claims = Path(args.submissions) if args.submissions else root / "results" / "submissions"
    studies = leaderboard_studies(load_params())
    board = load_board(boards, shown(boards / f"{NAME}.tables.json", root))
    tables = {s: load_tables(boards, s, shown(tables_path(boards, s), root)) for s in studies}
    page = gather(tables, claims, root)
    shown_figs = {s: figures(boards / s, ("cd_diagram", "consistency")) for s in studies}
    board_figs = figures(boards / NAME)
    written = {
        dest / "leaderboard.html": index_html(page, shown_figs, board, board_figs),
        dest / "leaderboard.md": markdown_page(page, shown_figs, dest, boards, board, board_figs),
    }
    pages = {
        f"{s}.html": study_html(
            tables[s], figures(boards / s), study_gather(tables[s], claims, root), dest / "leaderboard"
        )
        for s in studies
    }
    with atomic_folder(dest / "leaderboard") as folder:
        for name, text in pages.items():
            atomic_write_text(folder / name, text)
    for path, text in written.items():
        atomic_write_text(path, text)
    subs = sum(r.kind == "submission" for r in page.rows)
    print(
        f"leaderboard: {len(board.rows) - 1} rows ranked across {int(board.cells['usable'].astype(bool).sum())} "
        f"cells; {subs} submissions shown apart ({len(page.stale)} stale, {len(page.apart)} at another profile)"
    )
    print(
        f"wrote {shown(dest / 'leaderboard.html', root)}, {shown(dest / 'leaderboard.md', root)} and "
        f"{len(pages)} study pages in {shown(dest / 'leaderboard', root)}/"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "leaderboard", help="the leaderboard page (HTML, one page per study, Markdown twin) from the statistics files"
    )
    p.add_argument("--dest", help="output folder (default: results/)")
    p.add_argument("--leaderboards", help="the statistics folder of `stats` (default: results/leaderboards)")
    p.add_argument("--submissions", help="accepted submissions, METHOD/claim.json (default: results/submissions)")
    p.set_defaults(func=run)

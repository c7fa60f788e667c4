"""The board's files, written atomically and byte-identical on rerun into ``dest`` (``results/leaderboards``):
``board.md``, ``board.csv``, ``board.json`` (DVC metrics), ``board.tables.json`` and the folder ``board/`` with
``cd_diagram.png`` and ``gap_closed.png``."""

from __future__ import annotations

from pathlib import Path

from ...atomic import atomic_folder, atomic_write_text
from . import markdown as md
from .plots import figures
from .tables_file import BoardTables

NAME = "board"


def write_board(t: BoardTables, dest: Path) -> list[Path]:
    """Every file of the board; the figures' folder first, replaced whole."""
    dest = Path(dest)
    with atomic_folder(dest / NAME) as folder:
        figures(t, folder)
    written = {
        dest / f"{NAME}.md": md.markdown(t),
        dest / f"{NAME}.csv": md.csv(t),
        dest / f"{NAME}.json": md.metrics(t),
        dest / f"{NAME}.tables.json": t.to_text(),
    }
    for path, text in written.items():
        atomic_write_text(path, text)
    return [*written, dest / NAME]

"""``board.tables.json``, typed: every table of the across-cell leaderboard, written by ``board.writer`` and read by
the leaderboard pages only through ``BoardTables`` (``to_text`` / ``read``). Floats to 6 significant digits
(``formatting.clean``), so a rerun is byte-identical; reading names the file and the field that is malformed
(``ContractError``), so a malformed file is never rendered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ...contracts import ContractError
from ...statistics.descriptions import TestDescription
from ..formatting import read_json, rows_json_text
from ..study.tables_file import frame

# the columns each table must have (more are kept)
CELL_COLUMNS = ("cell", "study", "metric", "shortcut", "reference", "gap", "usable", "reason")
ROW_COLUMNS = ("method", "note", "n_cells", "seeds", "gap_closed", "gap_closed_low", "gap_closed_high", "marker")
RAW_COLUMNS = ("cell", "method", "mean", "n", "gap_closed")
APART_COLUMNS = ["method", "kind", "cells", "reason"]


@dataclass(frozen=True)
class BoardTables:
    """The across-cell leaderboard: ``cells`` (one per grid cell, usable or not, with why), ``rows`` (the ranked
    rows, best first, and the baseline last), ``raw`` (every label's mean per cell), ``apart`` (labels not in every
    usable cell: listed, not ranked), the across-cell tests over the usable cells, the runs not done, the tests'
    descriptions and the gates ("n.a. (N cells < K)" or "")."""

    baseline: str
    alpha: float
    reps: int
    seed: int
    cells: pd.DataFrame
    rows: pd.DataFrame
    raw: pd.DataFrame
    apart: pd.DataFrame
    friedman: dict[str, Any]
    pairwise: pd.DataFrame
    not_done: list[str] = field(default_factory=list)
    tests: dict[str, TestDescription] = field(default_factory=dict)
    gates: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "alpha": self.alpha,
            "bootstrap_reps": self.reps,
            "seed": self.seed,
            "cells": self.cells,
            "rows": self.rows,
            "raw": self.raw,
            "apart": self.apart,
            "friedman": self.friedman,
            "pairwise_holm": self.pairwise,
            "not_done": self.not_done,
            "tests": {k: t.to_json() for k, t in self.tests.items()},
            "gates": self.gates,
        }

    def to_text(self) -> str:
        """The file's text: JSON, floats to 6 significant digits, no NaN, one trailing newline."""
        return rows_json_text(self.to_json())

    @classmethod
    def from_json(cls, data: Any, where: str = "board.tables.json") -> BoardTables:
        """The typed tables of a parsed file; a ContractError naming ``where`` and the field when malformed."""
        if not isinstance(data, Mapping):
            raise ContractError(f"{where}: expected a JSON object, got {type(data).__name__}")
        name = "?"
        try:
            tables = {}
            for name, columns in (("cells", CELL_COLUMNS), ("rows", ROW_COLUMNS), ("raw", RAW_COLUMNS)):
                rows = data[name]
                if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
                    raise TypeError(f"expected a list of objects, got {rows!r:.60}")
                lacking = [c for r in rows for c in columns if c not in r]
                if lacking:
                    raise KeyError(f"a row lacks {lacking[0]!r}")
                tables[name] = frame(rows) if rows else pd.DataFrame(columns=list(columns))
            tables["rows"] = tables["rows"].astype({c: "Int64" for c in ("place", "of") if c in tables["rows"]})
            for name in ("baseline", "alpha", "friedman", "tests"):
                if name not in data:
                    raise KeyError(name)
            name = "alpha"
            alpha = float(data["alpha"])
            name = "tests"
            tests = {str(k): TestDescription.from_json(t) for k, t in data["tests"].items()}
            name = "friedman"
            friedman = dict(data["friedman"])
            name = "apart"
            apart = pd.DataFrame(list(data.get("apart") or []), columns=APART_COLUMNS).fillna({"kind": "study"})
            rows = tables["rows"]
            for column, default in (("kind", "study"), ("rerun", "")):
                rows[column] = rows[column].fillna(default) if column in rows else default
            return cls(
                str(data["baseline"]),
                alpha,
                int(data.get("bootstrap_reps", 0)),
                int(data.get("seed", 0)),
                tables["cells"],
                tables["rows"],
                tables["raw"],
                apart,
                friedman,
                pd.DataFrame(list(data.get("pairwise_holm") or [])),
                [str(x) for x in data.get("not_done") or []],
                tests,
                {str(k): str(v) for k, v in (data.get("gates") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ContractError(f"{where}: {name}: malformed ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def read(cls, path: Path, shown: str | None = None) -> BoardTables:
        """The tables file at ``path`` (``shown``: how messages name it)."""
        where = shown or str(path)
        return cls.from_json(read_json(path, where), where)

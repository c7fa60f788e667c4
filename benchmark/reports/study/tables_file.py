"""``STUDY.tables.json``, typed: every table of a study's statistics, written by ``study.writer`` and read by the
leaderboard pages, only through ``StudyTables`` (``to_text`` / ``read``).

A family's frames keep the columns their makers document (``study.tables.DETAIL_COLUMNS`` and
``board_rows`` for the detail and the board; ``benchmark.statistics`` for the rest). Floats are written to 6
significant digits (``formatting.json_number``), so a rerun is byte-identical. Reading checks the shape and
names the file and the field that is wrong (``ContractError``), so a malformed file is never rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ...contracts import ContractError
from ...statistics.descriptions import TestDescription, consistency_tests, family_tests
from ...statistics.family import FamilyResult
from ...statistics.orient import Family
from ..formatting import clean, read_json, rows_json_text
from .tables import family_flags

# integer columns: JSON nulls would make them float on reading, so they are read back as nullable integers
COUNTS = (
    "place",
    "wins",
    "ties",
    "losses",
    "untested",
    "n_cells",
    "n_pairs",
    "runs_done",
    "runs_expected",
    "underpowered_cells",
    "n",
    "n_undefined",
    "seeds_needed",
)


def frame(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of a tables file as a frame whose count columns stay integers (JSON nulls make them float)."""
    out = pd.DataFrame(rows)
    for col in COUNTS:
        if col in out and out[col].dropna().map(lambda v: float(v).is_integer()).all():
            out[col] = out[col].astype("Int64")
    return out


@dataclass(frozen=True)
class FamilyTables:
    """One family (``SPLIT/METRIC``): its orientation and ROPE, the board and per-cell detail, the across-cell tests."""

    family: Family
    baseline: str
    alpha: float
    leaderboard: pd.DataFrame  # study.tables.board_rows
    detail: pd.DataFrame  # study.tables.detail_rows
    friedman: dict[str, Any]  # statistics.across.friedman
    mean_ranks: pd.DataFrame  # statistics.across.mean_ranks
    pairwise: pd.DataFrame  # statistics.across.pairwise_wilcoxon, all pairs, Holm
    versus_baseline: pd.DataFrame  # the same, each method vs the baseline
    gains: pd.DataFrame  # statistics.aggregate.gains
    bayes: pd.DataFrame  # statistics.bayes.versus_baseline
    wtl: pd.DataFrame  # statistics.paired.win_tie_loss
    dropped_cells: tuple[tuple[str, str], ...] = ()
    # the board, the detail and the tests vs the baseline as the file holds them (JSON rows: None where missing)
    board_rows: list[dict[str, Any]] = field(default_factory=list)
    detail_rows: list[dict[str, Any]] = field(default_factory=list)
    versus_baseline_rows: list[dict[str, Any]] = field(default_factory=list)
    # flags that hold for every method (shown once above the board; files before these were written have none)
    flags: tuple[str, ...] = ()
    # the family's tests as every report states them (files before these were written: the current ones)
    tests: dict[str, TestDescription] = field(default_factory=dict)
    # family-wide figures with too few cells: name -> "n.a. (N cells < K)" or "" (statistics.family.gates;
    # files before these were written have none)
    gates: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.family.key

    @classmethod
    def from_result(cls, r: FamilyResult, board: pd.DataFrame, detail: pd.DataFrame) -> FamilyTables:
        return cls(
            r.family,
            r.baseline,
            r.alpha,
            board,
            detail,
            r.friedman,
            r.mean_ranks,
            r.pairwise,
            r.versus_baseline,
            r.gains,
            r.bayes,
            r.wtl,
            tuple(tuple(c) for c in r.dropped_cells),
            clean(board),
            clean(detail),
            clean(r.versus_baseline),
            tuple(family_flags(r)),
            dict(r.tests),
            dict(r.gates),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.family.direction,
            "rope": self.family.rope,
            "leaderboard": self.board_rows,
            "detail": self.detail_rows,
            "friedman": self.friedman,
            "mean_ranks": self.mean_ranks,
            "pairwise_holm": self.pairwise,
            "versus_baseline_holm": self.versus_baseline_rows,
            "gains": self.gains,
            "bayes_signed_rank": self.bayes,
            "win_tie_loss": self.wtl,
            "dropped_cells": [list(c) for c in self.dropped_cells],
            "family_flags": list(self.flags),
            "tests": {k: t.to_json() for k, t in self.tests.items()},
            **({"gates": dict(self.gates)} if self.gates else {}),
        }

    @classmethod
    def from_json(cls, key: str, data: Mapping[str, Any], baseline: str, alpha: float) -> FamilyTables:
        split, metric = key.split("/", 1)
        return cls(
            Family(split, metric, data["direction"], float(data["rope"])),
            baseline,
            alpha,
            frame(data["leaderboard"]),
            frame(data["detail"]),
            dict(data["friedman"]),
            pd.DataFrame(data.get("mean_ranks") or []),
            pd.DataFrame(data.get("pairwise_holm") or []),
            pd.DataFrame(data.get("versus_baseline_holm") or []),
            pd.DataFrame(data.get("gains") or []),
            pd.DataFrame(data.get("bayes_signed_rank") or []),
            pd.DataFrame(data.get("win_tie_loss") or []),
            tuple((str(c[0]), str(c[1])) for c in data.get("dropped_cells") or []),
            list(data["leaderboard"]),
            list(data["detail"]),
            list(data.get("versus_baseline_holm") or []),
            tuple(str(f) for f in data.get("family_flags") or []),
            {k: TestDescription.from_json(t) for k, t in data["tests"].items()}
            if data.get("tests")
            else family_tests(alpha),
            {str(k): str(v) for k, v in (data.get("gates") or {}).items()},
        )


@dataclass(frozen=True)
class OverheadRow:
    """A method's stored step time over ERM's on one architecture (``records.profiles``)."""

    method: str
    arch: str
    ratio: float
    ratio_low: float
    ratio_high: float
    theoretical_ratio: float
    step_ms: float
    precision: str
    source: str


@dataclass(frozen=True)
class OverheadTables:
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows: list[OverheadRow] = field(default_factory=list)


@dataclass(frozen=True)
class ConsistencyTables:
    """Saliency consistency across runs (``study.consistency``): rows of its summary, comparisons and problems, and
    its tests as every report states them (files before these were written: the current ones)."""

    summary: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)
    tests: dict[str, TestDescription] = field(default_factory=lambda: consistency_tests(0.05))


@dataclass(frozen=True)
class StudyTables:
    """Everything ``STUDY.tables.json`` holds, in the order it is written."""

    study: str
    profile: str
    description: str
    baseline: str
    alpha: float
    bootstrap_reps: int
    seed: int
    bayes_samples: int
    scale: str
    versions: dict[str, str]
    runs: pd.DataFrame  # one row per expected run: run_id, method, method_name, arch, dataset, seed, state, problem
    families: dict[str, FamilyTables]
    consistency: ConsistencyTables = field(default_factory=ConsistencyTables)
    overhead: OverheadTables = field(default_factory=OverheadTables)
    sources: str = ""  # what varies over the seeds of the done runs (reports.sources); written when known
    merged: dict[str, list[str]] = field(default_factory=dict)  # shown label -> labels naming the same runs

    def to_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "profile": self.profile,
            "description": self.description,
            "baseline": self.baseline,
            "alpha": self.alpha,
            "bootstrap_reps": self.bootstrap_reps,
            "seed": self.seed,
            "bayes_samples": self.bayes_samples,
            "scale": self.scale,
            "versions": self.versions,
            "runs": self.runs,
            "families": {k: f.to_json() for k, f in self.families.items()},
            "consistency": {
                "summary": self.consistency.summary,
                "comparisons": self.consistency.comparisons,
                "problems": self.consistency.problems,
                "tests": {k: t.to_json() for k, t in self.consistency.tests.items()},
            },
            "overhead": {
                "files": self.overhead.files,
                "problems": self.overhead.problems,
                "rows": [vars(r) for r in self.overhead.rows],
            },
            **({"sources": self.sources} if self.sources else {}),
            **({"merged": self.merged} if self.merged else {}),
        }

    def to_text(self) -> str:
        """The file's text: JSON, floats to 6 significant digits, no NaN, one trailing newline."""
        return rows_json_text(self.to_json())

    @classmethod
    def from_json(cls, data: Any, where: str = "STUDY.tables.json") -> StudyTables:
        """The typed tables of a parsed file; a ContractError naming ``where`` and the field when malformed."""
        if not isinstance(data, Mapping):
            raise ContractError(f"{where}: expected a JSON object, got {type(data).__name__}")
        field_name = "?"
        try:
            for field_name in ("study", "baseline", "alpha", "families", "runs"):
                if field_name not in data:
                    raise KeyError(field_name)
            families = data["families"]
            if not isinstance(families, Mapping) or not families:
                raise ContractError(f"{where}: families: expected a non-empty object, got {families!r:.80}")
            baseline, alpha = str(data["baseline"]), float(data["alpha"])
            parsed = {}
            for key, fam in families.items():
                field_name = f"families.{key}"
                parsed[key] = FamilyTables.from_json(key, fam, baseline, alpha)
            field_name = "consistency"
            cons = data.get("consistency") or {}
            field_name = "overhead"
            over = data.get("overhead") or {}
            rows = [OverheadRow(**r) for r in over.get("rows") or []]
            field_name = "runs"
            runs = pd.DataFrame(data["runs"])
            return cls(
                str(data["study"]),
                str(data.get("profile", "")),
                str(data.get("description", "")),
                baseline,
                alpha,
                int(data.get("bootstrap_reps", 0)),
                int(data.get("seed", 0)),
                int(data.get("bayes_samples", 0)),
                str(data.get("scale", "")),
                dict(data.get("versions") or {}),
                runs,
                parsed,
                ConsistencyTables(
                    list(cons.get("summary") or []),
                    list(cons.get("comparisons") or []),
                    list(cons.get("problems") or []),
                    {k: TestDescription.from_json(t) for k, t in cons["tests"].items()}
                    if cons.get("tests")
                    else consistency_tests(alpha),
                ),
                OverheadTables(list(over.get("files") or []), list(over.get("problems") or []), rows),
                str(data.get("sources", "")),
                {str(k): [str(x) for x in v] for k, v in (data.get("merged") or {}).items()},
            )
        except ContractError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ContractError(f"{where}: {field_name}: malformed ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def read(cls, path: Path, shown: str | None = None) -> StudyTables:
        """The tables file at ``path`` (``shown``: how messages name it)."""
        where = shown or str(path)
        return cls.from_json(read_json(path, where), where)

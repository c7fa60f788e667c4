"""The rows of the leaderboard page: what one method shows in one study, its overhead, the page.

Shared by ``page`` (the studies' rows), ``submissions`` (the submissions' rows) and
the renderers (``html``, ``markdown``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...statistics.descriptions import TestDescription
from ..formatting import interval, num

UP, DOWN, MIXED, SAME = "▲", "▼", "▲▼", "≈"
Link = Callable[[str], "str | None"]


def number(value: Any) -> float | None:
    """A finite number, else None (claims are read tolerantly)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def method_name(label: str) -> str:
    """``cyborg[tuned]`` -> ``cyborg``."""
    return label.split("[", 1)[0]


def count(value: Any) -> int | None:
    """A whole number (claims write places as floats), else None."""
    x = number(value)
    return int(x) if x is not None and x.is_integer() else None


def link_of(url: str | None) -> str | None:
    """An http(s) address or a DOI as the paper's web address (``contracts.paper_link``)."""
    from ...contracts import paper_link

    return paper_link(url) if url else None


@dataclass(frozen=True)
class Marker:
    """A significance marker (▲ better, ▼ worse, ▲▼ both in different cells, ≈ equivalent, "" not
    separated) and its tooltip: the test, the correction, alpha and the p-values."""

    symbol: str = ""
    title: str = ""


@dataclass(frozen=True)
class Score:
    """One method in one study: the headline family's numbers."""

    mean: float | None = None
    mean_rank: float | None = None
    place: int | None = None
    of: int | None = None
    delta: float | None = None
    low: float | None = None
    high: float | None = None
    marker: Marker = Marker()
    baseline: bool = False

    def rank_text(self) -> str:
        where = f" ({self.place}/{self.of})" if self.place is not None and self.of else ""
        return num(self.mean_rank, 2) + where

    def delta_text(self) -> str:
        return "(baseline)" if self.baseline else interval(self.delta, self.low, self.high)


@dataclass(frozen=True)
class OverheadCell:
    """The overhead cell of one architecture: text, the number it sorts by, and where it comes from."""

    text: str
    value: float | None = None
    title: str = ""


@dataclass
class Row:
    """A method of the overall table: a study method (label as in the stats) or a submission."""

    label: str
    link: str | None
    scores: dict[str, Score]
    overhead: dict[str, OverheadCell]
    kind: str = "study"  # "study" or "submission"
    profile: str = ""
    note: str = ""  # why a submission is stale or listed apart
    rerun: str = ""  # a submission's sentinel re-run, "re-run: K/K identical" (its bundle's verification.json)


@dataclass
class StudyInfo:
    """A leaderboard study as the overall table names it."""

    name: str
    profile: str
    description: str
    baseline: str
    alpha: float
    family: str  # the headline family
    direction: str
    rope: float
    cells: list[tuple[str, str]]  # the cells every method has (the mean and the ranks use them)
    tests: dict[str, TestDescription] = field(default_factory=dict)  # the headline family's tests, as stated


@dataclass
class Page:
    """Everything the index page and its Markdown twin show."""

    studies: list[StudyInfo]
    archs: list[str]  # architectures of the overhead columns
    rows: list[Row]  # ranked: study methods and current submissions at the studies' profile
    stale: list[Row] = field(default_factory=list)  # shown greyed, never ranked
    apart: list[Row] = field(default_factory=list)  # claims at another profile
    problems: list[str] = field(default_factory=list)  # unreadable claims
    overhead_files: list[str] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)  # per study: reps, seed, scale (the legend)


def verdict_word(d: Mapping[str, Any]) -> str:
    """A per-cell verdict in words."""
    return {"win": "better", "loss": "worse", "identical runs": "identical runs"}.get(
        d.get("verdict") or "", "not separated"
    )


def cell_marker(rows: list[Mapping[str, Any]]) -> str:
    """The per-cell rule: ▲ wins and no loss, ▼ losses and no win, ▲▼ both, ≈ every tested cell equivalent."""
    wins = sum(d.get("verdict") == "win" for d in rows)
    losses = sum(d.get("verdict") == "loss" for d in rows)
    if wins or losses:
        return MIXED if wins and losses else (UP if wins else DOWN)
    return SAME if rows and all(d.get("equivalent") for d in rows) else ""

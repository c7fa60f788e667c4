"""Stored step-time profiles (``python -m benchmark profile``), read for the reports.

A profile file ``results/profiles/LABEL.json`` (schema 1, written by ``benchmark.profiling``)
holds, per architecture case, each method's measured step time as a ratio to ERM with a
bootstrap CI, and the ratio its declared ``Cost`` predicts. The leaderboard shows these ratios
beside the scores; it reads the stored files only (never times anything), so a rerun of
``stats`` on the same inputs is byte-identical.

A study at training profile ``P`` reads ``P.json`` and ``P-*.json`` (e.g. ``quick-resnet18.json``)
from the profiles folder. A file that cannot be read or breaks the schema is reported as a
problem (one line naming the file and the field) and left out; it never stops the report.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = 1
METHOD_FIELDS = ("method", "ratio_to_erm", "ratio_ci", "theoretical_ratio", "step_median_s")


@dataclass(frozen=True)
class Overhead:
    """One method's measured step time on one architecture, relative to ERM's on the same batch."""

    method: str
    arch: str
    ratio: float
    low: float
    high: float
    theoretical: float
    step_ms: float
    precision: str
    source: str  # the profile file's name

    def text(self) -> str:
        return f"{self.ratio:.2f}× [{self.low:.2f}, {self.high:.2f}]"


@dataclass
class Overheads:
    """Every ratio found, keyed by (method, arch), and the problems of the files that were left out."""

    found: dict[tuple[str, str], Overhead]
    files: list[str]
    problems: list[str]

    def for_method(self, method: str, archs: list[str]) -> list[Overhead]:
        return [self.found[(method, a)] for a in archs if (method, a) in self.found]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def read_profile(path: Path) -> list[Overhead]:
    """The overheads of one profile file; ``ValueError`` naming the file and the field when it breaks the schema."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(
            f"{path.name}: field 'schema' must be {SCHEMA}, got "
            f"{data.get('schema') if isinstance(data, dict) else type(data).__name__!r}"
        )
    cases = data.get("cases")
    if not isinstance(cases, list):
        raise ValueError(f"{path.name}: field 'cases' must be a list")
    precision = str(data.get("precision", "fp32"))
    out = []
    for i, case in enumerate(cases):
        if (
            not isinstance(case, dict)
            or not isinstance(case.get("arch"), str)
            or not isinstance(case.get("methods"), list)
        ):
            raise ValueError(f"{path.name}: cases[{i}] needs 'arch' (a name) and 'methods' (a list)")
        for j, row in enumerate(case["methods"]):
            where = f"{path.name}: cases[{i}].methods[{j}]"
            if not isinstance(row, dict) or any(k not in row for k in METHOD_FIELDS):
                raise ValueError(f"{where} needs the fields {list(METHOD_FIELDS)}")
            ci = row["ratio_ci"]
            if not isinstance(ci, list) or len(ci) != 2:
                raise ValueError(f"{where}.ratio_ci must be [low, high], got {ci!r}")
            out.append(
                Overhead(
                    method=str(row["method"]),
                    arch=case["arch"],
                    ratio=_number(row["ratio_to_erm"], f"{where}.ratio_to_erm"),
                    low=_number(ci[0], f"{where}.ratio_ci[0]"),
                    high=_number(ci[1], f"{where}.ratio_ci[1]"),
                    theoretical=_number(row["theoretical_ratio"], f"{where}.theoretical_ratio"),
                    step_ms=1e3 * _number(row["step_median_s"], f"{where}.step_median_s"),
                    precision=precision,
                    source=path.name,
                )
            )
    return out


def load_overheads(folder: Path, label: str) -> Overheads:
    """The overheads of ``label.json`` and ``label-*.json`` in ``folder`` (sorted by name; a later file
    does not replace an earlier file's (method, arch) entry)."""
    paths = (
        sorted(p for p in folder.glob(f"{label}*.json") if p.stem == label or p.stem.startswith(f"{label}-"))
        if folder.is_dir()
        else []
    )
    found: dict[tuple[str, str], Overhead] = {}
    files, problems = [], []
    for path in paths:
        try:
            rows = read_profile(path)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        files.append(path.name)
        for row in rows:
            found.setdefault((row.method, row.arch), row)
    return Overheads(found, files, problems)

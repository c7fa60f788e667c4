"""Formatting shared by every report: numbers, p-values and intervals as text, Markdown tables, JSON leaves.

Fixed formats and nothing time-dependent, so a rerun writes byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from ..statistics.descriptions import p_text

ARROW = {"higher": "↑", "lower": "↓"}
DASH = "–"


def num(x: Any, digits: int = 3) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and not math.isfinite(x)):
        return DASH
    return f"{float(x):.{digits}f}"


def pval(p: Any) -> str:
    return DASH if p is None or p is pd.NA else p_text(p)


def interval(value: Any, low: Any, high: Any, digits: int = 3) -> str:
    if num(value, digits) == DASH:
        return DASH
    if num(low, digits) == DASH or num(high, digits) == DASH:
        return f"{num(value, digits)} [CI n.a.]"
    return f"{num(value, digits)} [{num(low, digits)}, {num(high, digits)}]"


def sd_n(mean: Any, sd: Any, n: Any, digits: int = 3) -> str:
    if num(mean, digits) == DASH:
        return f"{DASH} (n=0)"
    return (
        f"{num(mean, digits)} ± {num(sd, digits)} (n={int(n)})"
        if num(sd, digits) != DASH
        else f"{num(mean, digits)} (n={int(n)})"
    )


def design(description: str | None) -> list[str]:
    """A study's own description (params.yaml) as a Markdown paragraph: "Design: ..." and a blank line; [] without
    one. The fronts and curves pages and results/README.md's trade-off section open a study with it."""
    return [f"Design: {description}", ""] if description else []


def markdown_table(frame: pd.DataFrame) -> str:
    return tabulate(frame, headers="keys", tablefmt="github", showindex=False, disable_numparse=True)


def json_number(x: Any, digits: int = 6) -> Any:
    """JSON leaf: ints stay, floats to ``digits`` significant digits (a rerun is byte-identical), NaN/NA -> None."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(x) else float(f"{float(x):.{digits}g}")
    return x


def clean(obj: Any) -> Any:
    """Recursively JSON-ready (see :func:`json_number`); frames become lists of records."""
    if isinstance(obj, pd.DataFrame):
        return [clean(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return json_number(obj)


def json_text(obj: Any) -> str:
    """A tables file's text: JSON of ``clean(obj)``, floats to 6 significant digits, no NaN, one trailing newline."""
    return json.dumps(clean(obj), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def rows_json_text(obj: Any) -> str:
    """A statistics tables file's text: ``json_text``'s content, but each row of a table (an object in a list)
    compact on a line of its own, so a study with many cells x methods stays a small, diffable file."""

    def dump(value: Any, depth: int) -> str:
        pad = " " * (depth + 1)
        if isinstance(value, dict) and value:
            items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {dump(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
        if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
            rows = [pad + json.dumps(v, ensure_ascii=False, allow_nan=False, separators=(",", ":")) for v in value]
            return "[\n" + ",\n".join(rows) + "\n" + " " * depth + "]"
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    return dump(clean(obj), 0) + "\n"


def read_json(path: Path, where: str) -> Any:
    """The parsed JSON file at ``path``; a ContractError naming ``where`` when it cannot be read."""
    from ..contracts import ContractError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"{where}: cannot read ({exc})") from exc

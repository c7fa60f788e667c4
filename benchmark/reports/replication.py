"""A rerun as a replication: fresh results compared with the committed ones (issue 23; docs/architecture.md).

Reads two folders laid out like ``results/`` (``leaderboards/STUDY.seeds.csv``, ``claims/PAPER.json``): the
committed basis that ``python -m benchmark repro`` snapshots before DVC runs, and the fresh results. Compares
every per-seed value (the stored floats, exactly; at 6 significant digits when the committed file stores no
more), each fresh claims-cell gain against the committed cell's interval (``gain_low``/``gain_high``, its
``ci_level``), and every claim's verdict; runs, cells and claims present on one side only are listed. Small
pure functions over frames; ``markdown`` and ``summary`` render ``results/replication.md`` and the one line
that ``make reproduce`` ends with. The interval check is described once in
``statistics.descriptions.REPLICATION`` (Cumming & Maillardet 2006).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..statistics.descriptions import REPLICATION

RUN = ["study", "method", "dataset", "arch", "seed"]
DIGITS = 6  # what the seeds files stored before issue 23 (`%.6g`)
CELL = ["paper", "claim", "cell"]
VERDICT = ["paper", "claim"]


@dataclass
class Results:
    """The comparable part of a results folder: per-seed values (long) and the claims' cells and verdicts."""

    values: pd.DataFrame  # RUN + family, value
    cells: pd.DataFrame  # CELL + gain, gain_low, gain_high, ci_level
    claims: pd.DataFrame  # VERDICT + verdict, reason


def read_results(folder: Path) -> Results:
    """The seeds files and claims JSON under ``folder`` (either may be absent: empty frames)."""
    frames = [long_values(pd.read_csv(p), p.name.removesuffix(".seeds.csv")) for p in seed_files(folder)]
    tables = [json.loads(p.read_text()) for p in claim_files(folder)]
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*RUN, "family", "value"])
    return Results(values, cells_frame(tables), claims_frame(tables))


def seed_files(folder: Path) -> list[Path]:
    return sorted((Path(folder) / "leaderboards").glob("*.seeds.csv"))


def claim_files(folder: Path) -> list[Path]:
    return sorted((Path(folder) / "claims").glob("*.json"))


def long_values(wide: pd.DataFrame, study: str) -> pd.DataFrame:
    """A ``STUDY.seeds.csv`` frame -> one row per (run, family) with a value (missing values dropped)."""
    families = [c for c in wide.columns if c not in ("run", *RUN)]
    out = wide.drop(columns="run").melt(id_vars=RUN[1:], value_vars=families, var_name="family", value_name="value")
    out.insert(0, "study", study)
    return out.dropna(subset=["value"]).reset_index(drop=True)


def cells_frame(tables: list[dict]) -> pd.DataFrame:
    """Every claims cell: paper, claim, cell id, gain and its interval."""
    rows = [
        {"paper": t["paper"], "claim": c["id"], "cell": cell["id"], "method": cell["method"], "gain": cell["gain"]}
        | {k: cell.get(k) for k in ("gain_low", "gain_high", "ci_level")}
        for t in tables
        for c in t["claims"]
        for cell in c["cells"]
    ]
    return pd.DataFrame(rows, columns=[*CELL, "method", "gain", "gain_low", "gain_high", "ci_level"])


def claims_frame(tables: list[dict]) -> pd.DataFrame:
    """Every claim: paper, claim id, verdict, reason."""
    rows = [
        {"paper": t["paper"], "claim": c["id"], "verdict": c["verdict"], "reason": c["reason"]}
        for t in tables
        for c in t["claims"]
    ]
    return pd.DataFrame(rows, columns=[*VERDICT, "verdict", "reason"])


def rounded(values: np.ndarray, digits: int = DIGITS) -> np.ndarray:
    """``values`` as ``%.{digits}g`` text reads back."""
    return np.char.mod(f"%.{digits}g", np.asarray(values, float)).astype(float)


def stores_rounded(values: pd.Series) -> bool:
    """True when every value equals itself at ``DIGITS`` significant digits (a file written with ``%.6g``)."""
    v = values.to_numpy(float)
    return len(v) > 0 and bool(np.array_equal(rounded(v), v))


def compare_values(committed: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, family) on either side: ``committed``, ``fresh``, ``status`` (equal, differs, added,
    missing) and ``digits``: ``DIGITS`` where the pair is equal only at the precision of a committed study file
    that stores no more (``%.6g``, before issue 23), else NaN (bitwise equal, or different)."""
    key = [*RUN, "family"]
    both = committed.merge(fresh, on=key, how="outer", suffixes=("_committed", "_fresh"))
    both = both.rename(columns={"value_committed": "committed", "value_fresh": "fresh"})
    rounded_studies = {s for s, g in committed.groupby("study")["value"] if stores_rounded(g)}
    c, f = both["committed"].to_numpy(float), both["fresh"].to_numpy(float)
    at_digits = both["study"].isin(rounded_studies).to_numpy() & (c != f) & (c == rounded(np.nan_to_num(f)))
    status = np.select([np.isnan(c), np.isnan(f), (c == f) | at_digits], ["added", "missing", "equal"], "differs")
    digits = pd.Series(DIGITS, index=both.index).where(at_digits)
    return both.assign(status=status, digits=digits).sort_values(key, ignore_index=True)


def compare_cells(committed: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Each claims cell: the committed gain and interval beside the fresh gain and interval, and ``inside``
    (the fresh gain within the committed interval, ends included; None when either side lacks it)."""
    both = committed.merge(fresh, on=CELL, how="outer", suffixes=("_committed", "_fresh"))
    low, high, gain = (both[c].to_numpy(float) for c in ("gain_low_committed", "gain_high_committed", "gain_fresh"))
    known = ~(np.isnan(low) | np.isnan(high) | np.isnan(gain))
    inside = pd.Series((low <= gain) & (gain <= high), index=both.index, dtype=object).where(known, None)
    return both.assign(inside=inside).sort_values(CELL, ignore_index=True)


def compare_claims(committed: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """Each claim: committed and fresh verdict and reason, ``status`` (same, changed, added, missing)."""
    both = committed.merge(fresh, on=VERDICT, how="outer", suffixes=("_committed", "_fresh"), indicator=True)
    status = np.select(
        [
            both["_merge"] == "right_only",
            both["_merge"] == "left_only",
            both["verdict_committed"] == both["verdict_fresh"],
        ],
        ["added", "missing", "same"],
        default="changed",
    )
    return both.drop(columns="_merge").assign(status=status).sort_values(VERDICT, ignore_index=True)


@dataclass
class Replication:
    values: pd.DataFrame  # compare_values
    cells: pd.DataFrame  # compare_cells
    claims: pd.DataFrame  # compare_claims

    @property
    def identical(self) -> bool:
        """Every per-seed value, cell gain and interval and verdict as committed, nothing added or missing."""
        cells_equal = all(
            np.array_equal(
                self.cells[f"{n}_committed"].to_numpy(float), self.cells[f"{n}_fresh"].to_numpy(float), equal_nan=True
            )
            for n in ("gain", "gain_low", "gain_high")
        )
        return bool(
            (self.values["status"] == "equal").all() and cells_equal and (self.claims["status"] == "same").all()
        )

    @property
    def rounded(self) -> bool:
        return bool(self.values["digits"].notna().any())


def compare(committed: Results, fresh: Results) -> Replication:
    return Replication(
        compare_values(committed.values, fresh.values),
        compare_cells(committed.cells, fresh.cells),
        compare_claims(committed.claims, fresh.claims),
    )


def counts(rep: Replication) -> dict[str, int]:
    """The numbers of the summary line."""
    v, c, k = rep.values["status"], rep.cells["inside"], rep.claims["status"]
    return {
        "values": int(v.isin(["equal", "differs"]).sum()),
        "differ": int((v == "differs").sum()),
        "added": int((v == "added").sum()),
        "missing": int((v == "missing").sum()),
        "gains": int(c.notna().sum()),
        "inside": int((c == True).sum()),  # noqa: E712 (an object column of True/False/None)
        "claims": int(k.isin(["same", "changed"]).sum()),
        "changed": int((k == "changed").sum()),
        "claims_other": int(k.isin(["added", "missing"]).sum()),
    }


def findings(rep: Replication) -> str:
    """What the rerun found, in one sentence: differing values, gains inside the committed intervals, verdicts."""
    n = counts(rep)
    if rep.identical:
        same = (
            f"identical to the committed results at the {DIGITS} significant digits their seeds files store"
            if rep.rounded
            else "bitwise identical to the committed results"
        )
        return f"{same}: {n['values']} per-seed values, {n['claims']} verdicts"
    parts = [
        f"{n['differ']} of {n['values']} per-seed values differ from the committed ones",
        f"{n['inside']} of {n['gains']} fresh gains inside the committed intervals",
        f"{n['changed']} of {n['claims']} verdicts changed",
    ]
    if n["added"] or n["missing"]:
        parts.append(f"{n['added']} per-seed values added, {n['missing']} missing")
    if n["claims_other"]:
        parts.append(f"{n['claims_other']} claims added or missing")
    return "; ".join(parts)


def summary(rep: Replication, where: str = "results/replication.md") -> str:
    """The one line ``make reproduce`` ends with."""
    return f"replication: {findings(rep)} (see {where})"


def _num(x: object, exact: bool = False) -> str:
    """A number at 6 significant digits (``exact``: as stored, the round-trip repr); "–" when absent."""
    if x is None or pd.isna(x):
        return "–"
    return repr(float(x)) if exact else f"{float(x):.6g}"  # type: ignore[arg-type]


def _interval(gain: object, low: object, high: object) -> str:
    return f"{_num(gain)} [{_num(low)}, {_num(high)}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def value_lines(values: pd.DataFrame) -> list[str]:
    """Per study: values compared, differing, added, missing; then every value that is not equal."""
    per = values.groupby("study")["status"].value_counts().unstack(fill_value=0)
    rows = [
        [
            s,
            str(int(r.get("equal", 0) + r.get("differs", 0))),
            str(int(r.get("differs", 0))),
            str(int(r.get("added", 0))),
            str(int(r.get("missing", 0))),
        ]
        for s, r in per.iterrows()
    ]
    out = _table(["study", "values compared", "differ", "added", "missing"], rows)
    changed = values[values["status"] != "equal"]
    if len(changed):
        out += ["", "Every per-seed value that is not as committed:", ""]
        out += _table(
            ["study", "method", "dataset", "arch", "seed", "family", "committed", "fresh", "fresh − committed", ""],
            [
                [
                    *(str(r[k]) for k in (*RUN, "family")),
                    _num(r["committed"], True),
                    _num(r["fresh"], True),
                    _num(r["fresh"] - r["committed"]),
                    r["status"],
                ]
                for _, r in changed.iterrows()
            ],
        )
    return out


def cell_rows(cells: pd.DataFrame) -> list[list[str]]:
    mark = {True: "inside", False: "**outside**", None: "no interval"}
    return [
        [
            r["cell"],
            _interval(r["gain_committed"], r["gain_low_committed"], r["gain_high_committed"]),
            _num(r["ci_level_committed"]),
            _interval(r["gain_fresh"], r["gain_low_fresh"], r["gain_high_fresh"]),
            mark[r["inside"]],
        ]
        for _, r in cells.iterrows()
    ]


CELL_HEADER = ["cell", "committed gain [interval]", "level", "fresh gain [interval]", "fresh gain"]


def markdown(rep: Replication, committed: str, fresh: str) -> str:
    """``results/replication.md``: the summary, the per-seed values, the cells' intervals, the verdicts."""
    n = counts(rep)
    claims = rep.claims
    changed = claims[claims["status"] != "same"]
    lines = [
        "# Replication: this rerun against the committed results",
        "",
        f"Committed basis: {committed}; fresh: `{fresh}`. "
        "Written by `python -m benchmark repro` (or `python -m benchmark replication`); not committed.",
        "",
        f"**{findings(rep)}.**",
        "",
        "## Per-seed values",
        "",
        "Every value of `leaderboards/STUDY.seeds.csv` (a run × a metric), compared as stored"
        + (
            f"; studies whose committed file stores {DIGITS} significant digits are compared at that precision."
            if rep.rounded
            else " (round-trip floats: bitwise)."
        ),
        "",
        *value_lines(rep.values),
        "",
        "## Claims cells: the fresh gain against the committed interval",
        "",
        f"{n['inside']} of {n['gains']} fresh gains lie inside the committed interval; the cells below are not.",
        "",
        f"Method: {REPLICATION.text()}.",
        "",
        *(_table(CELL_HEADER, outside) if (outside := cell_rows(rep.cells[rep.cells["inside"] != True])) else []),  # noqa: E712
        "",
        "## Verdicts",
        "",
        f"{n['changed']} of {n['claims']} verdicts changed" + (":" if len(changed) else "."),
    ]
    for _, r in changed.iterrows():
        lines += ["", f"### {r['claim']} ({r['paper']}): {r['status']}", ""]
        lines += _table(
            ["", "verdict", "reason"],
            [
                ["committed", str(r["verdict_committed"]), str(r["reason_committed"])],
                ["fresh", str(r["verdict_fresh"]), str(r["reason_fresh"])],
            ],
        )
        lines += ["", *_table(CELL_HEADER, cell_rows(rep.cells[rep.cells["claim"] == r["claim"]]))]
    return "\n".join(lines) + "\n"

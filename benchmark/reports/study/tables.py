"""The numbers of a study's leaderboard, as frames: completeness, detail rows, the main board, DVC metrics.

Input: what ``benchmark.statistics.family.analyze`` returns for each family (one ``SPLIT/METRIC``)
and the study's expected runs (``RecordSet.runs``: one row per run the study asks for, in any
state). Nothing is computed here that the statistics layer computes; this module joins its
frames with the study's design so that a run which is not done (missing, failed, stale,
corrupt) shows in every table it would have entered: a detail row whose cell has fewer done
runs than expected says so, a (cell, method) without any done run still gets a row, and a
method without any done run still gets a leaderboard row. ``leaderboard.py`` renders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...statistics.family import FamilyResult
from ..formatting import json_number

CELL = ["dataset", "arch"]
DETAIL_COLUMNS = [
    "family",
    "split",
    "metric",
    "direction",
    "rope",
    "dataset",
    "arch",
    "method",
    "baseline",
    "runs_expected",
    "runs_done",
    "n",
    "n_undefined",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "n_pairs",
    "gain",
    "gain_low",
    "gain_high",
    "p_t",
    "p_method",
    "p_bh",
    "marker",
    "p_wilcoxon",
    "wilcoxon_method",
    "d_z",
    "rho",
    "seeds_needed",
    "underpowered",
    "p_tost",
    "p_tost_bh",
    "equivalent",
    "verdict",
    "flags",
]


@dataclass
class Completeness:
    """The study's expected runs and their states (``RecordSet.runs``), per (dataset, arch, method) cell."""

    runs: pd.DataFrame

    @property
    def methods(self) -> list[str]:
        """Method labels in study order."""
        return list(dict.fromkeys(self.runs["method"]))

    @property
    def cells(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(zip(self.runs["dataset"], self.runs["arch"])))

    def not_done(self) -> pd.DataFrame:
        return self.runs[self.runs["state"] != "done"]

    def cell_runs(self, dataset: str, arch: str, method: str) -> pd.DataFrame:
        """The expected runs of one cell x method (empty when the study has none)."""
        if not hasattr(self, "_groups"):
            self._groups = {key: frame for key, frame in self.runs.groupby(["dataset", "arch", "method"], sort=False)}
        return self._groups.get((dataset, arch, method), self.runs.iloc[:0])

    def expected(self, dataset: str, arch: str, method: str) -> tuple[int, int]:
        """(expected runs, done runs) of one cell x method."""
        runs = self.cell_runs(dataset, arch, method)
        return len(runs), int((runs["state"] == "done").sum())

    def missing_note(self, runs: pd.DataFrame) -> str:
        """``seed 2 missing, seed 1 failed`` for the runs of ``runs`` that are not done."""
        bad = runs[runs["state"] != "done"].sort_values("seed")
        return ", ".join(f"seed {s} {state}" for s, state in zip(bad["seed"], bad["state"]))

    def lines(self) -> list[str]:
        """One line per run that is not done: which run, and why."""
        out = []
        for row in self.not_done().sort_values(["dataset", "arch", "method", "seed"]).itertuples(index=False):
            why = row.problem or ("no record" if row.state == "missing" else "")
            out.append(
                f"{row.method} / {row.dataset} / {row.arch} / seed {row.seed} (run {row.run_id}): "
                f"{row.state}" + (f": {why}" if why else "")
            )
        return out

    def counts(self) -> dict[str, int]:
        states = ("done", "failed", "stale", "missing", "corrupt")
        tally = self.runs["state"].value_counts()
        return {"expected": len(self.runs), **{s: int(tally.get(s, 0)) for s in states}}


def family_cells(result: FamilyResult, completeness: Completeness) -> list[tuple[str, str]]:
    """The study's cells this family covers: those with a value for it, and those without any done run
    (they would have entered it), in study order."""
    present = set(zip(result.cells["dataset"], result.cells["arch"]))
    done = completeness.runs[completeness.runs["state"] == "done"]
    has_done = set(zip(done["dataset"], done["arch"]))
    return [c for c in completeness.cells if c in present or c not in has_done]


def detail_rows(result: FamilyResult, completeness: Completeness) -> pd.DataFrame:
    """One row per expected (cell, method) of the family, baseline first in each cell (``DETAIL_COLUMNS``).

    ``gain`` is the paired difference to the baseline over shared seeds, oriented so that positive means
    better (``sign * (method - baseline)``); ``flags`` names runs that are not done, undefined values
    and seeds missing from the pairing."""
    fam, base = result.family, result.baseline
    cells = result.cells.set_index(["dataset", "arch", "method"])
    paired = result.paired.set_index(["dataset", "arch", "method"]) if not result.paired.empty else None
    rows = []
    for dataset, arch in family_cells(result, completeness):
        methods = [m for m in completeness.methods if len(completeness.cell_runs(dataset, arch, m))]
        methods = sorted(methods, key=lambda m: m != base)
        for method in methods:
            expected, done = completeness.expected(dataset, arch, method)
            row: dict[str, Any] = {
                "family": fam.key,
                "split": fam.split,
                "metric": fam.metric,
                "direction": fam.direction,
                "rope": fam.rope,
                "dataset": dataset,
                "arch": arch,
                "method": method,
                "baseline": base,
                "runs_expected": expected,
                "runs_done": done,
            }
            flags = []
            note = completeness.missing_note(completeness.cell_runs(dataset, arch, method))
            if note:
                flags.append(f"{done}/{expected} runs done: {note}")
            key = (dataset, arch, method)
            if key in cells.index:
                c = cells.loc[key]
                row.update(
                    {
                        "n": int(c["n"]),
                        "n_undefined": int(c["n_nan"]),
                        "mean": c["mean"],
                        "sd": c["sd"],
                        "ci_low": c["ci_low"],
                        "ci_high": c["ci_high"],
                    }
                )
                if int(c["n_nan"]):
                    flags.append(f"{int(c['n_nan'])} run(s) with the metric undefined")
            else:
                row.update({"n": 0, "n_undefined": 0})
                if done:
                    flags.append("metric absent from its records")
            if method != base and paired is not None and key in paired.index:
                p = paired.loc[key]
                row.update(
                    {
                        "n_pairs": int(p["n"]),
                        "gain": p["gain"],
                        "gain_low": p["gain_low"],
                        "gain_high": p["gain_high"],
                        "p_t": p["p_t"],
                        "p_method": p["p_method"],
                        "p_bh": p["p_bh"],
                        "marker": p["marker"],
                        "p_wilcoxon": p["p_wilcoxon"],
                        "wilcoxon_method": p["wilcoxon_method"],
                        "d_z": p["d_z"],
                        "rho": p["rho"],
                        "seeds_needed": p["seeds_needed"],
                        "underpowered": bool(p["underpowered"]),
                        "p_tost": p["p_tost"],
                        "p_tost_bh": p["p_tost_bh"],
                        "equivalent": bool(p["equivalent"]),
                        "verdict": p["verdict"],
                    }
                )
                base_note = completeness.missing_note(completeness.cell_runs(dataset, arch, base))
                if base_note:
                    flags.append(f"baseline {base}: {base_note}")
                if int(p["n"]) < row["n"]:
                    flags.append(f"{row['n'] - int(p['n'])} seed(s) without a baseline pair")
            elif method != base:
                row.update({"n_pairs": 0, "verdict": "n.a."})
                flags.append("no paired test: no shared seed with the baseline")
            row["flags"] = "; ".join(flags)
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=DETAIL_COLUMNS)


def letters(order: list[str], significance: pd.DataFrame, alpha: float) -> dict[str, str]:
    """Compact letter display of the CD diagram: methods in rank order; each maximal run of consecutive
    methods whose pairs are all not significantly different (Holm p >= alpha) gets a letter."""
    groups: list[tuple[int, int]] = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and all(significance.loc[order[k], order[j + 1]] >= alpha for k in range(i, j + 1)):
            j += 1
        if not groups or j > groups[-1][1]:
            groups.append((i, j))
    out = {m: "" for m in order}
    for g, (i, j) in enumerate(groups):
        for m in order[i : j + 1]:
            out[m] += chr(ord("a") + g % 26)
    return out


def family_wide(flag: str) -> bool:
    """A flag of ``statistics.family.leaderboard`` that holds for every method of the family (shown once)."""
    return "rank tests cannot reach alpha" in flag or "incomplete cells left out of ranks" in flag


def family_flags(result: FamilyResult) -> list[str]:
    """The family-wide flags of the statistics layer's leaderboard, once."""
    flags = "; ".join(result.leaderboard["flags"].fillna("")).split("; ")
    return list(dict.fromkeys(f for f in flags if f and family_wide(f)))


def board_rows(result: FamilyResult, completeness: Completeness, detail: pd.DataFrame) -> pd.DataFrame:
    """The family's leaderboard (``statistics.family.leaderboard``) plus ``group`` (CD letters, or "n.a. (N cells
    < 6)"), ``runs``
    (done/expected over the family's cells) and completeness flags; a study method without any value in
    the family gets a row of its own (unranked) instead of disappearing."""
    board = result.leaderboard.copy()
    ranked = [
        m
        for m in board["method"]
        if m in result.significance.index and np.isfinite(board.loc[board["method"] == m, "mean_rank"].iloc[0])
    ]
    gate = result.gates.get("cd_diagram", "")  # too few complete cells: some pairs never tested, no letters
    group = {m: gate for m in ranked} if gate else letters(ranked, result.significance, result.alpha)
    board["group"] = board["method"].map(group).fillna("")
    absent = [m for m in detail["method"].unique() if m not in set(board["method"])]
    if absent:
        extra = pd.DataFrame(
            {
                "method": absent,
                "direction": result.family.direction,
                "rope": result.family.rope,
                "flags": "no value in this family: not ranked",
                "group": "",
            }
        )
        board = pd.concat([board, extra], ignore_index=True)
        board["place"] = board["place"].astype("Int64")
    per_method = detail.groupby("method", sort=False)
    board["runs_expected"] = board["method"].map(per_method["runs_expected"].sum()).fillna(0).astype(int)
    board["runs_done"] = board["method"].map(per_method["runs_done"].sum()).fillna(0).astype(int)
    notes = []
    for method, flags in zip(board["method"], board["flags"].fillna("")):
        flags = "; ".join(f for f in flags.split("; ") if f and not family_wide(f))
        extra = []
        missing = int(
            board.loc[board["method"] == method, "runs_expected"].iloc[0]
            - board.loc[board["method"] == method, "runs_done"].iloc[0]
        )
        if missing:
            mine = per_method.get_group(method)
            cells = int((mine["runs_done"] < mine["runs_expected"]).sum())
            extra.append(f"{missing} run(s) not done in {cells} cell(s)")
        notes.append("; ".join([f for f in [flags, *extra] if f]))
    board["flags"] = notes
    return board


BOARD_METRICS = (
    "mean_rank",
    "gain_mean",
    "gain_iqm",
    "delta",
    "poi",
    "p_better",
    "p_rope",
    "p_worse",
    "p_cells_holm",
    "wins",
    "ties",
    "losses",
    "median_d_z",
)


def family_metrics(board: pd.DataFrame, detail: pd.DataFrame) -> dict[str, Any]:
    """``{method: {BOARD_METRICS..., runs_done, cells: {"dataset/arch": {mean, n, gain, p_bh}}}}``: numbers only."""
    out: dict[str, Any] = {}
    for _, row in board.iterrows():
        entry = {k: json_number(row[k]) for k in BOARD_METRICS if k in row and json_number(row[k]) is not None}
        entry["runs_done"] = int(row["runs_done"])
        cells = {}
        for _, d in detail[detail["method"] == row["method"]].iterrows():
            values = {k: json_number(d[k]) for k in ("mean", "n", "gain", "p_bh")}
            cells[f"{d['dataset']}/{d['arch']}"] = {k: v for k, v in values.items() if v is not None}
        entry["cells"] = cells
        out[str(row["method"])] = entry
    return out


def seeds_frame(done_scores: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    """One row per done run: ``run`` (a readable label), method, dataset, arch, seed and one column per family
    (``SPLIT/METRIC``): the per-seed values behind every table (DVC plots)."""
    keys = list(keys)
    s = done_scores.assign(family=done_scores["split"] + "/" + done_scores["metric"])
    s = s[s["family"].isin(keys)]
    wide = s.set_index(["method", "dataset", "arch", "seed", "family"])["value"].unstack("family").sort_index()
    wide = wide.reindex(columns=keys).reset_index()
    wide.columns.name = None
    wide.insert(
        0,
        "run",
        [
            f"{m} | {d} | {a} | seed {s}"
            for m, d, a, s in zip(wide["method"], wide["dataset"], wide["arch"], wide["seed"])
        ],
    )
    return wide

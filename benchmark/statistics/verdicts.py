"""A paper's claims judged, one verdict per claim with its cells beneath it (docs/statistics.md §1.16).

A claim (one entry of ``claims/PAPER.yaml``) may span several *cells* (its listed architectures,
methods, references or metrics); each cell is measured by ``claim_cells.claim_test`` (paired t, or
Welch's t across datasets). One family-wise standard makes every statement of a paper's table:

- **Claim p.** A superiority or equivalence claim over several cells holds only if it holds in every
  cell: an intersection-union test, whose p is the largest cell p (Berger 1982; Berger & Hsu 1996). An
  ablation (``difference``) asks whether the choice changes anything, in any cell: a union, tested by
  Bonferroni, ``min(1, k · smallest cell p)``; its "no practical difference" side (every cell equivalent)
  is again an intersection, the largest cell TOST p.
- **Holm** (Holm 1979) over the paper's claims; the ablations' TOST p's are a second Holm family.
- **Intervals.** Superiority and difference cells show a simultaneous interval, Bonferroni over the R
  cells of the paper's table (two-sided level 1 - alpha/R), so every "ruled out" in the table holds
  together at family-wise level alpha. Equivalence cells show the 90% interval (1 - 2 alpha) that a TOST at
  alpha = 0.05 corresponds to (Lakens 2017); their "not reproduced" reads the simultaneous one.
- **Verdicts.** ``superiority``: Holm p < alpha -> *reproduced*, unless every cell's simultaneous interval
  lies inside (-ROPE, +ROPE): *significant but negligible* (the gain is real but below the smallest effect of
  interest; Kruschke 2018's ROPE rule, Lakens, Scheel & Isager 2018). Else a cell whose simultaneous interval
  lies below +ROPE rules the claim out: *not reproduced*. Else *inconclusive*. ``equivalence``: Holm p < alpha ->
  *reproduced*; a cell whose simultaneous interval lies entirely outside the ROPE -> *not reproduced*; else
  *inconclusive*. ``difference``: Holm p < alpha -> *changes the result* (or *significant but negligible*, as
  above); Holm TOST p < alpha -> *no practical difference*; else *inconclusive*.
- **Degenerate data.** Fewer than two pairs (seeds a side) in a cell: *untestable*. Every cell with every
  paired difference exactly 0: *identical runs* (the report checks whether the option was exercised).
- **Inconclusive** says why (after Holm, or the interval spans zero, ...) and what would settle it: the
  seeds per cell that give 80% power against a one-ROPE effect for the test actually used (one-sided paired
  t, TOST, two-sided t at alpha/k, or Welch per arm) at the Holm step of the claim's rank, with a safeguard SD
  (``power.safeguard_sd``; Perugini et al. 2014); the claim needs the largest cell figure. Never the
  observed effect (Colas et al. 2018; Card et al. 2020).
- **Stability** (``stability``): the share of seeded reruns of the whole table, drawn from the cells' posterior
  predictive, that give the claim's verdict again; a decisive verdict below ``stability.STABLE`` = 0.8 is
  *inconclusive* ("unstable: reproduced in 62% of reruns"), with the seeds that would settle it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import stability as st
from .claim_cells import FIELDS, TESTS, UNPAIRED, cell_seeds, claim_test, complete, interval
from .descriptions import VERDICT_TESTS, p_text
from .multiple import holm, holm_steps
from .paired import IDENTICAL
from .power import ALPHA, POWER

__all__ = ["FIELDS", "TESTS", "cell_seeds", "claim_test", "judge", "simultaneous_level"]

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTABLE = "reproduced", "not reproduced", "inconclusive", "untestable"
NEGLIGIBLE = "significant but negligible"
CHANGES, NO_CHANGE = "changes the result", "no practical difference"
VERDICTS = (REPRODUCED, NEGLIGIBLE, NOT_REPRODUCED, INCONCLUSIVE, CHANGES, NO_CHANGE, IDENTICAL, UNTESTABLE)
TEST_NAMES = {key: test.short for key, test in VERDICT_TESTS.items()}  # the claims tables' test column
DECISIVE = {REPRODUCED: st.POSITIVE, CHANGES: st.POSITIVE, NEGLIGIBLE: st.NEGLIGIBLE, NOT_REPRODUCED: st.RULED_OUT}
DECISIVE[NO_CHANGE] = st.NO_CHANGE
CODES = {**DECISIVE, INCONCLUSIVE: st.INCONCLUSIVE}
IUT, UNION, SINGLE = "largest cell p (intersection-union)", "Bonferroni: cells × smallest cell p (union)", "one cell"


def simultaneous_level(cells: int, alpha: float = ALPHA) -> float:
    """Two-sided level of each of ``cells`` Bonferroni-simultaneous intervals: 1 - alpha / cells."""
    return 1 - alpha / max(1, cells)


def shown_level(test: str, cells: int, alpha: float = ALPHA) -> float:
    """The level of the interval a cell shows: 1 - 2 alpha for equivalence (the TOST's), else simultaneous."""
    return 1 - 2 * alpha if test == "equivalence" else simultaneous_level(cells, alpha)


def claim_p(p: Sequence[float], test: str) -> float:
    """One p per claim from its cells' p: the largest (intersection-union), or for ``difference`` the
    Bonferroni union ``min(1, k · smallest)``; NaN when any cell is untestable."""
    values = np.asarray(p, dtype=float)
    if values.size == 0 or not np.isfinite(values).all():
        return float("nan")
    if test == "difference":
        return float(min(1.0, values.size * values.min()))
    return float(values.max())


def _names(cells: Sequence[Mapping[str, Any]], where: Sequence[bool]) -> str:
    """' in A, B' for the flagged cells of a claim over several cells ('in all k cells' when every one is)."""
    if len(where) < 2:
        return ""
    if all(where):
        return " in both cells" if len(where) == 2 else f" in all {len(where)} cells"
    return " in " + ", ".join(str(c.get("cell") or i) for i, (c, w) in enumerate(zip(cells, where)) if w)


def _inside(c: Mapping[str, Any], rope: float) -> bool:
    return bool(-rope < c["sim_low"] and c["sim_high"] < rope)


def _decide(
    test: str, claim: Mapping[str, Any], cells: Sequence[Mapping[str, Any]], ropes: Sequence[float], alpha: float
) -> tuple[str, str]:
    """The verdict of one claim and why (see the module docstring)."""
    few = [c["n"] < 2 or c["n_ref"] < 2 or not np.isfinite(c["p"]) for c in cells]
    if any(few):
        c = next(c for c, f in zip(cells, few) if f)
        if c["design"] == UNPAIRED and min(c["n"], c["n_ref"]) < 2:
            said = "fewer than 2 seeds a side"
        else:
            said = "fewer than 2 pairs" if c["n"] < 2 else "no test (see the cell's notes)"
        return UNTESTABLE, said + _names(cells, few)
    if all(c["identical"] for c in cells):
        return IDENTICAL, "every paired difference is exactly 0"
    if claim["p_holm"] < alpha:
        if test != "equivalence" and all(_inside(c, r) for c, r in zip(cells, ropes)):
            return NEGLIGIBLE, "significant, but every simultaneous interval lies inside ±ROPE"
        return (CHANGES if test == "difference" else REPRODUCED), ""
    if test == "superiority":
        below = [c["sim_high"] < r for c, r in zip(cells, ropes)]
        if any(below):
            return NOT_REPRODUCED, "the simultaneous interval lies below +ROPE" + _names(cells, below)
    if test == "equivalence":
        outside = [c["sim_low"] > r or c["sim_high"] < -r for c, r in zip(cells, ropes)]
        if any(outside):
            return NOT_REPRODUCED, "the simultaneous interval lies outside ±ROPE" + _names(cells, outside)
    if test == "difference" and claim["p_tost_holm"] < alpha:
        return NO_CHANGE, ""
    return INCONCLUSIVE, _why(test, claim, cells, alpha)


def _why(test: str, claim: Mapping[str, Any], cells: Sequence[Mapping[str, Any]], alpha: float) -> str:
    """Why an inconclusive claim is inconclusive."""
    p, p_holm = claim["p"], claim["p_holm"]
    if p < alpha:
        return f"after Holm (p = {p_text(p)}, Holm {p_text(p_holm)})"
    failed = [c["p"] >= alpha for c in cells] if test != "difference" else [True] * len(cells)
    flat = [f and c["zero_spread"] for f, c in zip(failed, cells)]
    if any(flat):
        c = next(c for c, f in zip(cells, flat) if f)
        return f"zero spread: exact permutation p = {p_text(c['p'])} at n = {int(c['n'])}" + _names(cells, flat)
    if test == "superiority":
        return f"the interval spans zero (p = {p_text(p)})" + _names(cells, failed)
    if test == "equivalence":
        return f"the 90% interval reaches beyond ±ROPE (TOST p = {p_text(p)})" + _names(cells, failed)
    tost, tost_holm = claim["p_tost"], claim["p_tost_holm"]
    if tost < alpha:
        return (
            f"equivalence after Holm (TOST p = {p_text(tost)}, Holm {p_text(tost_holm)}); no change (p = {p_text(p)})"
        )
    return f"neither a change (p = {p_text(p)}) nor equivalence within ±ROPE (TOST p = {p_text(tost)})"


def _word(code: int, test: str) -> str:
    """The verdict an outcome code of ``stability`` names for a claim's test."""
    if code == st.POSITIVE:
        return CHANGES if test == "difference" else REPRODUCED
    return {st.NEGLIGIBLE: NEGLIGIBLE, st.RULED_OUT: NOT_REPRODUCED, st.NO_CHANGE: NO_CHANGE}.get(code, INCONCLUSIVE)


def _stabilise(rows: list[dict[str, Any]], cells: list[dict[str, Any]], members: list[list[int]], ropes, alpha) -> None:
    """Each claim's ``stability`` (share of seeded reruns giving its verdict, ``stability.rerun_outcomes``), the
    reruns' verdicts (``reruns``) and its ``seeds``; a decisive verdict below ``stability.STABLE`` is
    *inconclusive (unstable)*, its tested verdict kept in ``verdict_tested``."""
    outcomes = st.rerun_outcomes(cells, members, [r["test"] for r in rows], [float(q) for q in ropes], alpha)
    for r, idx, share in zip(rows, members, st.shares(outcomes)):
        n = sorted({int(cells[i][k]) for i in idx for k in ("n", "n_ref") if np.isfinite(cells[i][k])})
        r["seeds"] = "–" if not n else f"{n[0]}" if len(n) == 1 else f"{n[0]}–{n[-1]}"
        r["verdict_tested"], code = r["verdict"], CODES.get(r["verdict"], st.NONE)
        r["stability"] = share.get(code, 0.0) if code != st.NONE else float("nan")
        said = [
            f"{_word(c, r['test'])} {s:.0%}" if s >= 0.005 else f"{_word(c, r['test'])} <1%" for c, s in share.items()
        ]
        r["reruns"] = ", ".join(said) if code != st.NONE else ""
        if r["verdict"] in DECISIVE and r["stability"] < st.STABLE:
            r["verdict"], r["reason"] = (
                INCONCLUSIVE,
                f"unstable: {r['verdict']} in {r['stability']:.0%} of reruns with new seeds",
            )


def judge(
    cells: Sequence[Mapping[str, Any]],
    claims: Sequence[str],
    tests: Sequence[str],
    ropes: Sequence[float],
    alpha: float = ALPHA,
    power: float = POWER,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Judge a paper's table: ``cells`` (``claim_test`` rows, or rows completed by ``claim_cells.complete``;
    optionally with a ``cell`` label), the claim each belongs to, its test and ROPE. Returns the cells with their intervals (``gain_low, gain_high`` at
    ``ci_level``: what the table shows; ``sim_low, sim_high`` at ``sim_level``) and one row per claim, in
    order of first appearance: ``id, test, n_cells, p, p_rule, p_holm, alpha_step, p_tost, p_tost_holm,
    verdict, reason, seeds_needed, seeds_alpha, seeds_unit, stability, reruns, seeds, verdict_tested``."""
    total = len(cells)
    sim = simultaneous_level(total, alpha)
    out_cells: list[dict[str, Any]] = []
    for cell, test in zip(cells, tests):
        row = {**complete(cell), "sim_level": sim}
        row["sim_low"], row["sim_high"] = interval(row, sim)
        row["ci_level"] = shown_level(test, total, alpha)
        row["gain_low"], row["gain_high"] = interval(row, row["ci_level"])
        out_cells.append(row)
    ids = list(dict.fromkeys(claims))
    members = {cid: [i for i, c in enumerate(claims) if c == cid] for cid in ids}
    rows: list[dict[str, Any]] = []
    for cid in ids:
        idx = members[cid]
        test = tests[idx[0]]
        if any(tests[i] != test for i in idx):
            raise ValueError(f"claim {cid}: its cells name different tests")
        rows.append(
            {
                "id": cid,
                "test": test,
                "n_cells": len(idx),
                "p": claim_p([out_cells[i]["p"] for i in idx], test),
                "p_rule": SINGLE if len(idx) == 1 else (UNION if test == "difference" else IUT),
                "p_tost": claim_p([out_cells[i]["p_tost"] for i in idx], "equivalence")
                if test == "difference"
                else np.nan,
            }
        )
    p = np.array([r["p"] for r in rows], dtype=float)
    for r, adjusted, step in zip(rows, holm(p), holm_steps(p, alpha)):
        r["p_holm"], r["alpha_step"] = float(adjusted), float(step)
    ablations = [i for i, r in enumerate(rows) if r["test"] == "difference"]
    tost = holm(np.array([rows[i]["p_tost"] for i in ablations], dtype=float))
    for r in rows:
        r["p_tost_holm"] = np.nan
    for i, adjusted in zip(ablations, tost):
        rows[i]["p_tost_holm"] = float(adjusted)
    for r in rows:
        idx = members[r["id"]]
        mine, rope = [out_cells[i] for i in idx], [float(ropes[i]) for i in idx]
        r["verdict"], r["reason"] = _decide(r["test"], r, mine, rope, alpha)
    _stabilise(rows, out_cells, [members[cid] for cid in ids], ropes, alpha)
    for r in rows:
        idx = members[r["id"]]
        mine, rope = [out_cells[i] for i in idx], [float(ropes[i]) for i in idx]
        r["seeds_alpha"] = r["alpha_step"] / (len(idx) if r["test"] == "difference" else 1)
        r["seeds_unit"] = "seeds per arm" if any(c["design"] == UNPAIRED for c in mine) else "paired seeds"
        needed = [cell_seeds(c, r["test"], q, r["seeds_alpha"], power) for c, q in zip(mine, rope)]
        r["seeds_needed"] = (
            float(max(needed))
            if r["verdict"] == INCONCLUSIVE and np.isfinite(r["seeds_alpha"]) and not np.isnan(needed).any()
            else np.nan
        )
    return out_cells, rows

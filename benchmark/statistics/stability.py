"""How stable a claim's verdict is: the predictive probability that a rerun with new seeds gives it again
(docs/statistics.md §1.16, issue 23).

A rerun draws new seeds for every cell of the paper's table, with the same number of seeds per cell. Its
cell statistics are drawn from their posterior predictive distribution under the noninformative prior
p(mu, sigma^2) ∝ 1/sigma^2 given the observed ones (Gelman et al. 2013, BDA3 §3.2; the predictive
probability of replication of Killeen 2005; Spiegelhalter, Abrams & Myles 2004): with the observed
gain g, standard error s and df nu,

    sigma_se^2 = s^2 · nu / X,  X ~ chi2(nu)          (the true standard error, scaled-inverse-chi2)
    g'  = g + sqrt(2) · sigma_se · Z                  (the true gain ~ N(g, sigma_se^2), the rerun's ~ N(true, .))
    s'^2 = sigma_se^2 · X' / nu,  X' ~ chi2(nu)       (the rerun's standard error)

per arm for an unpaired (Welch) cell, whose rerun df is Welch–Satterthwaite's again. Every draw is judged
by the rules of ``verdicts`` on arrays: the cells' p and simultaneous intervals, the claim p (largest cell p,
or the Bonferroni union), Holm over the paper's claims of that same draw (and the ablations' TOST family),
the ROPE rule. The stability of a claim is the share of draws whose verdict equals the observed one.
Zero-spread cells keep their exact permutation p (a rerun of a constant difference is constant again).
Draws are seeded (``numpy.random.default_rng(SEED)``), so a table is byte-identical on rerun.

Limits: the predictive probability averages over the posterior of the true effect, so it is calibrated on
average over effects spread as that posterior says, not for every fixed effect (Iverson, Lee & Wagenmakers
2009): at a true effect exactly on a boundary a rerun is a coin flip whatever the observed stability. It
ignores what seeds cannot vary (the dataset build, the test split; §1.1) and assumes normal seed noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

DRAWS, SEED, STABLE = 4000, 20_231, 0.8
# outcome codes of one claim; ``verdicts.OUTCOME`` names them per test
NONE, INCONCLUSIVE, POSITIVE, NEGLIGIBLE, RULED_OUT, NO_CHANGE = -1, 0, 1, 2, 3, 4


def cell_arrays(cells: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """The observed statistics a rerun is drawn from, one column per cell (``claim_cells.FIELDS`` rows)."""
    keys = ("gain", "se", "df", "n", "n_ref", "sd", "sd_ref", "p", "p_tost")
    out = {k: np.array([float(c.get(k, np.nan)) for c in cells]) for k in keys}
    out["welch"] = np.array([c.get("design") == "unpaired" for c in cells])
    out["fixed"] = np.array([bool(c.get("zero_spread")) or not float(c.get("se", 0) or 0) > 0 for c in cells])
    return out


def _variance(rng: np.random.Generator, shape: tuple[int, ...], s2: np.ndarray, nu: np.ndarray):
    """A true variance from its posterior (s2 · nu / chi2(nu)) and the rerun's estimate of it."""
    nu = np.where(nu > 0, nu, 1.0)
    true = s2 * nu / rng.chisquare(np.broadcast_to(nu, shape))
    return true, true * rng.chisquare(np.broadcast_to(nu, shape)) / nu


def draw(observed: Mapping[str, np.ndarray], draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``draws`` reruns of every cell (leading axis): their ``gain, se, df`` (see the module docstring)."""
    gain, se, df = observed["gain"], observed["se"], observed["df"]
    shape = (draws, *np.shape(gain))
    with np.errstate(invalid="ignore", divide="ignore"):
        true, rerun = _variance(rng, shape, se**2, df)
        ta, ra = _variance(rng, shape, observed["sd"] ** 2 / observed["n"], observed["n"] - 1)
        tb, rb = _variance(rng, shape, observed["sd_ref"] ** 2 / observed["n_ref"], observed["n_ref"] - 1)
        welch = observed["welch"] & np.isfinite(observed["sd"]) & np.isfinite(observed["sd_ref"])
        true, rerun = np.where(welch, ta + tb, true), np.where(welch, ra + rb, rerun)
        welch_df = (ra + rb) ** 2 / (ra**2 / (observed["n"] - 1) + rb**2 / (observed["n_ref"] - 1))
        out = {
            "gain": gain + np.sqrt(2 * true) * rng.standard_normal(shape),
            "se": np.sqrt(rerun),
            "df": np.where(welch, welch_df, np.broadcast_to(df, shape)),
        }
    fixed = np.broadcast_to(observed["fixed"], shape)
    return {k: np.where(fixed, np.broadcast_to(observed[k], shape), v) for k, v in out.items()}


def cell_tests(
    s: Mapping[str, np.ndarray], observed: Mapping[str, np.ndarray], tests: Sequence[str], ropes: np.ndarray, sim: float
) -> dict[str, np.ndarray]:
    """Each cell's p (one-sided t, TOST or two-sided t as ``claim_cells``), TOST p and simultaneous interval;
    zero-spread cells keep their observed (exact permutation) p and no interval."""
    gain, se, df = s["gain"], s["se"], s["df"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = gain / se
        tost = np.maximum(stats.t.sf((gain + ropes) / se, df), stats.t.cdf((gain - ropes) / se, df))
        kind = np.array(tests)
        p = np.where(kind == "superiority", stats.t.sf(t, df), 2 * stats.t.sf(np.abs(t), df))
        p = np.where(kind == "equivalence", tost, p)
        half = stats.t.ppf(1 - (1 - sim) / 2, df) * se
    fixed = observed["fixed"]
    return {
        "p": np.where(fixed, observed["p"], p),
        "p_tost": np.where(fixed, observed["p_tost"], tost),
        "low": np.where(fixed, np.nan, gain - half),
        "high": np.where(fixed, np.nan, gain + half),
    }


def holm_rows(p: np.ndarray) -> np.ndarray:
    """``multiple.holm`` along the last axis (NaN: out of the family), for every row of ``p`` at once."""
    p = np.asarray(p, dtype=float)
    finite = np.isfinite(p)
    order = np.argsort(np.where(finite, p, np.inf), axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    m = finite.sum(axis=-1, keepdims=True)
    factor = m - np.arange(p.shape[-1])
    adjusted = np.minimum(1.0, np.maximum.accumulate(np.where(np.isfinite(ranked), ranked * factor, np.inf), axis=-1))
    out = np.empty_like(p)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.where(finite, out, np.nan)


def decide(
    cells: Mapping[str, np.ndarray],
    members: Sequence[Sequence[int]],
    tests: Sequence[str],
    ropes: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """The outcome code of every claim (last axis) from its cells' tests (``cell_tests``), as ``verdicts._decide``
    decides it for the tested claims: intersection-union or union p, Holm over the claims, the ROPE rule."""
    p, tost, low, high = cells["p"], cells["p_tost"], cells["low"], cells["high"]
    claim_p, claim_tost = [], []
    for idx, test in zip(members, tests):
        mine = p[..., list(idx)]
        claim_p.append(np.minimum(1.0, len(idx) * mine.min(-1)) if test == "difference" else mine.max(-1))
        claim_tost.append(tost[..., list(idx)].max(-1) if test == "difference" else np.full(mine.shape[:-1], np.nan))
    p_holm, tost_holm = holm_rows(np.stack(claim_p, -1)), holm_rows(np.stack(claim_tost, -1))
    codes = []
    for j, (idx, test) in enumerate(zip(members, tests)):
        lo, hi, r = low[..., list(idx)], high[..., list(idx)], ropes[list(idx)]
        positive = p_holm[..., j] < alpha
        negligible = ((-r < lo) & (hi < r)).all(-1) & (test != "equivalence")
        if test == "superiority":
            ruled = (hi < r).any(-1)
        elif test == "equivalence":
            ruled = ((lo > r) | (hi < -r)).any(-1)
        else:
            ruled = np.zeros(positive.shape, bool)
        settled = np.where(tost_holm[..., j] < alpha, NO_CHANGE, INCONCLUSIVE)
        codes.append(
            np.where(positive, np.where(negligible, NEGLIGIBLE, POSITIVE), np.where(ruled, RULED_OUT, settled))
        )
    return np.stack(codes, -1)


def rerun_outcomes(
    cells: Sequence[Mapping[str, Any]],
    members: Sequence[Sequence[int]],
    tests: Sequence[str],
    ropes: Sequence[float],
    alpha: float,
    draws: int = DRAWS,
    seed: int = SEED,
) -> np.ndarray:
    """The outcome code of every claim in ``draws`` seeded reruns of the whole table (draws × claims);
    ``members`` lists each claim's cells, ``tests`` its test. ``draws=0``: the observed outcomes (claims)."""
    observed = cell_arrays(cells)
    cell_kinds = [tests[j] for j, idx in enumerate(members) for _ in idx]
    order = [i for idx in members for i in idx]
    kinds = np.empty(len(cells), dtype=object)
    kinds[order] = cell_kinds
    sim = 1 - alpha / max(1, len(cells))
    reruns = draw(observed, draws, np.random.default_rng(seed)) if draws else observed
    rope = np.asarray(ropes, dtype=float)
    return decide(cell_tests(reruns, observed, list(kinds), rope, sim), members, tests, rope, alpha)


def shares(outcomes: np.ndarray) -> list[dict[int, float]]:
    """Per claim (column), the share of the reruns giving each outcome code, largest first."""
    out = []
    for column in np.asarray(outcomes).T:
        codes, counts = np.unique(column, return_counts=True)
        ranked = sorted(zip(codes.tolist(), (counts / column.size).tolist()), key=lambda x: (-x[1], x[0]))
        out.append(dict(ranked))
    return out

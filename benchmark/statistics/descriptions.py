"""What every statistical result states once: its test and library function, the unit of replication, the
correction, α and the reference (docs/statistics.md §1.15-1.16).

A result of this layer carries its descriptions (``FamilyResult.tests``; ``verdicts.VERDICT_TESTS`` for
the claims), and every renderer (the study's Markdown and TeX, the leaderboard pages, the claims tables
and results/README.md, a submission's claim, the figure captions) prints ``TestDescription.text`` or
``short`` instead of its own prose, so a change of a test is a change of one description here. The record
type, ``TestDescription``, is in ``description``, the across-cell tests with their minimum of cells in
``across_descriptions`` (both imported from here as before).
"""

from __future__ import annotations

import math
from typing import Any

from .across_descriptions import ACROSS_CELLS, BAYES, FRIEDMAN, IMPROVEMENT, IQM, MEAN_RANK, PAIRWISE, POOLED
from .description import TestDescription
from .stability import DRAWS, STABLE


def p_text(p: Any) -> str:
    """A p-value as every report prints it: 3 decimals, or 1 significant digit in e-notation below 0.001."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(value):
        return "–"
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


# --- a family of a study (statistics.family.analyze) --------------------------------------------------------

PER_CELL = TestDescription(
    name="paired t-test (the exact sign-flip test where every pair differs by the same amount; every "
    "difference 0: identical runs)",
    function="scipy.stats.ttest_rel",
    unit="the seeds of a cell (dataset × arch), each method paired with the baseline by seed",
    correction="Benjamini–Hochberg over every cell × method comparison of the family "
    "(`statsmodels multipletests('fdr_bh')`)",
    reference="Benjamini & Hochberg 1995",
    short="paired t-test per cell, BH",
)
EQUIVALENCE = TestDescription(
    name="two one-sided paired t-tests within ±ROPE (TOST)",
    function="statsmodels.stats.weightstats.ttost_paired",
    unit="the seeds of a cell, paired by seed",
    correction="Benjamini–Hochberg over the family's comparisons",
    reference="Schuirmann 1987; Lakens 2017",
    short="TOST within the ROPE, BH",
)
FAMILY_TESTS = {
    "per_cell": PER_CELL,
    "equivalence": EQUIVALENCE,
    "across_cells": ACROSS_CELLS,
    "pairwise": PAIRWISE,
    "friedman": FRIEDMAN,
    "mean_rank": MEAN_RANK,
    "bayes": BAYES,
    "pooled": POOLED,
    "iqm": IQM,
    "improvement": IMPROVEMENT,
}


def family_tests(alpha: float) -> dict[str, TestDescription]:
    """The tests of one family at significance level ``alpha`` (read at call time, so a changed description
    reaches every result made after it)."""
    return {key: test.at(alpha) for key, test in FAMILY_TESTS.items()}


# --- consistency across runs (statistics.consistency) -------------------------------------------------------

JACKKNIFE_REFERENCE = "Quenouille 1956; Tukey 1958; Arvesen 1969; Efron & Stein 1981; docs/statistics.md §2.2"
CONSISTENCY_INTERVAL = TestDescription(
    name="95% t-interval of the leave-one-seed-out jackknife of a method's mean pairwise consistency "
    "(a U-statistic over run pairs; constant maps score 0), cut to the measure's range",
    function="scipy.stats.ttest_1samp(...).confidence_interval on the jackknife pseudo-values",
    unit="the method's runs (seeds; m - 1 df, n.a. below 3 runs); the probe images are fixed",
    correction="none (one interval per method, cell, split and attribution)",
    reference=JACKKNIFE_REFERENCE,
    short="jackknife t-interval over runs",
)
CONSISTENCY = TestDescription(
    name="two-sided paired jackknife t-test of the difference in mean pairwise Spearman consistency",
    function="scipy.stats.ttest_1samp on the paired leave-one-seed-out pseudo-values",
    unit="the seeds both methods have (runs paired by seed; m - 1 df, n.a. below 3); the probe images are fixed",
    correction="Holm over the method pairs of each cell, split and attribution",
    reference=JACKKNIFE_REFERENCE,
    short="paired jackknife t over seeds, Holm",
)
CONSISTENCY_TESTS = {"interval": CONSISTENCY_INTERVAL, "comparison": CONSISTENCY}


def consistency_tests(alpha: float) -> dict[str, TestDescription]:
    """The consistency tests at ``alpha`` (read at call time, like ``family_tests``)."""
    return {key: test.at(alpha) for key, test in CONSISTENCY_TESTS.items()}


# --- a paper's claims (statistics.verdicts) ----------------------------------------------------------------

CLAIM_CORRECTION = "Holm over the paper's claims (`statsmodels multipletests('holm')`)"
SEEDS = (
    "the seeds of each cell: the method paired with its reference by seed; across datasets each side's seeds (Welch)"
)
VERDICT_TESTS = {
    "superiority": TestDescription(
        name="one-sided paired t-test (H1: gain > 0) per cell (Welch's t, unpaired, across datasets); "
        "claim p = the largest cell p (intersection-union: every cell must show it)",
        function="scipy.stats.ttest_rel / scipy.stats.ttest_ind(equal_var=False)",
        unit=SEEDS,
        correction=CLAIM_CORRECTION,
        reference="Berger 1982; Berger & Hsu 1996; Welch 1947; Holm 1979",
        short="one-sided paired t (H1: gain > 0), every cell",
    ),
    "equivalence": TestDescription(
        name="two one-sided t-tests within ±ROPE (TOST) per cell, paired (Welch across datasets); claim p = the "
        "largest cell p (intersection-union)",
        function="statsmodels.stats.weightstats.ttost_paired / ttost_ind(usevar='unequal')",
        unit=SEEDS,
        correction=CLAIM_CORRECTION,
        reference="Schuirmann 1987; Lakens 2017; Berger & Hsu 1996",
        short="TOST within ±ROPE, every cell",
    ),
    "difference": TestDescription(
        name="two-sided paired t-test per cell; claim p = min(1, cells × smallest cell p) (Bonferroni union: "
        "does the choice change anything?); no practical difference = every cell's TOST (largest TOST p)",
        function="scipy.stats.ttest_rel; statsmodels.stats.weightstats.ttost_paired",
        unit=SEEDS,
        correction=CLAIM_CORRECTION + "; the ablations' TOST p a second Holm family",
        reference="Holm 1979; Lakens 2017; Berger & Hsu 1996",
        short="two-sided paired t, any cell (and TOST, every cell)",
    ),
}
VERDICT_RULES = {
    "intervals": TestDescription(
        name="simultaneous t-intervals of the gain (superiority and difference cells; Welch–Satterthwaite across "
        "datasets); equivalence cells show the 90% interval of a TOST at α = 0.05",
        function="scipy.stats.t.interval at two-sided level 1 − α/R",
        unit="the seeds of each cell",
        correction="Bonferroni over the R cells of the paper's table",
        reference="Dunn 1961; Lakens 2017",
        short="simultaneous 1 − α/R intervals",
    ),
    "negligible": TestDescription(
        name="ROPE decision rule: a significant claim whose every simultaneous interval lies inside ±ROPE is "
        "*significant but negligible*; one lying below +ROPE (or outside ±ROPE, equivalence) rules the claim out",
        function="statistics.verdicts.judge",
        unit="the cells of a claim",
        correction="the simultaneous intervals above",
        reference="Kruschke 2018; Lakens, Scheel & Isager 2018",
        short="ROPE rule on simultaneous intervals",
    ),
    "degenerate": TestDescription(
        name="exact permutation test where the t statistic is undefined (every pair differs by the same amount: "
        "sign flips, one-sided p = 1/2^n; both arms constant: relabellings); every difference 0 is "
        "*identical runs*, no verdict",
        function="scipy.stats.permutation_test(n_resamples=inf)",
        unit="the seeds of a cell",
        correction="as the cell's claim",
        reference="Fisher 1935",
        short="exact permutation test at zero spread",
    ),
    "seeds": TestDescription(
        name="seeds to settle an inconclusive claim: 80% power against a one-ROPE effect for the test used "
        "(one-sided paired t, TOST, two-sided t at α/cells, Welch per arm), at the Holm step of the claim's rank, "
        "with the safeguard SD (upper bound of the SD's two-sided 60% interval); never the observed effect",
        function="statsmodels.stats.power.TTestPower / TTestIndPower; TOST power of Chow, Shao & Wang",
        unit="seeds per cell (paired seeds; seeds per arm when unpaired)",
        correction="α of the claim's Holm step, α/(m − rank + 1)",
        reference="Perugini, Gallucci & Costantini 2014; Colas et al. 2018",
        short="seeds for 80% power at one ROPE, safeguard SD",
    ),
    "stability": TestDescription(
        name=f"stability: the share of {DRAWS} seeded reruns of the whole table (new seeds, the same number per cell) "
        "that give the claim's verdict again, each rerun's cell gain and SD drawn from their posterior predictive "
        "under a noninformative prior and judged by the rules above; a reproduced, not reproduced, negligible, "
        f"changes or no-difference verdict below {STABLE} is *inconclusive (unstable)*",
        function="statistics.stability.rerun_outcomes (numpy default_rng, fixed seed; scipy.stats.t)",
        unit="the seeds of each cell (the rerun keeps each cell's count)",
        correction="each rerun is judged with the same Holm families and simultaneous intervals",
        reference="Gelman et al. 2013 (BDA3 §3.2); Spiegelhalter, Abrams & Myles 2004; Killeen 2005; "
        "Iverson, Lee & Wagenmakers 2009; Anderson & Maxwell 2016",
        short=f"predictive stability of the verdict ≥ {STABLE}",
    ),
    "sequential": TestDescription(
        name="group-sequential seeds (`settle`): a row not decisive and stable at a look gets the study's next seeds "
        "(3 a look, both sides paired by seed, up to the declared maximum per cell) and is judged again; every look "
        "runs the rules above with α replaced by its nominal level from O'Brien–Fleming-type α spending, "
        "2 · (2 − 2Φ(z_{1−α/4}/√t)) at information t = seeds / maximum, with exact boundaries for the correlated "
        "looks (corr √(t_i/t_j)); the stability is checked again at every look",
        function="statistics.sequential.boundaries (scipy.stats.multivariate_normal.cdf, scipy.optimize.brentq)",
        unit="the seeds of each cell, look by look",
        correction="α spent over the looks of each row (overall α over all looks), Holm over the claims at each look",
        reference="Lan & DeMets 1983; DeMets & Lan 1994; Jennison & Turnbull 2000; docs/statistics.md §1.18",
        short="O'Brien–Fleming-type α spending over looks",
    ),
}


def verdict_tests(alpha: float) -> dict[str, TestDescription]:
    """The claims' tests and verdict rules at ``alpha`` (read at call time, like ``family_tests``)."""
    return {key: test.at(alpha) for key, test in {**VERDICT_TESTS, **VERDICT_RULES}.items()}


CONSISTENCY_CLAIM = TestDescription(
    name="the claim's test (one-sided t, TOST or two-sided t) on the leave-one-seed-out jackknife pseudo-values "
    "of the mean pairwise Spearman consistency",
    function="scipy.stats.ttest_rel on the two sides' pseudo-values",
    unit="the seeds both sides have (runs paired by seed; m - 1 df, n.a. below 3); the probe images are fixed",
    correction=CLAIM_CORRECTION,
    reference=JACKKNIFE_REFERENCE,
    short="jackknife t over paired seeds",
)


# --- a rerun against the committed results (reports.replication; issue 23) ----------------------------------------

REPLICATION = TestDescription(
    name="replication check, no test: the fresh claims-cell gain counted inside or outside the committed cell's "
    "interval (simultaneous 1 − α/R, or the TOST's 90%); a same-level interval captures a replication's estimate "
    "less often than its level says (about 83% for a 95% interval), so an outside gain is a flag, not a failure",
    function="numpy comparison of the stored numbers",
    unit="a claims cell, rerun over all its seeds",
    correction="none (a count over the cells, printed beside the per-seed equality and the verdict changes)",
    reference="Cumming & Maillardet 2006; docs/statistics.md §1.17",
    short="fresh gain inside the committed interval",
)


# --- a submission's sentinel re-run (submission.rerun; issue 24) --------------------------------------------------

SENTINEL_RERUN = TestDescription(
    name="sentinel re-run, no test: K of the bundle's N runs drawn without replacement (seed: sha256 of the "
    "bundle and a salt the maintainer draws after the submission), each retrained from its recorded config and "
    "compared with its record: on CPU the weights digest and every metric exactly, on GPU every metric within "
    "a stated tolerance; one edited run is drawn with probability K/N",
    function="numpy.random.Generator.choice(N, K, replace=False); scipy.stats.hypergeom for the chance of "
    "drawing an edited run",
    unit="the bundle's runs (a study × cell × seed each)",
    correction="none (any mismatch fails the bundle)",
    reference="MLCommons, General MLPerf Submission Rules, source code requirements for replication; "
    "docs/statistics.md §1.19",
    short="sentinel re-run of K drawn runs, exact on CPU",
)

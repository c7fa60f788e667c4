"""The across-cell statistics of a family as every report states them, each with its minimum of cells and why
(``descriptions.FAMILY_TESTS`` gathers them; docs/statistics.md §1.2-1.6, §1.13; ``gates``), and the tests of the
across-cell leaderboard (``BOARD_TESTS``, docs/statistics.md §1.20)."""

from __future__ import annotations

from .bayes import DECISION, MIN_CELLS, PRIOR, lowest_best
from .description import TestDescription
from .gates import MIN_IQM_CELLS, MIN_RANK_CELLS

WILCOXON_CELLS = "the smallest exact two-sided p with N cells, 2/2^N, is below 0.05 only from 6 cells"  # MIN_RANK_CELLS = power.MIN_WILCOXON_N
ACROSS_CELLS = TestDescription(
    name="Wilcoxon signed-rank test over cell means",
    function="scipy.stats.wilcoxon",
    unit="the cells (each cell's mean over seeds is one pair with the baseline's)",
    correction="Holm over the methods compared with the baseline (`statsmodels multipletests('holm')`)",
    reference="Demšar 2006",
    short="Wilcoxon–Holm over cells",
    min_cells=MIN_RANK_CELLS,
    min_reason=WILCOXON_CELLS,
)
PAIRWISE = TestDescription(
    name="Wilcoxon signed-rank test over cell means, every pair of methods",
    function="scipy.stats.wilcoxon",
    unit="the complete cells",
    correction="Holm over all pairs (`statsmodels multipletests('holm')`)",
    reference="Demšar 2006; Benavoli, Corani & Mangili 2016",
    short="Wilcoxon–Holm over cells",
    min_cells=MIN_RANK_CELLS,
    min_reason=WILCOXON_CELLS + "; the CD diagram and its group letters are drawn only then, when every pair of "
    "ranked methods is tested, never for pairs that were not",
)
FRIEDMAN = TestDescription(
    name="Friedman test with the Iman–Davenport F",
    function="scipy.stats.friedmanchisquare",
    unit="the complete cells (ranks of the methods within each cell)",
    correction="none (one omnibus test per family)",
    reference="Demšar 2006",
    short="Friedman / Iman–Davenport",
    min_reason="N cells whose smallest exact p, (k!)^(1−N), reaches α: 3 cells for 3 methods, 2 for more",
)
MEAN_RANK = TestDescription(
    name="mean rank with a Student t interval over cells",
    function="scipy.stats.t.interval",
    unit="the complete cells (each method's rank within a cell, 1 = best)",
    correction="none (one interval per method)",
    reference="Demšar 2006",
    short="mean rank, t interval over cells",
    min_cells=MIN_RANK_CELLS,
    min_reason="as for the Wilcoxon over cells: with fewer, no rank test separates two methods and an interval "
    "would suggest a precision they do not have",
)
BAYES = TestDescription(
    name="Bayesian signed-rank test with the family's ROPE",
    function="baycomp's sampler",
    unit="the cells (cell means)",
    correction="none (posterior probabilities)",
    reference="Benavoli et al. 2014, 2017",
    short="Bayesian signed-rank",
    min_cells=MIN_CELLS,
    min_reason=f"the fewest cells at which P(better) can pass {DECISION:g} wherever the prior's pseudo-observation "
    f"(weight {PRIOR:g}) lies ({lowest_best(MIN_CELLS - 1):.2f} at {MIN_CELLS - 1}); with one cell the test "
    "returns its prior, 0.84 whatever the data",
)
POOLED = TestDescription(
    name="pooled paired difference Δ and normalized mean gain, Welch–Satterthwaite t interval",
    function="scipy.stats.t.ppf",
    unit="the seeds, paired by seed within each cell (the cells fixed)",
    correction="none (one interval per method)",
    reference="Satterthwaite 1946; Welch 1947",
    short="pooled Δ, Welch–Satterthwaite t",
    min_cells=1,
    min_reason="the seeds are the units (coverage 94.5–96% at 5 seeds per cell, simulated; at least 2 seeds a cell)",
)
IQM = TestDescription(
    name="IQM of the normalized gains, t interval from its stratified-bootstrap SE (seeds spread by √(n/(n−1)))",
    function="scipy.stats.trim_mean(g, 0.25)",
    unit="the seeds, resampled within each cell, paired",
    correction="none (one interval per method)",
    reference="Agarwal et al. 2021; Davison & Hinkley 1997",
    short="IQM, stratified bootstrap",
    min_cells=MIN_IQM_CELLS,
    min_reason="the IQM discards an outlying cell only when its runs fit in the trimmed quarter (4 cells), and its "
    "interval covers ≥ 93% at 5 seeds only from 10 cells (simulated: 92.5% at 6)",
)
IMPROVEMENT = TestDescription(
    name="paired probability of improvement, Clopper–Pearson interval on the effective seeds",
    function="scipy.stats.beta.ppf",
    unit="the seeds, paired by seed within each cell (the cells fixed)",
    correction="none (one interval per method)",
    reference="Bouthillier et al. 2021; Korn & Graubard 1998",
    short="P(improvement), Clopper–Pearson",
    min_cells=1,
    min_reason="the seeds are the units (conservative when cells differ: Hoeffding 1956)",
)

# --- the across-cell leaderboard (statistics.gap_closed; `python -m benchmark board`) ------------------------

REFERENCE_GAP = TestDescription(
    name="one-sided Welch t-test that the no-shortcut reference beats ERM in the cell, with the gap ≥ the ROPE",
    function="scipy.stats.ttest_ind(equal_var=False)",
    unit="the seeds of the reference's and ERM's runs in the cell (unpaired)",
    correction="none (a cell failing it is left out of the score, kept in the raw table with its reason)",
    reference="Welch 1947",
    short="reference > ERM, Welch",
)
GAP_CLOSED = TestDescription(
    name="IQM of the gap closed, (method − ERM) / (reference − ERM) per cell and seed, t interval from its "
    "stratified-bootstrap SE (seeds spread by √(n/(n−1)); method and ERM paired, the reference resampled too)",
    function="scipy.stats.trim_mean(g, 0.25)",
    unit="the seeds within each cell, resampled within the cell (the cells fixed)",
    correction="Bonferroni over the K ranked rows (each interval at confidence 1 − α/K, so they hold together)",
    reference="Agarwal et al. 2021; Davison & Hinkley 1997",
    short="gap closed, IQM, stratified bootstrap, Bonferroni",
    min_cells=1,
    min_reason="the seeds are the units (simulated coverage at 6 cells × 5 seeds with an estimated reference: "
    "95.7% at 95%, 4 rows together 96.4% at 1 − 0.05/4)",
)
BOARD_RANK = TestDescription(
    name="mean rank of the per-cell mean gap closed with a Student t interval over cells",
    function="scipy.stats.t.interval",
    unit="the usable cells (each row's rank within a cell, 1 = best)",
    correction="none (one interval per row)",
    reference="Demšar 2006",
    short="mean rank, t interval over cells",
    min_cells=MIN_RANK_CELLS,
    min_reason=MEAN_RANK.min_reason,
)
BOARD_TESTS = {
    "reference_gap": REFERENCE_GAP,
    "gap_closed": GAP_CLOSED,
    "mean_rank": BOARD_RANK,
    "friedman": FRIEDMAN,
    "pairwise": PAIRWISE,
}


def board_tests(alpha: float) -> dict[str, TestDescription]:
    """The tests of the across-cell leaderboard (``statistics.gap_closed``) at ``alpha``, read at call time."""
    return {key: test.at(alpha) for key, test in BOARD_TESTS.items()}

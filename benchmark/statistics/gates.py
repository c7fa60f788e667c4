"""The fewest cells an across-cell statistic needs, and the words a table prints instead (docs/statistics.md
§1.2-1.6, §1.14).

Below its minimum a statistic is not computed; every table, page and figure prints ``too_few(N, K)``,
"n.a. (N cells < K)", in its place. The minimum of each statistic, with its reason and reference, is stated
once in its ``descriptions.TestDescription`` (``min_cells``, ``min_reason``):

- the Wilcoxon signed-rank over cells, its Holm matrix, the CD diagram and its group letters, and the mean-rank
  interval: ``MIN_RANK_CELLS`` = 6, the fewest cells whose smallest exact two-sided Wilcoxon p, 2/2^N, is
  below 0.05 (Demšar 2006); below it no pair can be separated, and a diagram would join pairs never tested;
- the Bayesian signed-rank test: ``bayes.MIN_CELLS`` = 6 (computed there from its prior);
- the IQM of the normalized gains: ``MIN_IQM_CELLS`` = 6 (Agarwal et al. 2021; see ``aggregate``);
- the Friedman test: its own rule, (k!)^(1-N) <= alpha (``across.friedman``).

The pooled Δ, the mean gain and the probability of improvement have the seeds as their units (``pooled``) and
need no minimum number of cells.
"""

from __future__ import annotations

from .power import MIN_WILCOXON_N

MIN_RANK_CELLS = MIN_WILCOXON_N
MIN_IQM_CELLS = 10


def too_few(n: int, k: int) -> str:
    """``"n.a. (N cells < K)"`` when ``n < k``, else ``""``."""
    return f"n.a. ({n} cells < {k})" if n < k else ""

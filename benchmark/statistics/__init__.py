"""Statistics layer: pure functions over numpy arrays and tidy frames (docs/statistics.md part 1, §2.2-2.3).

Sits between ``records`` (which hands it a tidy score table) and ``reports`` (which renders what it
returns); it imports neither, nor ``sweeps``/``cli``/``runs``. Modules, one job each:

- ``orient``: family keys ("SPLIT/METRIC"), direction and ROPE from ``saliency.metrics``, oriented ranks;
- ``frames``: tidy scores -> a family's rows, a (method, cell, seed) cube, cell x method means;
- ``descriptive``: per cell mean, SD, n, t-interval;
- ``paired``: within a cell, each method vs the baseline (t, Wilcoxon, d_z, rho, power, TOST, BH, W/T/L);
- ``exact``: exact permutation tests where the t statistic is undefined (zero spread);
- ``multiple``: Holm and BH (``multipletests``), markers from adjusted p;
- ``power``: seeds needed for one ROPE (safeguard SD; paired t, Welch, TOST), smallest attainable Wilcoxon p;
- ``across``: mean ranks (t interval over cells), Friedman/Iman–Davenport, pairwise Wilcoxon + Holm, CD matrix;
- ``aggregate``: normalized gain (mean, IQM) and probability of improvement pooled over cells;
- ``gap_closed``: the across-cell board's score, the fraction of the shortcut gap closed (IQM, Bonferroni
  simultaneous bootstrap interval), usable cells, one row per distinct set of runs;
- ``pooled``: intervals of a number pooled over cells with the seeds as units (Welch–Satterthwaite t,
  Clopper–Pearson), their coverage checked by simulation;
- ``gates``: the fewest cells each across-cell statistic needs, "n.a. (N cells < K)" below;
- ``bayes``: Bayesian signed-rank with a ROPE (baycomp's sampler, vectorized), from 6 cells;
- ``description``, ``descriptions``, ``across_descriptions``: every test as the reports state it;
- ``bootstrap``: seeded vectorized resampling (10,000 repetitions by default);
- ``consistency``: saliency consistency across runs (Spearman, Pearson, top-10% IoU of run pairs; jackknife over runs);
- ``family``: everything for one family, and its leaderboard;
- ``claim_cells``: one cell of a paper's claim (paired t, or Welch across datasets; TOST);
- ``verdicts``: a paper's claims judged (intersection-union / union, Holm, simultaneous intervals, verdicts).
- ``fronts``: Pareto fronts over guidance strength, 2-D hypervolume per seed, its paired test with Holm per cell.
"""

from .family import FamilyResult, analyze, leaderboard

__all__ = ["FamilyResult", "analyze", "leaderboard"]

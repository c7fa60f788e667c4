"""Time of the statistics layer on a full-size synthetic study (skipped by default; ``make benchmark``).

Study: 10 methods x 20 cells x 10 paired seeds, one metric family. (1) ``statistics.analyze`` with
its defaults: 10,000 bootstrap repetitions for every interval (mean ranks, aggregate gain, PoI),
50,000 posterior draws per Bayesian signed-rank test. (2) Saliency consistency of one attribution:
per method and cell the Spearman / Pearson / top-10% IoU of every pair of the 10 runs' maps of 64
probe images of 28x28 (stored as float16, like the records), its jackknife t-interval over the runs
and the paired jackknife t comparison of the 10 methods by seed (45 pairs, Holm) per cell.
Targets: < 10 s each on 2 CPU cores. Map generation is outside the timing. The load average is
printed with the numbers because the machine may be shared.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from benchmark.statistics import analyze
from benchmark.statistics.bootstrap import REPS
from benchmark.statistics.consistency import compare, run_kernel, summarize
from benchmark.statistics.map_similarity import pair_similarities

METHODS, CELLS, SEEDS, IMAGES, SIZE = 10, 20, 10, 64, 28
TARGET_SECONDS = 10.0


def synthetic_scores() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    level = rng.normal(0.8, 0.05, (1, CELLS, 1))
    seed_effect = rng.normal(0, 0.01, (1, CELLS, SEEDS))
    effect = np.linspace(0, 0.01, METHODS)[:, None, None]
    values = level + seed_effect + effect + rng.normal(0, 0.005, (METHODS, CELLS, SEEDS))
    m, c, s = np.meshgrid(np.arange(METHODS), np.arange(CELLS), np.arange(SEEDS), indexing="ij")
    names = np.array(["erm"] + [f"method{i}" for i in range(1, METHODS)])
    return pd.DataFrame(
        {
            "method": names[m.ravel()],
            "arch": "simple_cnn",
            "dataset": [f"data{i}" for i in c.ravel()],
            "seed": s.ravel(),
            "split": "test",
            "metric": "accuracy",
            "value": values.ravel(),
        }
    )


def synthetic_maps() -> list[list[np.ndarray]]:
    """maps[cell][method]: (runs, images, 28, 28) float16, a shared pattern plus method-specific noise."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(CELLS):
        pattern = rng.random((1, IMAGES, SIZE, SIZE), dtype=np.float32)
        out.append(
            [
                (pattern + (0.2 + 0.1 * m) * rng.random((SEEDS, IMAGES, SIZE, SIZE), dtype=np.float32)).astype(
                    np.float16
                )
                for m in range(METHODS)
            ]
        )
    return out


def _report(capsys, title: str, seconds: float, extra: str) -> None:
    with capsys.disabled():
        print(
            f"\n{title}: {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s); {extra}; "
            f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs"
        )


def test_statistics_of_a_study(benchmark, capsys):
    scores = synthetic_scores()
    seconds: list[float] = []

    def run():
        start = time.perf_counter()
        result = analyze(scores, "test/accuracy", "erm")
        seconds.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    assert result.reps == REPS and len(result.leaderboard) == METHODS
    benchmark.extra_info.update(
        {"bootstrap_reps": REPS, "bayes_samples": 50_000, "seconds": seconds, "loadavg": os.getloadavg()}
    )
    _report(
        capsys,
        f"statistics, {METHODS} methods x {CELLS} cells x {SEEDS} seeds",
        min(seconds),
        f"rounds {', '.join(f'{s:.2f}' for s in seconds)}; {REPS} bootstrap reps, 50000 Bayesian draws",
    )
    assert min(seconds) < TARGET_SECONDS


def test_consistency_of_a_study(benchmark, capsys):
    maps = synthetic_maps()
    seconds: list[float] = []

    def run():
        start = time.perf_counter()
        summaries, comparisons = [], []
        for cell in maps:
            per_method = {f"m{m}": pair_similarities(cell[m]) for m in range(METHODS)}
            summaries += [summarize(v) for v in per_method.values()]
            seeds = list(range(SEEDS))
            comparisons.append(compare({k: (seeds, run_kernel(v["spearman"])) for k, v in per_method.items()}))
        seconds.append(time.perf_counter() - start)
        return summaries, comparisons

    summaries, comparisons = benchmark.pedantic(run, rounds=2, iterations=1)
    assert len(summaries) == METHODS * CELLS and all(len(c) == 45 for c in comparisons)
    benchmark.extra_info.update({"seconds": seconds, "loadavg": os.getloadavg()})
    _report(
        capsys,
        f"consistency, {METHODS * CELLS} method-cells x {SEEDS} runs x {IMAGES} maps of {SIZE}x{SIZE}",
        min(seconds),
        f"rounds {', '.join(f'{s:.2f}' for s in seconds)}; jackknife over runs",
    )
    assert min(seconds) < TARGET_SECONDS

"""Summaries of the timed rounds: median and IQR of the step time, and the ratio to ERM with a
seeded bootstrap confidence interval.

The ratio is the median over rounds of the per-round ratio (a round times ERM and the method
side by side, so the machine's drift between rounds cancels); its 95% CI is
``scipy.stats.bootstrap`` over rounds (BCa, the project's default; the percentile interval when
BCa is undefined, e.g. identical values, or leaves out the estimate, as its bias correction can
with a few rounds), seeded.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BASELINE = "erm"  # the method every ratio divides by
TARGET = 1.2  # measured/theoretical ratio to ERM at or below which a method is "as cheap as declared"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Spread:
    median: float
    q25: float
    q75: float


def spread(values: Sequence[float]) -> Spread:
    """Median and quartiles (numpy's linear interpolation)."""
    q25, median, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return Spread(float(median), float(q25), float(q75))


@dataclass(frozen=True)
class Ratio:
    value: float
    low: float
    high: float


def ratio_to_baseline(times: Sequence[float], baseline: Sequence[float], reps: int, seed: int) -> Ratio:
    """Median of the per-round ratios ``times[r] / baseline[r]`` and its bootstrap CI (see the module
    docstring). One round gives the point as its own interval."""
    ratios = np.asarray(times, dtype=float) / np.asarray(baseline, dtype=float)
    value = float(np.median(ratios))
    if len(ratios) < 2 or np.ptp(ratios) == 0:
        return Ratio(value, value, value)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a degenerate BCa warns and returns nan: the fallback takes over
            ci = stats.bootstrap(
                (ratios,),
                np.median,
                n_resamples=reps,
                confidence_level=CONFIDENCE,
                method=method,
                rng=np.random.default_rng(seed),
            ).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high) and ci.low <= value <= ci.high:
            return Ratio(value, float(ci.low), float(ci.high))
    return Ratio(value, float(ratios.min()), float(ratios.max()))


def method_order(methods: Sequence[str]) -> list[str]:
    """The baseline (ERM) first, then ``methods`` in their order, once each."""
    return list(dict.fromkeys([BASELINE, *methods]))


def within_target(measured_over_theoretical: float, target: float = TARGET) -> bool:
    """Whether a method's measured ratio is at most ``target`` times what its cost predicts."""
    return measured_over_theoretical <= target

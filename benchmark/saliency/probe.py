"""The fixed, seed-independent image subsets on which every run's saliency is evaluated.

For each (dataset, split) one class-balanced order of the split's images is drawn from a
stream keyed by the dataset and split names only, never by the run's seed or method: every
run of a dataset evaluates the same images, and its probe set (whose maps are saved for the
consistency-across-runs analysis) is the first ``probe_size`` of them. Because the probe is
a prefix of the evaluated subset, its maps cost nothing extra.
"""

from __future__ import annotations

import numpy as np

from ..seeding import derive_seed


def balanced_order(labels: np.ndarray, dataset: str, split: str) -> np.ndarray:
    """All indices of ``labels`` in an order whose every prefix is as class-balanced as possible.

    Each class is shuffled; the i-th image of every class comes before the (i+1)-th of any
    class, and classes take turns in a shuffled order within one round.
    """
    rng = np.random.default_rng(derive_seed("saliency-probe", dataset, split))
    labels = np.asarray(labels)
    classes = np.unique(labels)
    class_rank = rng.permutation(len(classes))  # which class goes first in each round
    round_of = np.empty(len(labels), dtype=np.int64)
    turn_of = np.empty(len(labels), dtype=np.int64)
    for position, cls in enumerate(classes):  # a loop over classes, not samples
        members = np.flatnonzero(labels == cls)
        round_of[members[rng.permutation(len(members))]] = np.arange(len(members))
        turn_of[members] = class_rank[position]
    return np.lexsort((turn_of, round_of))


def subset(labels: np.ndarray, dataset: str, split: str, size: int) -> np.ndarray:
    """The first ``size`` indices of ``balanced_order`` (all of them when the split is smaller)."""
    return balanced_order(labels, dataset, split)[:size]

"""What varies between the runs inside an interval, read from their records (docs/statistics.md §1.5).

One run seed derives the initial weights (seed, dataset, arch), the data order (seed, dataset, epoch) and
the method's own noise (seed, method, epoch); with ``split: per_seed`` it also redraws the train/val
partition (``data.resplit``). The test splits and the hyperparameters never vary with the seed.
Bouthillier et al. (MLSys 2021) ask every benchmark to say which of these sources its intervals carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SEEDED = "initialisation, data order and the method's own noise"
REDRAWN = "the train/val split (redrawn per seed, the same for every method of a seed)"
FIXED = "the train/val split is fixed"


def split_modes(configs: Iterable[Mapping[str, Any]]) -> set[str]:
    """The ``split`` settings of the runs' resolved configs (a record without one: ``fixed``)."""
    return {str(config.get("split", "fixed")) for config in configs}


def sources_text(configs: Iterable[Mapping[str, Any]]) -> str:
    """One sentence: which sources vary over the seeds of these runs."""
    modes = split_modes(configs)
    if modes == {"per_seed"}:
        return f"over seeds: {SEEDED}, and {REDRAWN}; the test split is fixed"
    if modes <= {"fixed"}:
        return f"over seeds: {SEEDED}; {FIXED}, as is the test split"
    return f"over seeds: {SEEDED}; the train/val split is redrawn per seed in some runs and fixed in others"

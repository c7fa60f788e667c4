"""Redrawing the train/validation partition per seed (docs/datasets.md, "Which sources vary").

A fixed train/val split hides one of the largest sources of variance between trainings: which
examples are trained on (Bouthillier et al., "Accounting for Variance in Machine Learning
Benchmarks", MLSys 2021, sec. 3-4). A study with ``split: per_seed`` trains seed s on a partition
of the pooled train and validation rows drawn from (s, dataset) only, so every method of seed s
sees the same partition (the comparison stays paired) and the test splits never move.

The draw is stratified by (class, annotated): the new train split has exactly the fixed split's
count of each class among annotated and among unannotated rows, and so does the new validation
split; only which rows fill them changes. Every per-row array (images, labels, annotations,
extras) moves with its row (``Split.take``: an annotated row's map with it).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..contracts import ContractError, DatasetBundle, Split

SPLITS = ("fixed", "per_seed")  # the run setting ``split``: the built partition, or a redraw per seed


def _strata(split: Split) -> np.ndarray:
    """Per row, a stratum id: 2 * class + annotated (annotated is False without annotations)."""
    annotated = split.annotated if split.annotated is not None else np.zeros(len(split), dtype=bool)
    return 2 * split.y.astype(np.int64) + annotated.astype(np.int64)


def partition(train: Split, val: Split, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row indices into the pooled (train then val) rows for a new train and val split, stratified by
    (class, annotated) with the fixed split's counts; each index array is sorted (rows keep their order)."""
    strata = np.concatenate([_strata(train), _strata(val)])
    train_counts = np.bincount(_strata(train), minlength=int(strata.max()) + 1)
    chosen = []
    for stratum in np.flatnonzero(train_counts):
        members = np.flatnonzero(strata == stratum)
        chosen.append(rng.permutation(members)[: train_counts[stratum]])
    new_train = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    new_val = np.setdiff1d(np.arange(strata.size), new_train)
    return new_train, new_val


def redraw(bundle: DatasetBundle, seed: int) -> tuple[DatasetBundle, dict[str, str]]:
    """``bundle`` with its train and val rows repartitioned by ``seed`` (a ``derive_seed`` of the run's
    seed and dataset), and the sha256 of each new split's row indices into the pooled rows (for the record).
    The two splits must hold the same arrays (else one ContractError naming them)."""
    train, val = bundle.splits["train"], bundle.splits["val"]
    a, b = train.arrays(), val.arrays()
    if sorted(a) != sorted(b):
        raise ContractError(
            f"split: per_seed pools the train and val rows, which must hold the same arrays; "
            f"train has {sorted(a)}, val has {sorted(b)}"
        )
    pooled = Split.concat(train, val)
    new_train, new_val = partition(train, val, np.random.default_rng(seed))
    splits = dict(bundle.splits)
    splits["train"], splits["val"] = pooled.take(new_train), pooled.take(new_val)
    digests = {
        name: hashlib.sha256(rows.astype("<i8").tobytes()).hexdigest()
        for name, rows in (("train", new_train), ("val", new_val))
    }
    return DatasetBundle(splits=splits, classes=bundle.classes, manifest=bundle.manifest), digests

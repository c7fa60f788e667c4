"""The study option ``split: per_seed`` (issue 22 item 6): the train/val partition redrawn per seed,
stratified, the same for every method of a seed, the test split untouched (benchmark.data.resplit)."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_helpers import TINY_DATA

from benchmark.contracts import ContractError, DatasetBundle, Split
from benchmark.data import resplit
from benchmark.params_schema.fields import SPLIT_MODES
from benchmark.records.identity import hash_identity, identity
from benchmark.runs.run import prepare


def _split(n: int, offset: int, annotated_every: int = 2) -> Split:
    """n rows whose image encodes the row number (offset + i), 2 classes, every other row annotated."""
    ids = np.arange(offset, offset + n)
    x = (ids % 256).astype(np.uint8)[:, None, None, None].repeat(4, axis=2).repeat(4, axis=3)
    return Split(
        x=x,
        y=(ids % 2).astype(np.int64),
        saliency=np.zeros((n, 1, 4, 4), dtype=np.float32),
        annotated=(ids // 2) % annotated_every == 0,
        extras={"row": ids},
    )


def _bundle() -> DatasetBundle:
    splits = {"train": _split(20, 0), "val": _split(12, 100), "test": _split(8, 200)}
    return DatasetBundle(splits=splits, classes=["a", "b"], manifest={"splits": {}})


def _counts(split: Split) -> dict[tuple[int, bool], int]:
    keys, counts = np.unique(np.stack([split.y, split.annotated.astype(np.int64)]), axis=1, return_counts=True)
    return {(int(a), bool(b)): int(c) for (a, b), c in zip(keys.T, counts)}


def test_redraw_is_a_stratified_partition_of_the_pooled_rows_and_leaves_test_alone():
    bundle = _bundle()
    new, digests = resplit.redraw(bundle, seed=7)
    train, val = new.splits["train"], new.splits["val"]
    pooled = np.concatenate([bundle.splits["train"].extras["row"], bundle.splits["val"].extras["row"]])
    rows = np.concatenate([train.extras["row"], val.extras["row"]])
    assert sorted(rows) == sorted(pooled)  # a partition: every row once
    assert _counts(train) == _counts(bundle.splits["train"]) and _counts(val) == _counts(bundle.splits["val"])
    assert set(train.extras["row"]) != set(bundle.splits["train"].extras["row"])  # it did move rows
    assert np.array_equal(train.x[:, 0, 0, 0], (train.extras["row"] % 256).astype(np.uint8))  # arrays move together
    assert new.splits["test"] is bundle.splits["test"]
    assert set(digests) == {"train", "val"}


def test_redraw_depends_on_the_seed_only():
    a, da = resplit.redraw(_bundle(), seed=1)
    b, db = resplit.redraw(_bundle(), seed=1)
    c, dc = resplit.redraw(_bundle(), seed=2)
    assert da == db and np.array_equal(a.splits["train"].extras["row"], b.splits["train"].extras["row"])
    assert da != dc


def test_redraw_refuses_splits_with_different_arrays():
    bundle = _bundle()
    bundle.splits["val"] = Split(x=bundle.splits["val"].x, y=bundle.splits["val"].y)
    with pytest.raises(ContractError, match="train has .*saliency.*val has"):
        resplit.redraw(bundle, seed=0)


def test_the_schema_and_the_data_layer_name_the_same_modes():
    assert SPLIT_MODES == resplit.SPLITS


def test_fixed_split_leaves_run_ids_as_they_were(tiny_config):
    config = tiny_config()
    assert "split" not in identity(config)
    assert hash_identity(identity(tiny_config(split="per_seed"))) != hash_identity(identity(config))


def test_every_method_of_a_seed_trains_on_the_same_redrawn_partition(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path))
    cpu = __import__("torch").device("cpu")

    def prepared(**overrides):
        return prepare(tiny_config(dataset_params=dict(TINY_DATA), split="per_seed", **overrides), cpu)

    erm, rrr, other_seed = prepared(), prepared(method="rrr"), prepared(seed=1)
    fixed = prepare(tiny_config(dataset_params=dict(TINY_DATA)), cpu)
    assert erm.split_rows == rrr.split_rows and erm.split_rows != other_seed.split_rows and fixed.split_rows == {}
    assert np.array_equal(erm.bundle.splits["train"].x, rrr.bundle.splits["train"].x)
    assert not np.array_equal(erm.bundle.splits["train"].x, fixed.bundle.splits["train"].x)
    assert np.array_equal(erm.bundle.splits["test"].x, fixed.bundle.splits["test"].x)
    with pytest.raises(ContractError, match="'split' must be one of"):
        prepare(tiny_config(split="per_run"), cpu)


def test_the_reports_say_which_sources_vary():
    from benchmark.reports.sources import sources_text

    assert "train/val split (redrawn per seed" in sources_text([{"split": "per_seed"}] * 2)
    assert "train/val split is fixed" in sources_text([{"split": "fixed"}, {}])
    assert "in some runs and fixed in others" in sources_text([{"split": "fixed"}, {"split": "per_seed"}])

"""Guided methods on a training set where only half the samples carry an annotation, and on none."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmark.contracts import ContractError, Split
from benchmark.data import dataset_store as store
from benchmark.records.recorder import record_run

GUIDED = ["cyborg", "sage", "rrr", "gradia"]
SMALL = {"test_fraction": 0.8, "val_fraction": 0.1}  # ~180 training images: seconds per run
NO_EVALUATION = {"enabled": False}  # the saliency evaluation after training is tested elsewhere
SALIENCY_TERM = {"cyborg": "cam_mse", "sage": "triplet", "rrr": "right_reasons", "gradia": "attention_l1"}


@pytest.fixture
def builder(monkeypatch):
    """Replace the dataset build (and skip the on-disk store) with ``transform(bundle)`` applied."""
    real_build = store.build

    def use(transform):
        monkeypatch.setattr(store, "build", lambda family, overrides=None: transform(real_build(family, overrides)))
        monkeypatch.setattr(store, "find", lambda *a, **k: None)

    return use


def half_annotated(bundle, evaluated: int = 128):
    """Half the training samples lose their annotation; the other splits keep ``evaluated`` images (speed)."""
    for name, split in bundle.splits.items():
        if name != "train":
            bundle.splits[name] = split.take(np.arange(min(evaluated, len(split))))
    train = bundle.splits["train"]
    off = np.arange(len(train)) % 2 == 1
    bundle.splits["train"] = Split(
        x=train.x, y=train.y, saliency=train.dense_saliency(), annotated=~off, extras=train.extras
    )
    return bundle


def without_saliency(bundle):
    for split in bundle.splits.values():
        split.saliency, split.annotated = None, None
    return bundle


@pytest.mark.parametrize("method", GUIDED)
def test_trains_with_annotations_on_half_the_training_set(method, tiny_config, tmp_path, builder):
    builder(half_annotated)
    config = tiny_config(method=method, dataset_params=SMALL, evaluation=NO_EVALUATION)
    result = record_run(config, tmp_path, device="cpu", progress=False)
    assert result.output.bundle.splits["train"].annotated.mean() == pytest.approx(0.5, abs=0.01)
    record = json.loads(result.path.read_text())
    assert record["status"] == "ok" and len(record["curves"]["train_loss"]) == 2
    assert all(math.isfinite(v) for v in record["curves"]["train_loss"])
    assert all(math.isfinite(m["loss"]) for m in record["metrics"].values())
    assert all(v > 0 for v in record["curves"][SALIENCY_TERM[method]])  # the guidance was active


@pytest.mark.parametrize("method", GUIDED)
def test_fails_before_training_on_a_dataset_without_annotations(method, tiny_config, tmp_path, builder):
    builder(without_saliency)
    with pytest.raises(ContractError, match=f"method '{method}' needs human/ground-truth saliency"):
        record_run(
            tiny_config(method=method, dataset_params=SMALL, evaluation=NO_EVALUATION),
            tmp_path,
            device="cpu",
            progress=False,
        )
    assert not list(tmp_path.glob("*"))

"""Dataset families over torchvision's real data (the plug-in files in ``datasets/`` subclass these).

Splits: ``val`` is a stratified share of the official training set, ``train`` the rest
(optionally a stratified subsample of ``train_size`` images); ``test`` is the official test
set. Grey-level sources (MNIST, Fashion-MNIST) take a ``construction``: ``plain``, ``decoy``
(RRR Decoy-MNIST: adds ``test_iid``, see ``constructions.decoy_splits``) or ``color``
(CDEP ColorMNIST: adds ``test_iid``, see ``constructions.color_splits``); their saliency is
the object (intensity above ``stroke_threshold``). CIFAR-10 has no saliency.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..contracts import ContractError, Dataset, DatasetBundle, HParam, Split
from . import torchvision_source
from .constructions import check_patch, color_splits, decoy_splits
from .digits import stratified_split

SIDE = 28  # MNIST and Fashion-MNIST images are 28x28

COMMON_PARAMS: dict[str, HParam] = {
    "val_fraction": HParam(
        0.1, "share of each class of the official training set held out as val", low=0.01, high=0.99
    ),
    "train_size": HParam(0, "stratified subsample of train (0: all of it)", low=0),
    "seed": HParam(0, "construction seed (val split, subsample, decoy corners and codes)", low=0),
    "root": HParam("", "folder of torchvision's downloads ('' : <data root>/downloads)"),
    "download": HParam(
        True, "download missing files with torchvision (md5-checked); false: fail with what to place where"
    ),
}


def split_indices(
    train_labels: np.ndarray, n_test: int, p: Mapping[str, Any], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Indices into train+test concatenated: val and train from the official train set, test after it."""
    if not 0.0 < p["val_fraction"] < 1.0:
        raise ContractError(f"val_fraction must be in (0, 1), got {p['val_fraction']}")
    index = stratified_split(train_labels, {"val": p["val_fraction"], "train": 1 - p["val_fraction"]}, rng)
    if 0 < p["train_size"] < len(index["train"]):
        sub = stratified_split(
            train_labels[index["train"]], {"keep": p["train_size"] / len(index["train"]), "rest": 0.0}, rng
        )
        index["train"] = index["train"][sub["keep"]]
    return {"train": index["train"], "val": index["val"], "test": len(train_labels) + np.arange(n_test)}


class TorchvisionFamily(Dataset):
    """Base of the real-data families: ``source`` names the torchvision class."""

    source: ClassVar[str] = ""

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        p = super().resolve(overrides)
        if "\x00" in p["root"]:
            raise ContractError(f"dataset '{self.name}': the parameter 'root' {p['root']!r} contains a NUL byte")
        return p

    def fetch(
        self, p: Mapping[str, Any]
    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, dict[str, np.ndarray], np.random.Generator]:
        """Loaded source, images and labels of train+test concatenated, split indices, and the
        construction's random stream (after the split draws)."""
        raw = torchvision_source.load(self.name, self.source, p["root"], p["download"])
        (x_train, y_train), (x_test, y_test) = raw["train"], raw["test"]
        rng = np.random.default_rng(p["seed"])
        index = split_indices(y_train, len(y_test), p, rng)
        return raw, np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), index, rng

    @staticmethod
    def manifest(raw: Mapping[str, Any], notes: Mapping[str, str]) -> dict[str, Any]:
        return {"source": raw["source"], "source_sha256": raw["source_sha256"], "split_notes": dict(notes)}


class GreyFamily(TorchvisionFamily):
    """MNIST-like 28x28 grey images with a shortcut construction."""

    params = {
        "construction": HParam(
            "plain", "plain | decoy (RRR Decoy-MNIST) | color (CDEP ColorMNIST)", choices=("plain", "decoy", "color")
        ),
        "noise": HParam(0.0, "decoy: std of Gaussian pixel noise on the canvas (RRR: none)", low=0.0, high=1.0),
        "patch_size": HParam(
            4, f"decoy: side of the corner patch in pixels (RRR: 4; at most the image side, {SIDE})", low=1
        ),
        "stroke_threshold": HParam(
            0.25, "intensity above which a pixel belongs to the object (the saliency)", low=0.0, high=1.0
        ),
        **COMMON_PARAMS,
    }

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Ranges (on the parameters), and the decoy patch fits the 28x28 image: before any download."""
        p = super().resolve(overrides)
        check_patch(self.name, p["patch_size"], SIDE)
        return p

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        raw, x, y, index, rng = self.fetch(p)
        canvas = x.astype(np.float32) / 255.0
        if p["construction"] == "color":
            splits, notes = color_splits(canvas, y, index, stroke_threshold=p["stroke_threshold"])
        else:
            splits, notes = decoy_splits(
                canvas,
                y,
                index,
                rng,
                decoy=p["construction"] == "decoy",
                noise=p["noise"],
                patch_size=p["patch_size"],
                stroke_threshold=p["stroke_threshold"],
            )
        if p["construction"] == "plain":
            notes = {"test": "official test set"}
        return DatasetBundle(splits=splits, classes=raw["classes"], manifest=self.manifest(raw, notes))


class ColourFamily(TorchvisionFamily):
    """RGB natural images without saliency (CIFAR-10)."""

    params = dict(COMMON_PARAMS)

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        raw, x, y, index, _ = self.fetch(p)
        splits = {name: Split(x=x[idx], y=y[idx]) for name, idx in index.items()}
        return DatasetBundle(
            splits=splits, classes=raw["classes"], manifest=self.manifest(raw, {"test": "official test set"})
        )

"""Decoy digits: the Decoy-MNIST construction of RRR (Ross, Hughes, Doshi-Velez, IJCAI 2017, Sec. 4)
on scikit-learn's real handwritten digits, upsampled to an MNIST-like 28x28 canvas.

Construction. Each image gets a ``patch_size`` square in a uniformly random corner. In
``train``, ``val`` and ``test_iid`` its grey level codes the label, 255 - 25*label; in
``test`` it codes a random digit, so the patch is uninformative and a model that learned
the shortcut falls to chance on it. ``decoy=False`` gives the clean digits (no patch).

Making the shortcut bite. These 8x8 digits are easy: on the plain construction a CNN
learns them despite the decoy. ``noise`` (Gaussian pixel noise on the canvas, not on the
patch) and a small ``digit_size`` make the digit harder to read than the patch, so ERM
leans on the patch. The defaults are the calibration in the README (ERM + simple_cnn).

Saliency. ``saliency`` is the ground truth of what should matter: the digit's strokes
(upsampled intensity above ``stroke_threshold``). ``extra.decoy`` marks the patch: what
must not matter (RRR's annotation A is its complement's complement: everything outside
the strokes is penalized).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from benchmark.contracts import DatasetBundle, Dataset, HParam, Split
from benchmark.data.digits import load_digits_canvas, stratified_split, to_uint8
from benchmark.registry import register_dataset

CORNERS = 4


def patch_masks(n: int, image_size: int, patch_size: int, corners: np.ndarray) -> np.ndarray:
    """Boolean (n,1,S,S) masks of a ``patch_size`` square in corner 0..3 (TL, TR, BL, BR) per image."""
    masks = np.zeros((n, 1, image_size, image_size), dtype=bool)
    far = image_size - patch_size
    rows = np.where(corners >= 2, far, 0)
    cols = np.where(corners % 2 == 1, far, 0)
    offsets = np.arange(patch_size)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    masks[np.arange(n)[:, None, None], 0, r, c] = True
    return masks


def decoy_shade(codes: np.ndarray) -> np.ndarray:
    """RRR's patch grey level for a digit code, in [0,1]: (255 - 25*code) / 255."""
    return (255.0 - 25.0 * codes) / 255.0


@register_dataset
class DecoyDigits(Dataset):
    name = "decoy_digits"
    description = "RRR Decoy-MNIST construction on scikit-learn's handwritten digits (28x28, 10 classes)"
    params = {
        "decoy": HParam(True, "add the label-coded corner patch (False: clean digits)"),
        "image_size": HParam(28, "canvas side in pixels"),
        "digit_size": HParam(14, "side of the upsampled digit, centred on the canvas (smaller = harder)"),
        "noise": HParam(0.2, "std of Gaussian pixel noise added to the canvas (not the patch), intensities in [0,1]"),
        "patch_size": HParam(6, "side of the decoy patch in pixels (RRR: 4 on 28x28 MNIST; 6 makes the shortcut bite on these easier digits)"),
        "stroke_threshold": HParam(0.25, "upsampled intensity above which a pixel is part of the digit's strokes"),
        "val_fraction": HParam(0.15, "share of each class in val"),
        "test_fraction": HParam(0.3, "share of each class in the test splits"),
        "seed": HParam(0, "construction seed (split, corners, noise, test patch codes)"),
    }

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        rng = np.random.default_rng(p["seed"])
        canvas, labels = load_digits_canvas(p["image_size"], p["digit_size"])
        strokes = (canvas > p["stroke_threshold"]).astype(np.float32)
        fractions = {"test": p["test_fraction"], "val": p["val_fraction"], "train": 1 - p["test_fraction"] - p["val_fraction"]}
        index = stratified_split(labels, fractions, rng)
        noisy = canvas + rng.normal(0.0, p["noise"], size=canvas.shape).astype(np.float32) if p["noise"] > 0 else canvas
        corners = rng.integers(0, CORNERS, size=len(labels))
        random_codes = rng.integers(0, 10, size=len(labels))
        masks = patch_masks(len(labels), p["image_size"], p["patch_size"], corners)

        def make(idx: np.ndarray, codes: np.ndarray | None) -> Split:
            images = noisy[idx].copy()
            extras = {}
            if codes is not None:
                shade = decoy_shade(codes[idx]).astype(np.float32)[:, None, None, None]
                images = np.where(masks[idx], shade, images)
                extras = {"decoy": masks[idx].astype(np.uint8), "decoy_code": codes[idx].astype(np.int64)}
            return Split(x=to_uint8(images), y=labels[idx], saliency=strokes[idx], extras=extras)

        if p["decoy"]:
            splits = {
                "train": make(index["train"], labels),
                "val": make(index["val"], labels),
                "test_iid": make(index["test"], labels),
                "test": make(index["test"], random_codes),
            }
        else:
            splits = {name: make(index[name], None) for name in ("train", "val", "test")}
        notes = {
            "test": "patch shade codes a random digit (shortcut broken)" if p["decoy"] else "clean digits",
            "test_iid": "same images as test, patch codes the label",
        }
        return DatasetBundle(
            splits=splits,
            classes=[str(d) for d in range(10)],
            manifest={"source": "sklearn.datasets.load_digits (UCI optdigits, 1,797 images)",
                      "split_notes": {k: v for k, v in notes.items() if k in splits}},
        )

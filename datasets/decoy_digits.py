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

from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmark.contracts import Dataset, DatasetBundle, HParam
from benchmark.data.constructions import check_patch, decoy_splits
from benchmark.data.digits import MAX_SIDE, MIN_SIDE, SPLIT_PARAMS, check_digit_params, split_digits
from benchmark.registry import register_dataset


@register_dataset
class DecoyDigits(Dataset):
    name = "decoy_digits"
    description = "RRR Decoy-MNIST construction on scikit-learn's handwritten digits (28x28, 10 classes)"
    params = {
        "decoy": HParam(True, "add the label-coded corner patch (False: clean digits)"),
        "image_size": HParam(28, "canvas side in pixels", low=MIN_SIDE, high=MAX_SIDE),
        "digit_size": HParam(
            14,
            "side of the upsampled digit, centred on the canvas (smaller = harder); at most image_size",
            low=4,
            high=MAX_SIDE,
        ),
        "noise": HParam(
            0.2,
            "std of Gaussian pixel noise added to the canvas (not the patch), intensities in [0,1]",
            low=0.0,
            high=1.0,
        ),
        "patch_size": HParam(
            6,
            "side of the decoy patch in pixels (RRR: 4 on 28x28 MNIST; 6 makes the shortcut bite on these easier digits); at most image_size",
            low=1,
            high=MAX_SIDE,
        ),
        **SPLIT_PARAMS,
        "seed": HParam(0, "construction seed (split, corners, noise, test patch codes)", low=0),
    }

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        p = super().resolve(overrides)
        check_digit_params(self.name, p)
        check_patch(self.name, p["patch_size"], p["image_size"])
        return p

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        rng = np.random.default_rng(p["seed"])
        canvas, labels, index = split_digits(p, rng)
        splits, notes = decoy_splits(
            canvas,
            labels,
            index,
            rng,
            decoy=p["decoy"],
            noise=p["noise"],
            patch_size=p["patch_size"],
            stroke_threshold=p["stroke_threshold"],
        )
        return DatasetBundle(
            splits=splits,
            classes=[str(d) for d in range(10)],
            manifest={"source": "sklearn.datasets.load_digits (UCI optdigits, 1,797 images)", "split_notes": notes},
        )

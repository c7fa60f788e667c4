"""Color digits: the ColorMNIST construction of CDEP (Rieger, Singh, Murdoch, Yu, "Interpretations
are useful: penalizing explanations to align neural networks with prior knowledge", ICML 2020,
Sec. 4.2) on scikit-learn's real handwritten digits, upsampled to a 28x28 canvas.

Construction. Each digit's grey intensity is multiplied by one of 10 colours (CDEP's ramp
from red to purple). In ``train``, ``val`` and ``test_iid`` the colour is colour[label]; in
``test`` (the same images as ``test_iid``) it is colour[9 - label], so a model that learned
the colour instead of the shape is wrong on almost every test image (CDEP reports 0.2%
test accuracy for an unpenalized network on MNIST). ``extra.colour`` holds the colour index.

Saliency. ``saliency`` is the ground truth of what should matter: the digit's strokes
(upsampled intensity above ``stroke_threshold``). The colour lives on the same pixels, so
this shortcut is not separable in space: spatial guidance can only prefer the shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from benchmark.contracts import Dataset, DatasetBundle, HParam
from benchmark.data.constructions import cdep_colours, color_splits
from benchmark.data.digits import MAX_SIDE, MIN_SIDE, SPLIT_PARAMS, check_digit_params, split_digits
from benchmark.registry import register_dataset


@register_dataset
class ColorDigits(Dataset):
    name = "color_digits"
    description = "CDEP ColorMNIST construction on scikit-learn's handwritten digits (3x28x28, 10 classes)"
    params = {
        "image_size": HParam(28, "canvas side in pixels", low=MIN_SIDE, high=MAX_SIDE),
        "digit_size": HParam(
            20,
            "side of the upsampled digit, centred on the canvas (MNIST: 20 in 28); at most image_size",
            low=4,
            high=MAX_SIDE,
        ),
        **SPLIT_PARAMS,
        "seed": HParam(0, "construction seed (the split)", low=0),
    }

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        p = super().resolve(overrides)
        check_digit_params(self.name, p)
        return p

    def build(self, params: Mapping[str, Any]) -> DatasetBundle:
        p = dict(params)
        rng = np.random.default_rng(p["seed"])
        canvas, labels, index = split_digits(p, rng)
        splits, notes = color_splits(canvas, labels, index, stroke_threshold=p["stroke_threshold"])
        return DatasetBundle(
            splits=splits,
            classes=[str(d) for d in range(10)],
            manifest={
                "source": "sklearn.datasets.load_digits (UCI optdigits, 1,797 images)",
                "split_notes": notes,
                "colours_rgb": np.round(cdep_colours(), 4).tolist(),
            },
        )

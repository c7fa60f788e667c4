"""Shortcut constructions on grey-level digit-like images, shared by every digit source
(scikit-learn's digits, MNIST, Fashion-MNIST).

- Decoy (RRR, Ross, Hughes, Doshi-Velez, IJCAI 2017, Sec. 4): a square patch in a random
  corner whose grey level 255 - 25*code codes the label in training and a random digit at test.
- Colour (CDEP ColorMNIST, Rieger, Singh, Murdoch, Yu, ICML 2020, Sec. 4.2): the image's
  intensity times colour[label] in training, colour[9 - label] at test.

Both take a float canvas (N,1,S,S) in [0,1], labels, and the indices of the ``train``,
``val`` and ``test`` splits, and return named ``Split`` s whose saliency is the ground
truth of what should matter: the strokes (intensity above a threshold).
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping

import numpy as np

from ..contracts import ContractError, Split
from .digits import to_uint8

CORNERS = 4


def check_patch(owner: str, patch_size: int, image_size: int) -> None:
    """The decoy patch fits the image (before any work)."""
    if patch_size > image_size:
        raise ContractError(
            f"dataset '{owner}': patch_size {patch_size} is larger than the image ({image_size}x{image_size})"
        )


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


def decoy_splits(
    canvas: np.ndarray,
    labels: np.ndarray,
    index: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    *,
    decoy: bool,
    noise: float,
    patch_size: int,
    stroke_threshold: float,
) -> tuple[dict[str, Split], dict[str, str]]:
    """RRR Decoy-MNIST splits and their notes.

    With ``decoy``: ``train``, ``val``, ``test_iid`` (patch codes the label) and ``test``
    (same images as ``test_iid``, patch codes a random digit: the shortcut is broken).
    Without: ``train``, ``val``, ``test`` of the noisy canvas. Random draws, in this order:
    pixel noise, corners, test codes (all over the whole canvas, so a split's bytes do not
    depend on the other splits' sizes).
    """
    strokes = (canvas > stroke_threshold).astype(np.float32)
    noisy = canvas + rng.normal(0.0, noise, size=canvas.shape).astype(np.float32) if noise > 0 else canvas
    corners = rng.integers(0, CORNERS, size=len(labels))
    random_codes = rng.integers(0, 10, size=len(labels))
    masks = patch_masks(len(labels), canvas.shape[-1], patch_size, corners)

    def make(idx: np.ndarray, codes: np.ndarray | None) -> Split:
        images = noisy[idx].copy()
        extras = {}
        if codes is not None:
            shade = decoy_shade(codes[idx]).astype(np.float32)[:, None, None, None]
            images = np.where(masks[idx], shade, images)
            extras = {"decoy": masks[idx].astype(np.uint8), "decoy_code": codes[idx].astype(np.int64)}
        return Split(x=to_uint8(images), y=labels[idx], saliency=strokes[idx], extras=extras)

    if not decoy:
        return {name: make(index[name], None) for name in ("train", "val", "test")}, {"test": "no patch"}
    splits = {
        "train": make(index["train"], labels),
        "val": make(index["val"], labels),
        "test_iid": make(index["test"], labels),
        "test": make(index["test"], random_codes),
    }
    notes = {
        "train": "patch shade codes the label",
        "val": "patch shade codes the label",
        "test_iid": "same images as test, patch codes the label",
        "test": "patch shade codes a random digit (shortcut broken)",
    }
    return splits, notes


def cdep_colours() -> np.ndarray:
    """The 10 ColorMNIST colours (10,3) in [0,1]: CDEP's ``Color('red').range_to(Color('purple'), 10)``
    (``colour`` package), a linear ramp in HLS from red to web purple #800080."""
    start = np.array([0.0, 0.5, 1.0])  # (hue, lightness, saturation) of red
    stop = np.array(colorsys.rgb_to_hls(128 / 255, 0.0, 128 / 255))  # purple
    ramp = start + np.linspace(0.0, 1.0, 10)[:, None] * (stop - start)
    return np.array([colorsys.hls_to_rgb(*hls) for hls in ramp], dtype=np.float32)


def colorize(intensity: np.ndarray, codes: np.ndarray, colours: np.ndarray | None = None) -> np.ndarray:
    """Grey images (N,1,H,W) in [0,1] times colour[code] (N,) -> RGB (N,3,H,W)."""
    colours = cdep_colours() if colours is None else colours
    return intensity * colours[codes][:, :, None, None]


def color_splits(
    canvas: np.ndarray,
    labels: np.ndarray,
    index: Mapping[str, np.ndarray],
    *,
    stroke_threshold: float,
) -> tuple[dict[str, Split], dict[str, str]]:
    """CDEP ColorMNIST splits: ``train``, ``val``, ``test_iid`` coloured by colour[label];
    ``test`` (same images as ``test_iid``) by colour[9 - label]. ``extra.colour`` is the colour index."""
    strokes = (canvas > stroke_threshold).astype(np.float32)

    def make(idx: np.ndarray, codes: np.ndarray) -> Split:
        return Split(
            x=to_uint8(colorize(canvas[idx], codes)),
            y=labels[idx],
            saliency=strokes[idx],
            extras={"colour": codes.astype(np.int64)},
        )

    test = index["test"]
    splits = {
        "train": make(index["train"], labels[index["train"]]),
        "val": make(index["val"], labels[index["val"]]),
        "test_iid": make(test, labels[test]),
        "test": make(test, 9 - labels[test]),
    }
    notes = {
        "train": "colour[label]",
        "val": "colour[label]",
        "test_iid": "same images as test, colour[label]",
        "test": "colour[9 - label] (shortcut inverted)",
    }
    return splits, notes

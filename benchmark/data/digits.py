"""The handwritten digits that ship with scikit-learn (1,797 real 8x8 scans, UCI optdigits),
upsampled onto an MNIST-like canvas, and a stratified split shared by the digit datasets."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..contracts import ContractError, HParam

MIN_SIDE = 8  # the smallest image side every architecture accepts (benchmark.data.folder_validation.MIN_SIDE)
MAX_SIDE = 1024  # generated images: larger is a typo (1,797 digits at 1024 px are already 7.5 GB of float32)


SPLIT_PARAMS: dict[str, HParam] = {  # shared by the digit families: strokes and the stratified split
    "stroke_threshold": HParam(
        0.25, "upsampled intensity above which a pixel is part of the digit's strokes", low=0.0, high=1.0
    ),
    "val_fraction": HParam(0.15, "share of each class in val (val + test <= 0.9)", low=0.01, high=0.9),
    "test_fraction": HParam(0.3, "share of each class in the test splits (val + test <= 0.9)", low=0.01, high=0.9),
}


def check_digit_params(owner: str, p: dict) -> None:
    """Cross-parameter checks of the digit families, before any work: the digit fits the canvas,
    val and test leave images for train (each split gets at least one image per class)."""
    if p["digit_size"] > p["image_size"]:
        raise ContractError(
            f"dataset '{owner}': digit_size {p['digit_size']} is larger than image_size {p['image_size']}"
        )
    if p["val_fraction"] + p["test_fraction"] > 0.9 + 1e-9:
        raise ContractError(
            f"dataset '{owner}': val_fraction + test_fraction = {p['val_fraction'] + p['test_fraction']:g} "
            f"leaves less than 10% for train (must be <= 0.9)"
        )


def load_digits_canvas(image_size: int = 28, digit_size: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Digits as float32 (N,1,S,S) in [0,1], bilinearly upsampled to ``digit_size`` and centred, and labels."""
    from sklearn.datasets import load_digits

    if not 4 <= digit_size <= image_size:
        raise ValueError(f"digit_size must be in [4, image_size={image_size}], got {digit_size}")
    digits = load_digits()
    small = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    big = F.interpolate(small, size=(digit_size, digit_size), mode="bilinear", align_corners=False).clamp_(0, 1)
    canvas = torch.zeros(len(small), 1, image_size, image_size)
    top = (image_size - digit_size) // 2
    canvas[:, :, top : top + digit_size, top : top + digit_size] = big
    return canvas.numpy(), digits.target.astype(np.int64)


def stratified_split(
    labels: np.ndarray, fractions: dict[str, float], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Indices per split name, each class divided in the given proportions (the last split takes the rest)."""
    names = list(fractions)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(np.cumsum([fractions[n] for n in names[:-1]]) * len(idx)).astype(int)
        for name, chunk in zip(names, np.split(idx, bounds)):
            parts[name].append(chunk)
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def split_digits(params: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Canvas, labels and the stratified train/val/test indices from a digit family's parameters
    (``image_size``, ``digit_size``, ``val_fraction``, ``test_fraction``)."""
    canvas, labels = load_digits_canvas(params["image_size"], params["digit_size"])
    fractions = {
        "test": params["test_fraction"],
        "val": params["val_fraction"],
        "train": 1 - params["test_fraction"] - params["val_fraction"],
    }
    return canvas, labels, stratified_split(labels, fractions, rng)

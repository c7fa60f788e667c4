"""The similarity of two runs' saliency maps of the same image (docs/statistics.md §2.2-2.3; MeGe, Fel et al. 2020).

Input: the probe maps of one method, cell and attribution, shape (runs, images, H, W), runs =
seeds (the same probe images for every run). For every image and every pair of runs:

- ``spearman``: Pearson correlation of the average ranks of the flattened maps (ties averaged,
  identical to ``scipy.stats.rankdata(map.ravel())``; primary: invariant to monotone rescaling);
- ``pearson``: Pearson correlation of the maps, each clipped at its own 99th percentile
  (heavy-tailed gradients, docs/statistics.md §2.3); maps are used as stored;
- ``topk_iou``: IoU of the top-10% pixel sets, each set = pixels >= the map's k-th largest value
  with k = ceil(0.1 * H * W) (ties at the threshold all enter, so identical maps give exactly 1).

A constant ("dead") map ranks no pixel above another: every similarity of a pair with a constant
map is 0 (no agreement; for Pearson also a map that its clip makes constant), so a method cannot
look consistent by producing dead maps; :func:`constant_maps` counts them for the reports.
The inference over runs is ``statistics.consistency``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MEASURES = ("spearman", "pearson", "topk_iou")
TOP_FRACTION = 0.1
CLIP_QUANTILE = 0.99


def _sorted(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise argsort and sorted values; float16 maps are sorted as float32 (exact, faster)."""
    if flat.dtype == np.float16:
        flat = flat.astype(np.float32)
    order = np.argsort(flat, axis=-1)
    return order, np.take_along_axis(flat, order, -1)


def _ranks(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Average ranks (1..P) of each row from its argsort and sorted values: a tie group starting at sorted
    position j with size t gets rank j + (t + 1) / 2."""
    rows, p = values.shape
    new = np.empty(values.shape, dtype=bool)
    new[:, 0] = True
    np.not_equal(values[:, 1:], values[:, :-1], out=new[:, 1:])
    starts = np.flatnonzero(new.ravel())
    sizes = np.diff(starts, append=new.size)
    in_sorted_order = np.repeat(starts % p + (sizes + 1) / 2.0, sizes).reshape(rows, p)
    ranks = np.empty((rows, p))
    np.put_along_axis(ranks, order, in_sorted_order, axis=1)
    return ranks


def rank_maps(maps: np.ndarray) -> np.ndarray:
    """Average ranks of each map over its flattened pixels: (..., H, W) -> (..., H*W), equal to
    ``scipy.stats.rankdata(maps.reshape(..., -1), axis=-1)`` (vectorized)."""
    maps = np.asarray(maps)
    flat = maps.reshape(-1, maps.shape[-2] * maps.shape[-1])
    return _ranks(*_sorted(flat)).reshape(maps.shape[:-2] + (flat.shape[-1],))


def constant_maps(maps: np.ndarray) -> np.ndarray:
    """(..., H, W) -> (...) bool: the maps whose pixels are all equal (a dead map carries no ranking)."""
    flat = np.asarray(maps).reshape(np.shape(maps)[:-2] + (int(np.prod(np.shape(maps)[-2:])),))  # not -1: 0 runs
    return flat.max(axis=-1) == flat.min(axis=-1)


def _by_image(x: np.ndarray) -> np.ndarray:
    """(..., runs, images, P) -> (..., images, runs, P)."""
    return np.swapaxes(x, -3, -2)


def _correlations(x: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Pearson correlation of every pair of runs per image: x (..., runs, images, P) -> (..., images, runs, runs);
    0 for a pair with a ``dead`` (runs, images) map."""
    z = x - x.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("...p,...p->...", z, z))
    z *= np.divide(1.0, norm, out=np.zeros_like(norm), where=~dead)[..., None]
    zt = _by_image(z)
    return np.clip(np.matmul(zt, np.swapaxes(zt, -1, -2)), -1.0, 1.0)


def pair_similarities(
    maps: np.ndarray,
    *,
    measures: Sequence[str] = MEASURES,
    top_fraction: float = TOP_FRACTION,
    clip_quantile: float | None = CLIP_QUANTILE,
) -> dict[str, np.ndarray]:
    """Every measure for every pair of runs per image: maps (..., runs, images, H, W) -> (..., images, runs, runs).

    Symmetric; the diagonal (a run with itself) is NaN and never used. A pair with a constant map scores 0
    (module docstring). Leading axes are independent studies (the simulation tests batch them)."""
    maps = np.asarray(maps)
    if maps.ndim < 4 or maps.shape[-4] < 2:
        raise ValueError(f"maps must be (..., runs >= 2, images, H, W), got shape {maps.shape}")
    lead = maps.shape[:-2]
    flat = maps.reshape(-1, maps.shape[-2] * maps.shape[-1])
    p = flat.shape[1]
    order, values = _sorted(flat)
    dead = (values[:, 0] == values[:, -1]).reshape(lead)
    out: dict[str, np.ndarray] = {}
    if "spearman" in measures:
        out["spearman"] = _correlations(_ranks(order, values).reshape(lead + (p,)), dead)
    if "pearson" in measures:
        x = flat.astype(np.float64)
        clipped_dead = dead
        if clip_quantile is not None:
            position = clip_quantile * (p - 1)  # numpy's default 'linear' quantile from the sorted values
            lo, frac = int(math.floor(position)), position - math.floor(position)
            top = values[:, lo] + frac * (values[:, min(lo + 1, p - 1)] - values[:, lo])
            x = np.minimum(x, top[:, None])
            clipped_dead = (values[:, 0] >= top).reshape(lead)  # the clip leaves no spread
        out["pearson"] = _correlations(x.reshape(lead + (p,)), clipped_dead)
    if "topk_iou" in measures:
        k = max(1, math.ceil(top_fraction * p))
        top_set = _by_image((flat >= values[:, p - k][:, None]).reshape(lead + (p,)).astype(np.float32))
        inter = np.matmul(top_set, np.swapaxes(top_set, -1, -2)).astype(np.float64)  # exact counts
        size = top_set.sum(axis=-1, dtype=np.float64)
        iou = inter / (size[..., :, None] + size[..., None, :] - inter)
        gone = np.swapaxes(dead, -1, -2)  # (..., images, runs)
        out["topk_iou"] = np.where(gone[..., :, None] | gone[..., None, :], 0.0, iou)
    eye = np.eye(maps.shape[-4], dtype=bool)
    return {m: np.where(eye, np.nan, v) for m, v in out.items()}


def pair_mean(matrix: np.ndarray) -> np.ndarray:
    """Mean over the pairs r < s of (..., runs, runs) matrices."""
    i, j = np.triu_indices(matrix.shape[-1], k=1)
    return matrix[..., i, j].mean(axis=-1)


def image_consistency(
    maps: np.ndarray, *, top_fraction: float = TOP_FRACTION, clip_quantile: float | None = CLIP_QUANTILE
) -> dict[str, np.ndarray]:
    """Per image, the mean over run pairs of ``spearman``, ``pearson`` and ``topk_iou``, and ``constant_runs``
    (the runs whose map of that image is constant). ``maps``: (runs >= 2, images, H, W); arrays of shape (images,)."""
    maps = np.asarray(maps)
    if maps.ndim != 4:
        raise ValueError(f"maps must be (runs >= 2, images, H, W), got shape {maps.shape}")
    pairs = pair_similarities(maps, top_fraction=top_fraction, clip_quantile=clip_quantile)
    out = {m: pair_mean(v) for m, v in pairs.items()}
    return {**out, "constant_runs": constant_maps(maps).sum(axis=0)}

"""Saliency consistency across independent runs (docs/statistics.md §2.2-2.3; MeGe precedent, Fel et al. 2020).

Input: the probe maps of one method, cell and attribution, shape (runs, images, H, W), runs =
seeds (the same probe images for every run). Per image, over all n(n-1)/2 pairs of runs:

- ``spearman``: Pearson correlation of the average ranks of the flattened maps (ties averaged,
  identical to ``scipy.stats.rankdata(map.ravel())``; primary: invariant to monotone rescaling);
- ``pearson``: Pearson correlation of the maps, each clipped at its own 99th percentile
  (heavy-tailed gradients, docs/statistics.md §2.3); maps are used as stored (pixel attributions are
  stored as absolute values);
- ``topk_iou``: IoU of the top-10% pixel sets, each set = pixels >= the map's k-th largest value
  with k = ceil(0.1 * H * W) (ties at the threshold all enter, so identical maps give exactly 1).

A pair with a constant map has no correlation (NaN) and is left out of that image's mean
(``n_pairs`` counts the defined Spearman pairs). Images are the units of the bootstrap CI and of
the paired method comparison (Wilcoxon over images, Holm over method pairs); seed pairs are
not independent samples.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd

from .bootstrap import REPS, SEED, indices, mean_interval, percentile_interval
from .multiple import holm
from .paired import wilcoxon_p

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


def _pair_mean(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, mean Pearson correlation over run pairs of x (runs, images, P); and the defined pair count."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = x - x.mean(axis=-1, keepdims=True)
        z = z / np.sqrt((z * z).sum(axis=-1, keepdims=True))
        corr = np.matmul(z.transpose(1, 0, 2), z.transpose(1, 2, 0))  # (images, runs, runs)
    i, j = np.triu_indices(x.shape[0], k=1)
    pairs = np.clip(corr[:, i, j], -1.0, 1.0)
    defined = np.isfinite(pairs).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(pairs, axis=1), defined


def image_consistency(
    maps: np.ndarray, *, top_fraction: float = TOP_FRACTION, clip_quantile: float | None = CLIP_QUANTILE
) -> dict[str, np.ndarray]:
    """Per image mean pairwise ``spearman``, ``pearson`` and ``topk_iou`` over runs, plus ``n_pairs``.

    ``maps``: (runs, images, H, W) with runs >= 2. Returns arrays of shape (images,).
    """
    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[0] < 2:
        raise ValueError(f"maps must be (runs >= 2, images, H, W), got shape {maps.shape}")
    runs, images = maps.shape[:2]
    flat = maps.reshape(runs * images, -1)
    order, values = _sorted(flat)
    p = flat.shape[1]
    ranks = _ranks(order, values).reshape(runs, images, p)
    spearman, n_pairs = _pair_mean(ranks)
    x = flat.astype(np.float64)
    if clip_quantile is not None:
        position = clip_quantile * (p - 1)  # numpy's default 'linear' quantile from the sorted values
        lo, frac = int(math.floor(position)), position - math.floor(position)
        top = values[:, lo] + frac * (values[:, min(lo + 1, p - 1)] - values[:, lo])
        x = np.minimum(x, top[:, None])
    pearson, _ = _pair_mean(x.reshape(runs, images, p))
    k = max(1, math.ceil(top_fraction * p))
    top_set = (flat >= values[:, p - k][:, None]).reshape(runs, images, p).astype(np.float32)
    inter = np.matmul(top_set.transpose(1, 0, 2), top_set.transpose(1, 2, 0)).astype(np.float64)  # exact counts
    size = top_set.sum(axis=-1, dtype=np.float64).T  # (images, runs)
    i, j = np.triu_indices(runs, k=1)
    iou = inter[:, i, j] / (size[:, i] + size[:, j] - inter[:, i, j])
    return {"spearman": spearman, "pearson": pearson, "topk_iou": iou.mean(axis=1), "n_pairs": n_pairs}


def summarize(
    per_image: dict[str, np.ndarray],
    *,
    reps: int = REPS,
    seed: int | np.random.Generator = SEED,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``measure, mean, ci_low, ci_high, n_images``: the mean over images of each measure with a percentile
    bootstrap CI over images (``reps`` draws of the images, shared by the measures; a measure with undefined
    (NaN) images is bootstrapped over its defined images with the same seed)."""
    values = np.column_stack([np.asarray(per_image[m], dtype=float) for m in MEASURES])
    finite = np.isfinite(values)
    rows = []
    if finite.all():
        idx = indices(values.shape[0], reps, seed)
        samples = np.column_stack([np.take(values[:, i], idx).mean(axis=1) for i in range(len(MEASURES))])
        low, high = percentile_interval(samples, confidence)
        estimates = [(values[:, i].mean(), low[i], high[i]) for i in range(len(MEASURES))]
    else:
        estimates = [mean_interval(values[:, i], reps, seed, confidence) for i in range(len(MEASURES))]
    for i, (measure, (mean, low, high)) in enumerate(zip(MEASURES, estimates)):
        rows.append(
            {
                "measure": measure,
                "mean": float(mean),
                "ci_low": float(low),
                "ci_high": float(high),
                "n_images": int(finite[:, i].sum()),
            }
        )
    return pd.DataFrame(rows)


def compare(per_image: dict[str, np.ndarray], measure: str = "spearman") -> pd.DataFrame:
    """Paired per-image comparison of methods' consistency: ``{method: (images,) array}`` of one measure,
    same probe images in the same order. Each pair: ``method, other, n_images, mean_diff, median_diff``
    (method minus other; consistency is higher-is-better), ``p`` (``wilcoxon(d, zero_method='zsplit')``,
    NaN below 6 images), ``wilcoxon_method``, ``p_holm`` (Holm over all method pairs)."""
    rows = []
    for a, b in itertools.combinations(list(per_image), 2):
        x, y = np.asarray(per_image[a], float), np.asarray(per_image[b], float)
        if x.shape != y.shape:
            raise ValueError(f"'{a}' and '{b}' have different image counts: {x.shape} vs {y.shape}")
        both = np.isfinite(x) & np.isfinite(y)
        d = x[both] - y[both]
        p, used = wilcoxon_p(d)
        rows.append(
            {
                "method": a,
                "other": b,
                "measure": measure,
                "n_images": int(both.sum()),
                "mean_diff": float(d.mean()) if d.size else np.nan,
                "median_diff": float(np.median(d)) if d.size else np.nan,
                "p": p,
                "wilcoxon_method": used,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["method", "other", "measure", "n_images", "mean_diff", "median_diff", "p", "wilcoxon_method"]
    )
    frame["p_holm"] = holm(frame["p"].to_numpy())
    return frame

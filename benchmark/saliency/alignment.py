"""Alignment of importance maps with a binary annotation: per-image scores, vectorized over images.

Inputs: ``maps`` (N,H,W) non-negative importance, ``masks`` (N,H,W) bool. Every function
returns (N,) float with NaN where the score is undefined for that image (an empty mask, or
for AUROC a mask covering everything); summaries average the defined values.

Ties are resolved by expectation over a uniformly random tie-break, so a constant map
scores exactly the chance level: AUROC 1/2, and the mask's area fraction for top-k
precision, the pointing game and the energy scores. (Quantus' ``PointingGame`` @85bc29d1
stores ``np.nan`` into a bool array, so an empty annotation counts as a hit; here it is
undefined and leaves the mean, docs/statistics.md §2.4.)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def _flat(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if maps.shape != masks.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} differ in shape")
    return maps.reshape(len(maps), -1).astype(np.float64), masks.reshape(len(masks), -1).astype(bool)


def _undefined_where(values: np.ndarray, bad: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    values[bad] = np.nan
    return values


def auroc(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Pixel ROC AUC of the map against the mask (mask pixels positive), ties counted 1/2.

    Mann-Whitney form: (sum of the positives' average ranks - k(k+1)/2) / (k (P - k)),
    equal to ``sklearn.metrics.roc_auc_score(mask.ravel(), map.ravel())``.
    """
    v, m = _flat(maps, masks)
    k = m.sum(axis=1)
    negatives = m.shape[1] - k
    ranks = rankdata(v, axis=1, method="average")
    with np.errstate(divide="ignore", invalid="ignore"):
        score = ((ranks * m).sum(axis=1) - k * (k + 1) / 2) / (k * negatives)
    return _undefined_where(score, (k == 0) | (negatives == 0))


def top_k_precision(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Share of the k most salient pixels inside the mask, k = the mask's area
    (``quantus.RelevanceRankAccuracy``, Arras et al. 2022); ties at the k-th value by expectation."""
    v, m = _flat(maps, masks)
    k = m.sum(axis=1)
    kth = -np.sort(-v, axis=1)[np.arange(len(v)), np.maximum(k - 1, 0)][:, None]
    above, equal = v > kth, v == kth
    from_ties = (k - above.sum(axis=1)) * (equal & m).sum(axis=1) / equal.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = ((above & m).sum(axis=1) + from_ties) / k
    return _undefined_where(score, k == 0)


def pointing_game(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """1 when the most salient pixel lies inside the mask, else 0 (Zhang et al., IJCV 2018);
    several maxima count as the share of them inside; an empty mask is undefined, never a hit."""
    v, m = _flat(maps, masks)
    peak = v == v.max(axis=1, keepdims=True)
    score = (peak & m).sum(axis=1) / peak.sum(axis=1)
    return _undefined_where(score, m.sum(axis=1) == 0)


def energy_share(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Share of the map's positive energy inside the mask: sum_mask S+ / sum S+ (Score-CAM's
    energy-based pointing game, Wang et al., CVPRW 2020; ``quantus.RelevanceMassAccuracy``).
    An all-zero map scores the mask's area fraction (chance); an empty mask is undefined."""
    v, m = _flat(maps, masks)
    positive = np.clip(v, 0.0, None)
    total = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(total > 0, (positive * m).sum(axis=1) / total, m.mean(axis=1))
    return _undefined_where(score, m.sum(axis=1) == 0)


# name -> per-image score against the human annotation
HUMAN_ALIGNMENT = {
    "auroc": auroc,
    "topk_precision": top_k_precision,
    "pointing_game": pointing_game,
    "energy_pointing": energy_share,
}


def wrong_reason_share(maps: np.ndarray, decoy: np.ndarray) -> np.ndarray:
    """Share of the positive saliency on the decoy / distractor mask: the "wrong reason" score
    (lower is better; RRR's Decoy-MNIST, Ross et al., IJCAI 2017)."""
    return energy_share(maps, decoy)


def mean_defined(values: np.ndarray) -> tuple[float | None, int]:
    """(mean of the finite values or None when there is none, how many there were)."""
    finite = values[np.isfinite(values)]
    return (float(finite.mean()) if finite.size else None), int(finite.size)


def alignment_scores(
    maps: np.ndarray, human: np.ndarray | None, decoy: np.ndarray | None
) -> dict[str, tuple[float | None, int]]:
    """Summaries of every alignment score that the available masks define: {name: (mean, count)}."""
    out: dict[str, tuple[float | None, int]] = {}
    if human is not None:
        for name, score in HUMAN_ALIGNMENT.items():
            out[name] = mean_defined(score(maps, human))
    if decoy is not None:
        out["wrong_reason_share"] = mean_defined(wrong_reason_share(maps, decoy))
    return out

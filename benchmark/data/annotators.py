"""Emulated human annotators: coarse, blurred marks over the regions that reveal an image's class.

Real annotation maps (CYBORG, Boyd et al. WACV 2023, Sec. 3) are hand-drawn outlines of the
regions an annotator found decisive, blurred into a heat map. Each emulated annotator has
a style drawn once: how much larger than the region it draws (``scale``), how far its marks
wander (``jitter``), how soft its strokes are (``blur``), and how often it also marks a
region that reveals nothing (``stray``, drawn at a lower weight). Per image the mark is
jittered and scaled again.

Coverage guarantee: a mark is the region's ellipse grown by ``sqrt(2)*jitter + 1.5*blur +
pixel/2`` on each radius before the jitter moves it, so a disc of 1.5 blur widths around
every point of the region lies inside the mark: after the Gaussian blur the point keeps at
least 1 - exp(-1.5^2/2) = 0.67 of the peak (``tests/test_toy_faces.py`` checks >= 0.5).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from .faces_drawing import ellipse, grid

STYLE_KEYS = ("scale", "jitter", "blur", "stray")


def sample_styles(rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
    """``count`` annotator styles; jitter and blur in normalized image units (the image spans 2)."""
    return {
        "scale": rng.uniform(1.0, 1.25, count),
        "jitter": rng.uniform(0.0, 0.03, count),
        "blur": rng.uniform(0.03, 0.05, count),
        "stray": rng.uniform(0.0, 0.5, count),
    }


def annotate(
    regions: np.ndarray,
    valid: np.ndarray,
    annotator: np.ndarray,
    styles: dict[str, np.ndarray],
    stray_regions: np.ndarray,
    rng: np.random.Generator,
    size: int,
) -> np.ndarray:
    """Annotation maps (n,1,S,S) float32 in [0,1] (peak 1).

    regions (n,R,4) ellipses (centre u, centre v, radius u, radius v) with validity (n,R):
    what reveals each image's class; annotator (n,) indexes ``styles``; stray_regions
    (n,Q,4): candidates for a mark without reason. Random draws, in this order: per-mark
    jitter (n,R,2), per-mark scale (n,R), stray flag (n,), stray choice (n,), stray weight (n,).
    """
    n, r = valid.shape
    u, v, px = grid(size)
    s = {key: styles[key][annotator] for key in STYLE_KEYS}
    jitter = rng.uniform(-1.0, 1.0, (n, r, 2)) * s["jitter"][:, None, None]
    scale = s["scale"][:, None] * rng.uniform(1.0, 1.1, (n, r))
    stray = rng.random(n) < s["stray"]
    which = rng.integers(0, stray_regions.shape[1], n)
    weight = rng.uniform(0.3, 0.6, n)
    margin = np.sqrt(2.0) * s["jitter"] + 1.5 * s["blur"] + px / 2
    maps = np.zeros((n, size, size), np.float32)
    for k in range(r):
        region = (
            regions[:, k, 0] + jitter[:, k, 0],
            regions[:, k, 1] + jitter[:, k, 1],
            regions[:, k, 2] * scale[:, k] + margin,
            regions[:, k, 3] * scale[:, k] + margin,
        )
        maps = np.maximum(maps, ellipse(u, v, region, px) * valid[:, k, None, None])
    extra = stray_regions[np.arange(n), which]
    maps = np.maximum(maps, ellipse(u, v, tuple(extra.T), px) * (weight * stray)[:, None, None])
    for a in np.unique(annotator):
        mine = annotator == a
        sigma = float(styles["blur"][a]) / px
        maps[mine] = gaussian_filter(maps[mine], sigma=(0, sigma, sigma), mode="constant")
    peak = maps.max(axis=(1, 2), keepdims=True)
    return (maps / np.where(peak > 0, peak, 1.0))[:, None].astype(np.float32)

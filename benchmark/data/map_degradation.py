"""Degradations of human maps, for the annotation-quality axis (issue 26 item 4; docs/datasets.md,
"Annotation budget and quality").

Every function takes a stack of maps ``(A,1,H,W)`` float32 in [0,1] and returns a new stack of the
same shape and dtype; the input is never changed. The work is batched over the stack with
``scipy.ndimage`` (a footprint ``(1,1,k,k)`` filters each map on its own; ``label`` with a structure
that does not connect maps), and every random choice comes from the ``numpy.random.Generator``
passed in. A map's *support* is its pixels > 0; its *parts* are the 8-connected components of
the support (``parts``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# 8-connectivity inside a map, none across maps or channels: only the centre (H,W) slab is set.
_PARTS = np.zeros((3, 3, 3, 3), dtype=bool)
_PARTS[1, 1] = True


def parts(maps: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """The connected parts of every map's support: the label array (A,1,H,W) int32 (0 = background;
    labels grow map by map, so the parts of map i come before those of map i+1), their count, and
    the map of each part ((count,) int64)."""
    labels, count = ndimage.label(maps > 0, structure=_PARTS)
    owner = np.array([box[0].start for box in ndimage.find_objects(labels)], dtype=np.int64)
    return labels, int(count), owner


def disc(radius: int) -> np.ndarray:
    """The disc footprint of ``radius`` pixels: (2r+1, 2r+1) bool, dy^2 + dx^2 <= r^2."""
    offsets = np.arange(-radius, radius + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2


def boxes(maps: np.ndarray) -> np.ndarray:
    """Each connected part of each map's support replaced by its bounding box, filled with 1 (overlapping
    boxes merge). Rao et al. (ICCV 2023, arXiv 2303.11932, sec. 5) guide models with bounding boxes
    instead of segmentation masks and find them nearly as good: this is that coarse annotation, built
    exactly from the map (``ndimage.find_objects`` gives each part's box)."""
    labels, _, _ = parts(maps)
    out = np.zeros_like(maps, dtype=np.float32)
    for box in ndimage.find_objects(labels):
        out[box] = 1.0
    return out


def _disc_filter(maps: np.ndarray, radius: int, largest: bool) -> np.ndarray:
    """The largest (or smallest) value of each map within a disc of ``radius`` pixels around every pixel,
    outside the image counting as the nearest edge pixel (``mode='nearest'``). The disc is the union of
    the centred rectangles (2k+1) x (2w(k)+1), w(k) = floor(sqrt(r^2 - k^2)), so the filter is the
    pixelwise max (min) of separable rectangle filters: O(r) passes of a 1-D running filter instead of
    the (2r+1)^2 footprint of ``ndimage.grey_dilation`` (the same values, exactly)."""
    along = ndimage.maximum_filter1d if largest else ndimage.minimum_filter1d
    combine = np.maximum if largest else np.minimum
    half = {}  # w -> the tallest k with that half-width: a rectangle inside another adds nothing
    for k in range(radius + 1):
        half[int(np.floor(np.sqrt(radius**2 - k**2)))] = k
    out: np.ndarray | None = None
    for width, k in half.items():
        rect = along(along(maps, 2 * k + 1, axis=2, mode="nearest"), 2 * width + 1, axis=3, mode="nearest")
        out = rect if out is None else combine(out, rect)
    return np.asarray(out, dtype=np.float32)


def dilate(maps: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation of each map with a disc of ``radius`` pixels (a pixel takes the largest value within
    the disc): a looser annotation. Outside the image counts as the nearest edge pixel, so on a 0/1 mask
    this is exactly ``ndimage.binary_dilation`` with the same disc (``disc``)."""
    return _disc_filter(maps, radius, largest=True)


def erode(maps: np.ndarray, radius: int) -> np.ndarray:
    """Grey erosion of each map with a disc of ``radius`` pixels (a pixel takes the smallest value within
    the disc): a tighter annotation, whose thin parts may vanish. Outside the image counts as the nearest
    edge pixel (a map touching the frame is not eaten from it), so on a 0/1 mask this is exactly
    ``ndimage.binary_erosion(mask, disc, border_value=1)``."""
    return _disc_filter(maps, radius, largest=False)


def shift_by(maps: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Map i translated by ``offsets[i] = (dy, dx)`` whole pixels (down, right), zero-filled where it
    comes from outside the image. Done once per distinct offset, on all the maps that share it."""
    out = np.zeros_like(maps, dtype=np.float32)
    height, width = maps.shape[2:]
    distinct, group = np.unique(np.asarray(offsets, dtype=np.int64).reshape(-1, 2), axis=0, return_inverse=True)
    for k, (dy, dx) in enumerate(distinct):
        rows = np.flatnonzero(group.ravel() == k)
        if abs(dy) >= height or abs(dx) >= width:
            continue  # moved out of the image entirely: stays zero
        src_y, dst_y = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
        src_x, dst_x = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
        out[rows, :, dst_y, dst_x] = maps[rows, :, src_y, src_x]
    return out


def shift_offsets(count: int, distance: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 2) int64 offsets of ``distance`` pixels in a direction drawn uniformly per map (the angle from
    ``rng``), rounded to whole pixels: (round(d sin t), round(d cos t))."""
    angle = rng.uniform(0.0, 2.0 * np.pi, size=count)
    return np.rint(distance * np.stack([np.sin(angle), np.cos(angle)], axis=1)).astype(np.int64)


def drop_parts(maps: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Each map with its connected parts removed at random: of a map's n parts, floor(share * n + 1/2) go,
    but at most n - 1 (one part always stays; a one-part map is unchanged). The parts to remove are the
    first in a random order drawn once from ``rng`` (one key per part), so a larger share removes a
    superset. Returns the maps and the count of parts removed."""
    labels, count, owner = parts(maps)
    if count == 0:
        return maps.astype(np.float32, copy=True), 0
    per_map = np.bincount(owner, minlength=len(maps))
    removed = np.minimum(per_map - 1, np.floor(share * per_map + 0.5).astype(np.int64)).clip(min=0)
    order = np.lexsort((rng.random(count), owner))  # parts grouped by map, shuffled within each map
    start = np.concatenate([[0], np.cumsum(per_map)[:-1]])
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count) - start[owner[order]]
    keep = np.concatenate([[True], rank >= removed[owner]])  # indexed by label; 0 = background
    return (maps * keep[labels]).astype(np.float32), int(removed.sum())


def wrong_sources(count: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Per map, the index of the map it shows: floor(share * count + 1/2) maps (at least 1 when share > 0)
    take the map of another image, the others their own. A random cyclic order of all ``count`` maps (a
    derangement: no map is its own successor) gives each replaced map its successor's; the replaced
    ones are the first in a second random order, so a larger share replaces a superset."""
    sources = np.arange(count)
    replaced = min(count, max(1, int(np.floor(share * count + 0.5)))) if share > 0 else 0
    if count < 2 or replaced == 0:
        return sources
    cycle = rng.permutation(count)
    successor = np.empty(count, dtype=np.int64)
    successor[cycle] = np.roll(cycle, -1)
    chosen = rng.permutation(count)[:replaced]
    sources[chosen] = successor[chosen]
    return sources

"""The regions of a toy face that reveal its class, or that annotators mark without reason (the
annotations of ``datasets/toy_faces.py``; drawn by ``benchmark.data.faces_drawing``)."""

from __future__ import annotations

import numpy as np

from .faces_drawing import GENERATORS, Geometry, Region, cheek, eye, head, mouth, nose, support, take


def inspected_regions(g: Geometry, px: float) -> list[Region]:
    """What a person inspects on a face that shows no artifact: both eyes, the mouth and the
    skin of the cheeks (where the training generators put their artifacts)."""
    return [
        support(eye(g, 0), px),
        support(eye(g, 1), px),
        support(mouth(g), px),
        support(cheek(g, 0), px),
        support(cheek(g, 1), px),
    ]


def spurious_regions(g: Geometry, px: float) -> list[Region]:
    """Face regions annotators sometimes mark without reason: nose, forehead, chin, hair."""
    cx, cy, ax, ay = head(g)
    return [
        support(nose(g), px),
        (cx, cy - 0.5 * ay, 0.35 * ax, 0.14 * ay),
        (cx, cy + 0.8 * ay, 0.2 * ax, 0.1 * ay),
        (cx + 0.5 * ax, cy - 0.7 * ay, 0.2 * ax, 0.12 * ay),
    ]


def stack_regions(regions: list[Region]) -> np.ndarray:
    """A list of R regions of arrays (n,) -> (n,R,4)."""
    return np.stack([np.stack(r, -1) for r in regions], 1).astype(np.float32)


def revealing_regions(g: Geometry, generator: np.ndarray, names: list[str], px: float) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the ellipses that reveal its class, (n,R,4) with a validity mask (n,R): the
    generator's artifact regions for synthetic images, ``inspected_regions`` for real ones."""
    table = [(generator < 0, inspected_regions)] + [
        (generator == k, GENERATORS[name].regions) for k, name in enumerate(names)
    ]
    width = max(len(fn(take(g, slice(0, 1)), px)) for _, fn in table)
    regions = np.tile(np.array([0.0, 0.0, 1.0, 1.0], np.float32), (len(generator), width, 1))  # padding: unit circles
    valid = np.zeros((len(generator), width), bool)
    for chosen, fn in table:
        if chosen.any():
            found = stack_regions(fn(take(g, chosen), px))
            regions[chosen, : found.shape[1]] = found
            valid[np.ix_(chosen, np.arange(found.shape[1]))] = True
    return regions, valid

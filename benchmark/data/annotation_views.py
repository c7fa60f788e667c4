"""The run setting ``annotations``: which train maps a run keeps (budget) and how they are degraded
(quality); issue 26 items 3 and 4, docs/datasets.md "Annotation budget and quality".

A view of the TRAIN split only: val and the test splits keep their true maps, which the alignment
metrics and the evaluation read. Every default leaves the split as built (the same object), so a run
without the setting has the id and record it had before.

- ``budget`` b in (0, 1]: of the A annotated train rows, the first floor(b*A + 1/2) (at least 1) of one
  seeded permutation keep their map; the others become unannotated (``annotated`` False, no map), as in
  CYBORG's partially annotated sets (Boyd et al., WACV 2023). The permutation depends on the run's seed
  only, so for a seed the levels are nested (5% inside 20% inside 50%) and every method sees the same rows.
- ``degradation`` with its ``level`` (``LEVELS``), applied to the kept maps (``map_degradation``); a
  level is a fraction of the image's shorter side S for the geometric kinds, r = max(1, floor(level*S + 1/2))
  pixels: ``box`` (no level) each connected part's bounding box filled with 1 (Rao et al., ICCV 2023);
  ``dilate`` / ``erode`` a disc of radius r; ``shift`` a translation by r pixels in a direction drawn per
  map, zero-filled; ``drop`` removes that share of each map's connected parts (one part always stays);
  ``wrong`` replaces that share of the kept maps by another kept image's map (a seeded derangement).

The draws come from ``seed``, which ``runs.run`` derives from (run seed, "annotations", dataset): the
budget from one stream, the degradation from another, so a rerun is bitwise the same and a degradation's
random choices (directions, part order, who gets a wrong map) do not change with its level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..contracts import ContractError, Split
from ..hparams import HParam, resolve_hparams
from . import map_degradation as md

# kind -> (meaning of its level, highest level); None: the kind takes no level
LEVELS: dict[str, tuple[str, float] | None] = {
    "none": None,
    "box": None,
    "dilate": ("disc radius as a fraction of the image side", 0.5),
    "erode": ("disc radius as a fraction of the image side", 0.5),
    "shift": ("offset as a fraction of the image side", 0.5),
    "drop": ("share of each map's connected parts removed (one always stays)", 1.0),
    "wrong": ("share of the kept maps replaced by another image's map", 1.0),
}
DEGRADATIONS = tuple(LEVELS)

ANNOTATION_PARAMS: dict[str, HParam] = {
    "budget": HParam(
        1.0,
        "share of the train split's annotated rows that keep their map, in (0, 1]; the others become "
        "unannotated; nested across levels for a seed",
        low=0.0,
        high=1.0,
    ),
    "degradation": HParam("none", "how the kept train maps are degraded", choices=DEGRADATIONS),
    "level": HParam(
        0.0,
        "strength of the degradation: a fraction of the image side (dilate, erode: radius; shift: offset), "
        "the share of parts dropped (drop) or of maps replaced (wrong); box and none take none",
        low=0.0,
        high=1.0,
    ),
}
OWNER = "run config 'annotations'"


def resolve_annotations(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings with their defaults filled in, validated: one ``ContractError`` line naming the
    field and value (an unknown name, a budget of 0, a level the degradation does not take)."""
    if not isinstance(overrides, Mapping):
        raise ContractError(f"{OWNER}: expected a mapping of settings, got {overrides!r}")
    settings = resolve_hparams(ANNOTATION_PARAMS, overrides, owner=OWNER)
    if settings["budget"] == 0:  # the declared range is inclusive; no annotated row at all is not a budget
        raise ContractError(f"{OWNER}: 'budget' must be in (0, 1], got {settings['budget']}")
    kind, level = settings["degradation"], settings["level"]
    takes = LEVELS[kind]
    if takes is None and level != 0:
        raise ContractError(f"{OWNER}: degradation '{kind}' takes no level, got level={level}")
    if takes is not None and not 0 < level <= takes[1]:
        raise ContractError(
            f"{OWNER}: degradation '{kind}' needs a level in (0, {takes[1]}] ({takes[0]}), got level={level}"
        )
    return settings


def is_default(settings: Mapping[str, Any]) -> bool:
    return all(settings.get(name, hp.default) == hp.default for name, hp in ANNOTATION_PARAMS.items())


def label(settings: Mapping[str, Any]) -> str:
    """A short tag of the non-default settings, e.g. ``budget 0.2``, ``box``, ``shift 0.1``,
    ``budget 0.5, drop 0.5``; empty at the defaults (the record table's dataset label)."""
    parts = []
    budget = settings.get("budget", 1.0)
    if budget != 1.0:
        parts.append(f"budget {budget:g}")
    kind = settings.get("degradation", "none")
    if kind != "none":
        parts.append(kind if LEVELS.get(kind) is None else f"{kind} {settings.get('level', 0.0):g}")
    return ", ".join(parts)


def pixels(level: float, split: Split) -> int:
    """A level that is a fraction of the image side, in whole pixels: max(1, floor(level*S + 1/2))."""
    return max(1, int(np.floor(level * min(split.x.shape[2:]) + 0.5)))


def _degrade(maps: np.ndarray, kind: str, level: float, split: Split, rng: np.random.Generator) -> tuple:
    """(degraded maps, what the degradation did) for the kept maps."""
    if kind == "box":
        return md.boxes(maps), {}
    if kind in ("dilate", "erode"):
        radius = pixels(level, split)
        return (md.dilate if kind == "dilate" else md.erode)(maps, radius), {"radius_pixels": radius}
    if kind == "shift":
        offset = pixels(level, split)
        return md.shift_by(maps, md.shift_offsets(len(maps), offset, rng)), {"offset_pixels": offset}
    if kind == "drop":
        out, removed = md.drop_parts(maps, level, rng)
        return out, {"parts_removed": removed}
    if len(maps) < 2:
        raise ContractError(f"{OWNER}: degradation 'wrong' needs at least 2 kept train maps, got {len(maps)}")
    sources = md.wrong_sources(len(maps), level, rng)
    return maps[sources], {"maps_replaced": int((sources != np.arange(len(maps))).sum())}


def annotation_view(split: Split, settings: Mapping[str, Any], seed: int) -> tuple[Split, dict[str, Any]]:
    """``split`` (a train split) with its annotations budgeted and degraded by the resolved ``settings``,
    and a description for the run's record (empty, and ``split`` itself, at the defaults)."""
    if is_default(settings):
        return split, {}
    if split.saliency is None or split.annotated is None or not split.annotated.any():
        raise ContractError(f"{OWNER}: {label(settings)} needs human maps in the train split, which has none")
    annotated = np.flatnonzero(split.annotated)
    count = len(annotated)
    kept = max(1, int(np.floor(settings["budget"] * count + 0.5)))
    chosen = np.sort(np.random.default_rng((seed, 0)).permutation(count)[:kept])  # positions among the maps
    maps = split.saliency[chosen]
    maps, did = (
        (maps, {})
        if settings["degradation"] == "none"
        else _degrade(maps, settings["degradation"], settings["level"], split, np.random.default_rng((seed, 1)))
    )
    flags = np.zeros(len(split), dtype=bool)
    flags[annotated[chosen]] = True
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    view = Split(x=split.x, y=split.y, saliency=maps, annotated=flags, extras=split.extras)
    description = {
        "settings": {k: v for k, v in settings.items() if v != ANNOTATION_PARAMS[k].default},
        "train_annotated_built": count,
        "train_annotated": kept,
        **did,
        "maps_emptied": int((maps.reshape(kept, -1).max(axis=1) <= 0).sum()),
        "maps_sha256": hashlib.sha256(maps.tobytes() + flags.tobytes()).hexdigest(),
    }
    return view, description


def apply_annotations(split: Split, settings: Mapping[str, Any], seed: int) -> Split:
    """``split`` seen through the resolved annotation ``settings`` (``annotation_view``)."""
    return annotation_view(split, settings, seed)[0]

"""The saliency-evaluation settings of a run (``RunConfig.evaluation``), resolved like hyperparameters.

The resolved settings are part of the run's identity (its hash): changing the probe size or
the number of IG steps makes a different run. A disabled evaluation resolves to
``{"enabled": False}`` alone, so unused settings do not split run ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..contracts import ContractError, HParam, resolve_hparams

ATTRIBUTION_NAMES = ("cam", "gradcam", "gradient", "input_x_gradient", "integrated_gradients")
REFERENCE_NAMES = ("uniform", "human_prior", "random")  # reference rows; never an attribution name

EVALUATION_PARAMS: dict[str, HParam] = {
    "enabled": HParam(True, "evaluate the trained model's saliency after training"),
    "attributions": HParam(list(ATTRIBUTION_NAMES), f"attribution methods, a subset of {list(ATTRIBUTION_NAMES)}"),
    "splits": HParam(["auto"], "splits to evaluate; 'auto' = 'test' when present, else the first split named test*"),
    "probe_size": HParam(
        64,
        "probe images per evaluated split: a fixed class-balanced subset, the same for every "
        "run of the dataset; every saliency metric is computed on them and their maps are saved",
        low=1,
    ),
    "target": HParam("label", "class explained: the true label or the model's prediction", ("label", "predicted")),
    "ig_steps": HParam(16, "integrated-gradients steps (Gauss-Legendre); the convergence delta is recorded", low=1),
    "ig_baseline": HParam("zeros", "IG baseline: a black image, or each image's per-channel mean", ("zeros", "mean")),
    "mask_levels": HParam(
        7,
        "masking / deletion / insertion steps L: the masked fractions 0.9 (j/(L-1))^p, "
        "j = 0..L-1 (SGT's 0-90%), then 1 (saliency/faithfulness.py)",
        low=1,
    ),
    "mask_power": HParam(
        1.5,
        "exponent p of the masked fractions: 1 = even steps (L = 10, p = 1: the earlier grid "
        "0, 0.1, ..., 1); above 1, short steps at small fractions, where the curves move",
        low=1.0,
        high=4.0,
    ),
    "mask_fill": HParam(
        "mean",
        "value of masked pixels: the image's channel mean, or uniform noise in its range (SGT)",
        ("mean", "random"),
    ),
    "annotation_threshold": HParam(
        0.5, "a human-map pixel at or above this value is inside the annotation; in (0, 1]", low=0, high=1
    ),
    "wrong_reason_keys": HParam(
        ["decoy", "cue_mask"],
        "dataset extras holding the decoy / distractor pixel mask "
        "(decoy_digits: decoy, toy_faces: cue_mask); the first present is used",
    ),
    "sanity": HParam(True, "cascading model-parameter randomization (Adebayo et al. 2018) on the sanity seed"),
    "sanity_seed": HParam(0, "run seed on which the sanity check runs (one seed per method and cell)", low=0),
    "sanity_images": HParam(
        8, "first probe images of the first evaluated split used by the sanity check (<= probe_size)", low=1
    ),
    "sanity_max_stages": HParam(
        8,
        "cascade granularity: the network's blocks are split into sub-blocks while "
        "their count stays within this (sanity.cascade_blocks)",
        low=1,
    ),
    "sanity_threshold": HParam(0.5, "flag a method whose fully randomized maps keep Spearman >= this", low=-1, high=1),
}

OWNER = "run config 'evaluation'"


def _names(value: Any, field: str, allowed: tuple[str, ...] | None) -> list[str]:
    """A list of names from a list or a comma-separated string; checked against ``allowed``."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or not value:
        raise ContractError(f"{OWNER}: '{field}' must be a non-empty list of names, got {value!r}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ContractError(f"{OWNER}: '{field}' has unknown name(s) {unknown}; known: {list(allowed)}")
        return [name for name in allowed if name in value]  # canonical order: one run id per set
    return list(dict.fromkeys(value))


def resolve_evaluation(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults updated by ``overrides``, validated; ``{"enabled": False}`` when disabled."""
    overrides = dict(overrides or {})
    if "attributions" in overrides:
        overrides["attributions"] = _names(overrides["attributions"], "attributions", ATTRIBUTION_NAMES)
    for field in ("splits", "wrong_reason_keys"):
        if field in overrides:
            overrides[field] = _names(overrides[field], field, None)
    settings = {
        key: list(value) if isinstance(value, list) else value
        for key, value in resolve_hparams(EVALUATION_PARAMS, overrides, owner=OWNER).items()
    }
    if settings["sanity_images"] > settings["probe_size"]:
        raise ContractError(
            f"{OWNER}: sanity_images {settings['sanity_images']} exceeds probe_size {settings['probe_size']}"
        )
    if settings["annotation_threshold"] == 0:  # the declared range [0, 1] is inclusive; 0 would annotate every pixel
        raise ContractError(
            f"{OWNER}: 'annotation_threshold' must be in (0, 1], got {settings['annotation_threshold']}"
        )
    if not settings["enabled"]:  # checked all the same: a value is valid or not whether or not it is used
        return {"enabled": False}
    return settings


def auto_split(names: list[str], wanted: str) -> str:
    """Resolve 'auto' to 'test' or the first split named test*; check a named split exists."""
    if wanted != "auto":
        if wanted not in names:
            raise ContractError(f"{OWNER}: split '{wanted}' not in the dataset's splits {names}")
        return wanted
    if "test" in names:
        return "test"
    tests = [name for name in names if name.startswith("test")]
    if not tests:
        raise ContractError(f"{OWNER}: the dataset has no split named test*; its splits: {names}")
    return tests[0]


def evaluated_splits(settings: Mapping[str, Any], names: list[str]) -> list[str]:
    """The splits to evaluate, in order, without repeats; the first one hosts the sanity check."""
    return list(dict.fromkeys(auto_split(names, wanted) for wanted in settings["splits"]))

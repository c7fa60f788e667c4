"""After training: evaluate the saliency of a run's model and store it in (and beside) its record.

For each evaluated split (``RunConfig.evaluation``, see ``settings.py``) the fixed probe
images (``probe.py``) are explained by every attribution method; each map is stored as
float16 divided by its maximum, and every metric is computed on exactly those stored maps
(resized to the image with ``maps.resize_maps``), so a record can be re-checked from its
arrays. ``evaluate_saliency`` returns the metrics, the summary and the arrays and curves to
store; the run record (``benchmark.records.recorder``) writes them. Record layout:

- ``record.metrics[split]["saliency/<row>/<metric>"]``: scalar summaries (``metrics.py``
  declares direction and unit; rows are attributions and the references ``uniform``,
  ``human_prior``, ``random``); the sanity similarity sits under the first evaluated split;
  a score that is undefined or not finite for a run is stored as null, and
  ``record.extra["undefined_metrics"]["<split>/<key>"]`` says why (never dropped silently);
- ``record.extra["saliency"]``: attributions used and skipped, image counts, the sanity
  curve and flags, the metric specs, and the sha256 of every artifact;
- ``record.artifacts``: ``saliency/<split>/<name>`` -> ``RUN_ID.saliency/<split>/<name>.npy``
  (index, images, labels, target, human, annotated, wrong_reason, one per attribution) and
  ``.json`` curves for ``dvc plots`` (masking, deletion, insertion; ``saliency/sanity``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from ..contracts import ContractError, DatasetBundle
from ..seeding import derive_seed, make_generator
from . import probe
from .alignment import alignment_scores
from .attributions import Maps, applicable, at_size, attribute, quantize
from .faithfulness import Curves, mask_fractions, perturbation_curves
from .metrics import describe, key
from .sanity import cascading_randomization
from .settings import evaluated_splits


class SplitOnDevice(Protocol):
    """What the evaluation reads of a split already on the device (``runs.device_data.DeviceSplit``)."""

    y: Tensor

    def images(self, index: Tensor | np.ndarray) -> Tensor: ...  # uint8 rows, resident or streamed

    def batch(self, index: Tensor) -> Any: ...


@dataclass
class Trained:
    """A trained network with the data it was trained and evaluated on."""

    network: Any
    splits: Mapping[str, SplitOnDevice]
    bundle: DatasetBundle
    config: Mapping[str, Any]


@dataclass
class SaliencyOutput:
    """What the evaluation found: metrics per split (None where undefined, with the reason in
    ``undefined``), the summary for ``record.extra['saliency']``, and the files to store beside the
    record: ``arrays`` (.npy) and ``tables`` (.json), keyed by their name under ``RUN_ID.saliency/``."""

    metrics: dict[str, dict[str, float | None]]
    undefined: dict[str, str]
    summary: dict[str, Any]
    arrays: dict[str, np.ndarray]
    tables: dict[str, Any]
    seconds: float
    phases: dict[str, float]


def human_prior(trained: Trained) -> np.ndarray | None:
    """The mean annotation of the annotated training images (H,W): the spatial-prior reference map."""
    train = trained.bundle.splits["train"]
    if train.saliency is None or not train.annotated.any():
        return None
    return train.saliency[:, 0].astype(np.float64).mean(axis=0).astype(np.float32)  # the annotated rows' maps


@dataclass
class SplitResult:
    metrics: dict[str, float | None]
    undefined: dict[str, str]
    counts: dict[str, int]
    arrays: dict[str, np.ndarray]
    curves: Curves
    x: Tensor
    target: Tensor
    seconds: dict[str, float] = field(default_factory=dict)


def _explained_class(net: Any, x: Tensor, y: Tensor, mode: str) -> Tensor:
    if mode == "label":
        return y
    was_training = net.training
    net.eval()
    with torch.no_grad():
        predicted = net(x).logits.argmax(dim=1)
    net.train(was_training)
    return predicted


class Scores:
    """Metric values of one split: finite floats, or None with the reason kept in ``undefined``."""

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}
        self.undefined: dict[str, str] = {}

    def put(self, row: str, name: str, value: float | None, why: str = "no image for which it is defined") -> None:
        metric = key(row, name)
        if value is not None and np.isfinite(value):
            self.values[metric] = float(value)
            return
        self.values[metric] = None
        self.undefined[metric] = why if value is None else f"not finite ({value})"


def _ig_metrics(maps: Maps, metrics: Scores) -> None:
    if maps.ig_delta is None:
        return
    delta = maps.ig_delta.abs().cpu().double()
    gap = (maps.ig_sum.cpu().double() - maps.ig_delta.cpu().double()).abs()  # |F(x) - F(baseline)|
    metrics.put("integrated_gradients", "ig_delta", float(delta.mean()))
    defined = gap > 1e-12
    metrics.put(
        "integrated_gradients",
        "ig_delta_relative",
        float((delta[defined] / gap[defined]).mean()) if bool(defined.any()) else None,
        "F(x) = F(baseline) on every probe image",
    )


def masks(
    trained: Trained, split: str, index: np.ndarray, batch: Any, settings: Mapping[str, Any]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(annotation masks of the annotated images, wrong-reason masks), each (n,H,W) bool or None."""
    n, size = len(index), tuple(batch.x.shape[-2:])
    human = decoy = None
    if batch.saliency is not None:
        human = (
            ((batch.saliency[:, 0] >= settings["annotation_threshold"]) & batch.annotated[:, None, None]).cpu().numpy()
        )
    extras = trained.bundle.splits[split].extras
    wrong_key = next((k for k in settings["wrong_reason_keys"] if k in extras), None)
    if wrong_key is not None:
        decoy = extras[wrong_key][index]
        if decoy.size != n * size[0] * size[1]:
            raise ContractError(
                f"dataset '{trained.config['dataset']}' split '{split}': extra '{wrong_key}' has "
                f"shape {extras[wrong_key].shape}, not a pixel mask (N,1,{size[0]},{size[1]})"
            )
        decoy = decoy.reshape(n, *size).astype(bool)
    return human, decoy


def alignment_metrics(
    full: dict[str, Tensor],
    human: np.ndarray | None,
    decoy: np.ndarray | None,
    prior: np.ndarray | None,
    metrics: Scores,
) -> None:
    """Alignment summaries of every map and of the reference rows (uniform map, mean training annotation)."""
    n, size = next(iter(full.values())).shape[0], tuple(next(iter(full.values())).shape[-2:])
    rows = {name: m.cpu().numpy() for name, m in full.items()}
    rows["uniform"] = np.ones((n, *size), dtype=np.float32)
    if prior is not None:
        rows["human_prior"] = np.broadcast_to(prior, (n, *size))
    for row, values in rows.items():
        for name, (value, _) in alignment_scores(values, human, decoy).items():
            metrics.put(row, name, value, "no probe image with an annotation (or a wrong-reason mask) for it")


def evaluate_split(
    trained: Trained, split: str, names: list[str], settings: Mapping[str, Any], prior: np.ndarray | None
) -> SplitResult:
    config, net = trained.config, trained.network
    device_split, arrays = trained.splits[split], trained.bundle.splits[split]
    index = probe.subset(arrays.y, config["dataset"], split, settings["probe_size"])
    batch = device_split.batch(torch.as_tensor(index, device=device_split.y.device))
    x, y = batch.x, batch.y
    target = _explained_class(net, x, y, settings["target"])
    clock = time.perf_counter()
    maps = attribute(
        net,
        x,
        target,
        names,
        ig_steps=settings["ig_steps"],
        ig_baseline=settings["ig_baseline"],
        batch_size=config["batch_size"],
    )
    stored = maps.stored()
    size = (x.shape[-2], x.shape[-1])
    full = {name: at_size(m, size) for name, m in stored.items()}
    seconds = {"attribution": time.perf_counter() - clock}

    clock = time.perf_counter()
    human, decoy = masks(trained, split, index, batch, settings)
    metrics = Scores()
    alignment_metrics(full, human, decoy, prior, metrics)
    _ig_metrics(maps, metrics)
    seconds["alignment"] = time.perf_counter() - clock

    clock = time.perf_counter()
    generator = make_generator(derive_seed("saliency-perturbation", config["dataset"], split), x.device)
    fractions = mask_fractions(settings["mask_levels"], settings["mask_power"])
    curves = perturbation_curves(
        net, x, y, target, full, fractions, settings["mask_fill"], config["eval_batch_size"], generator
    )
    for row, values in curves.summary().items():
        for name, value in values.items():
            metrics.put(row, name, value)
    seconds["perturbation"] = time.perf_counter() - clock

    saved = {
        "index": index.astype(np.int64),
        "images": device_split.images(index).cpu().numpy(),
        "labels": y.cpu().numpy(),
        "target": target.cpu().numpy(),
    }
    if batch.saliency is not None:
        saved["human"] = batch.saliency[:, 0].cpu().numpy().astype(np.float16)
        saved["annotated"] = batch.annotated.cpu().numpy()
    if decoy is not None:
        saved["wrong_reason"] = decoy.astype(np.uint8)
    saved.update({name: m.cpu().numpy() for name, m in stored.items()})
    n = len(index)
    counts = {
        "images": n,
        "annotated": 0 if human is None else int(human.reshape(n, -1).any(axis=1).sum()),
        "wrong_reason": 0 if decoy is None else int(decoy.reshape(n, -1).any(axis=1).sum()),
    }
    return SplitResult(metrics.values, metrics.undefined, counts, saved, curves, x, target, seconds)


def curve_tables(curves: Curves) -> dict[str, list[dict[str, float]]]:
    """Wide tables for ``dvc plots``: one row per fraction, one column per ranking."""
    f = curves.fractions
    return {
        "masking": [
            {"masked_fraction": d, **{k: v[j] for k, v in curves.accuracy.items()}} for j, d in enumerate(f[:-1])
        ],
        "deletion": [{"fraction": d, **{k: v[j] for k, v in curves.deletion.items()}} for j, d in enumerate(f)],
        "insertion": [{"fraction": d, **{k: v[j] for k, v in curves.insertion.items()}} for j, d in enumerate(f)],
    }


def run_sanity(trained: Trained, first: SplitResult, names: list[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    config = trained.config
    count = settings["sanity_images"]
    x, target = first.x[:count], first.target[:count]
    size = (x.shape[-2], x.shape[-1])

    def maps_of(model: Any, images: Tensor, classes: Tensor) -> dict[str, Tensor]:
        computed = attribute(
            model,
            images,
            classes,
            names,
            ig_steps=settings["ig_steps"],
            ig_baseline=settings["ig_baseline"],
            batch_size=config["batch_size"],
        )
        return {name: at_size(quantize(m), size) for name, m in computed.native.items()}

    # the trained network's maps are the stored ones of these probe images (computed once, with the split's)
    reference = {name: at_size(torch.from_numpy(first.arrays[name][:count]).to(x.device), size) for name in names}
    outcome = cascading_randomization(
        trained.network,
        x,
        target,
        maps_of,
        settings["sanity_max_stages"],
        seed=derive_seed("saliency-sanity", config["dataset"], config["arch"]),
        reference=reference,
    )
    return {
        "images": int(len(x)),
        "blocks": outcome.blocks,
        "similarity": outcome.similarity,
        "final": outcome.final(),
        "flagged": outcome.flags(settings["sanity_threshold"]),
        "threshold": settings["sanity_threshold"],
    }


def check_splits(settings: Mapping[str, Any], split_names: list[str]) -> None:
    """Fail before training when the evaluation names a split the dataset lacks."""
    if settings.get("enabled", False):
        evaluated_splits(settings, split_names)


def evaluate_saliency(trained: Trained) -> SaliencyOutput | None:
    """Evaluate the trained network with ``config['evaluation']``; None when the evaluation is off."""
    settings = trained.config.get("evaluation") or {}
    if not settings.get("enabled", False):
        return None
    started = time.perf_counter()
    names, skipped = applicable(trained.network, settings["attributions"])
    splits = evaluated_splits(settings, list(trained.bundle.splits))
    prior = human_prior(trained)
    out = SaliencyOutput(
        metrics={},
        undefined={},
        arrays={},
        tables={},
        seconds=0.0,
        phases={},
        summary={"attributions": names, "skipped": skipped, "splits": splits, "images": {}, "metrics": describe()},
    )
    results = {}
    for split in splits:
        result = results[split] = evaluate_split(trained, split, names, settings, prior)
        out.metrics[split] = dict(result.metrics)
        out.undefined.update({f"{split}/{metric}": why for metric, why in result.undefined.items()})
        out.summary["images"][split] = result.counts
        for phase, seconds in result.seconds.items():
            out.phases[phase] = out.phases.get(phase, 0.0) + seconds
        out.arrays.update({f"{split}/{name}": array for name, array in result.arrays.items()})
        out.tables.update({f"{split}/{name}": table for name, table in curve_tables(result.curves).items()})
    if settings["sanity"] and trained.config["seed"] == settings["sanity_seed"]:
        clock = time.perf_counter()
        sanity = out.summary["sanity"] = run_sanity(trained, results[splits[0]], names, settings)
        scores = Scores()
        for name, value in sanity["final"].items():
            scores.put(name, "mprt_spearman", value, "the cascade produced no stage for this attribution")
        out.metrics[splits[0]].update(scores.values)
        out.undefined.update({f"{splits[0]}/{metric}": why for metric, why in scores.undefined.items()})
        out.tables["sanity"] = [
            {"stage": i + 1, "block": block, **{k: v[i] for k, v in sanity["similarity"].items()}}
            for i, block in enumerate(sanity["blocks"])
        ]
        out.phases["sanity"] = time.perf_counter() - clock
    out.seconds = time.perf_counter() - started
    return out

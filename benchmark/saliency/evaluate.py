"""After training: evaluate the saliency of a run's model and store it in (and beside) its record.

For each evaluated split (``RunConfig.evaluation``, see ``settings.py``) the fixed probe
images (``probe.py``) are explained by every attribution method; each map is stored as
float16 divided by its maximum, and every metric is computed on exactly those stored maps
(resized to the image with ``maps.resize_maps``), so a record can be re-checked from its
arrays. Record layout:

- ``record.metrics[split]["saliency/<row>/<metric>"]``: scalar summaries (``metrics.py``
  declares direction and unit; rows are attributions and the references ``uniform``,
  ``human_prior``, ``random``); the sanity similarity sits under the first evaluated split;
- ``record.extra["saliency"]``: attributions used and skipped, image counts, the sanity
  curve and flags, the metric specs, and the sha256 of every artifact;
- ``record.artifacts``: ``saliency/<split>/<name>`` -> ``RUN_ID.saliency/<split>/<name>.npy``
  (index, images, labels, target, human, annotated, wrong_reason, one per attribution) and
  ``.json`` curves for ``dvc plots`` (masking, deletion, insertion; ``saliency/sanity``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import torch
from torch import Tensor

from ..contracts import ContractError
from ..runs.seeding import derive_seed, make_generator
from . import probe
from .alignment import alignment_scores
from .artifacts import ArtifactWriter
from .attributions import Maps, applicable, attribute, at_size, quantize
from .faithfulness import Curves, perturbation_curves
from .metrics import describe, key
from .sanity import cascading_randomization
from .settings import evaluated_splits

if TYPE_CHECKING:
    from ..runs.run import RunResult


def human_prior(result: "RunResult") -> np.ndarray | None:
    """The mean annotation of the annotated training images (H,W): the spatial-prior reference map."""
    train = result.bundle.splits["train"]
    if train.saliency is None or not train.annotated.any():
        return None
    return train.saliency[train.annotated, 0].astype(np.float64).mean(axis=0).astype(np.float32)


@dataclass
class SplitResult:
    metrics: dict[str, float]
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


def _put(metrics: dict[str, float], row: str, name: str, value: float | None) -> None:
    if value is not None and np.isfinite(value):
        metrics[key(row, name)] = float(value)


def _ig_metrics(maps: Maps, metrics: dict[str, float]) -> None:
    if maps.ig_delta is None:
        return
    delta = maps.ig_delta.abs().cpu().double()
    gap = (maps.ig_sum.cpu().double() - maps.ig_delta.cpu().double()).abs()  # |F(x) - F(baseline)|
    _put(metrics, "integrated_gradients", "ig_delta", float(delta.mean()))
    defined = gap > 1e-12
    if bool(defined.any()):
        _put(metrics, "integrated_gradients", "ig_delta_relative", float((delta[defined] / gap[defined]).mean()))


def masks(result: "RunResult", split: str, index: np.ndarray, batch: Any,
          settings: Mapping[str, Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(annotation masks of the annotated images, wrong-reason masks), each (n,H,W) bool or None."""
    n, size = len(index), tuple(batch.x.shape[-2:])
    human = decoy = None
    if batch.saliency is not None:
        human = ((batch.saliency[:, 0] >= settings["annotation_threshold"]) & batch.annotated[:, None, None]).cpu().numpy()
    extras = result.bundle.splits[split].extras
    wrong_key = next((k for k in settings["wrong_reason_keys"] if k in extras), None)
    if wrong_key is not None:
        decoy = extras[wrong_key][index]
        if decoy.size != n * size[0] * size[1]:
            raise ContractError(f"dataset '{result.record.config['dataset']}' split '{split}': extra '{wrong_key}' has "
                                f"shape {extras[wrong_key].shape}, not a pixel mask (N,1,{size[0]},{size[1]})")
        decoy = decoy.reshape(n, *size).astype(bool)
    return human, decoy


def alignment_metrics(full: dict[str, Tensor], human: np.ndarray | None, decoy: np.ndarray | None,
                      prior: np.ndarray | None) -> dict[str, float]:
    """Alignment summaries of every map and of the reference rows (uniform map, mean training annotation)."""
    n, size = next(iter(full.values())).shape[0], tuple(next(iter(full.values())).shape[-2:])
    rows = {name: m.cpu().numpy() for name, m in full.items()}
    rows["uniform"] = np.ones((n, *size), dtype=np.float32)
    if prior is not None:
        rows["human_prior"] = np.broadcast_to(prior, (n, *size))
    metrics: dict[str, float] = {}
    for row, values in rows.items():
        for name, (value, _) in alignment_scores(values, human, decoy).items():
            _put(metrics, row, name, value)
    return metrics


def evaluate_split(result: "RunResult", split: str, names: list[str], settings: Mapping[str, Any],
                   prior: np.ndarray | None) -> SplitResult:
    config, net = result.record.config, result.network
    device_split, arrays = result.splits[split], result.bundle.splits[split]
    index = probe.subset(arrays.y, config["dataset"], split, settings["probe_size"])
    batch = device_split.batch(torch.as_tensor(index, device=device_split.y.device))
    x, y = batch.x, batch.y
    target = _explained_class(net, x, y, settings["target"])
    clock = time.perf_counter()
    maps = attribute(net, x, target, names, ig_steps=settings["ig_steps"], ig_baseline=settings["ig_baseline"],
                     batch_size=config["batch_size"])
    stored = maps.stored()
    size = (x.shape[-2], x.shape[-1])
    full = {name: at_size(m, size) for name, m in stored.items()}
    seconds = {"attribution": time.perf_counter() - clock}

    clock = time.perf_counter()
    human, decoy = masks(result, split, index, batch, settings)
    metrics = alignment_metrics(full, human, decoy, prior)
    _ig_metrics(maps, metrics)
    seconds["alignment"] = time.perf_counter() - clock

    clock = time.perf_counter()
    generator = make_generator(derive_seed("saliency-perturbation", config["dataset"], split), x.device)
    curves = perturbation_curves(net, x, y, target, full, settings["mask_levels"], settings["mask_fill"],
                                 config["eval_batch_size"], generator)
    for row, values in curves.summary().items():
        for name, value in values.items():
            _put(metrics, row, name, value)
    seconds["perturbation"] = time.perf_counter() - clock

    saved = {"index": index.astype(np.int64), "images": device_split.x[torch.as_tensor(index, device=x.device)].cpu().numpy(),
             "labels": y.cpu().numpy(), "target": target.cpu().numpy()}
    if batch.saliency is not None:
        saved["human"] = batch.saliency[:, 0].cpu().numpy().astype(np.float16)
        saved["annotated"] = batch.annotated.cpu().numpy()
    if decoy is not None:
        saved["wrong_reason"] = decoy.astype(np.uint8)
    saved.update({name: m.cpu().numpy() for name, m in stored.items()})
    n = len(index)
    counts = {"images": n,
              "annotated": 0 if human is None else int(human.reshape(n, -1).any(axis=1).sum()),
              "wrong_reason": 0 if decoy is None else int(decoy.reshape(n, -1).any(axis=1).sum())}
    return SplitResult(metrics, counts, saved, curves, x, target, seconds)


def curve_tables(curves: Curves) -> dict[str, list[dict[str, float]]]:
    """Wide tables for ``dvc plots``: one row per fraction, one column per ranking."""
    f = curves.fractions
    return {
        "masking": [{"masked_fraction": d, **{k: v[j] for k, v in curves.accuracy.items()}} for j, d in enumerate(f[:-1])],
        "deletion": [{"fraction": d, **{k: v[j] for k, v in curves.deletion.items()}} for j, d in enumerate(f)],
        "insertion": [{"fraction": d, **{k: v[j] for k, v in curves.insertion.items()}} for j, d in enumerate(f)],
    }


def run_sanity(result: "RunResult", first: SplitResult, names: list[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    config = result.record.config
    count = settings["sanity_images"]
    x, target = first.x[:count], first.target[:count]
    size = (x.shape[-2], x.shape[-1])

    def maps_of(model: Any, images: Tensor, classes: Tensor) -> dict[str, Tensor]:
        computed = attribute(model, images, classes, names, ig_steps=settings["ig_steps"],
                             ig_baseline=settings["ig_baseline"], batch_size=config["batch_size"])
        return {name: at_size(quantize(m), size) for name, m in computed.native.items()}

    outcome = cascading_randomization(result.network, x, target, maps_of, settings["sanity_max_stages"],
                                      seed=derive_seed("saliency-sanity", config["dataset"], config["arch"]))
    return {"images": int(len(x)), "blocks": outcome.blocks, "similarity": outcome.similarity,
            "final": outcome.final(), "flagged": outcome.flags(settings["sanity_threshold"]),
            "threshold": settings["sanity_threshold"]}


def check_splits(settings: Mapping[str, Any], split_names: list[str]) -> None:
    """Fail before training when the evaluation names a split the dataset lacks."""
    if settings.get("enabled", False):
        evaluated_splits(settings, split_names)


def evaluate_saliency(result: "RunResult") -> None:
    """Evaluate ``result``'s model with ``record.config['evaluation']``; adds metrics, extra and artifacts."""
    record = result.record
    settings = record.config.get("evaluation") or {}
    if not settings.get("enabled", False):
        return
    started = time.perf_counter()
    names, skipped = applicable(result.network, settings["attributions"])
    splits = evaluated_splits(settings, list(result.bundle.splits))
    prior = human_prior(result)
    writer = ArtifactWriter(result.path)
    artifacts: dict[str, str] = {}
    summary: dict[str, Any] = {"attributions": names, "skipped": skipped, "splits": splits, "images": {},
                               "metrics": describe()}
    phases: dict[str, float] = {}
    try:
        results = {}
        for split in splits:
            out = results[split] = evaluate_split(result, split, names, settings, prior)
            record.metrics[split].update(out.metrics)
            summary["images"][split] = out.counts
            for phase, seconds in out.seconds.items():
                phases[phase] = phases.get(phase, 0.0) + seconds
            for name, array in out.arrays.items():
                artifacts[f"saliency/{split}/{name}"] = writer.array(f"{split}/{name}", array)
            for name, table in curve_tables(out.curves).items():
                artifacts[f"saliency/{split}/{name}"] = writer.json(f"{split}/{name}", table)
        if settings["sanity"] and record.config["seed"] == settings["sanity_seed"]:
            clock = time.perf_counter()
            sanity = summary["sanity"] = run_sanity(result, results[splits[0]], names, settings)
            for name, value in sanity["final"].items():
                _put(record.metrics[splits[0]], name, "mprt_spearman", value)
            table = [{"stage": i + 1, "block": block, **{k: v[i] for k, v in sanity["similarity"].items()}}
                     for i, block in enumerate(sanity["blocks"])]
            artifacts["saliency/sanity"] = writer.json("sanity", table)
            phases["sanity"] = time.perf_counter() - clock
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    summary["sha256"] = dict(writer.digests)
    record.artifacts.update(artifacts)
    record.extra["saliency"] = summary
    record.timing["saliency_seconds"] = time.perf_counter() - started
    record.timing["saliency_phase_seconds"] = phases

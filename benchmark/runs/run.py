"""One run, computed: resolve the config, load data to the device, train, evaluate, explain.

``execute`` returns what the run computed (``RunOutput``); the record that stores it is
assembled and written by ``benchmark.records.recorder``, so this module (the run core, whose
import closure is the ``core`` code fingerprint) does not depend on how records are kept.
``prepare`` is what ``execute`` builds before its training loop (the submission checks,
``benchmark.submission``, train a method's first steps from it). The training loop is handed
the train split (annotations only for a method that declares them: ``training_split``) and the
val split for its accuracy curve; no test split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .. import numerics
from ..contracts import ContractError, DatasetBundle, Method, Network, RunConfig, resolve_hparams
from ..costs import Cost
from ..data import dataset_store, resplit
from ..data.annotation_views import annotation_view, resolve_annotations
from ..models.build import arch_params, build_network
from ..registry import DATASETS, METHODS
from ..saliency.evaluate import SaliencyOutput, Trained, check_splits, evaluate_saliency
from ..saliency.settings import EVALUATION_PARAMS, evaluated_splits, resolve_evaluation
from ..seeding import derive_seed, enable_determinism, seed_global
from . import placement
from .device_data import DeviceSplit, wrong_reason_key, wrong_reason_mask
from .evaluation import UNDEFINED, evaluate
from .precision import check_precision, check_precision_device
from .training import EVERY_EPOCH, Cadence, NonFiniteLoss, check_device, train

TIMING_CURVES = ("seconds",)  # per-epoch curves that are timing, moved out of ``curves``


def select_device(name: str = "auto") -> torch.device:
    """'auto' -> the first CUDA device when present, else CPU; otherwise the named device, which
    must be valid (``training.DEVICES``) and present (else ``training.DeviceUnavailable``)."""
    check_device(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_fp16_gradients(precision: str, method: str, cost: Cost) -> None:
    """fp16 is refused for a method whose loss takes gradients itself (SGT's and SMOOT's input gradient, RRR's
    double backward, Grad-CAM weights: ``Cost``): the loss scaler scales only the final backward, so those inner
    fp16 gradients underflow unscaled. bf16 has float32's exponent range and needs no scaling."""
    inner = [name for name in ("input_backward", "double_backward", "grad_cam") if getattr(cost, name)]
    if precision == "fp16" and inner:
        raise ContractError(
            f"run config: precision 'fp16' with method '{method}': its loss takes gradients inside the step "
            f"({', '.join(inner)}), which the fp16 loss scaler does not reach; use bf16 or fp32"
        )


def resolve_config(config: RunConfig) -> RunConfig:
    """The config with every method, dataset and architecture parameter filled in (validated)."""
    method_cls = METHODS.get(config.method)
    dataset = DATASETS.get(config.dataset)()
    for field in ("seed", "epochs", "batch_size", "eval_batch_size"):
        value = getattr(config, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if field == "seed" else 1):
            raise ContractError(
                f"run config: '{field}' must be a {'non-negative' if field == 'seed' else 'positive'} integer, got {value!r}"
            )
    try:
        check_precision(config.precision)
    except ContractError as exc:
        raise ContractError(f"run config: {exc}") from exc
    check_fp16_gradients(config.precision, config.method, method_cls.cost)
    if config.numerics not in numerics.MODES:
        raise ContractError(f"run config: 'numerics' must be one of {list(numerics.MODES)}, got {config.numerics!r}")
    if config.split not in resplit.SPLITS:
        raise ContractError(f"run config: 'split' must be one of {list(resplit.SPLITS)}, got {config.split!r}")
    if not isinstance(config.val_curve, bool):
        raise ContractError(f"run config: 'val_curve' must be true or false, got {config.val_curve!r}")
    if not isinstance(config.deterministic, bool):
        raise ContractError(f"run config: 'deterministic' must be true or false, got {config.deterministic!r}")
    cap = config.steps_per_epoch
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise ContractError(f"run config: 'steps_per_epoch' must be null (every batch) or an integer >= 1, got {cap!r}")
    return dataclasses.replace(
        config,
        method_params=resolve_hparams(method_cls.hparams, config.method_params, owner=f"method '{config.method}'"),
        dataset_params=dataset.resolve(config.dataset_params),
        arch_params=arch_params(config.arch, config.arch_params),
        evaluation=resolve_evaluation(config.evaluation),
        annotations=resolve_annotations(config.annotations),
    )


class NonFiniteMetric(NonFiniteLoss):
    """A metric of the training split is NaN or infinite: the run failed."""


def check_compatible(method: Method, bundle: DatasetBundle, config: RunConfig) -> None:
    if method.needs_annotations and not bundle.has_saliency:
        raise ContractError(
            f"method '{config.method}' needs human/ground-truth saliency annotations, and dataset "
            f"'{config.dataset}' has none in its train split"
        )
    wrong_reason_source(method, bundle, config)


def _described(name: str, params: dict[str, Any], declared: dict[str, Any]) -> str:
    """``'rrr' (annotation=wrong_reason)``: a name and its values that differ from their defaults."""
    changed = [
        f"{key}={value}" for key, value in params.items() if key not in declared or value != declared[key].default
    ]
    return f"'{name}'" + (f" ({', '.join(changed)})" if changed else "")


def wrong_reason_source(method: Method, bundle: DatasetBundle, config: RunConfig) -> str | None:
    """The train split's extra holding the dataset's wrong-reason mask when ``method`` declares that it
    needs one (``Method.needs_wrong_reason``), else None: no other method is handed the mask. The
    extras looked for are the saliency evaluation's ``wrong_reason_keys`` (the same notion: decoy
    digits' ``decoy``, toy faces' ``cue_mask``). A dataset without one, or whose mask is not a
    pixel mask or marks no pixel of the train split, is refused with one ``ContractError``."""
    if not method.needs_wrong_reason:
        return None
    keys = config.evaluation.get("wrong_reason_keys", EVALUATION_PARAMS["wrong_reason_keys"].default)
    who = (
        f"method {_described(config.method, config.method_params, type(method).hparams)} penalizes the dataset's "
        f"wrong-reason mask, and dataset {_described(config.dataset, config.dataset_params, DATASETS.get(config.dataset).params)}"
    )
    train = bundle.splits["train"]
    key = wrong_reason_key(train, keys)
    if key is None:
        raise ContractError(
            f"{who} has none in its train split (no extra among {list(keys)}, the evaluation's "
            f"wrong_reason_keys; its extras: {sorted(train.extras)})"
        )
    try:
        mask = wrong_reason_mask(train, key)
    except ContractError as exc:
        raise ContractError(f"{who}: {exc}") from None
    if not mask.any():
        raise ContractError(f"{who} has an empty one: extra '{key}' marks no pixel of its train split")
    return key


def training_split(method: Method, bundle: DatasetBundle, train: DeviceSplit, config: RunConfig) -> DeviceSplit:
    """The train split ``train`` (on the device) as the training loop hands it to ``method``
    (``DeviceSplit.for_training``): annotations only when the method declares ``needs_annotations``,
    the wrong-reason mask only when it declares ``needs_wrong_reason`` (``wrong_reason_source``).
    The training loop receives no other split but val (its accuracy curve): no test split."""
    wrong_key = wrong_reason_source(method, bundle, config)  # None unless the method declares it needs the mask
    return train.for_training(bundle.splits["train"], annotations=method.needs_annotations, wrong_reason=wrong_key)


def peak_memory(device: torch.device) -> dict[str, Any]:
    if device.type == "cuda":
        return {"peak_bytes": int(torch.cuda.max_memory_allocated(device)), "kind": "cuda_max_memory_allocated"}
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_bytes": int(rss_kib) * 1024, "kind": "process_peak_rss"}


def weights_digest(net: Network) -> str:
    digest = hashlib.sha256()
    for name, tensor in net.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def split_metrics(metrics: dict[str, dict[str, float | None]]) -> dict[str, str]:
    """Check the classification metrics in place: a non-finite one on the training split fails the
    run (``NonFiniteMetric`` names it); elsewhere it becomes None. Returns {split/metric: reason}."""
    undefined = {}
    for split, values in metrics.items():
        for name, value in values.items():
            if value is None:
                undefined[f"{split}/{name}"] = UNDEFINED.get(name, "undefined for this split")
            elif not math.isfinite(value):
                if split == "train":
                    raise NonFiniteMetric(f"split 'train': metric '{name}' is {value} after training")
                values[name] = None
                undefined[f"{split}/{name}"] = f"not finite ({value})"
    return undefined


@dataclasses.dataclass
class RunOutput:
    """What one run computed; ``benchmark.records.recorder`` turns it into a record."""

    config: RunConfig  # resolved
    metrics: dict[str, dict[str, float | None]]
    undefined: dict[str, str]  # split/metric -> why it is None
    curves: dict[str, list]
    timing: dict[str, Any]
    memory: dict[str, Any]
    weights_sha256: str
    data_sha256: dict[str, Any]
    saliency: SaliencyOutput | None
    device: torch.device
    network: Network
    splits: dict[str, DeviceSplit]
    bundle: DatasetBundle


@dataclasses.dataclass
class Prepared:
    """A run ready to train: what ``execute`` builds before its training loop (``prepare``)."""

    config: RunConfig  # resolved
    method: Method
    bundle: DatasetBundle
    splits: dict[str, DeviceSplit]  # every split on the device, maps where read (``map_readers``)
    train_split: DeviceSplit  # the train split as the training loop hands it to the method (``training_split``)
    network: Network  # on the device, initial weights from (seed, dataset, arch)
    device: torch.device
    split_rows: dict[str, str]  # split per_seed: sha256 of the redrawn train/val row indices (else empty)
    annotation_view: dict[str, Any] = dataclasses.field(default_factory=dict)  # the train maps' view (else empty)


def load_bundle(
    config: RunConfig, data_root: Path | None = None
) -> tuple[DatasetBundle, dict[str, str], dict[str, Any]]:
    """The run's dataset; with ``split: per_seed`` its train/val rows redrawn from (seed, dataset), the same
    partition for every method of the seed (``data.resplit``), and the digests of the redrawn row indices;
    then, with non-default ``annotations`` (resolved), its train split's maps budgeted and degraded from
    (seed, "annotations", dataset), the same view for every method of the seed, and its description
    (``data.annotation_views``; val and test keep their true maps)."""
    bundle = dataset_store.get(config.dataset, config.dataset_params, data_root)
    split_rows: dict[str, str] = {}
    if config.split != "fixed":
        bundle, split_rows = resplit.redraw(bundle, derive_seed(config.seed, "split", config.dataset))
    seed = derive_seed(config.seed, "annotations", config.dataset)
    try:
        train, view = annotation_view(bundle.splits["train"], config.annotations, seed)
    except ContractError as exc:
        raise ContractError(
            f"dataset {_described(config.dataset, config.dataset_params, DATASETS.get(config.dataset).params)}: {exc}"
        ) from None
    if view:
        bundle = dataclasses.replace(bundle, splits={**bundle.splits, "train": train})
    return bundle, split_rows, view


def map_readers(method: Method, bundle: DatasetBundle, config: RunConfig) -> set[str]:
    """The splits whose human maps a consumer reads: the train split for a method that declares
    ``needs_annotations``, and the splits the saliency evaluation explains when it is enabled
    (``saliency.settings.evaluated_splits``; its human-prior reference reads the host arrays). Only
    these are copied to the device with their maps: ERM with the evaluation off moves no map at all."""
    readers = {"train"} if method.needs_annotations else set()
    if config.evaluation.get("enabled", False):
        readers.update(evaluated_splits(config.evaluation, list(bundle.splits)))
    return readers


def device_splits(
    method: Method, bundle: DatasetBundle, config: RunConfig, device: torch.device, data_placement: str = "auto"
) -> dict[str, DeviceSplit]:
    """Every split of ``bundle`` on ``device``: its maps only when read (``map_readers``), its images resident
    or streamed (``placement.choose`` at ``data_placement``; what stays resident in any case is weighed too)."""
    readers = map_readers(method, bundle, config)
    train = bundle.splits["train"]
    fixed = sum(  # resident in any case: int64 labels and map index, bool flags, float16 maps
        17 * len(split) + (split.saliency.nbytes // 2 if name in readers and split.saliency is not None else 0)
        for name, split in bundle.splits.items()
    ) + (len(train) * train.x.shape[2] * train.x.shape[3] if method.needs_wrong_reason else 0)  # bool mask
    streamed = placement.choose({name: s.x for name, s in bundle.splits.items()}, fixed, device, data_placement)
    return {
        name: DeviceSplit.from_split(split, device, maps=name in readers, stream=streamed[name])
        for name, split in bundle.splits.items()
    }


def prepare(
    config: RunConfig, device: torch.device, data_root: Path | None = None, data_placement: str = "auto"
) -> Prepared:
    """Resolve ``config``, build its method and load its dataset to ``device`` (refused before anything
    else when they are incompatible, or when an evaluation split is missing), and build the network from
    the run's initial-weights seed: everything ``execute`` needs to call ``train``. ``data_placement``
    (``runs.placement``): the splits' images resident on the device or streamed; never the results."""
    config = resolve_config(config)
    check_precision_device(config.precision, device)
    method = METHODS.get(config.method)(**config.method_params)
    bundle, split_rows, view = load_bundle(config, data_root)
    check_compatible(method, bundle, config)
    check_splits(config.evaluation, list(bundle.splits))
    enable_determinism(config.deterministic)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    splits = device_splits(method, bundle, config, device, data_placement)
    train_split = training_split(method, bundle, splits["train"], config)
    seed_global(derive_seed(config.seed, "init", config.dataset, config.arch))
    channels, side = bundle.input_shape[0], bundle.input_shape[1]
    net = build_network(config.arch, channels, bundle.num_classes, side, config.arch_params).to(device)
    return Prepared(
        config=config,
        method=method,
        bundle=bundle,
        splits=splits,
        train_split=train_split,
        network=net,
        device=device,
        split_rows=split_rows,
        annotation_view=view,
    )


def execute(
    config: RunConfig,
    device: str | torch.device = "auto",
    progress: bool = True,
    checkpoint: Path | None = None,
    data_root: Path | None = None,
    on_epoch: Callable[[int], None] | None = None,
    data_placement: str = "auto",
    cadence: Cadence = EVERY_EPOCH,
) -> RunOutput:
    """Run ``config`` (resolved here): train, evaluate every split, evaluate the saliency.

    With ``checkpoint``, the training loop resumes from it and saves it when ``cadence`` is due (every
    epoch by default, never after the last);
    ``on_epoch(n)`` is called after epoch n. Fails before training on an incompatible
    method and dataset or an evaluation split the dataset lacks, or in a process that does not compute
    with the numerics the config names (``benchmark.numerics.require``). ``data_placement``: the profile's
    execution setting (``runs.placement``: resident or streamed images, the same results).
    """
    started = time.perf_counter()
    numerics.require(config.numerics)
    placement.check_placement(data_placement)
    ready = prepare(config, select_device(device) if isinstance(device, str) else device, data_root, data_placement)
    config, bundle, splits, net, device = ready.config, ready.bundle, ready.splits, ready.network, ready.device
    loaded = time.perf_counter()
    trained = train(
        net,
        ready.method,
        ready.train_split,
        splits["val"],
        config,
        device,
        progress=progress,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
        cadence=cadence,
    )
    finished_training = time.perf_counter()
    metrics = {name: evaluate(net, split, config.eval_batch_size) for name, split in splits.items()}
    undefined = split_metrics(metrics)
    evaluated = time.perf_counter()
    saliency = evaluate_saliency(Trained(net, splits, bundle, config.to_dict()))
    timing = {
        "load_seconds": loaded - started,
        "train_seconds": finished_training - loaded,
        "eval_seconds": evaluated - finished_training,
        "epoch_seconds": list(trained.curves.get("seconds", [])),
        "resumed_from_epoch": trained.resumed_from_epoch,
    }
    if saliency is not None:
        timing["saliency_seconds"] = saliency.seconds
        timing["saliency_phase_seconds"] = saliency.phases
    return RunOutput(
        config=config,
        metrics=metrics,
        undefined=undefined,
        curves={k: v for k, v in trained.curves.items() if k not in TIMING_CURVES},
        timing=timing,
        memory=peak_memory(device),
        weights_sha256=weights_digest(net),
        data_sha256={
            "family": config.dataset,
            "splits": {k: v["sha256"] for k, v in bundle.manifest["splits"].items()},
            **({"redrawn_rows": ready.split_rows} if ready.split_rows else {}),
            **({"annotations": ready.annotation_view} if ready.annotation_view else {}),
        },
        saliency=saliency,
        device=device,
        network=net,
        splits=splits,
        bundle=bundle,
    )

"""One run end to end: resolve the config, load data to the device, train, evaluate, record."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from ..contracts import ContractError, DatasetBundle, Method, Network, RunConfig, RunRecord, resolve_hparams
from ..data import store as data_store
from ..models import arch_params, build_network
from ..records.provenance import code_fingerprint, environment
from ..records.store import record_path, run_id, write_record
from ..registry import DATASETS, METHODS
from ..saliency.evaluate import check_splits, evaluate_saliency
from ..saliency.settings import resolve_evaluation
from .device_data import DeviceSplit
from .evaluation import evaluate
from .seeding import derive_seed, enable_determinism, seed_global
from .training import train

TIMING_CURVES = ("seconds",)  # per-epoch curves that are timing, moved out of ``curves``


def select_device(name: str = "auto") -> torch.device:
    """'auto' -> the first CUDA device when present, else CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ContractError(f"--device {name}: CUDA is not available on this machine")
    return device


def resolve_config(config: RunConfig) -> RunConfig:
    """The config with every method, dataset and architecture parameter filled in (validated)."""
    method_cls = METHODS.get(config.method)
    dataset = DATASETS.get(config.dataset)()
    for field in ("seed", "epochs", "batch_size", "eval_batch_size"):
        value = getattr(config, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if field == "seed" else 1):
            raise ContractError(f"run config: '{field}' must be a {'non-negative' if field == 'seed' else 'positive'} integer, got {value!r}")
    return dataclasses.replace(
        config,
        method_params=resolve_hparams(method_cls.hparams, config.method_params, owner=f"method '{config.method}'"),
        dataset_params=dataset.resolve(config.dataset_params),
        arch_params=arch_params(config.arch, config.arch_params),
        evaluation=resolve_evaluation(config.evaluation),
    )


def check_compatible(method: Method, bundle: DatasetBundle, config: RunConfig) -> None:
    if method.needs_annotations and not bundle.has_saliency:
        raise ContractError(
            f"method '{config.method}' needs human/ground-truth saliency annotations, and dataset "
            f"'{config.dataset}' has none in its train split"
        )


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


@dataclasses.dataclass
class RunResult:
    record: RunRecord
    path: Path
    network: Network
    splits: dict[str, DeviceSplit]
    bundle: DatasetBundle


def execute(
    config: RunConfig,
    out_dir: Path,
    device: str | torch.device = "auto",
    progress: bool = True,
    checkpoint: bool = False,
    data_root: Path | None = None,
    after_training: Callable[[RunResult], None] | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``config`` and write its record to ``out_dir/RUN_ID.json`` (atomically, only on success).

    With ``checkpoint``, the loop saves ``RUN_ID.ckpt`` every epoch and resumes from it;
    it is removed once the record is written. The saliency evaluation set in
    ``config.evaluation`` (on by default; ``benchmark.saliency``) adds its metrics and
    artifacts, then ``after_training`` may add to the record before it is written;
    ``on_epoch(n)`` is called after epoch n.
    """
    started = time.perf_counter()
    device = select_device(device) if isinstance(device, str) else device
    config = resolve_config(config)
    rid = run_id(config.to_dict())
    method = METHODS.get(config.method)(**config.method_params)
    bundle = data_store.get(config.dataset, config.dataset_params, data_root)
    check_compatible(method, bundle, config)
    check_splits(config.evaluation, list(bundle.splits))
    enable_determinism()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    splits = {name: DeviceSplit.from_split(split, device) for name, split in bundle.splits.items()}
    loaded = time.perf_counter()
    seed_global(derive_seed(config.seed, "init", config.dataset, config.arch))
    channels, side = bundle.input_shape[0], bundle.input_shape[1]
    net = build_network(config.arch, channels, bundle.num_classes, side, config.arch_params).to(device)
    out_dir = Path(out_dir)
    ckpt = record_path(out_dir, rid).with_suffix(".ckpt") if checkpoint else None
    if ckpt is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    trained = train(net, method, splits, config, device, progress=progress, checkpoint=ckpt, on_epoch=on_epoch)
    finished_training = time.perf_counter()
    metrics = {name: evaluate(net, split, config.eval_batch_size) for name, split in splits.items()}
    evaluated = time.perf_counter()
    curves = {k: v for k, v in trained.curves.items() if k not in TIMING_CURVES}
    record = RunRecord(
        run_id=rid,
        config=config.to_dict(),
        metrics=metrics,
        curves=curves,
        timing={
            "load_seconds": loaded - started,
            "train_seconds": finished_training - loaded,
            "eval_seconds": evaluated - finished_training,
            "epoch_seconds": list(trained.curves.get("seconds", [])),
            "resumed_from_epoch": trained.resumed_from_epoch,
        },
        memory=peak_memory(device),
        environment=environment(device),
        fingerprint=code_fingerprint(config.method, config.dataset, config.arch),
        data={"family": config.dataset, "splits": {k: v["sha256"] for k, v in bundle.manifest["splits"].items()}},
        extra={"weights_sha256": weights_digest(net)},
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    result = RunResult(record=record, path=record_path(out_dir, rid), network=net, splits=splits, bundle=bundle)
    evaluate_saliency(result)
    if after_training is not None:
        after_training(result)
    record.timing["total_seconds"] = time.perf_counter() - started
    result.path = write_record(record, out_dir)
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    if progress:
        print(f"record: {result.path}", file=sys.stderr)
    return result

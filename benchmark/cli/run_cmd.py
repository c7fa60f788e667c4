"""``run``: one method on one dataset and architecture with one seed; writes its record.

Everything is checked before any data is loaded or any training starts: the profile, the
flags (optimizer values finite and in range), the device (valid, and present on this
machine), the precision (valid, and one this device can autocast to), the output folder (not a file), the method, dataset, architecture and evaluation
settings (``resolve_config``) and the method's own checks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import parse_assignments

DEFAULT_PROFILE = "quick"  # = benchmark.sweeps.study.DEFAULT_PROFILE (not imported here: it needs torch)
OPTIMIZER_FLAGS = (("lr", "lr"), ("weight_decay", "weight_decay"), ("momentum", "momentum"))


def check_out_folder(out: Path, flag: str = "--out") -> None:
    """``out`` is a folder or can become one: neither it nor a parent is an existing file."""
    from ..contracts import ContractError

    for folder in (out, *out.parents):
        if folder.is_dir():
            return
        if folder.exists():
            what = "is" if folder == out else f"lies under {folder}, which is"
            raise ContractError(f"{flag} {out}: {what} a file, not a folder")


def optimizer_settings(args: argparse.Namespace, profile: dict) -> dict:
    """The profile's optimizer, with the flags given on the command line changing it."""
    optimizer = dict(profile)
    if args.optimizer is not None and args.optimizer != optimizer.get("name"):
        optimizer = {"name": args.optimizer, **{k: profile[k] for k in ("lr", "weight_decay") if k in profile}}
    for flag, key in OPTIMIZER_FLAGS:
        if getattr(args, flag) is not None:
            optimizer[key] = getattr(args, flag)
    return optimizer


def check_flags(args: argparse.Namespace, optimizer: dict) -> None:
    """The optimizer flags given, each in its range (named by its flag)."""
    from ..contracts import ContractError
    from ..runs.training import check_optimizer

    for flag, key in OPTIMIZER_FLAGS:
        value = getattr(args, flag)
        if value is not None:
            try:
                check_optimizer({"name": optimizer.get("name", "adam"), key: value})
            except ContractError as exc:
                raise ContractError(f"--{flag.replace('_', '-')}: {exc}") from exc


def checked_device(args: argparse.Namespace, profile) -> str:
    """The device asked for (``--device``, else the profile's), valid and present on this machine."""
    from ..contracts import ContractError
    from ..runs.training import DeviceUnavailable, check_device

    device = args.device or profile.device
    source = "--device" if args.device else f"profile '{profile.name}'"
    try:
        check_device(device)
    except DeviceUnavailable as exc:
        raise ContractError(
            f"{exc} (asked for by {source}); run with --device cpu (or auto), or change "
            f"the device of profile '{profile.name}' in params.yaml"
        ) from exc
    except ContractError as exc:
        raise ContractError(f"{source}: {exc}") from exc
    return device


def checked_precision(args: argparse.Namespace, profile, device: str) -> str:
    """The precision asked for (``--precision``, else the profile's, else fp32), valid and runnable on ``device``."""
    from ..contracts import ContractError
    from ..runs.precision import check_precision_device
    from ..runs.run import select_device

    precision = args.precision if args.precision is not None else profile.settings.get("precision", "fp32")
    source = "--precision" if args.precision is not None else f"profile '{profile.name}'"
    try:
        check_precision_device(precision, select_device(device))
    except ContractError as exc:
        raise ContractError(f"{source}: {exc}") from exc
    return precision


def run(args: argparse.Namespace) -> int:
    from ..config import load_params
    from ..contracts import ContractError, RunConfig
    from ..data.paper_variants import resolve_variant
    from ..numerics import mode as numerics_mode
    from ..records.identity import run_id
    from ..records.record_store import write_record
    from ..records.recorder import failure_record, record_run
    from ..runs.run import resolve_config
    from ..runs.training import Cadence, NonFiniteLoss, check_training
    from ..sweeps.study import load_profile

    params = load_params()
    profile = load_profile(args.profile, params)
    settings = profile.settings
    check_out_folder(Path(args.out))
    device = checked_device(args, profile)
    precision = checked_precision(args, profile, device)
    optimizer = optimizer_settings(args, settings.get("optimizer") or {})
    check_flags(args, optimizer)
    schedule = dict(settings.get("schedule") or {"name": "constant"})
    try:
        check_training(optimizer, schedule, settings.get("epochs") if args.epochs is None else args.epochs)
    except ContractError as exc:
        raise ContractError(f"profile '{profile.name}' with the flags given: {exc}") from exc
    family, variant_params = resolve_variant(args.dataset, params)
    config = RunConfig(
        method=args.method,
        dataset=family,
        arch=args.arch,
        seed=args.seed,
        epochs=settings.get("epochs") if args.epochs is None else args.epochs,
        batch_size=settings.get("batch_size") if args.batch_size is None else args.batch_size,
        method_params=parse_assignments(args.set, "--set"),
        dataset_params={**variant_params, **parse_assignments(args.data, "--data")},
        arch_params=parse_assignments(args.arch_param, "--arch-param"),
        annotations=parse_assignments(args.annotations, "--annotations"),
        optimizer=optimizer,
        schedule=schedule,
        precision=precision,
        val_curve=settings.get("val_curve", False),
        steps_per_epoch=settings.get("steps_per_epoch"),
        deterministic=settings.get("deterministic", True),
        **({"eval_batch_size": settings["eval_batch_size"]} if settings.get("eval_batch_size") is not None else {}),
        numerics=numerics_mode(),
        evaluation={
            **(settings.get("evaluation") or {}),
            **parse_assignments(args.eval, "--eval"),
            **({"enabled": False} if args.no_saliency else {}),
        },
    )
    from ..registry import METHODS

    resolved = resolve_config(config)
    METHODS.get(resolved.method)(**resolved.method_params)  # the method's own checks (e.g. SMOOT's bounds)
    started = time.perf_counter()
    try:
        result = record_run(
            config,
            Path(args.out),
            device=device,
            progress=not args.quiet,
            checkpoint=args.checkpoint,
            data_placement=profile.data_placement,
            cadence=Cadence(profile.checkpoint_every_epochs, profile.checkpoint_every_minutes),
        )
    except NonFiniteLoss as exc:  # a diverging run: one line and its failure record, as a sweep writes it
        path = write_record(
            failure_record(config.to_dict(), exc, time.perf_counter() - started, device), Path(args.out)
        )
        print(f"error: run {run_id(resolved)}: {exc}; failure record: {path}", file=sys.stderr)
        return 1
    summary = {
        split: {k: round(v, 4) for k, v in m.items() if not k.startswith("saliency/")}
        for split, m in result.record.metrics.items()
    }
    print(json.dumps({"run_id": result.record.run_id, "record": str(result.path), "metrics": summary}, indent=1))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="train and evaluate one run, write its record")
    p.add_argument("--method", required=True)
    p.add_argument("--dataset", required=True, help="a dataset family or a variant from params.yaml")
    p.add_argument("--arch", default="simple_cnn")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="params.yaml profile whose settings are the defaults of the flags below (default: quick)",
    )
    p.add_argument("--epochs", type=int, help="default: the profile's")
    p.add_argument("--batch-size", type=int, help="default: the profile's")
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], help="default: the profile's")
    p.add_argument("--lr", type=float, help="default: the profile's")
    p.add_argument("--momentum", type=float, help="default: the profile's (sgd)")
    p.add_argument("--weight-decay", type=float, help="default: the profile's")
    p.add_argument("--device", help="auto (GPU when present), cpu, cuda, cuda:1, ... (default: the profile's)")
    p.add_argument(
        "--precision",
        metavar="fp32|bf16|fp16",
        help="training-step autocast: fp32, bf16 or fp16 (loss scaling on CUDA); part of the run's "
        "identity (default: the profile's, else fp32)",
    )
    p.add_argument("--out", default="results/runs", help="folder of run records")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="method hyperparameter (repeatable)")
    p.add_argument("--data", action="append", metavar="KEY=VALUE", help="dataset parameter, e.g. decoy=false")
    p.add_argument("--arch-param", action="append", metavar="KEY=VALUE", help="architecture parameter")
    p.add_argument(
        "--annotations",
        action="append",
        metavar="KEY=VALUE",
        help="the train split's annotation view (repeatable): budget=0.2 keeps 20%% of the annotated maps; "
        "degradation=box|dilate|erode|shift|drop|wrong with level=L (docs/datasets.md, 'Annotation budget and quality')",
    )
    p.add_argument(
        "--eval",
        action="append",
        metavar="KEY=VALUE",
        help="saliency-evaluation setting (repeatable), e.g. ig_steps=32, probe_size=128, sanity=false",
    )
    p.add_argument(
        "--no-saliency",
        action="store_true",
        help="skip the saliency evaluation (probe maps, alignment, faithfulness, sanity)",
    )
    p.add_argument(
        "--checkpoint",
        action="store_true",
        help="checkpoint at the profile's cadence (default every epoch) and resume from it",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)

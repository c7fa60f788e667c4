"""``doctor``: the pre-flight checks to run first on a new machine, a GPU one above all (``make gpu-check``).

One line per check, PASS / FAIL / SKIP with its reason, then a summary line (``benchmark.doctor``):
the device facts; one fp32 and one bf16 training step of every method x architecture through the real
``train_step`` (no-host-sync guard and peak memory on CUDA); a 2-run sweep with ``--jobs auto``; a resumed
checkpoint. Exit 0 when no check failed, 1 otherwise, 2 for bad arguments: the device (valid and present
here), the sizes, the methods and the architectures (each network built once at the size, on the CPU)
are checked before anything else runs, one line naming the culprit.
"""

from __future__ import annotations

import argparse

DEFAULT_ARCHS = ("resnet50", "vit_tiny")  # the paper studies' CNN and the ViT
DEFAULT_IMAGE_SIZE = 224
DEFAULT_BATCH_SIZE = 2
OPTIMIZER_PROFILE = "paper"  # the steps use the paper profile's optimizer (else the default profile's)


def checked_positive(value: int, flag: str) -> int:
    from ..contracts import ContractError

    if value < 1:
        raise ContractError(f"{flag} must be an integer >= 1, got {value}")
    return value


def checked_device(name: str) -> str:
    """``--device``: a valid name (``runs.training.DEVICES``) of a device this machine has."""
    from ..contracts import ContractError
    from ..runs.training import DeviceUnavailable, check_device

    try:
        check_device(name)
    except DeviceUnavailable as exc:
        raise ContractError(f"--device {name}: {exc}; run with --device auto (the GPU when present) or cpu") from exc
    except ContractError as exc:
        raise ContractError(f"--device: {exc}") from exc
    return name


def checked_methods(names: list[str] | None) -> list[str]:
    """The methods asked for, each registered (and its plug-in loading), else every registered one but the
    private (``_``) names; ERM first when present."""
    from ..registry import METHODS

    chosen = list(dict.fromkeys(names or [n for n in METHODS.names() if not n.startswith("_")]))
    for name in chosen:
        METHODS.get(name)  # unknown: the closest name; a broken plug-in: its file and error
    return sorted(chosen, key=lambda n: n != "erm")


def checked_archs(names: list[str], image_size: int) -> list[str]:
    """The architectures, each registered and buildable from 3-channel images of ``image_size`` px."""
    import torch

    from ..contracts import ContractError
    from ..models.build import build_network
    from ..profiling.case import NUM_CLASSES
    from ..registry import ARCHS

    chosen = list(dict.fromkeys(names))
    for arch in chosen:
        ARCHS.get(arch)
        try:
            with torch.device("meta"):  # the shapes and the parameters' checks, no memory
                build_network(arch, 3, NUM_CLASSES, image_size)
        except ContractError as exc:
            raise ContractError(f"--archs {arch} at --image-size {image_size}: {exc}") from exc
    return chosen


def step_optimizer() -> tuple[dict, str]:
    """The paper profile's optimizer (what a GPU run trains with), else the default profile's; and its source."""
    from ..config import load_params
    from ..sweeps.study import DEFAULT_PROFILE, load_profile

    params = load_params()
    name = OPTIMIZER_PROFILE if OPTIMIZER_PROFILE in (params.get("profiles") or {}) else DEFAULT_PROFILE
    return dict(load_profile(name, params).settings.get("optimizer") or {"name": "adam"}), name


def run(args: argparse.Namespace) -> int:
    from ..runs.run import select_device

    device = select_device(checked_device(args.device))
    image_size = checked_positive(args.image_size, "--image-size")
    batch_size = checked_positive(args.batch_size, "--batch-size")
    methods = checked_methods(args.methods)
    archs = checked_archs(args.archs, image_size)
    optimizer, source = step_optimizer()

    from ..doctor.checks import run_checks  # every input is checked: now load the checks
    from ..doctor.steps import StepPlan

    plan = StepPlan(archs, image_size, batch_size, methods, optimizer, device)
    print(
        f"doctor: {len(methods)} method(s) x {', '.join(archs)} at {image_size} px, batch {batch_size}, "
        f"fp32 + bf16, optimizer {optimizer.get('name')} (profile {source}), on {device}",
        flush=True,
    )
    return 0 if run_checks(plan, not args.skip_sweep, lambda line: print(line, flush=True)) else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor", help="pre-flight checks for a new (GPU) machine: one PASS/FAIL/SKIP line per check"
    )
    p.add_argument("--device", default="auto", help="auto (the GPU when present), cpu, cuda, cuda:N (default auto)")
    p.add_argument(
        "--archs",
        nargs="+",
        metavar="ARCH",
        default=list(DEFAULT_ARCHS),
        help=f"architectures of the step checks (default: {' '.join(DEFAULT_ARCHS)})",
    )
    p.add_argument(
        "--image-size", type=int, default=DEFAULT_IMAGE_SIZE, help="image side in pixels (default %(default)s)"
    )
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per step (default %(default)s)")
    p.add_argument(
        "--methods", nargs="+", metavar="METHOD", help="methods of the step checks (default: every registered one)"
    )
    p.add_argument("--skip-sweep", action="store_true", help="skip the 2-run sweep check (its line says SKIP)")
    p.set_defaults(func=run)

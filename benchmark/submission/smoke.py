"""Check 2, smoke: one real training step per config (one per architecture x dataset of the protocol).

Per config: the run prepared as ``execute`` prepares it (``benchmark.runs.run.prepare``), the first batch of
epoch 0 made as the training loop makes it (``training.start_epoch``, at most ``harness.BATCH`` rows), and
one ``training.train_step`` with the run's optimizer. Fails when the step raises (named at its line in the
method's file), when the loss or a logged scalar is not finite, when no parameter changed, and, on CUDA,
when the step synchronizes the host with the device (``torch.cuda.set_sync_debug_mode("error")`` around
the step, unless fp16 loss scaling, which syncs by design, is on; on the CPU there is nothing to check).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch

from ..contracts import RunConfig
from ..runs.precision import make_scaler
from ..runs.run import prepare
from ..runs.training import make_optimizer, start_epoch, train_step
from .failures import CheckFailure
from .harness import device_of, exception_line, of_method, small

CHECK = "smoke"
SYNC_MESSAGE = "synchronizing CUDA operation"  # what torch says under sync debug mode "error"


@contextlib.contextmanager
def no_host_sync(device: torch.device) -> Iterator[None]:
    """On CUDA: any host-device synchronization inside raises (``torch.cuda.set_sync_debug_mode("error")``),
    the previous mode restored after. Elsewhere: nothing."""
    if device.type != "cuda":
        yield
        return
    before = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(before)


def step_failures(config: RunConfig, device: torch.device) -> list[CheckFailure]:
    """The failures of one training step of ``config`` (see the module docstring)."""

    def failure(problem: str, fix: str) -> list[CheckFailure]:
        return [CheckFailure(CHECK, problem, fix, arch=config.arch, dataset=config.dataset)]

    try:
        ready = prepare(small(config), device)
    except Exception as exc:  # noqa: BLE001 - a run that cannot be set up is the failure reported
        return failure(
            f"the run cannot be set up: {' '.join(str(exc).split())}",
            "make the method construct and accept this dataset (see the message)",
        )
    net, method, cfg = ready.network, ready.method, ready.config
    state, batches = start_epoch(ready.train_split, cfg, device, epoch=0)
    batch = next(batches)
    opt, scaler = make_optimizer(net.parameters(), cfg.optimizer), make_scaler(cfg.precision, device)
    before = [p.detach().clone() for p in net.parameters()]
    net.train()
    try:  # a GradScaler (fp16 on CUDA) reads whether its gradients are finite once a step, by design: unguarded
        with no_host_sync(device) if scaler is None else contextlib.nullcontext():
            loss, scalars = train_step(net, method, batch, state, opt, precision=cfg.precision, scaler=scaler)
    except Exception as exc:  # noqa: BLE001 - the method's exception is reported, not raised
        if SYNC_MESSAGE in str(exc):
            return failure(
                f"the step synchronizes the host with the device: {exception_line(exc, type(method))}",
                "keep the loss on the device: no .item(), float(), int() or bool() of a tensor, no "
                "`if tensor`, no boolean-mask indexing (use batch.annotated_rows), no tensors made "
                "from Python numbers inside the loss",
            )
        if exc.__cause__ is not None and batch.saliency is None and not method.needs_annotations:
            return failure(
                "the loss read batch.saliency, which is None because the method does not declare "
                f"needs_annotations = True: {exception_line(exc.__cause__, type(method))}",
                "declare needs_annotations = True on the class (the training loop then hands it the annotations), "
                "or read batch.saliency only when it is not None",
            )
        return failure(
            f"the training step raised {exception_line(exc, type(method))}",
            "fix the loss at that line (run it on one batch: python -m benchmark run --method "
            f"{cfg.method} --dataset {cfg.dataset} --arch {cfg.arch} --epochs 1)",
        )
    value = float(loss.detach())
    if not math.isfinite(value):
        return failure(
            f"the loss is {value} after one step",
            "keep every term finite: clamp logarithms and divisions (e.g. x.clamp_min(1e-8)), "
            "and check the terms on a batch without annotated rows",
        )
    bad = {key: float(v) for key, v in scalars.items() if not math.isfinite(float(v))}
    if bad:
        return failure(
            f"logged scalar(s) not finite after one step: {bad}",
            "keep every logged scalar finite (they are averaged per epoch; a NaN stops the run)",
        )
    if all(torch.equal(a, b) for a, b in zip(before, net.parameters())):
        return failure(
            "no parameter changed after one step: the loss does not depend on the network's parameters (detached?)",
            "compute the loss from net(batch.x) without .detach(), torch.no_grad() or .item() on "
            "the path to the parameters",
        )
    return []


def smoke_failures(name: str, configs: list[RunConfig], device: str | torch.device = "auto") -> list[CheckFailure]:
    """Check 2 on every config of ``configs`` (resolved, of method ``name``); the failures of all."""
    device = device_of(device)
    return [f for config in of_method(name, configs) for f in step_failures(config, device)]

"""The training loop: the method gives the loss, the loop owns backward and the step.

Per epoch: a permutation from (seed, dataset, epoch), dropout and method noise from
(seed, method, epoch) — streams re-derived every epoch, so a run resumed from an epoch
checkpoint draws exactly what an uninterrupted run draws. Loss sums stay on the device
(no host sync per step); a non-finite epoch loss stops the run with ``NonFiniteLoss``.
"""
from __future__ import annotations

import copy
import math
import warnings
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..atomic import atomic_save
from ..contracts import Batch, ContractError, Method, Network, RunConfig, TrainState
from .device_data import DeviceSplit
from .evaluation import evaluate
from ..seeding import derive_seed, make_generator, seed_global


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


def make_optimizer(params: Any, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """``{'name': 'sgd'|'adam'|'adamw', 'lr': ..., 'momentum': ..., 'weight_decay': ...}``."""
    cfg = dict(cfg)
    name = cfg.pop("name", "adam")
    factories = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in factories:
        raise ContractError(f"optimizer.name '{name}' unknown; known: {sorted(factories)}")
    try:
        return factories[name](params, **cfg)
    except TypeError as exc:
        raise ContractError(f"optimizer '{name}': {exc}") from exc


def make_scheduler(opt: torch.optim.Optimizer, cfg: dict[str, Any], epochs: int) -> torch.optim.lr_scheduler.LRScheduler:
    """``{'name': 'constant'}``, ``{'name': 'step', 'step_size': 12, 'gamma': 0.1}`` or ``{'name': 'cosine'}``; stepped per epoch."""
    cfg = dict(cfg)
    name = cfg.pop("name", "constant")
    try:
        if name == "constant":
            return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
        if name == "step":
            return torch.optim.lr_scheduler.StepLR(opt, **cfg)
        if name == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), **cfg)
    except TypeError as exc:
        raise ContractError(f"schedule '{name}': {exc}") from exc
    raise ContractError(f"schedule.name '{name}' unknown; known: ['constant', 'cosine', 'step']")


@dataclass
class TrainResult:
    curves: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    resumed_from_epoch: int = 0


def train_step(net: Network, method: Method, batch: Batch, state: TrainState,
               opt: torch.optim.Optimizer) -> tuple[Tensor, dict[str, Tensor | float]]:
    """One training step: the method's loss, backward, optimizer step (no host sync). The training
    loop and the step-time profiler (``benchmark.profiling``) both run exactly this."""
    loss, scalars = method.loss(net, batch, state)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss, scalars


def resume(checkpoint: Path, net: Network, opt: torch.optim.Optimizer, sched: Any, method: Method,
           result: TrainResult, device: torch.device) -> int:
    """Load ``checkpoint`` into the training state and return its epoch; 0 when there is none.

    A checkpoint that cannot be loaded (truncated, foreign, of another network) would make its
    run fail on every retry: it is deleted with a warning naming it, and the run starts over.
    The state is restored only once the whole file has loaded and been applied.
    """
    if not checkpoint.exists():
        return 0
    try:
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        snapshot = (copy.deepcopy(net.state_dict()), copy.deepcopy(opt.state_dict()), sched.state_dict())
        try:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            method.load_state_dict(state["method"])
            curves = {k: list(v) for k, v in state["curves"].items()}
            epoch = int(state["epoch"])
        except BaseException:
            net.load_state_dict(snapshot[0])
            opt.load_state_dict(snapshot[1])
            sched.load_state_dict(snapshot[2])
            raise
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is discarded, never trusted
        warnings.warn(f"checkpoint {checkpoint} cannot be loaded ({type(exc).__name__}: {exc}); "
                      f"deleted, the run restarts from epoch 0", stacklevel=2)
        checkpoint.unlink(missing_ok=True)
        return 0
    result.curves.update(curves)
    result.resumed_from_epoch = epoch
    return epoch


def _to_float(value: Tensor | float) -> Tensor:
    return value.detach().float() if isinstance(value, Tensor) else torch.tensor(float(value))


def train(
    net: Network,
    method: Method,
    splits: dict[str, DeviceSplit],
    config: RunConfig,
    device: torch.device,
    progress: bool = True,
    checkpoint: Path | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train ``net`` in place for ``config.epochs``; resume from ``checkpoint`` when it exists."""
    opt = make_optimizer(net.parameters(), config.optimizer)
    sched = make_scheduler(opt, config.schedule, config.epochs)
    result = TrainResult()
    start = resume(checkpoint, net, opt, sched, method, result, device) if checkpoint is not None else 0
    train_split, val_split = splits["train"], splits["val"]
    history = [dict(zip(result.curves, values)) for values in zip(*result.curves.values())]
    step = start * train_split.steps_per_epoch(config.batch_size)
    bar = tqdm(range(start, config.epochs), desc=f"{config.method}/{config.arch}", disable=not progress,
               initial=start, total=config.epochs, unit="epoch", leave=False)
    for epoch in bar:
        began = time.perf_counter()
        seed_global(derive_seed(config.seed, "stochastic", config.method, epoch))
        state = TrainState(
            epoch=epoch, step=step, epochs=config.epochs, device=device, history=history,
            generator=make_generator(derive_seed(config.seed, "method", config.method, epoch), device),
        )
        order = torch.randperm(len(train_split), generator=make_generator(derive_seed(config.seed, "order", config.dataset, epoch)))
        sums: dict[str, Tensor] = defaultdict(lambda: torch.zeros((), device=device))
        batches = 0
        net.train()
        for batch in train_split.batches(config.batch_size, order, drop_last=True):
            loss, scalars = train_step(net, method, batch, state, opt)
            sums["train_loss"] += loss.detach().float()
            for key, value in scalars.items():
                sums[key] += _to_float(value).to(device)
            batches += 1
            state.step += 1
        step = state.step
        row = {key: float(total) / max(batches, 1) for key, total in sums.items()}
        if not all(math.isfinite(value) for value in row.values()):
            raise NonFiniteLoss(f"epoch {epoch + 1}: non-finite training loss or scalar {row}")
        row["lr"] = float(opt.param_groups[0]["lr"])
        sched.step()
        row["val_accuracy"] = evaluate(net, val_split, config.eval_batch_size)["accuracy"]
        row.update(method.on_epoch_end(state))
        row["epoch"] = epoch + 1
        row["seconds"] = time.perf_counter() - began
        history.append(row)
        for key, value in row.items():
            result.curves[key].append(value)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{row['val_accuracy']:.3f}")
        if checkpoint is not None:
            atomic_save(checkpoint, lambda handle: torch.save({
                "epoch": epoch + 1, "model": net.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "method": method.state_dict(), "curves": dict(result.curves),
            }, handle))
        if on_epoch is not None:
            on_epoch(epoch + 1)
    bar.close()
    return result

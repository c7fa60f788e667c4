"""The training loop: the method gives the loss, the loop owns backward and the step.

Per epoch: a permutation from (seed, dataset, epoch), dropout and method noise from
(seed, method, epoch) — streams re-derived every epoch, so a run resumed from an epoch
checkpoint draws exactly what an uninterrupted run draws. Loss sums stay on the device
(no host sync per step); a non-finite epoch loss stops the run with ``NonFiniteLoss``.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..atomic import atomic_save
from ..contracts import Batch, ContractError, Method, Network, RunConfig, TrainState
from ..models.layout import channels_last_network, training_layout
from ..phases import phase
from ..seeding import derive_seed, make_generator, seed_global
from .cadence import EVERY_EPOCH, Cadence  # noqa: F401 - Cadence: part of train's signature
from .device_data import DeviceSplit
from .evaluation import evaluate
from .precision import autocast, make_scaler


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


# ---------------------------------------------------------------- validation of the training settings
# The ranges of the numeric optimizer and schedule settings, checked before torch sees them (torch
# lets nan and inf through, and its ValueError would not say which setting of which file it was):
# setting -> (lowest, highest or None, which bounds are excluded ("low", "high"), integer required).
Rule = tuple[float, "float | None", tuple[str, ...], bool]
OPTIMIZER_RANGES: dict[str, Rule] = {
    "lr": (0.0, None, ("low",), False),
    "momentum": (0.0, 1.0, ("high",), False),  # momentum 1 never forgets
    "dampening": (0.0, 1.0, (), False),
    "weight_decay": (0.0, None, (), False),
    "eps": (0.0, None, ("low",), False),
}
SCHEDULE_RANGES: dict[str, dict[str, Rule]] = {
    "constant": {},
    "step": {"step_size": (1, None, (), True), "gamma": (0.0, None, ("low",), False)},
    "cosine": {"eta_min": (0.0, None, (), False)},
}
OPTIMIZERS = ("adam", "adamw", "sgd")


def _check_number(where: str, value: Any, rule: Rule) -> None:
    low, high, excluded, integer = rule
    bounds = f"{'>' if 'low' in excluded else '>='} {low:g}"
    if high is not None:
        bounds += f" and {'<' if 'high' in excluded else '<='} {high:g}"
    kind = "an integer" if integer else "a finite number"
    hint = " (YAML reads 1e-3 as a string: write 1.0e-3)" if isinstance(value, str) else ""
    if (
        isinstance(value, bool)
        or not isinstance(value, int if integer else (int, float))
        or not math.isfinite(value)
        or value < low
        or ("low" in excluded and value == low)
        or (high is not None and (value > high or ("high" in excluded and value == high)))
    ):
        raise ContractError(f"{where} must be {kind} {bounds}, got {value!r}{hint}")


def check_optimizer(cfg: Any) -> None:
    """``optimizer`` settings: a mapping with a known ``name``; lr finite > 0, momentum in [0, 1),
    weight_decay finite >= 0, betas two numbers in [0, 1), eps > 0. Raises naming the setting."""
    if not isinstance(cfg, dict):
        raise ContractError(f"optimizer must be a mapping with a 'name', got {cfg!r}")
    name = cfg.get("name", "adam")
    if name not in OPTIMIZERS:
        raise ContractError(f"optimizer.name '{name}' unknown; known: {list(OPTIMIZERS)}")
    for key, value in cfg.items():
        if key in OPTIMIZER_RANGES:
            _check_number(f"optimizer.{key}", value, OPTIMIZER_RANGES[key])
    if "betas" in cfg:
        betas = cfg["betas"]
        if (
            not isinstance(betas, (list, tuple))
            or len(betas) != 2
            or any(isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b < 1 for b in betas)
        ):
            raise ContractError(f"optimizer.betas must be two numbers in [0, 1), got {betas!r}")


def check_schedule(cfg: Any) -> None:
    """``schedule`` settings: a mapping with a known ``name``; step: step_size integer >= 1, gamma
    finite > 0; cosine: eta_min finite >= 0; constant: nothing else. Raises naming the setting."""
    if not isinstance(cfg, dict):
        raise ContractError(f"schedule must be a mapping with a 'name', got {cfg!r}")
    name = cfg.get("name", "constant")
    if name not in SCHEDULE_RANGES:
        raise ContractError(f"schedule.name '{name}' unknown; known: {sorted(SCHEDULE_RANGES)}")
    ranges = SCHEDULE_RANGES[name]
    unknown = sorted(set(cfg) - {"name"} - set(ranges))
    if unknown:
        raise ContractError(f"schedule '{name}': unknown setting(s) {unknown}; known: {sorted(ranges)}")
    for key, value in cfg.items():
        if key in ranges:
            _check_number(f"schedule.{key}", value, ranges[key])


def check_training(optimizer: Any, schedule: Any, epochs: int = 1) -> None:
    """Both settings checked, then built on a dummy parameter (what torch refuses is refused here,
    before any data is loaded or any run starts)."""
    opt = make_optimizer([torch.zeros(1, requires_grad=True)], optimizer)
    make_scheduler(
        opt, schedule, epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0 else 1
    )


def make_optimizer(params: Any, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """``{'name': 'sgd'|'adam'|'adamw', 'lr': ..., 'momentum': ..., 'weight_decay': ...}``, checked first
    (``check_optimizer``); what torch still refuses becomes a ``ContractError`` naming the optimizer."""
    check_optimizer(cfg)
    cfg = dict(cfg)
    name = cfg.pop("name", "adam")
    factories = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    try:
        return factories[name](params, **cfg)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"optimizer '{name}': {exc}") from exc


def make_scheduler(
    opt: torch.optim.Optimizer, cfg: dict[str, Any], epochs: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """``{'name': 'constant'}``, ``{'name': 'step', 'step_size': 12, 'gamma': 0.1}`` or ``{'name': 'cosine'}``;
    stepped per epoch; checked first (``check_schedule``)."""
    check_schedule(cfg)
    cfg = dict(cfg)
    name = cfg.pop("name", "constant")
    try:
        if name == "constant":
            return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
        if name == "step":
            return torch.optim.lr_scheduler.StepLR(opt, **cfg)
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), **cfg)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"schedule '{name}': {exc}") from exc


# ---------------------------------------------------------------- devices
DEVICES = "auto, cpu, cuda, cuda:N, mps"


class DeviceUnavailable(ContractError):
    """A valid device that this machine lacks (CUDA asked for and absent): another machine could run it."""


def check_device(name: Any) -> None:
    """A device name is one of ``DEVICES`` (else ``ContractError``) and present here (else ``DeviceUnavailable``)."""
    if not isinstance(name, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", name):
        raise ContractError(f"device {name!r} unknown; valid devices: {DEVICES}")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"device '{name}': CUDA is not available on this machine")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"device '{name}': this machine has {torch.cuda.device_count()} CUDA device(s)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailable(f"device '{name}': MPS (Apple GPU) is not available on this machine")


@dataclass
class TrainResult:
    curves: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    resumed_from_epoch: int = 0


def train_step(
    net: Network,
    method: Method,
    batch: Batch,
    state: TrainState,
    opt: torch.optim.Optimizer,
    precision: str = "fp32",
    scaler: torch.amp.GradScaler | None = None,
) -> tuple[Tensor, dict[str, Tensor | float]]:
    """One training step: the method's loss (under autocast at ``precision``, ``benchmark.runs.precision``),
    backward, optimizer step; through ``scaler`` (``make_scaler``: fp16 on CUDA) when there is one.
    No host-device synchronization without a scaler (tests/test_host_sync.py); a scaler checks
    its gradients for inf/NaN on the host at each step (torch's design). On the CPU every forward
    of the loss runs channels-last (``benchmark.models.layout``: the same values to float
    rounding, much faster convolutions and pooling), for every method alike but those that
    declare a double backward (RRR), which run NCHW, their faster layout (``cpu_channels_last``); on CUDA
    every method runs channels-last, its network converted once by the loop (``channels_last_network``).
    The training loop and the step-time profiler (``benchmark.profiling``) both run exactly this."""
    device = batch.x.device
    layout = training_layout(net, device, double_backward=method.cost.double_backward > 0)
    with phase("forward"), autocast(precision, device), layout:
        try:
            loss, scalars = method.loss(net, batch, state)
        except (TypeError, AttributeError) as exc:
            if batch.saliency is None and not method.needs_annotations:
                raise ContractError(
                    f"method '{method.name}': its loss raised {type(exc).__name__} ({exc}) on a batch whose saliency "
                    f"is None: if the loss reads batch.saliency, declare needs_annotations = True on the class (the "
                    f"training loop hands annotations only to methods that declare it)"
                ) from exc
            raise
    with phase("backward"):
        opt.zero_grad(set_to_none=True)
        (loss if scaler is None else scaler.scale(loss)).backward()
    with phase("optimizer"):
        if scaler is None:
            opt.step()
        else:
            scaler.step(opt)
            scaler.update()
    return loss, scalars


def resume(
    checkpoint: Path,
    net: Network,
    opt: torch.optim.Optimizer,
    sched: Any,
    method: Method,
    result: TrainResult,
    device: torch.device,
    scaler: torch.amp.GradScaler | None = None,
) -> int:
    """Load ``checkpoint`` into the training state and return its epoch; 0 when there is none.

    A checkpoint that cannot be loaded (truncated, foreign, of another network) would make its
    run fail on every retry: it is deleted with a warning naming it, and the run starts over.
    The state is restored only once the whole file has loaded and been applied; with a
    ``scaler`` (fp16 on CUDA), its loss scale and growth tracker too.
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
            if scaler is not None:
                scaler.load_state_dict(state["scaler"])
            curves = {k: list(v) for k, v in state["curves"].items()}
            epoch = int(state["epoch"])
        except BaseException:
            net.load_state_dict(snapshot[0])
            opt.load_state_dict(snapshot[1])
            sched.load_state_dict(snapshot[2])
            raise
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is discarded, never trusted
        warnings.warn(
            f"checkpoint {checkpoint} cannot be loaded ({type(exc).__name__}: {exc}); "
            f"deleted, the run restarts from epoch 0",
            stacklevel=2,
        )
        checkpoint.unlink(missing_ok=True)
        return 0
    result.curves.update(curves)
    result.resumed_from_epoch = epoch
    return epoch


def accumulate(sums: dict[str, Tensor], key: str, value: Tensor | float) -> None:
    """Add one step's logged value to its running sum on the device (a float32 tensor, created on
    first use): a tensor is added as it is, a Python number as a scalar operand, so no host tensor
    is made and copied to the device (a copy from the host waits for the device)."""
    sums[key] += value.detach().float() if isinstance(value, Tensor) else float(value)


def train_epoch(
    net: Network,
    method: Method,
    batches: Iterable[Batch],
    state: TrainState,
    opt: torch.optim.Optimizer,
    precision: str = "fp32",
    scaler: torch.amp.GradScaler | None = None,
) -> tuple[dict[str, Tensor], int]:
    """The steps of one epoch: ``train_step`` on each batch, the loss and the method's scalars summed
    on the device (``accumulate``); returns (sums, number of batches). Nothing here waits for the
    device (tests/test_host_sync.py): the sums are read once, by the caller, at the epoch's end."""
    sums: dict[str, Tensor] = defaultdict(lambda: torch.zeros((), device=state.device))
    count = 0
    for batch in batches:
        loss, scalars = train_step(net, method, batch, state, opt, precision=precision, scaler=scaler)
        accumulate(sums, "train_loss", loss)
        for key, value in scalars.items():
            accumulate(sums, key, value)
        count += 1
        state.step += 1
    return sums, count


def epoch_steps(train_split: DeviceSplit, config: RunConfig) -> int:
    """Training steps per epoch: every batch of ``train_split`` (``DeviceSplit.steps_per_epoch``), at most
    ``config.steps_per_epoch`` when that is set; the step counter of a resumed run is counted with it."""
    steps = train_split.steps_per_epoch(config.batch_size)
    return steps if config.steps_per_epoch is None else min(steps, config.steps_per_epoch)


def first_batches(batches: Iterator[Batch], cap: int | None) -> Iterator[Batch]:
    """The first ``cap`` batches of ``batches`` (all of them when ``cap`` is None), never drawing one more;
    ``batches`` is closed after (a batch source holding buffers or a prefetch releases them then)."""
    if cap is None:
        yield from batches
        return
    try:
        yield from itertools.islice(batches, cap)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def start_epoch(
    train_split: DeviceSplit,
    config: RunConfig,
    device: torch.device,
    epoch: int,
    step: int = 0,
    history: list[dict[str, float]] | None = None,
) -> tuple[TrainState, Iterator[Batch]]:
    """What epoch ``epoch`` of the loop hands the method: the global streams (dropout) seeded from
    (seed, method, epoch), the ``TrainState`` with the method's generator from (seed, method, epoch),
    and the epoch's batches of ``train_split`` in the order drawn from (seed, dataset, epoch): the first
    ``config.steps_per_epoch`` of them when that caps the epoch (``first_batches``)."""
    seed_global(derive_seed(config.seed, "stochastic", config.method, epoch))
    state = TrainState(
        epoch=epoch,
        step=step,
        epochs=config.epochs,
        device=device,
        history=[] if history is None else history,
        generator=make_generator(derive_seed(config.seed, "method", config.method, epoch), device),
    )
    order = torch.randperm(
        len(train_split), generator=make_generator(derive_seed(config.seed, "order", config.dataset, epoch))
    )
    return state, first_batches(train_split.batches(config.batch_size, order, drop_last=True), config.steps_per_epoch)


def train(
    net: Network,
    method: Method,
    train_split: DeviceSplit,
    val_split: DeviceSplit,
    config: RunConfig,
    device: torch.device,
    progress: bool = True,
    checkpoint: Path | None = None,
    on_epoch: Callable[[int], None] | None = None,
    cadence: Cadence = EVERY_EPOCH,
) -> TrainResult:
    """Train ``net`` in place for ``config.epochs`` on ``train_split``; resume from ``checkpoint`` when it
    exists, and save it at the end of an epoch when ``cadence`` says it is due (not after the last).
    ``val_split`` only gives the per-epoch validation accuracy, and only with ``config.val_curve`` (the
    ``val_accuracy`` curve; never a batch to the method, never a change to the training: off, the
    default, the run skips that pass and the final evaluation still scores val); no other split reaches
    the loop, so no test split can be trained on (tests/test_submission_checks.py)."""
    channels_last_network(net, device)  # CUDA: channels-last parameters (benchmark.models.layout); else untouched
    opt = make_optimizer(net.parameters(), config.optimizer)
    sched = make_scheduler(opt, config.schedule, config.epochs)
    scaler = make_scaler(config.precision, device)
    result = TrainResult()
    start = resume(checkpoint, net, opt, sched, method, result, device, scaler) if checkpoint is not None else 0
    history = [dict(zip(result.curves, values)) for values in zip(*result.curves.values())]
    step = start * epoch_steps(train_split, config)
    bar = tqdm(
        range(start, config.epochs),
        desc=f"{config.method}/{config.arch}",
        disable=not progress,
        initial=start,
        total=config.epochs,
        unit="epoch",
        leave=False,
    )
    saved = time.monotonic()
    for epoch in bar:
        began = time.perf_counter()
        state, epoch_batches = start_epoch(train_split, config, device, epoch, step, history)
        net.train()
        sums, batches = train_epoch(net, method, epoch_batches, state, opt, precision=config.precision, scaler=scaler)
        step = state.step
        row = {key: float(total) / max(batches, 1) for key, total in sums.items()}
        if not all(math.isfinite(value) for value in row.values()):
            bad = [key for key, value in row.items() if not math.isfinite(value)]
            raise NonFiniteLoss(
                f"epoch {epoch + 1}: the training diverged: non-finite {', '.join(bad)} "
                f"(lr {opt.param_groups[0]['lr']:g}; try a smaller learning rate, or the method's loss weight)"
            )
        row["lr"] = float(opt.param_groups[0]["lr"])
        sched.step()
        if config.val_curve:
            row["val_accuracy"] = evaluate(net, val_split, config.eval_batch_size)["accuracy"]
        row.update(method.on_epoch_end(state))
        row["epoch"] = epoch + 1
        row["seconds"] = time.perf_counter() - began
        history.append(row)
        for key, value in row.items():
            result.curves[key].append(value)
        postfix = {"loss": f"{row['train_loss']:.3f}"}
        if config.val_curve:
            postfix["val_acc"] = f"{row['val_accuracy']:.3f}"
        bar.set_postfix(postfix)
        if checkpoint is not None and epoch + 1 < config.epochs and cadence.due(epoch + 1, time.monotonic() - saved):
            state = {
                "epoch": epoch + 1,
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "method": method.state_dict(),
                "curves": dict(result.curves),
                **({} if scaler is None else {"scaler": scaler.state_dict()}),
            }
            atomic_save(checkpoint, lambda handle: torch.save(state, handle))  # noqa: B023 (called at once)
            saved = time.monotonic()
        if on_epoch is not None:
            on_epoch(epoch + 1)
    bar.close()
    return result

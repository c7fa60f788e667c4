"""Check 4, cost: the method's declared ``Cost`` against its measured training step, per architecture.

Measured with the step profiler's own parts (``benchmark.profiling``, as ``python -m benchmark profile``):
a case of the architecture at the dataset's image shape (``profiling.case.make_case``: a seeded synthetic,
fully annotated batch, the config's optimizer and precision), the unit times a ``Cost`` counts
(``profiling.units.measure_units``), and the steps of ERM and of the method timed in interleaved rounds
(``profiling.timing.time_steps``, ``torch.utils.benchmark.Timer``). Both are in ERM steps: declared =
``Cost.seconds(units)`` over ERM's (``units.theoretical_ratio``), measured = the method's fastest round
over ERM's fastest (the fastest of several repeats: what load on a shared machine inflates least).
measured / declared above ``profiling.ratios.TARGET`` (1.2) is a warning, never a rejection: timing is
noisy on shared machines.

Settings (``CostSettings``), a few seconds per architecture at the quick/tiny image sizes on a CPU: at
most 32 images per batch, 5 rounds of at least 0.01 s of steps per method after 2 warm-up steps, 5 rounds
of the unit regions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..contracts import RunConfig
from ..data import dataset_store
from ..profiling.case import make_case, make_step
from ..profiling.ratios import BASELINE, TARGET, within_target
from ..profiling.timing import threads, time_steps
from ..profiling.units import measure_units, theoretical_ratio
from ..registry import METHODS
from ..runs.run import resolve_config
from .failures import CheckFailure
from .harness import device_of, of_method

CHECK = "cost"


@dataclass(frozen=True)
class CostSettings:
    """How much to measure (module docstring)."""

    batch_size: int = 32  # at most this many images per batch (the config's batch size when smaller)
    rounds: int = 5  # interleaved timing rounds of ERM's step and the method's
    min_run_time: float = 0.01  # seconds of timed steps per method per round (at least one step)
    warmup: int = 2  # untimed steps per method before the rounds
    unit_rounds: int = 5  # interleaved rounds of the unit regions
    seed: int = 0  # the synthetic batch and the initial weights


def row_line(row: Mapping[str, Any]) -> str:
    """``simple_cnn (1x28x28, batch 32): declared 2.84 ERM steps, measured 2.60, ratio 0.92``."""
    return (
        f"{row['arch']} ({row['image']}, batch {row['batch_size']}): declared {row['declared']:.2f} ERM steps, "
        f"measured {row['measured']:.2f}, ratio {row['ratio']:.2f}"
    )


def cost_row(
    name: str, config: RunConfig, device: torch.device, settings: CostSettings, num_threads: int
) -> dict[str, Any]:
    """Measure ``name`` against ERM on the architecture and image shape of ``config``: a row ``{arch, dataset,
    image (CxHxW), batch_size, declared, measured, ratio}``, declared and measured in ERM steps, ratio =
    measured / declared."""
    config = resolve_config(config)
    channels, side = dataset_store.get(config.dataset, config.dataset_params).input_shape[:2]
    batch_size = min(config.batch_size, settings.batch_size)
    case = make_case(config.arch, batch_size, channels, side, config.optimizer, device, config.precision, settings.seed)
    method = METHODS.get(name)(**config.method_params)
    if method.needs_wrong_reason:  # the synthetic batch's mask: everything outside its human map
        case = dataclasses.replace(case, batch=dataclasses.replace(case.batch, wrong_reason=1 - case.batch.saliency))
    erm = METHODS.get(BASELINE)()
    with threads(num_threads):
        units = measure_units(case, settings.unit_rounds)
        steps = {BASELINE: make_step(erm, case), name: make_step(method, case)}
        times = time_steps(steps, settings.rounds, settings.min_run_time, settings.warmup, num_threads)
    declared = theoretical_ratio(method.cost, erm.cost, units)
    measured = min(times[name].rounds) / min(times[BASELINE].rounds)
    return {
        "arch": config.arch,
        "dataset": config.dataset,
        "image": f"{channels}x{side}x{side}",
        "batch_size": batch_size,
        "declared": declared,
        "measured": measured,
        "ratio": measured / declared,
    }


def cost_report(
    name: str,
    arch_configs: list[RunConfig],
    device: str | torch.device = "auto",
    settings: CostSettings = CostSettings(),
    num_threads: int | None = None,
) -> tuple[list[dict[str, Any]], list[CheckFailure]]:
    """One ``cost_row`` per config of ``arch_configs`` (one per architecture of the protocol), and a warning
    (``CheckFailure(warning=True)``) for each whose measured/declared ratio exceeds ``TARGET``."""
    device = device_of(device)
    num_threads = num_threads or torch.get_num_threads()
    rows = [cost_row(name, config, device, settings, num_threads) for config in of_method(name, arch_configs)]
    warnings = [
        CheckFailure(
            CHECK,
            f"one step takes {row['measured']:.2f} ERM steps, {row['ratio']:.2f}x the "
            f"{row['declared']:.2f} its declared cost predicts (more than {TARGET:g}x)",
            "count the passes of one step in `cost` (a forward per net(...) call, a backward per "
            "backward or autograd.grad; see benchmark.contracts.Cost), or make the step as cheap "
            "as declared; python -m benchmark profile --methods NAME measures it in detail",
            arch=row["arch"],
            dataset=row["dataset"],
            warning=True,
        )
        for row in rows
        if not within_target(row["ratio"])
    ]
    return rows, warnings

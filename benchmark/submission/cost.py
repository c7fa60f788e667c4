"""Check 4, cost: the method's declared ``Cost`` against its measured training step, per architecture.

Measured with the step profiler's own parts (``benchmark.profiling``, as ``python -m benchmark profile``):
a case of the architecture at the dataset's image shape (``profiling.case.make_case``: a seeded synthetic,
fully annotated batch, the config's optimizer and precision), the unit times a ``Cost`` counts
(``profiling.units.measure_units``), and the steps of ERM and of the method timed in interleaved rounds
(``profiling.timing.time_steps``, ``torch.utils.benchmark.Timer``). Both are in ERM steps: declared =
``Cost.seconds(units)`` over ERM's (``units.theoretical_ratio``); measured = the median over rounds of the
per-round ratio method / ERM with its seeded bootstrap 95% CI (``profiling.ratios.ratio_to_baseline``). A
round times the two steps side by side, so load that slows the machine slows both and cancels in the ratio.

Rounds are added until the CI is tight: ``rounds`` first, then doubled up to ``max_rounds`` while the CI's
relative half-width ((high - low) / 2 / measured) exceeds ``max_half_width``. A CI still wider at the cap
makes the cost *unreliable*: the row records ``unreliable: "CI too wide: ..."`` and no number, with a
warning line. measured / declared above ``profiling.ratios.TARGET`` (1.2) is a warning, never a rejection.
The leaderboard does not use these numbers when its profile stage timed the method (``python -m benchmark
profile``, every row on one machine in one run); they are the bundle's record.

Settings (``CostSettings``): at most 32 images per batch, 15 rounds of at least 0.05 s of steps per method
after 2 warm-up steps (up to 60 rounds), 5 rounds of the unit regions: a few seconds per architecture at
the quick/tiny image sizes on a CPU, up to four times that on a loaded machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..contracts import RunConfig
from ..data import dataset_store
from ..profiling.case import make_case, make_step
from ..profiling.ratios import BASELINE, TARGET, Ratio, ratio_to_baseline, within_target
from ..profiling.timing import threads, time_steps
from ..profiling.units import measure_units, theoretical_ratio
from ..registry import METHODS
from ..runs.run import resolve_config
from .failures import CheckFailure
from .harness import device_of, of_method
from .summary import measured_text

CHECK = "cost"
Rounds = Callable[[int, bool], tuple[list[float], list[float]]]  # (count, first) -> (method's, ERM's) round times


@dataclass(frozen=True)
class CostSettings:
    """How much to measure (module docstring)."""

    batch_size: int = 32  # at most this many images per batch (the config's batch size when smaller)
    rounds: int = 15  # interleaved timing rounds of ERM's step and the method's, first measurement
    max_rounds: int = 60  # the rounds are doubled up to this many while the CI is too wide
    max_half_width: float = 0.10  # the 95% CI's half-width over the measured ratio at or below which it is tight
    min_run_time: float = 0.05  # seconds of timed steps per method per round (at least one step)
    warmup: int = 2  # untimed steps per method before the rounds
    unit_rounds: int = 5  # interleaved rounds of the unit regions
    bootstrap_reps: int = 2000  # resamples of the ratio's bootstrap CI
    seed: int = 0  # the synthetic batch, the initial weights and the bootstrap


@dataclass(frozen=True)
class Measured:
    """The measured ratio to ERM, its CI, how many rounds gave it, and why it is unreliable ("" when tight)."""

    ratio: Ratio
    rounds: int
    unreliable: str = ""

    @property
    def half_width(self) -> float:
        """The CI's half-width relative to the ratio."""
        return (self.ratio.high - self.ratio.low) / 2 / self.ratio.value


def measure_ratio(time_rounds: Rounds, settings: CostSettings) -> Measured:
    """The median per-round ratio method / ERM over rounds from ``time_rounds``, measuring more rounds (doubling
    the total up to ``settings.max_rounds``) while the CI is wider than ``settings.max_half_width``."""
    method: list[float] = []
    erm: list[float] = []
    wanted = min(settings.rounds, settings.max_rounds)
    while True:
        more_method, more_erm = time_rounds(wanted - len(method), not method)
        method += more_method
        erm += more_erm
        found = Measured(ratio_to_baseline(method, erm, settings.bootstrap_reps, settings.seed), len(method))
        if found.half_width <= settings.max_half_width:
            return found
        if len(method) >= settings.max_rounds:
            r = found.ratio
            return dataclasses.replace(
                found,
                unreliable=f"CI too wide: {r.value:.2f} [{r.low:.2f}, {r.high:.2f}], ±{found.half_width:.0%} after "
                f"{found.rounds} rounds (at most ±{settings.max_half_width:.0%})",
            )
        wanted = min(2 * len(method), settings.max_rounds)


def row_line(row: Mapping[str, Any]) -> str:
    """``simple_cnn (1x28x28, batch 32): declared 2.84 ERM steps, measured 2.60 [2.51, 2.70] (95% CI, 15
    rounds), ratio 0.92``; an unreliable cost says so instead of the numbers."""
    head = f"{row['arch']} ({row['image']}, batch {row['batch_size']}): declared {row['declared']:.2f} ERM steps"
    if row.get("unreliable"):
        return f"{head}, measured {measured_text(row)}"
    rounds = f" (95% CI, {row['rounds']} rounds)" if "rounds" in row else ""
    return f"{head}, measured {measured_text(row)}{rounds}, ratio {row['ratio']:.2f}"


def cost_row(
    name: str, config: RunConfig, device: torch.device, settings: CostSettings, num_threads: int
) -> dict[str, Any]:
    """Measure ``name`` against ERM on the architecture and image shape of ``config``: a row ``{arch, dataset,
    image (CxHxW), batch_size, declared, measured, measured_low, measured_high, rounds, ratio, unreliable}``,
    declared and measured in ERM steps, ratio = measured / declared; measured and ratio are None when the
    cost is unreliable (``unreliable`` then says why; "" otherwise)."""
    config = resolve_config(config)
    channels, side = dataset_store.get(config.dataset, config.dataset_params).input_shape[:2]
    batch_size = min(config.batch_size, settings.batch_size)
    case = make_case(config.arch, batch_size, channels, side, config.optimizer, device, config.precision, settings.seed)
    method = METHODS.get(name)(**config.method_params)
    if method.needs_wrong_reason:  # the synthetic batch's mask: everything outside its human map
        case = dataclasses.replace(case, batch=dataclasses.replace(case.batch, wrong_reason=1 - case.batch.saliency))
    erm = METHODS.get(BASELINE)()
    steps = {BASELINE: make_step(erm, case), name: make_step(method, case)}

    def time_rounds(count: int, first: bool) -> tuple[list[float], list[float]]:
        warmup = settings.warmup if first else 0
        times = time_steps(steps, count, settings.min_run_time, warmup, num_threads)
        return times[name].rounds, times[BASELINE].rounds

    with threads(num_threads):
        units = measure_units(case, settings.unit_rounds)
        found = measure_ratio(time_rounds, settings)
    declared = theoretical_ratio(method.cost, erm.cost, units)
    reliable = not found.unreliable
    return {
        "arch": config.arch,
        "dataset": config.dataset,
        "image": f"{channels}x{side}x{side}",
        "batch_size": batch_size,
        "declared": declared,
        "measured": found.ratio.value if reliable else None,
        "measured_low": found.ratio.low if reliable else None,
        "measured_high": found.ratio.high if reliable else None,
        "rounds": found.rounds,
        "ratio": found.ratio.value / declared if reliable else None,
        "unreliable": found.unreliable,
    }


def row_warning(row: Mapping[str, Any]) -> CheckFailure | None:
    """The warning of a cost row: an unreliable measurement, or a measured/declared ratio above ``TARGET``."""
    arch, dataset = str(row["arch"]), str(row["dataset"])
    if row.get("unreliable"):
        return CheckFailure(
            CHECK,
            f"the measured cost is unreliable ({row['unreliable']}), so the bundle records no number",
            "rerun submit on a quieter machine (fewer processes beside it); the leaderboard's profile stage "
            "measures every method's cost again in one run, so this does not keep the method off the leaderboard",
            arch=arch,
            dataset=dataset,
            warning=True,
        )
    if within_target(row["ratio"]):
        return None
    return CheckFailure(
        CHECK,
        f"one step takes {row['measured']:.2f} ERM steps, {row['ratio']:.2f}x the "
        f"{row['declared']:.2f} its declared cost predicts (more than {TARGET:g}x)",
        "count the passes of one step in `cost` (a forward per net(...) call, a backward per "
        "backward or autograd.grad; see benchmark.contracts.Cost), or make the step as cheap "
        "as declared; python -m benchmark profile --methods NAME measures it in detail",
        arch=arch,
        dataset=dataset,
        warning=True,
    )


def cost_report(
    name: str,
    arch_configs: list[RunConfig],
    device: str | torch.device = "auto",
    settings: CostSettings = CostSettings(),
    num_threads: int | None = None,
) -> tuple[list[dict[str, Any]], list[CheckFailure]]:
    """One ``cost_row`` per config of ``arch_configs`` (one per architecture of the protocol), and a warning
    (``CheckFailure(warning=True)``) for each that is unreliable or whose measured/declared ratio exceeds
    ``TARGET``."""
    device = device_of(device)
    num_threads = num_threads or torch.get_num_threads()
    rows = [cost_row(name, config, device, settings, num_threads) for config in of_method(name, arch_configs)]
    warnings = [w for w in map(row_warning, rows) if w is not None]
    return rows, warnings

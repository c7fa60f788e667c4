"""A profile: per architecture case, the unit times, the interleaved step timing of every method,
and for each method its phase breakdown, step peak memory and FLOPs; one JSON-ready document.

The order inside a case: units (``units.measure_units``), then the timed rounds
(``timing.time_steps``), then the untimed measurements (profiler phases, memory, FLOPs) on the
same warm step functions, so no profiler is active while anything is timed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from ..models.layout import step_layout
from ..registry import METHODS
from ..seeding import derive_seed, determinism, seed_global
from .breakdown import breakdown, scaled
from .case import make_case, make_step
from .environment import commit, machine
from .flops import flops_per_second, step_flops
from .memory import step_peak
from .ratios import BASELINE, CONFIDENCE, TARGET, method_order, ratio_to_baseline, spread, within_target
from .timing import threads, time_steps
from .units import measure_units, theoretical_ratio

SCHEMA = 1


@dataclass(frozen=True)
class Settings:
    """How much to measure. The defaults keep simple_cnn + gap_cnn x 7 methods at about 2 minutes
    on 2 idle CPU cores (quick profile: 1 thread, batch 64)."""

    rounds: int = 10  # interleaved timing rounds per case
    min_run_time: float = 0.05  # seconds of timed steps per method per round (at least one step)
    warmup: int = 2  # untimed steps per method before the rounds
    unit_rounds: int = 10  # interleaved rounds of the unit regions
    phase_steps: int = 2  # profiled (untimed) steps per method for the phase breakdown
    bootstrap_reps: int = 10_000
    seed: int = 0  # the batch, the network's initial weights, the bootstraps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def profile_case(
    arch: str,
    methods: Sequence[str],
    batch_size: int,
    channels: int,
    image_size: int,
    optimizer: Mapping[str, Any],
    device: torch.device,
    precision: str,
    num_threads: int,
    settings: Settings,
    progress: bool = True,
) -> dict[str, Any]:
    """The ``cases[]`` entry of one architecture (schema in ``benchmark.profiling``)."""
    names = method_order(methods)
    seed_global(derive_seed(settings.seed, "profile-global", arch))  # dropout and any library stream: reproducible
    case = make_case(arch, batch_size, channels, image_size, optimizer, device, precision, settings.seed)
    instances = {name: METHODS.get(name)() for name in names}
    bar = tqdm(
        total=1 + settings.rounds + len(names), desc=f"profile {arch}", unit="part", disable=not progress, leave=False
    )
    with threads(num_threads):
        units = measure_units(case, settings.unit_rounds)
        bar.update()
        steps = {name: make_step(instances[name], case) for name in names}
        times = time_steps(
            steps, settings.rounds, settings.min_run_time, settings.warmup, num_threads, on_round=bar.update
        )
        extras: dict[str, tuple[dict[str, float], tuple[int, str], int]] = {}
        for name in names:
            extras[name] = (
                breakdown(steps[name], device, settings.phase_steps),
                step_peak(steps[name], device),
                step_flops(steps[name]),
            )
            bar.update()
    bar.close()
    erm_cost = instances[BASELINE].cost
    rows = []
    for name in names:
        rounds = times[name].rounds
        middle = spread(rounds)
        ratio = ratio_to_baseline(
            rounds,
            times[BASELINE].rounds,
            settings.bootstrap_reps,
            derive_seed(settings.seed, "profile-bootstrap", arch, name) % 2**32,
        )
        theory = theoretical_ratio(instances[name].cost, erm_cost, units)
        parts, (peak, source), flops = extras[name]
        rows.append(
            {
                "method": name,
                "cost": instances[name].cost.describe(),
                "step_median_s": middle.median,
                "step_iqr_s": [middle.q25, middle.q75],
                "images_per_s": batch_size / middle.median,
                "ratio_to_erm": ratio.value,
                "ratio_ci": [ratio.low, ratio.high],
                "theoretical_ratio": theory,
                "measured_over_theoretical": ratio.value / theory,
                "within_target": within_target(ratio.value / theory),
                "phases_s": scaled(parts, middle.median),
                "peak_memory_bytes": int(peak),
                "memory_source": source,
                "flops": int(flops),
                "flops_per_s": flops_per_second(flops, middle.median),
                "rounds": len(rounds),
            }
        )
    return {
        "arch": arch,
        "channels": channels,
        "image_size": image_size,
        "batch_size": batch_size,
        "units_s": dict(units),
        "timed_steps": {n: times[n].timed_steps for n in names},
        "methods": rows,
    }


def profile_document(
    label: str,
    command: str,
    cases: list[dict[str, Any]],
    device: torch.device,
    precision: str,
    num_threads: int,
    settings: Settings,
    extra_settings: Mapping[str, Any] | None = None,
    deterministic: bool = True,
) -> dict[str, Any]:
    """The whole profile (schema 1): provenance, settings (with how each number is made) and the cases."""
    described = {
        **settings.to_dict(),
        "deterministic": deterministic,
        "layout": f"{step_layout(device)} (benchmark.models.layout.step_layout; nchw for a double backward on the CPU)",
        "phases": "CUDA timing events" if device.type == "cuda" else "torch.profiler ranges, wall time",
        "timer": "torch.utils.benchmark.Timer.blocked_autorange, per round and method",
        "ratio": "median over rounds of the per-round ratio to ERM",
        "confidence": CONFIDENCE,
        "bootstrap_method": "BCa (percentile when BCa is undefined or leaves out the estimate)",
        **(extra_settings or {}),
    }
    return {
        "schema": SCHEMA,
        "label": label,
        "command": command,
        "machine": machine(),
        "threads": num_threads,
        "device": str(device),
        "precision": precision,
        "torch": torch.__version__,
        "commit": commit(),
        "target": TARGET,
        "settings": described,
        "cases": cases,
    }


def on_device(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """``device`` as the current CUDA device (``torch.cuda.device``), a no-op elsewhere: the step timer
    (``torch.utils.benchmark.Timer``) and the allocator's counters without an index act on the current device,
    so ``profile --device cuda:1`` measured GPU 0's queue before (issue 25 item 6)."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def run_profile(
    label: str,
    command: str,
    archs: Sequence[tuple[str, int, int]],
    methods: Sequence[str],
    batch_size: int,
    optimizer: Mapping[str, Any],
    device: torch.device,
    precision: str,
    num_threads: int,
    settings: Settings,
    progress: bool = True,
    extra_settings: Mapping[str, Any] | None = None,
    deterministic: bool = True,
) -> dict[str, Any]:
    """Profile every (arch, channels, image_size) of ``archs`` with ``methods`` (ERM added first), with
    ``device`` the current CUDA device while it measures (``on_device``), under the runs' ``deterministic``
    switch (``benchmark.seeding.determinism``: cuDNN's autotuner on when false), its precision and layout."""
    cases = []
    with on_device(device), determinism(deterministic):
        for arch, channels, side in archs:
            cases.append(
                profile_case(
                    arch,
                    methods,
                    batch_size,
                    channels,
                    side,
                    optimizer,
                    device,
                    precision,
                    num_threads,
                    settings,
                    progress,
                )
            )
    return profile_document(
        label, command, cases, device, precision, num_threads, settings, extra_settings, deterministic
    )

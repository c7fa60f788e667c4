"""Wall time of training steps and of unit regions, interleaved in rounds.

Steps are timed with ``torch.utils.benchmark.Timer`` (its timer synchronizes the accelerator
before reading the clock; ``num_threads`` fixes the CPU threads). Methods are interleaved
round-robin, the order rotated every round, so slow drift of the machine (load, clocks, heat)
hits every method alike and a round's ratio to ERM compares steps taken side by side.

Per round and method, ``Timer.blocked_autorange(min_run_time)`` first runs untimed steps to
choose its block size (one step when a step is slower than about 10 ms; this also re-warms the
caches the previous method used), then times blocks of steps until ``min_run_time`` seconds have
been timed (at least one block); the round's step time is the median over its blocks of the
time per step. A round thus costs at least two steps per method: the defaults of the profile
command keep ``min_run_time`` below one step of the networks it profiles, so a round is one
untimed and one timed step of every method.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.benchmark import Timer


@contextmanager
def threads(count: int) -> Iterator[None]:
    """``torch.set_num_threads(count)`` inside, the previous count restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rotated(names: Sequence[str], shift: int) -> list[str]:
    """``names`` started at position ``shift`` (mod its length): round r's order."""
    names = list(names)
    k = shift % len(names) if names else 0
    return names[k:] + names[:k]


@dataclass
class StepTimes:
    """One method's rounds: seconds per step of each round, and how many steps were timed in all."""

    rounds: list[float] = field(default_factory=list)
    timed_steps: int = 0


def time_steps(
    steps: Mapping[str, Callable[[], Any]],
    rounds: int,
    min_run_time: float,
    warmup: int,
    num_threads: int,
    on_round: Callable[[], None] | None = None,
) -> dict[str, StepTimes]:
    """Time every step callable in ``rounds`` interleaved rounds (see the module docstring), after
    ``warmup`` untimed steps of each."""
    with threads(num_threads):
        for step in steps.values():
            for _ in range(warmup):
                step()
    timers = {
        name: Timer(stmt="step()", globals={"step": step}, num_threads=num_threads, label=name)
        for name, step in steps.items()
    }
    out = {name: StepTimes() for name in steps}
    for r in range(rounds):
        for name in rotated(list(timers), r):
            measured = timers[name].blocked_autorange(min_run_time=min_run_time)
            out[name].rounds.append(measured.median)
            out[name].timed_steps += measured.number_per_run * len(measured.raw_times)
        if on_round is not None:
            on_round()
    return out


def time_regions(
    regions: Mapping[str, tuple[Callable[[], Any], Callable[[Any], Any]]],
    rounds: int,
    warmup: int,
    device: torch.device,
) -> dict[str, list[float]]:
    """Seconds of ``run(prepare())`` per round for each named (prepare, run) pair, timing ``run`` only
    (the device synchronized before and after it), the regions interleaved in every round."""
    out: dict[str, list[float]] = {name: [] for name in regions}
    for r in range(warmup + rounds):
        for name in rotated(list(regions), r):
            prepare, run = regions[name]
            arg = prepare()
            sync(device)
            began = time.perf_counter()
            run(arg)
            sync(device)
            if r >= warmup:
                out[name].append(time.perf_counter() - began)
    return out

"""Where a step's time goes: the ``salbench.*`` ranges (``benchmark.phases``) of a few steps run
under ``torch.profiler.profile`` (untimed: the profiler's overhead never enters the timed figures).

Each instant of a step belongs to the innermost phase range open at that instant, or to "other"
when none is (the Python glue, zero_grad's bookkeeping, what no range marks); so a phase's time is
exclusive (a nested range is subtracted from its parent: saliency and masking run inside the
method's loss, i.e. inside "forward") and the phases plus "other" make up the step by construction.
On the CPU the instants are wall time on the step's thread, from the profiler's ranges. On CUDA they
are instants of the device's stream: each phase and each step records a pair of
``torch.cuda.Event(enable_timing=True)`` (``benchmark.phases.cuda_phase_events``), read once after the
steps with ``elapsed_time`` from the step's start event, so a phase's time is the GPU time between its
events (not the host's, which only queues kernels) and "other" the rest of the step on the stream.

The shares are then scaled to the timed median step (``scaled``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function, schedule

from ..phases import PHASES, PREFIX, cuda_phase_events
from .quiet import native_stderr_silenced
from .timing import sync

STEP_RANGE = "salbench_profile.step"  # the range around each profiled step (not a phase)
OTHER = "other"
PARTS = (*PHASES, OTHER)


@dataclass(frozen=True)
class Interval:
    name: str
    start: float  # microseconds
    end: float


def exclusive_times(step: Interval, ranges: Iterable[Interval]) -> dict[str, float]:
    """Microseconds of ``step`` per part: each instant goes to the innermost of ``ranges`` open at
    it (the one opened last), else to "other". The parts sum to the step's duration."""
    inside = [
        Interval(r.name, max(r.start, step.start), min(r.end, step.end))
        for r in ranges
        if r.end > step.start and r.start < step.end
    ]
    cuts = sorted({step.start, step.end, *(r.start for r in inside), *(r.end for r in inside)})
    out = dict.fromkeys(PARTS, 0.0)
    for a, b in zip(cuts, cuts[1:]):
        mid = (a + b) / 2
        open_ = [r for r in inside if r.start <= mid < r.end]
        out[max(open_, key=lambda r: r.start).name if open_ else OTHER] += b - a
    return out


def _phase_name(name: str) -> str | None:
    short = name[len(PREFIX) :] if name.startswith(PREFIX) else None
    return short if short in PHASES else None


def cuda_breakdown(step: Callable[[], None], device: torch.device, steps: int = 3, warmup: int = 1) -> dict[str, float]:
    """Mean device seconds per part over ``steps`` steps after ``warmup`` unrecorded ones, from CUDA timing
    events (module docstring); the device is synchronized once, after the steps, before any event is read."""
    for _ in range(warmup):
        step()
    sync(device)
    marks = []
    with cuda_phase_events() as events:
        for _ in range(steps):
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            first = len(events)
            begin.record()
            step()
            end.record()
            marks.append((begin, end, first, len(events)))
    sync(device)
    totals = dict.fromkeys(PARTS, 0.0)
    for begin, end, first, last in marks:
        us = [(name, 1e3 * begin.elapsed_time(a), 1e3 * begin.elapsed_time(b)) for name, a, b in events[first:last]]
        part = exclusive_times(Interval(STEP_RANGE, 0.0, 1e3 * begin.elapsed_time(end)), [Interval(*u) for u in us])
        for name, value in part.items():
            totals[name] += value
    return {name: us / 1e6 / max(len(marks), 1) for name, us in totals.items()}


def breakdown(step: Callable[[], None], device: torch.device, steps: int = 3, warmup: int = 1) -> dict[str, float]:
    """Mean seconds per part over ``steps`` profiled steps, after ``warmup`` steps the profiler runs
    but does not record (``torch.profiler.schedule``: its start-up cost stays out of the shares); on
    CUDA from timing events instead (``cuda_breakdown``)."""
    if device.type == "cuda":
        return cuda_breakdown(step, device, steps, warmup)
    sync(device)
    activities = [ProfilerActivity.CPU]
    with (
        native_stderr_silenced(),
        profile(activities=activities, schedule=schedule(wait=0, warmup=warmup, active=steps, repeat=1)) as prof,
    ):
        for _ in range(warmup + steps):
            with record_function(STEP_RANGE):
                step()
                sync(device)
            prof.step()
    events = [e for e in prof.events() if e.device_type == DeviceType.CPU]
    marks = [Interval(e.name, e.time_range.start, e.time_range.end) for e in events if e.name == STEP_RANGE]
    ranges = [Interval(p, e.time_range.start, e.time_range.end) for e in events if (p := _phase_name(e.name))]
    totals = dict.fromkeys(PARTS, 0.0)
    for mark in marks:
        part = exclusive_times(mark, ranges)
        for name, us in part.items():
            totals[name] += us
    return {name: us / 1e6 / max(len(marks), 1) for name, us in totals.items()}


def scaled(parts: Mapping[str, float], step_seconds: float) -> dict[str, float]:
    """``parts`` as shares of their sum, times ``step_seconds`` (the timed median step)."""
    total = sum(parts.values())
    if total <= 0:
        return {name: (step_seconds if name == OTHER else 0.0) for name in PARTS}
    return {name: step_seconds * parts.get(name, 0.0) / total for name in PARTS}

"""Peak memory of one training step itself, in bytes above the level at its start (not the
process's lifetime peak RSS, which says nothing about the method).

- CUDA: ``torch.cuda.reset_peak_memory_stats`` before the step, ``max_memory_allocated`` after,
  less ``memory_allocated`` at its start (the caching allocator's own accounting).
- CPU: the profiler's memory accounting (``torch.profiler.profile(profile_memory=True)``): every
  allocation and free of the CPU allocator is a ``[memory]`` event with its signed size; the peak
  of their running sum, in time order, between the start and the end of the step (the events
  torch's own profiler reads, ``torch.autograd.profiler.profile._parse_kineto_results``). A free
  is recorded only for a block allocated while the profiler runs, so the profiler runs two
  steps and the second is measured: the blocks it frees (the first step's gradients, freed by
  ``zero_grad``) were allocated under the profiler. The gradients left before profiling are
  freed first (``Step.release``), as the first step's ``zero_grad`` would.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from .quiet import native_stderr_silenced
from .timing import sync

MEMORY_EVENT = "[memory]"  # torch.autograd.profiler_util.MEMORY_EVENT_NAME
STEP_RANGE = "salbench_profile.memory_step"


def running_peak(changes: list[tuple[int, int]]) -> int:
    """The peak of the running sum of signed byte counts ``(time, bytes)`` taken in time order, above
    the starting level (0 when nothing is allocated beyond it)."""
    level = peak = 0
    for _, nbytes in sorted(changes, key=lambda c: c[0]):
        level += nbytes
        peak = max(peak, level)
    return peak


def cuda_step_peak(step: Callable[[], None], device: torch.device) -> int:
    """Bytes the CUDA caching allocator held at the step's peak beyond what it held at its start."""
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    start = torch.cuda.memory_allocated(device)
    step()
    sync(device)
    return max(0, int(torch.cuda.max_memory_allocated(device)) - int(start))


def cpu_step_peak(step: Callable[[], None]) -> int:
    """Peak of the running sum of the CPU allocator's events during one step (module docstring)."""
    release = getattr(step, "release", None)
    if release is not None:
        release()
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
        with record_function(STEP_RANGE):
            step()
    events = prof.profiler.kineto_results.events()
    mark = next(e for e in events if e.name() == STEP_RANGE)
    begin, end = mark.start_ns(), mark.start_ns() + mark.duration_ns()
    changes = [
        (e.start_ns(), int(e.nbytes()))
        for e in events
        if e.name() == MEMORY_EVENT
        and e.device_type() == torch.autograd.DeviceType.CPU
        and begin <= e.start_ns() <= end
    ]
    return running_peak(changes)


def step_peak(step: Callable[[], None], device: torch.device) -> tuple[int, str]:
    """(peak bytes of one step, "cuda" | "profiler"): the source of the number."""
    if device.type == "cuda":
        return cuda_step_peak(step, device), "cuda"
    return cpu_step_peak(step), "profiler"

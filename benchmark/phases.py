"""Named phases of a training step, as ``torch.profiler.record_function`` ranges.

The profile command (``benchmark.profiling``) breaks a step into these phases: on the CPU from the
profiler's ranges, on CUDA from ``torch.cuda.Event(enable_timing=True)`` pairs each phase records on
the current stream while ``cuda_phase_events`` is open (device time, not host clocks: a CUDA step's
host side only queues kernels). Outside both a range costs a few microseconds and records nothing.
``train_step`` marks ``forward`` (the method's whole loss), ``backward`` and ``optimizer``; a method
marks, inside its loss, the time it spends computing saliency (input gradients, CAMs) and masking or
building augmented views. Nested ranges are subtracted from their parent, so each phase is exclusive
and the phases plus "other" make up the step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch.profiler import record_function

PHASES = ("saliency", "masking", "forward", "backward", "optimizer")
PREFIX = "salbench."
_EVENTS: list[tuple[str, Any, Any]] | None = None  # (phase, start, end) CUDA events while recording


class _TimedPhase:
    """A phase's profiler range plus a pair of CUDA timing events around it (recorded, never waited for)."""

    def __init__(self, name: str, events: list[tuple[str, Any, Any]]) -> None:
        self.name, self.events, self.range = name, events, record_function(PREFIX + name)

    def __enter__(self) -> _TimedPhase:
        self.start = torch.cuda.Event(enable_timing=True)
        self.start.record()
        self.range.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.range.__exit__(*exc)
        end = torch.cuda.Event(enable_timing=True)
        end.record()
        self.events.append((self.name, self.start, end))


def phase(name: str) -> contextlib.AbstractContextManager[Any]:
    """A profiler range for one of ``PHASES`` (``with phase("saliency"): ...``); inside ``cuda_phase_events``
    also a pair of CUDA timing events."""
    if name not in PHASES:
        raise ValueError(f"phase '{name}' unknown; known: {list(PHASES)}")
    return record_function(PREFIX + name) if _EVENTS is None else _TimedPhase(name, _EVENTS)


@contextlib.contextmanager
def cuda_phase_events() -> Iterator[list[tuple[str, Any, Any]]]:
    """While open, every phase records (name, start event, end event) into the yielded list, in the order
    the phases end; read them (``start.elapsed_time(end)``) after synchronizing the device."""
    global _EVENTS
    events: list[tuple[str, Any, Any]] = []
    before, _EVENTS = _EVENTS, events
    try:
        yield events
    finally:
        _EVENTS = before

"""Named phases of a training step, as ``torch.profiler.record_function`` ranges.

The profile command (``benchmark.profiling``) breaks a step into these phases from the
profiler's ranges; outside a profiler a range costs a few microseconds and records nothing.
``train_step`` marks ``forward`` (the method's whole loss), ``backward`` and ``optimizer``;
a method marks, inside its loss, the time it spends computing saliency (input gradients,
CAMs) and masking or building augmented views. Nested ranges are subtracted from their
parent, so each phase is exclusive and the phases plus "other" make up the step.
"""

from __future__ import annotations

from torch.profiler import record_function

PHASES = ("saliency", "masking", "forward", "backward", "optimizer")
PREFIX = "salbench."


def phase(name: str) -> record_function:
    """A profiler range for one of ``PHASES`` (``with phase("saliency"): ...``)."""
    if name not in PHASES:
        raise ValueError(f"phase '{name}' unknown; known: {list(PHASES)}")
    return record_function(PREFIX + name)

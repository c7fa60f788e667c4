"""Step time of every registered method beside its theoretical cost (``make benchmark``).

One training step (loss + backward + Adam step) per method on simple_cnn (batch 64 x 1x28x28),
gap_cnn and resnet18 (batch 64 x 3x32x32), timed by pytest-benchmark. ERM's forward, backward and
input-only backward are measured on the same machine (``benchmark.profiling``), and the end of
the session prints, per case, the measured ratio to ERM, the ratio the declared ``Cost``
predicts from those units, and their quotient (target <= 1.2 on CPU). Times are the fastest
round (least disturbed on a shared machine).
"""
from __future__ import annotations

import pytest

from benchmark.profiling import make_setup, make_step, measure_units
from benchmark.registry import METHODS

CASES = {  # case -> (arch, channels, side, rounds)
    "simple_cnn, batch 64x1x28x28": ("simple_cnn", 1, 28, 20),
    "gap_cnn, batch 64x3x32x32": ("gap_cnn", 3, 32, 10),
    "resnet18, batch 64x3x32x32": ("resnet18", 3, 32, 3),
}
_SETUPS: dict = {}


def setup_for(case: str, step_times: dict):
    """The case's network and batch, with ERM's unit costs measured once per session."""
    if case not in _SETUPS:
        arch, channels, side, rounds = CASES[case]
        _SETUPS[case] = make_setup(arch, 64, channels, side)
        step_times[case] = {"units": measure_units(_SETUPS[case], repeats=max(rounds, 5)), "seconds": {}}
    return _SETUPS[case]


@pytest.mark.parametrize("method_name", [name for name in METHODS.names() if not name.startswith("_")])
@pytest.mark.parametrize("case", CASES)
def test_step_time(benchmark, step_times, case, method_name):
    setup = setup_for(case, step_times)
    step = make_step(METHODS.get(method_name)(), setup)
    benchmark.group = case
    benchmark.pedantic(step, rounds=CASES[case][3], warmup_rounds=1, iterations=1)
    step_times[case]["seconds"][method_name] = benchmark.stats.stats.min

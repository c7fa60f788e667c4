"""Step time of every registered method beside its theoretical cost (``make benchmark``).

One training step (``train_step``: loss, backward, the quick profile's Adam step) per method on
simple_cnn (batch 64 x 1x28x28), gap_cnn and resnet18 (batch 64 x 3x32x32), on the seeded
synthetic batch of ``python -m benchmark profile`` (``benchmark.profiling.case``), timed by
pytest-benchmark (the regression gate: ``--benchmark-compare``). The unit times a ``Cost``
counts are measured on ERM's network (``benchmark.profiling.units``), and the end of the session
prints, per case, the measured ratio of median steps to ERM's, the ratio the declared cost
predicts, and their quotient (target <= 1.2). pytest-benchmark times one method after another;
the profile command interleaves them in rounds and gives the ratios a CI.
"""

from __future__ import annotations

import pytest
from quick import QUICK_TRAINING

from benchmark.profiling.case import make_case, make_step
from benchmark.profiling.units import measure_units
from benchmark.registry import METHODS

CASES = {  # case -> (arch, channels, side, rounds)
    "simple_cnn, batch 64x1x28x28": ("simple_cnn", 1, 28, 20),
    "gap_cnn, batch 64x3x32x32": ("gap_cnn", 3, 32, 10),
    "resnet18, batch 64x3x32x32": ("resnet18", 3, 32, 3),
}
_CASES: dict = {}


def case_for(name: str, step_times: dict):
    """The case's network and batch, with ERM's unit times measured once per session."""
    if name not in _CASES:
        arch, channels, side, rounds = CASES[name]
        _CASES[name] = make_case(arch, 64, channels, side, QUICK_TRAINING["optimizer"])
        step_times[name] = {"units": measure_units(_CASES[name], rounds=max(rounds, 5)), "seconds": {}}
    return _CASES[name]


@pytest.mark.parametrize("method_name", [name for name in METHODS.names() if not name.startswith("_")])
@pytest.mark.parametrize("case", CASES)
def test_step_time(benchmark, step_times, case, method_name):
    step = make_step(METHODS.get(method_name)(), case_for(case, step_times))
    benchmark.group = case
    benchmark.pedantic(step, rounds=CASES[case][3], warmup_rounds=1, iterations=1)
    step_times[case]["seconds"][method_name] = benchmark.stats.stats.median

"""Collects the step times of test_step_time.py and prints, per case, the ratio table at the end of the session."""

from __future__ import annotations

import pytest
from tabulate import tabulate

from benchmark.contracts import COST_UNITS
from benchmark.profiling.ratios import BASELINE, TARGET
from benchmark.profiling.units import theoretical_ratio
from benchmark.registry import METHODS

STEP_TIMES = pytest.StashKey[dict]()


@pytest.fixture
def step_times(request) -> dict:
    """{case: {"units": {unit: seconds}, "seconds": {method: median step seconds}}}, shared by the session."""
    return request.config.stash.setdefault(STEP_TIMES, {})


def ratio_table(case: str, seconds: dict[str, float], units: dict[str, float]) -> str:
    """Per method: the median step, its ratio to ERM's, the ratio the declared cost predicts, their quotient."""
    base_cost = METHODS.get(BASELINE).cost
    rows = []
    for name in sorted(seconds, key=lambda n: (n != BASELINE, n)):
        step = seconds[name]
        cost = METHODS.get(name).cost
        measured, theory = step / seconds[BASELINE], theoretical_ratio(cost, base_cost, units)
        rows.append(
            {
                "method": name,
                "cost": cost.describe(),
                "step ms": 1e3 * step,
                "measured ratio": measured,
                "theoretical ratio": theory,
                "measured/theoretical": measured / theory,
                "within target": "yes" if measured / theory <= TARGET else "NO",
            }
        )
    head = f"{case}: " + ", ".join(f"{u} {1e3 * units[u]:.2f} ms" for u in COST_UNITS) + " (ERM's network, measured)"
    return head + "\n" + tabulate(rows, headers="keys", tablefmt="github", floatfmt=".2f")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for case, found in config.stash.get(STEP_TIMES, {}).items():
        if BASELINE in found["seconds"]:
            terminalreporter.write_line("")
            terminalreporter.write_line(ratio_table(case, found["seconds"], found["units"]))

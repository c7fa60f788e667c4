"""Collects the step times of test_step_time.py and prints the ratio table at the end of the session."""
from __future__ import annotations

import pytest

from benchmark.profiling import format_table, rows

STEP_TIMES = pytest.StashKey[dict]()


@pytest.fixture
def step_times(request) -> dict:
    """{case: {"units": UnitCosts, "seconds": {method: fastest step seconds}}}, shared by the session."""
    return request.config.stash.setdefault(STEP_TIMES, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for case, found in config.stash.get(STEP_TIMES, {}).items():
        if "erm" in found["seconds"]:
            terminalreporter.write_line("")
            terminalreporter.write_line(format_table(case, rows(found["seconds"], found["units"]), found["units"]))

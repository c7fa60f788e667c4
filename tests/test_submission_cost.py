"""The submission's cost measurement (``benchmark.submission.cost``, issue 27 item 2): load cancels in the
per-round ratio, a wide CI adds rounds and then records the cost as unreliable, the CI is stored and printed.

Round times are hand-made (``time_steps`` replaced), so nothing here asserts a timing; one test runs the real
measurement and checks only its structure."""

from __future__ import annotations

import json
import math

import pytest

from benchmark.contracts import RunConfig
from benchmark.profiling.timing import StepTimes
from benchmark.submission import cost as cost_module
from benchmark.submission.bundle import json_text, overhead
from benchmark.submission.cost import CostSettings, cost_report, measure_ratio, row_line
from benchmark.submission.summary import overhead_rows

DIGITS = RunConfig(
    method="sgt",
    dataset="decoy_digits",
    arch="simple_cnn",
    dataset_params={"test_fraction": 0.8, "val_fraction": 0.1},
    epochs=1,
    batch_size=64,
    optimizer={"name": "adam", "lr": 0.001, "weight_decay": 0.0},
    schedule={"name": "constant"},
    evaluation={"enabled": False},
)
# a loaded machine: each round's load slows ERM's step and the method's alike, by up to 4x
LOAD = [1.0, 2.5, 1.2, 4.0, 1.5, 3.0, 1.1, 2.0, 3.5, 1.3, 2.2, 1.8, 3.3, 1.4, 2.7] * 8
ERM_STEP, TRUE_RATIO = 0.010, 2.0


def fake_time_steps(rounds_of: dict[str, list[float]], calls: list[tuple[int, int]]):
    """A ``time_steps`` handing out the next ``rounds`` hand-made round times of each method, recording
    (rounds, warmup) per call."""

    def time_steps(steps, rounds, min_run_time, warmup, num_threads, on_round=None):
        calls.append((rounds, warmup))
        done = sum(r for r, _ in calls[:-1])
        return {name: StepTimes(rounds_of[name][done : done + rounds], rounds) for name in steps}

    return time_steps


def loaded(method_load: list[float] | None = None) -> dict[str, list[float]]:
    """ERM's and sgt's round times under ``LOAD`` (sgt's own per-round load when given)."""
    return {
        "erm": [ERM_STEP * x for x in LOAD],
        "sgt": [TRUE_RATIO * ERM_STEP * x for x in (method_load or LOAD)],
    }


def test_load_that_slows_both_steps_in_a_round_cancels_in_the_ratio(monkeypatch):
    # in the one round where ERM ran idle the method was loaded 1.5x: the old statistic (fastest method
    # round / fastest ERM round) said 3.0; the median of the per-round ratios is the step's 2.0
    method_load = [1.5, *LOAD[1:]]
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(cost_module, "time_steps", fake_time_steps(loaded(method_load), calls))
    rows, warnings = cost_report("sgt", [DIGITS], device="cpu", settings=CostSettings(unit_rounds=1))
    (row,) = rows
    assert calls == [(15, 2)]  # one measurement of 15 rounds after 2 warm-up steps: the CI was tight
    assert row["measured"] == pytest.approx(TRUE_RATIO)
    assert row["measured_low"] <= row["measured"] <= row["measured_high"]
    assert (row["measured_high"] - row["measured_low"]) / 2 / row["measured"] <= 0.10
    assert row["rounds"] == 15 and row["unreliable"] == ""
    assert row["ratio"] == pytest.approx(TRUE_RATIO / row["declared"])
    assert row_line(row).startswith(
        f"simple_cnn (1x28x28, batch 32): declared {row['declared']:.2f} ERM steps, measured 2.00 "
        f"[{row['measured_low']:.2f}, {row['measured_high']:.2f}] (95% CI, 15 rounds), ratio "
    )
    assert all("unreliable" not in w.line() for w in warnings)


def test_the_same_step_measures_the_same_on_an_idle_and_a_loaded_machine(monkeypatch):
    """Every round 1x, then every round 3x slower and the rounds in another order: the same cost and CI."""
    values = []
    for scale, order in ((1.0, 1), (3.0, -1)):
        rounds = {name: [scale * t for t in times[::order]] for name, times in loaded().items()}
        monkeypatch.setattr(cost_module, "time_steps", fake_time_steps(rounds, []))
        (row,), _ = cost_report("sgt", [DIGITS], device="cpu", settings=CostSettings(unit_rounds=1))
        values.append((row["measured"], row["measured_low"], row["measured_high"]))
    assert values[0] == values[1] and values[0][0] == pytest.approx(TRUE_RATIO)


def noisy(n: int, offset: int = 0) -> tuple[list[float], list[float]]:
    """Rounds whose per-round ratio swings between 1x and 3x (the load hit one step of the round only)."""
    swings = [1.0, 3.0, 1.5, 2.5, 2.0, 1.2, 2.8]
    return [ERM_STEP * swings[(offset + i) % len(swings)] for i in range(n)], [ERM_STEP] * n


def test_a_wide_ci_measures_more_rounds_then_records_the_cost_as_unreliable():
    asked: list[tuple[int, bool]] = []

    def time_rounds(count: int, first: bool) -> tuple[list[float], list[float]]:
        done = sum(n for n, _ in asked)
        asked.append((count, first))
        return noisy(count, done)

    found = measure_ratio(time_rounds, CostSettings(rounds=15, max_rounds=60, max_half_width=0.10))
    assert asked == [(15, True), (15, False), (30, False)]  # 15, doubled to 30, to the cap of 60
    assert found.rounds == 60 and found.half_width > 0.10
    assert found.unreliable.startswith(f"CI too wide: {found.ratio.value:.2f} [{found.ratio.low:.2f}, ")
    assert found.unreliable.endswith("after 60 rounds (at most ±10%)")


def test_a_ci_that_tightens_with_more_rounds_stops_there():
    asked: list[int] = []

    def time_rounds(count: int, first: bool) -> tuple[list[float], list[float]]:
        asked.append(count)
        if len(asked) == 1:
            return noisy(count)
        return [TRUE_RATIO * ERM_STEP] * count, [ERM_STEP] * count  # the load went away

    found = measure_ratio(time_rounds, CostSettings(rounds=15, max_rounds=60, max_half_width=0.10))
    assert asked == [15, 15] and found.rounds == 30 and not found.unreliable
    assert found.ratio.value == pytest.approx(TRUE_RATIO)


def test_an_unreliable_cost_is_one_warning_line_and_no_number_in_the_bundle(monkeypatch):
    rounds = {"sgt": noisy(len(LOAD))[0], "erm": noisy(len(LOAD))[1]}
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(cost_module, "time_steps", fake_time_steps(rounds, calls))
    settings = CostSettings(rounds=4, max_rounds=8, unit_rounds=1)
    rows, warnings = cost_report("sgt", [DIGITS], device="cpu", settings=settings)
    (row,) = rows
    assert calls == [(4, 2), (4, 0)]  # the warm-up only before the first measurement
    assert row["measured"] is None and row["ratio"] is None and row["rounds"] == 8
    assert row["unreliable"].startswith("CI too wide: ")
    assert row_line(row) == (
        f"simple_cnn (1x28x28, batch 32): declared {row['declared']:.2f} ERM steps, "
        f"measured unreliable ({row['unreliable']})"
    )
    (warning,) = warnings
    line = warning.line()
    assert "\n" not in line and line.startswith(
        "check 'cost' warning on arch simple_cnn, dataset decoy_digits: the measured cost is unreliable (CI too wide: "
    )
    assert "fix: rerun submit on a quieter machine" in line and "profile stage" in line
    stored = json.loads(json_text(overhead(rows)))["simple_cnn"]
    assert stored["measured"] is None and stored["unreliable"] == row["unreliable"]
    assert overhead_rows(rows)[0][2] == f"unreliable ({row['unreliable']})"


def test_the_bundle_stores_and_the_summary_shows_the_ci(monkeypatch):
    monkeypatch.setattr(cost_module, "time_steps", fake_time_steps(loaded(), []))
    rows, _ = cost_report("sgt", [DIGITS], device="cpu", settings=CostSettings(unit_rounds=1))
    stored = json.loads(json_text(overhead(rows)))["simple_cnn"]
    assert {"measured", "measured_low", "measured_high", "rounds", "unreliable"} <= set(stored)
    assert stored["measured_low"] <= stored["measured"] <= stored["measured_high"] and stored["rounds"] == 15
    assert overhead_rows(rows)[0][2:4] == [
        f"{stored['measured']:.2f} [{stored['measured_low']:.2f}, {stored['measured_high']:.2f}]",
        "15",
    ]


def test_the_real_measurement_gives_a_finite_ratio_inside_its_ci():
    """Structure only (the machine may be loaded): a finite ratio with low <= value <= high."""
    settings = CostSettings(batch_size=8, rounds=3, max_rounds=3, max_half_width=math.inf, min_run_time=0.001)
    rows, _ = cost_report("sgt", [DIGITS], device="cpu", settings=settings)
    (row,) = rows
    assert math.isfinite(row["measured"]) and row["measured_low"] <= row["measured"] <= row["measured_high"]
    assert row["rounds"] == 3 and row["unreliable"] == ""

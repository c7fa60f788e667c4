"""``python -m benchmark profile`` (``benchmark.profiling``): the command on a tiny case writes every
file, every table cell and every JSON key; phases plus "other" make up the step by construction;
FLOPs of ERM on a linear network equal the hand count; a CPU step's peak memory is positive and
grows with the batch; the ratio CI holds its point; seeds fix the batch; bad input exits 2 with
one line before anything is measured or written."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from nets import LinearNet

from benchmark.cli import main
from benchmark.cli.profile_cmd import DEFAULTS
from benchmark.contracts import COST_UNITS, Cost
from benchmark.profiling import breakdown, measure
from benchmark.profiling.breakdown import OTHER, PARTS, Interval, exclusive_times, scaled
from benchmark.profiling.case import Case, make_case, make_step, synthetic_batch
from benchmark.profiling.flops import step_flops
from benchmark.profiling.memory import cpu_step_peak, running_peak
from benchmark.profiling.ratios import ratio_to_baseline
from benchmark.profiling.units import measure_units, theoretical_ratio
from benchmark.registry import METHODS

ADAM = {"name": "adam", "lr": 1e-3}
TINY = [
    "--archs",
    "simple_cnn",
    "--image-size",
    "8",
    "--batch-size",
    "4",
    "--rounds",
    "3",
    "--min-run-time",
    "0.001",
    "--warmup",
    "1",
    "--unit-rounds",
    "2",
    "--phase-steps",
    "1",
    "--bootstrap-reps",
    "200",
    "--quiet",
]
TOP_KEYS = {
    "schema",
    "label",
    "command",
    "machine",
    "threads",
    "device",
    "precision",
    "torch",
    "commit",
    "target",
    "settings",
    "cases",
}
CASE_KEYS = {"arch", "channels", "image_size", "batch_size", "units_s", "timed_steps", "methods"}
METHOD_KEYS = {
    "method",
    "cost",
    "step_median_s",
    "step_iqr_s",
    "images_per_s",
    "ratio_to_erm",
    "ratio_ci",
    "theoretical_ratio",
    "measured_over_theoretical",
    "within_target",
    "phases_s",
    "peak_memory_bytes",
    "memory_source",
    "flops",
    "flops_per_s",
    "rounds",
}


@pytest.fixture(scope="module")
def tiny_profile(tmp_path_factory):
    """The command on a tiny simple_cnn case with ERM, SGT and RRR: (exit code, out folder)."""
    out = tmp_path_factory.mktemp("profiles")
    code = main(["profile", *TINY, "--methods", "sgt", "rrr", "--out", str(out), "--label", "tiny"])
    return code, out


def test_the_command_writes_the_four_files_named_by_the_label(tiny_profile):
    code, out = tiny_profile
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["tiny.json", "tiny.md", "tiny.overhead.png", "tiny.phases.png"]
    for name in ("tiny.overhead.png", "tiny.phases.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_json_has_every_key_of_the_schema(tiny_profile):
    doc = json.loads((tiny_profile[1] / "tiny.json").read_text())
    assert TOP_KEYS <= set(doc) and doc["schema"] == 1 and doc["label"] == "tiny" and doc["target"] == 1.2
    assert {"hostname", "cpu", "cores", "platform"} <= set(doc["machine"]) and doc["precision"] == "fp32"
    assert doc["device"] == "cpu" and doc["threads"] >= 1 and doc["command"].startswith("python -m benchmark profile")
    assert {"rounds", "min_run_time", "warmup", "seed", "bootstrap_reps"} <= set(doc["settings"])
    (case,) = doc["cases"]
    assert CASE_KEYS <= set(case) and set(case["units_s"]) == set(COST_UNITS)
    assert (case["arch"], case["channels"], case["image_size"], case["batch_size"]) == ("simple_cnn", 1, 8, 4)
    assert [m["method"] for m in case["methods"]] == ["erm", "sgt", "rrr"], "ERM first, always"
    for row in case["methods"]:
        assert set(row) == METHOD_KEYS, row["method"]
        assert set(row["phases_s"]) == set(PARTS) and row["memory_source"] == "profiler" and row["rounds"] == 3
        assert row["flops"] > 0 and row["peak_memory_bytes"] > 0 and row["step_median_s"] > 0
        assert row["step_iqr_s"][0] <= row["step_median_s"] <= row["step_iqr_s"][1]
        assert row["ratio_ci"][0] <= row["ratio_to_erm"] <= row["ratio_ci"][1]
        assert row["cost"] == METHODS.get(row["method"]).cost.describe()
        assert math.isclose(row["measured_over_theoretical"], row["ratio_to_erm"] / row["theoretical_ratio"])
        assert row["within_target"] == (row["measured_over_theoretical"] <= 1.2)
        assert math.isclose(sum(row["phases_s"].values()), row["step_median_s"], rel_tol=1e-9)
    erm = case["methods"][0]
    assert erm["ratio_to_erm"] == erm["theoretical_ratio"] == 1.0 and erm["ratio_ci"] == [1.0, 1.0]
    assert erm["phases_s"]["saliency"] == 0.0, "ERM marks no saliency"
    assert case["methods"][1]["phases_s"]["saliency"] > 0, "SGT marks its input gradient"


def test_the_markdown_table_has_every_column_filled(tiny_profile):
    text = (tiny_profile[1] / "tiny.md").read_text()
    for needed in ("threads: ", "device: cpu", "precision: fp32", "torch ", "commit: ", "CPU: "):
        assert needed in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header, body = rows[0], rows[2:]
    columns = [c.strip() for c in header.strip("|").split("|")]
    for col in (
        "method",
        "cost",
        "step ms",
        "IQR ms",
        "images/s",
        "ratio to ERM [95% CI]",
        "theoretical",
        "measured/theoretical",
        "within target",
        *(f"{p} ms" for p in PARTS),
        "peak MiB",
        "GFLOP",
        "GFLOP/s",
    ):
        assert col in columns
    assert len(body) == 3
    for line in body:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(columns) and all(cells), line


def test_exclusive_phases_plus_other_make_up_the_step():
    step = Interval("step", 0.0, 100.0)
    ranges = [
        Interval("forward", 5.0, 60.0),
        Interval("saliency", 10.0, 30.0),
        Interval("masking", 30.0, 35.0),
        Interval("backward", 60.0, 90.0),
        Interval("optimizer", 92.0, 120.0),  # runs past the step
        Interval("forward", 150.0, 170.0),
    ]  # another step's
    parts = exclusive_times(step, ranges)
    assert parts == {
        "saliency": 20.0,
        "masking": 5.0,
        "forward": 30.0,
        "backward": 30.0,
        "optimizer": 8.0,
        "other": 7.0,
    }
    assert sum(parts.values()) == 100.0
    shares = scaled(parts, 0.5)
    assert math.isclose(sum(shares.values()), 0.5) and math.isclose(shares["forward"], 0.15)
    assert scaled(dict.fromkeys(PARTS, 0.0), 0.5)[OTHER] == 0.5


def test_a_profiled_steps_phases_sum_to_the_profiled_step(monkeypatch):
    seen = []
    original = breakdown.exclusive_times
    monkeypatch.setattr(breakdown, "exclusive_times", lambda s, r: seen.append((s, out := original(s, r))) or out)
    case = make_case("simple_cnn", 4, 1, 8, ADAM)
    parts = breakdown.breakdown(make_step(METHODS.get("sgt")(), case), case.device, steps=2, warmup=1)
    assert len(seen) == 2 and all(math.isclose(sum(p.values()), s.end - s.start) for s, p in seen)
    assert math.isclose(sum(parts.values()), sum(s.end - s.start for s, _ in seen) / 2e6)
    assert parts["saliency"] > 0 and parts["forward"] > 0 and parts["backward"] > 0 and parts["optimizer"] > 0


def test_erm_flops_on_a_linear_network_equal_the_hand_count():
    batch_size, pixels, classes = 8, 16, 3
    case = Case(
        arch="linear",
        channels=1,
        image_size=4,
        net=LinearNet(pixels, classes),
        batch=synthetic_batch(batch_size, 1, 4, num_classes=classes),
        device=torch.device("cpu"),
        optimizer={"name": "sgd", "lr": 0.1},
    )
    # forward: the (B x P) @ (P x K) product, 2BPK; backward: the weight gradient (K x B) @ (B x P), 2BPK;
    # no input gradient (x does not require it); bias, softmax and the SGD update have no FLOP formula
    assert step_flops(make_step(METHODS.get("erm")(), case)) == 4 * batch_size * pixels * classes


def test_flops_count_a_method_that_takes_input_gradients():
    case = make_case("simple_cnn", 4, 1, 8, ADAM)
    erm, rrr = (step_flops(make_step(METHODS.get(m)(), case)) for m in ("erm", "rrr"))
    assert rrr > erm > 0


def test_cpu_peak_memory_of_a_step_is_positive_and_grows_with_the_batch():
    peaks = []
    for batch_size in (4, 32):
        step = make_step(METHODS.get("erm")(), make_case("simple_cnn", batch_size, 1, 8, ADAM))
        step()
        peaks.append(cpu_step_peak(step))
    assert 0 < peaks[0] < peaks[1]
    assert running_peak([(3, -5), (1, 10), (2, 20), (4, 100), (5, -200)]) == 125
    assert running_peak([(1, -8), (2, 4)]) == 0


def test_units_are_measured_and_grad_cam_is_free_on_an_exact_cam():
    units = measure_units(make_case("gap_cnn", 4, 3, 8, ADAM), rounds=2)
    assert set(units) == set(COST_UNITS) and units["grad_cam"] == 0.0
    assert all(units[u] > 0 for u in COST_UNITS if u != "grad_cam")
    units = measure_units(make_case("simple_cnn", 4, 1, 8, ADAM), rounds=2)
    assert units["grad_cam"] >= 0.0 and units["double_backward"] > 0
    assert theoretical_ratio(Cost(forward=1, backward=1), Cost(forward=1, backward=1), units) == 1.0
    made_up = {"forward": 1.0, "backward": 2.0, "input_backward": 1.0, "double_backward": 6.0, "grad_cam": 0.5}
    assert theoretical_ratio(METHODS.get("rrr").cost, METHODS.get("erm").cost, made_up) == pytest.approx(7 / 3)
    assert theoretical_ratio(METHODS.get("sgt").cost, METHODS.get("erm").cost, made_up) == pytest.approx(8 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_ratio_ci_contains_its_point_and_is_seeded(seed):
    rng = np.random.default_rng(seed)
    base = 0.01 + 0.002 * rng.random(12)
    times = base * (2.0 + 0.3 * rng.standard_normal(12))
    ratio = ratio_to_baseline(times, base, reps=500, seed=seed)
    assert ratio.low <= ratio.value <= ratio.high and ratio.low < ratio.high
    assert ratio == ratio_to_baseline(times, base, reps=500, seed=seed)
    assert dataclasses.astuple(ratio_to_baseline(base, base, reps=500, seed=seed)) == (1.0, 1.0, 1.0)


def test_the_same_seed_gives_the_same_batch_and_weights():
    a, b, c = (synthetic_batch(6, 3, 8, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and torch.equal(a.saliency, b.saliency)
    assert not torch.equal(a.x, c.x)
    assert bool(a.annotated.all()) and a.saliency.sum() > 0
    state = torch.random.get_rng_state()
    one, two = (make_case("simple_cnn", 4, 1, 8, ADAM, seed=5) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(one.net.parameters(), two.net.parameters()))
    assert torch.equal(state, torch.random.get_rng_state()), "the global RNG is left as it was"


def test_the_cli_defaults_are_the_settings_defaults():
    defaults = {f.name: f.default for f in dataclasses.fields(measure.Settings)}
    assert {k: defaults[k] for k in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize(
    "argv, culprit",
    [
        (["--methods", "sgtt"], "did you mean 'sgt'"),
        (["--archs", "resnet81"], "resnet81"),
        (["--batch-size", "0"], "--batch-size"),
        (["--precision", "fp8"], "fp8"),
        (["--device", "gpu0"], "gpu0"),
        (["--rounds", "1"], "--rounds"),
        (["--min-run-time", "nan"], "--min-run-time"),
        (["--label", "../escape"], "--label"),
        (["--image-size", "4"], "simple_cnn"),
        (["--profile", "quik"], "did you mean 'quick'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(argv, culprit, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(measure, "run_profile", lambda *a, **k: pytest.fail("measured despite bad input"))
    out = tmp_path / "out"
    assert main(["profile", "--archs", "simple_cnn", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and culprit in err and "Traceback" not in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(measure, "run_profile", lambda *a, **k: pytest.fail("measured despite bad input"))
    (tmp_path / "a_file").write_text("x")
    assert main(["profile", "--out", str(tmp_path / "a_file" / "sub")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "x"


def test_a_cuda_device_is_the_current_one_while_the_profile_measures(monkeypatch):
    """Issue 25 item 6: the step timer synchronizes the *current* CUDA device, so ``profile --device cuda:1`` must
    make cuda:1 current (it timed GPU 0's queue before); on the CPU nothing is switched."""
    import contextlib

    import torch

    from benchmark.profiling import measure

    entered = []

    @contextlib.contextmanager
    def current(device):
        entered.append(str(device))
        yield

    monkeypatch.setattr(torch.cuda, "device", current)
    with measure.on_device(torch.device("cuda:1")):
        pass
    with measure.on_device(torch.device("cpu")):
        pass
    assert entered == ["cuda:1"]

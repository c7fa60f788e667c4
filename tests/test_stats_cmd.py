"""``python -m benchmark stats`` on a tiny real study (erm and rrr, 3 paired seeds, saliency evaluation on)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sweep_helpers import sweep, tiny_params, write_params

from benchmark.cli import main

EVALUATION = {"probe_size": 8, "ig_steps": 2, "mask_levels": 2, "sanity": False}
FAST = ["--reps", "2000", "--bayes-samples", "5000"]
SUFFIXES = (".md", ".csv", ".tex", ".json", ".tables.json", ".seeds.csv")


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """(params file, runs folder, dest of a first `stats` run)."""
    folder = tmp_path_factory.mktemp("stats")
    params = tiny_params(methods=["erm", "rrr"], seeds=3)
    params["profiles"]["quick"]["evaluation"] = dict(EVALUATION)
    sweep(params, folder / "runs")
    path = write_params(folder / "params.yaml", params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALBENCH_PARAMS", str(path))
        assert main(["stats", "tiny", "--out", str(folder / "runs"), "--dest", str(folder / "first"), *FAST]) == 0
    return path, folder / "runs", folder / "first"


@pytest.fixture
def stats_cmd(swept, monkeypatch):
    monkeypatch.setenv("SALBENCH_PARAMS", str(swept[0]))
    return lambda runs, dest, *extra: main(["stats", "tiny", "--out", str(runs), "--dest", str(dest), *FAST, *extra])


def snapshot(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


def detail(dest: Path) -> list[dict[str, str]]:
    with open(dest / "tiny.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_stats_writes_every_file_and_a_rerun_is_byte_identical(swept, stats_cmd):
    _, runs, dest = swept
    files = snapshot(dest)
    assert {f"tiny{s}" for s in SUFFIXES} <= set(files)
    figures = [n for n in files if n.startswith("tiny/")]
    assert {"tiny/cd_diagram.png", "tiny/forest.png", "tiny/cell_means.png"} <= set(figures)
    assert any("consistency_" in n and n.endswith("_gradient.png") for n in figures)
    assert all(files[n][:4] == b"\x89PNG" for n in figures)
    assert not [n for n in files if n.split("/")[-1].startswith(".")], "no temporaries left"
    metrics = json.loads(files["tiny.json"])["metrics"]
    assert metrics["runs"]["done"] == 6 and metrics["test/accuracy"]["rrr"]["cells"]
    assert "test/saliency/gradient/auroc" in metrics and "test/gradient" in metrics["consistency"]
    text = files["tiny.md"].decode()
    assert "mean ± SD (n) ↑" in text and "## Methods" in text and "scipy" in text
    assert "6 of 6 expected runs done" in text
    assert "n.a. (N=1 cells < 6)" in text, "one cell: the across-cell test says so instead of a p-value"
    assert "What varies inside the intervals: over seeds: initialisation, data order" in text
    assert "the train/val split is fixed" in json.loads(files["tiny.tables.json"])["sources"], "read from the records"
    assert stats_cmd(runs, dest) == 0
    assert snapshot(dest) == files


def test_p_values_equal_scipy_on_the_records(swept):
    """Recompute the paired t-test of test accuracy, rrr vs erm, from the record files themselves."""
    _, runs, dest = swept
    acc = {}
    for path in runs.glob("*.json"):
        record = json.loads(path.read_text())
        acc[(record["config"]["method"], record["config"]["seed"])] = record["metrics"]["test"]["accuracy"]
    rrr, erm = (np.array([acc[(m, s)] for s in range(3)]) for m in ("rrr", "erm"))
    row = next(r for r in detail(dest) if r["family"] == "test/accuracy" and r["method"] == "rrr")
    assert float(row["p_t"]) == pytest.approx(stats.ttest_rel(rrr, erm).pvalue, rel=1e-5)
    assert float(row["gain"]) == pytest.approx(np.mean(rrr - erm), rel=1e-5)
    assert float(row["mean"]) == pytest.approx(rrr.mean(), rel=1e-5)
    assert float(row["sd"]) == pytest.approx(rrr.std(ddof=1), rel=1e-5)
    assert row["p_wilcoxon"] == "" and row["wilcoxon_method"] == "n.a. (n<6)" and row["n_pairs"] == "3"


def test_a_deleted_record_is_listed_and_flagged_in_every_table(swept, stats_cmd, tmp_path, capsys):
    _, runs, _ = swept
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    gone = next(
        p
        for p in copy.glob("*.json")
        if (r := json.loads(p.read_text()))["config"]["method"] == "rrr" and r["config"]["seed"] == 2
    )
    gone.unlink()
    assert stats_cmd(copy, tmp_path / "out") == 0
    assert f"seed 2 (run {gone.stem}): missing" in capsys.readouterr().out
    out = tmp_path / "out"
    text = (out / "tiny.md").read_text()
    assert "5 of 6 expected runs done, 1 missing" in text and gone.stem in text
    rows = [r for r in detail(out) if r["method"] == "rrr"]
    assert rows and all(
        r["runs_done"] == "2" and r["runs_expected"] == "3" and "seed 2 missing" in r["flags"] for r in rows
    ), "every family's rrr row"
    assert all(r["flags"] == "" for r in detail(out) if r["method"] == "erm")
    tables = json.loads((out / "tiny.tables.json").read_text())
    for family in tables["families"].values():
        board = {b["method"]: b for b in family["leaderboard"]}
        assert "1 run(s) not done in 1 cell(s)" in board["rrr"]["flags"] and board["rrr"]["runs_done"] == 2
    consistency = [c for c in tables["consistency"]["summary"] if c["method"] == "rrr"]
    assert consistency and all(c["runs_used"] == 2 and "seed 2 missing" in c["flags"] for c in consistency)
    assert json.loads((out / "tiny.json").read_text())["metrics"]["runs"]["missing"] == 1


def test_an_unknown_metric_or_baseline_exits_2_and_writes_nothing(swept, stats_cmd, tmp_path, capsys):
    _, runs, _ = swept
    assert stats_cmd(runs, tmp_path / "out", "--metric", "test/acuracy") == 2
    err = capsys.readouterr().err
    assert "test/acuracy" in err and "'test/accuracy'" in err and len(err.strip().splitlines()) == 1
    assert stats_cmd(runs, tmp_path / "out", "--baseline", "ermm") == 2
    err = capsys.readouterr().err
    assert "ermm" in err and "'rrr'" in err
    assert not (tmp_path / "out").exists()


TINY_ARCH = "simple_cnn[hidden=16]"  # the tiny study's arch label (a profile of the bare simple_cnn would not match it)


def write_profile(folder: Path, name: str, rows: dict[str, tuple[float, float, float]], arch: str = TINY_ARCH) -> Path:
    """A stored profile (schema 1 of ``benchmark.profiling``) with hand-made ratios: method -> (ratio, low, high)."""
    folder.mkdir(parents=True, exist_ok=True)
    methods = [
        {"method": m, "ratio_to_erm": r, "ratio_ci": [lo, hi], "theoretical_ratio": r, "step_median_s": 0.01 * r}
        for m, (r, lo, hi) in rows.items()
    ]
    path = folder / name
    path.write_text(
        json.dumps({"schema": 1, "label": "quick", "precision": "fp32", "cases": [{"arch": arch, "methods": methods}]})
    )
    return path


def test_the_board_shows_each_methods_stored_overhead_and_a_rerun_stays_byte_identical(swept, stats_cmd, tmp_path):
    _, runs, _ = swept
    profiles = tmp_path / "profiles"
    write_profile(profiles, "quick.json", {"erm": (1.0, 1.0, 1.0), "rrr": (2.345, 2.3, 2.4)})
    write_profile(profiles, "quick-resnet18.json", {"rrr": (9.0, 8.0, 10.0)}, arch="resnet18")  # not a study arch
    write_profile(profiles, "other.json", {"rrr": (7.0, 7.0, 7.0)})  # another training profile: not read
    dest = tmp_path / "out"
    assert stats_cmd(runs, dest, "--profiles", str(profiles)) == 0
    text = (dest / "tiny.md").read_text()
    board = next(line for line in text.splitlines() if line.startswith("| ") and "| rrr " in line)
    assert "2.35× [2.30, 2.40]" in board and "9.00" not in text and "7.00×" not in text
    assert "`quick.json`" not in text and "quick.json" in text and "Overhead." in text
    rows = json.loads((dest / "tiny.tables.json").read_text())["overhead"]["rows"]
    assert [(r["method"], r["ratio"]) for r in rows] == [("erm", 1.0), ("rrr", 2.345)]
    files = snapshot(dest)
    assert stats_cmd(runs, dest, "--profiles", str(profiles)) == 0
    assert snapshot(dest) == files


def test_a_broken_or_missing_profile_is_reported_and_never_stops_the_board(swept, stats_cmd, tmp_path):
    _, runs, _ = swept
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "quick.json").write_text(
        '{"schema": 1, "cases": [{"arch": "simple_cnn", "methods": [{"method": "rrr"}]}]}'
    )
    assert stats_cmd(runs, tmp_path / "out", "--profiles", str(profiles)) == 0
    text = (tmp_path / "out" / "tiny.md").read_text()
    assert "not profiled" in text and "Left out: quick.json: cases[0].methods[0] needs the fields" in text
    assert stats_cmd(runs, tmp_path / "none", "--profiles", str(tmp_path / "absent")) == 0
    assert "Not profiled: no" in (tmp_path / "none" / "tiny.md").read_text()


def test_overhead_cells_match_bare_names_only_and_list_each_arch():
    from benchmark.records.profiles import Overhead, Overheads
    from benchmark.reports.study.overhead import overhead_texts

    def row(method, arch, ratio):
        return Overhead(method, arch, ratio, ratio - 0.1, ratio + 0.1, ratio, 10.0, "fp32", "quick.json")

    found = Overheads(
        {
            ("sgt", "simple_cnn"): row("sgt", "simple_cnn", 2.5),
            ("sgt", "gap_cnn"): row("sgt", "gap_cnn", 3.0),
            ("rrr", "simple_cnn"): row("rrr", "simple_cnn", 1.5),
        },
        ["quick.json"],
        [],
    )
    texts = overhead_texts(["sgt", "rrr", "sgt[fraction=0.1]", "gradia"], ["simple_cnn", "gap_cnn"], found, "erm")
    assert texts == {
        "sgt": "simple_cnn 2.50× [2.40, 2.60]; gap_cnn 3.00× [2.90, 3.10]",
        "rrr": "simple_cnn 1.50× [1.40, 1.60]; gap_cnn not profiled",
        "sgt[fraction=0.1]": "n.a. (variant; profile times defaults)",
        "gradia": "not profiled",
    }
    assert overhead_texts(["sgt"], ["simple_cnn"], found, "erm") == {"sgt": "2.50× [2.40, 2.60]"}


def test_cd_crossbars_do_not_depend_on_the_order_scikit_posthocs_finds_them():
    """scikit-posthocs builds the crossbars from sets of names, so their order followed PYTHONHASHSEED: the same
    figure, other PNG bytes between two runs of the same command (measured: three hash seeds gave one PNG after
    the restacking). Any order of the same bars must draw the same lines."""
    from matplotlib.figure import Figure

    from benchmark.reports.study.plots import _stack_crossbars

    def drawn(order: list[list[float]]) -> list[tuple[list[float], list[float]]]:
        ax = Figure().subplots()
        lines = [ax.plot(xs, [-1] * len(xs))[0] for xs in order]
        _stack_crossbars(lines)
        return sorted((list(map(float, ln.get_xdata())), list(map(float, ln.get_ydata()))) for ln in lines)

    assert drawn([[3.0, 1.0, 2.0], [2.5, 4.0]]) == drawn([[4.0, 2.5], [2.0, 3.0, 1.0]])
    assert drawn([[1.0, 3.0], [2.0, 4.0]]) == [([1.0, 3.0], [-1.0, -1.0]), ([2.0, 4.0], [-2.0, -2.0])]

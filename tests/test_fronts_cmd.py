"""``python -m benchmark fronts STUDY`` on hand-made records of a tiny guidance study (issue 26 item 2): the
numbers equal a hand computation from the record files, a rerun writes the same bytes, and bad input is one
line, exit 2, nothing written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fronts_records import SCALES, SEEDS, VALUES, fronts_params, value, write_records
from scipy import stats
from sweep_helpers import write_params

from benchmark.cli import main
from benchmark.reports.axes_frame import run_axes


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """(params file, runs folder, dest of a first run)."""
    folder = tmp_path_factory.mktemp("fronts")
    params = fronts_params()
    write_records(params, folder / "runs")
    path = write_params(folder / "params.yaml", params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALBENCH_PARAMS", str(path))
        assert main(["fronts", "tiny", "--out", str(folder / "runs"), "--dest", str(folder / "first")]) == 0
    return path, folder / "runs", folder / "first"


@pytest.fixture
def fronts(made, monkeypatch):
    monkeypatch.setenv("SALBENCH_PARAMS", str(made[0]))
    return lambda runs, dest, *extra: main(["fronts", "tiny", "--out", str(runs), "--dest", str(dest), *extra])


def snapshot(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


def union_area(points: list[tuple[float, float]], ref: tuple[float, float]) -> float:
    """The area of the union of the boxes [ref, p], by brute force over the grid of every coordinate."""
    xs = sorted({ref[0], *(p[0] for p in points)})
    ys = sorted({ref[1], *(p[1] for p in points)})
    area = 0.0
    for x0, x1 in zip(xs, xs[1:]):
        for y0, y1 in zip(ys, ys[1:]):
            if any(p[0] >= x1 and p[1] >= y1 for p in points):
                area += (x1 - x0) * (y1 - y0)
    return area


def test_files_numbers_and_a_byte_identical_rerun(made, fronts):
    _, runs, dest = made
    files = snapshot(dest)
    assert set(files) == {"tiny/fronts.md", "tiny/fronts.json", "tiny/tiny_digits__simple_cnn_hidden=16_.png"}
    assert files["tiny/tiny_digits__simple_cnn_hidden=16_.png"][:4] == b"\x89PNG"
    out = json.loads(files["tiny/fronts.json"])
    assert out["test"]["function"] == "scipy.stats.ttest_rel" and "Holm" in out["test"]["correction"]
    (panel,) = out["panels"]
    # the reference point: each axis's minimum over every run of the cell
    everything = [value(m, s, seed) for (m, s) in VALUES for seed in range(SEEDS)]
    ref = (min(p[0] for p in everything), min(p[1] for p in everything))
    assert panel["reference"] == pytest.approx(ref)
    # per seed, each method's hypervolume by brute force: its scales plus erm's point of the same seed
    hv = {
        m: [union_area([value("erm", 0.0, s)] + [value(m, k, s) for k in SCALES], ref) for s in range(SEEDS)]
        for m in ("rrr", "gradia")
    }
    hv["erm"] = [union_area([value("erm", 0.0, s)], ref) for s in range(SEEDS)]
    volumes = {v["series"]: v for v in panel["hypervolumes"]}
    for m, per_seed in hv.items():
        assert [volumes[m]["seeds"][str(s)] for s in range(SEEDS)] == pytest.approx(per_seed, rel=1e-5)
    rows = {(c["a"], c["b"]): c for c in panel["comparisons"]}
    assert list(rows) == [("gradia", "rrr")]  # ERM is every series' zero point, not paired (its pairs are one-sided)
    p = {k: stats.ttest_rel(hv[k[0]], hv[k[1]]).pvalue for k in rows}
    for k, row in rows.items():
        assert row["p"] == pytest.approx(p[k], rel=1e-4) and row["n"] == SEEDS
        assert row["p_holm"] == pytest.approx(p[k], rel=1e-4)  # Holm over the one pair of guided series
    # a point: rrr at scale 2, mean and t-interval of its three accuracies
    acc = [value("rrr", 2.0, s)[0] for s in range(SEEDS)]
    point = next(q for q in panel["points"] if q["series"] == "rrr" and q["scale"] == 2.0)
    low, high = stats.t.interval(0.95, SEEDS - 1, loc=np.mean(acc), scale=stats.sem(acc))
    assert (point["x"], point["x_low"], point["x_high"]) == pytest.approx((np.mean(acc), low, high), rel=1e-5)
    assert point["guidance"] == "lam=2000" and point["front"] is True
    text = files["tiny/fronts.md"].decode()
    assert text.count("scipy.stats.ttest_rel") == 1, "the test is stated once"
    assert "(left to right in the figure): `rrr`@2 → `gradia`@2 → `rrr`@0.5 → `gradia`@0.5 → `erm`@0." in text
    assert "![Fronts of tiny_digits / simple_cnn[hidden=16]](tiny_digits__simple_cnn_hidden=16_.png)" in text
    assert fronts(runs, dest) == 0
    assert snapshot(dest) == files


def test_a_missing_run_is_listed_and_its_seed_leaves_the_pairs_it_enters(made, fronts, tmp_path, capsys):
    copy = tmp_path / "runs"
    write_records(fronts_params(), copy, skip=1)  # the first run of the expansion: erm, seed 0
    assert fronts(copy, tmp_path / "out") == 0
    assert "seed 0 (run" in capsys.readouterr().out
    out = json.loads((tmp_path / "out" / "tiny" / "fronts.json").read_text())
    (panel,) = out["panels"]
    assert out["done"] == out["expected"] - 1 and len(out["not_done"]) == 1 and "missing" in out["not_done"][0]
    assert {c["n"] for c in panel["comparisons"]} == {SEEDS - 1}, "every series' seed 0 lacks erm's point"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--x", "test/acuracy"], "fronts: metric 'test/acuracy' has no declared direction"),
        (["--y", "test/saliency/gradient/auroc"], "no done run has a value of y metric 'test/saliency/gradient/auroc'"),
        (["--x", "accuracy"], "a metric family is 'SPLIT/METRIC'"),
        (["--alpha", "2"], "--alpha must be in (0, 1), got 2.0"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(made, fronts, tmp_path, capsys, extra, message):
    _, runs, _ = made
    assert fronts(runs, tmp_path / "out", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_unknown_study_or_no_records_is_one_line_exit_2(made, fronts, tmp_path, capsys):
    assert main(["fronts", "nope", "--out", str(made[1]), "--dest", str(tmp_path / "out")]) == 2
    assert "unknown study 'nope'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert fronts(tmp_path / "empty", tmp_path / "out") == 2
    assert "fronts: study 'tiny' has no done runs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_study_declaration_gives_candidate_axes_and_is_checked_by_the_schema(made, tmp_path, monkeypatch, capsys):
    _, runs, _ = made
    x, y = ["test_closed/auc", "test/accuracy"], ["test/saliency/cam/energy_pointing", "test_closed/saliency/cam/auroc"]
    params = fronts_params(fronts={"x": x, "y": y})
    params["studies"]["tiny"]["description"] = "four scales"
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "p.yaml", params)))
    assert main(["fronts", "tiny", "--out", str(runs), "--dest", str(tmp_path / "out")]) == 0
    out = json.loads((tmp_path / "out" / "tiny" / "fronts.json").read_text())
    assert out["description"] == "four scales"
    assert "\n\nDesign: four scales\n\n" in (tmp_path / "out" / "tiny" / "fronts.md").read_text()
    assert out["x"] == ["test/accuracy"] and out["y"] == ["test/saliency/cam/energy_pointing"], "undefined: left out"
    assert out["skipped"] == ["every cell: `test_closed/saliency/cam/auroc` (declared; no done run defines it)"]
    none = fronts_params(fronts={"y": "test_closed/saliency/cam/auroc"})
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "none.yaml", none)))
    assert main(["fronts", "tiny", "--out", str(runs), "--dest", str(tmp_path / "out2")]) == 2
    assert "fronts: no done run defines any y metric of ['test_closed/saliency/cam/auroc']" in capsys.readouterr().err
    wrong = fronts_params(fronts={"x": "accuracy"})
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "wrong.yaml", wrong)))
    assert main(["fronts", "tiny", "--out", str(runs), "--dest", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert "studies.tiny.fronts.x[0]" in err and "must be a metric key SPLIT/METRIC" in err
    assert not (tmp_path / "out2").exists()


def test_a_cell_without_an_alignment_metric_is_left_out_and_listed(fronts, tmp_path, monkeypatch, capsys):
    other = {"name": "tiny_digits", "params": {"patch_size": 2}}
    params = fronts_params(datasets=["tiny_digits", other])
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "p.yaml", params)))
    write_records(params, tmp_path / "runs")
    for path in (tmp_path / "runs").glob("*.json"):  # the second cell's runs were evaluated without saliency
        record = json.loads(path.read_text())
        if record["config"]["dataset_params"]["patch_size"] == 2:
            del record["metrics"]["test"]["saliency/cam/energy_pointing"]
            path.write_text(json.dumps(record))
    run = ["fronts", "tiny", "--out", str(tmp_path / "runs"), "--dest", str(tmp_path / "out")]
    assert main(run) == 0
    out = json.loads((tmp_path / "out" / "tiny" / "fronts.json").read_text())
    assert [p["dataset"] for p in out["panels"]] == ["tiny_digits"]
    cell = "decoy_digits[digit_size=8,image_size=12,patch_size=2] / simple_cnn[hidden=16]"  # the records' label
    assert out["skipped"] == [f"{cell}: left out, it defines no y metric"]
    assert main([*run[:2], "--out", str(tmp_path / "runs"), "--dest", str(tmp_path / "o2"), "--x", "test/loss"]) == 0
    assert main([*run, "--y", "test/loss", "--x", "test/saliency/cam/energy_pointing"]) == 0, "any two metrics"
    for path in (tmp_path / "runs").glob("*.json"):  # and the first cell's without their accuracy
        record = json.loads(path.read_text())
        if record["config"]["dataset_params"]["patch_size"] == 3:
            del record["metrics"]["test"]["accuracy"]
            path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main([*run[:-1], str(tmp_path / "o3")]) == 2
    assert "fronts: no cell defines both an x metric of ['test/accuracy']" in capsys.readouterr().err
    assert not (tmp_path / "o3").exists()


@pytest.mark.parametrize(("rows", "shown"), [(("cam", "gradcam"), "cam"), (("gradcam",), "gradcam")])
def test_the_default_alignment_axis_is_the_cam_where_a_cell_has_it_else_grad_cam(fronts, tmp_path, rows, shown):
    write_records(fronts_params(), tmp_path / "runs", rows=rows)
    assert fronts(tmp_path / "runs", tmp_path / "out") == 0
    out = json.loads((tmp_path / "out" / "tiny" / "fronts.json").read_text())
    assert [p["y"] for p in out["panels"]] == [f"test/saliency/{shown}/energy_pointing"] and out["skipped"] == []


def test_run_axes_places_each_run_on_its_method_s_guidance_scale():
    def axes(method: str, params: dict, changed: dict | None = None) -> dict:
        return run_axes(
            {"method": method, "method_params": params}, {"method_params": params if changed is None else changed}
        )

    cyborg = axes("cyborg", {"alpha": 0.25})  # (1 - a) / a = 3 against the default's 1
    assert cyborg["scale"] == pytest.approx(3.0) and cyborg["series"] == "cyborg" and cyborg["guidance"] == "alpha=0.25"
    assert axes("erm", {}) == {"method_name": "erm", "annotations": "", "series": "erm", "scale": 0.0, "guidance": ""}
    sgt = axes("sgt", {"kl_weight": 0.5, "fraction": 0.3})
    assert sgt["series"] == "sgt[fraction=0.3]" and sgt["scale"] == 0.5
    assert math.isnan(axes("sage", {"triplet_weight": 2.0})["scale"]), "one of SAGE's two weights: no one scale"
    tuned = run_axes({"method": "sgt", "method_params": {"kl_weight": 0.25}}, {}, "sgt[tuned]")
    assert tuned["series"] == "sgt[tuned]" and tuned["scale"] == 0.25, "a tuned item is its own series"
    resolved = {"budget": 0.2, "degradation": "none", "level": 0.0}  # the config's; the identity has no defaults
    view = run_axes({"method": "rrr", "method_params": {}, "annotations": resolved}, {"annotations": {"budget": 0.2}})
    assert view["annotations"] == '{"budget":0.2}' and view["scale"] == 1.0


def test_a_lower_is_better_axis_is_oriented_before_the_front_and_the_hypervolume():
    """wrong_reason_share is lower-is-better: a method that lowers it moves the point up the oriented axis."""
    from benchmark.reports.fronts.analysis import panel
    from benchmark.statistics.orient import family

    rows = []
    for series, scale, x, y in (("erm", 0.0, 0.9, 0.5), ("rrr", 1.0, 0.8, 0.2), ("rrr", 2.0, 0.7, 0.3)):
        for seed in range(3):
            base = {"series": series, "scale": scale, "guidance": "", "seed": seed, "split": "test"}
            rows += [base | {"metric": "accuracy", "value": x + seed / 100}]
            rows += [base | {"metric": "saliency/cam/wrong_reason_share", "value": y + seed / 100}]
    x, y = family("test/accuracy"), family("test/saliency/cam/wrong_reason_share")
    result = panel(pd.DataFrame(rows), "d", "a", x, y, "erm", 0.05)
    assert result.reference == pytest.approx((0.7, -0.52)), "the minimum of the oriented values: -max(share)"
    assert result.points["front"].tolist() == [True, True, False], "rrr at 2 is worse on both axes than at 1"
    volumes = {v.series: v.hv for v in result.volumes.itertuples()}
    # seed e = s/100, above the reference: erm (0.2 + e, 0.02 - e), rrr@1 (0.1 + e, 0.32 - e), rrr@2 (e, 0.22 - e)
    erm = [(0.2 + e) * (0.02 - e) for e in (0, 0.01, 0.02)]
    rrr = [a + (0.1 + e) * 0.30 for a, e in zip(erm, (0, 0.01, 0.02))]  # rrr@2 adds nothing
    assert volumes["erm"] == pytest.approx(np.mean(erm)) and volumes["rrr"] == pytest.approx(np.mean(rrr))


def test_two_runs_at_one_point_are_refused_naming_them():
    from benchmark.contracts import ContractError
    from benchmark.reports.fronts.writer import _one_run_per_point

    row = {"dataset": "d", "annotations": "", "arch": "a", "series": "rrr", "scale": 2.0, "seed": 0}
    row |= {"split": "test", "metric": "accuracy", "value": 0.5}
    frame = pd.DataFrame([row | {"run_id": "r1"}, row | {"run_id": "r2"}, row | {"run_id": "r3", "seed": 1}])
    with pytest.raises(ContractError, match=r"runs \['r1', 'r2'\] are one point \(rrr at scale 2, seed 0, d / a\)"):
        _one_run_per_point(frame)

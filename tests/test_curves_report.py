"""``python -m benchmark curves STUDY`` on hand-made records of a tiny annotation study (no training): the axes
read from each record's ``config.annotations``, p-values equal to scipy's on the records' numbers, Holm per
family, one-line refusals that write nothing, and byte-identical files on a rerun."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from sweep_helpers import tiny_params, write_params

from benchmark.cli import main
from benchmark.records.identity import canonical_json, identity
from benchmark.records.record_store import write_record
from benchmark.records.run_states import Fingerprints
from benchmark.records.schema import RunRecord
from benchmark.reports.curves.frame import axis_point
from benchmark.sweeps.study import expand

VIEWS = [{}, {"budget": 0.5}, {"budget": 0.2}, {"degradation": "box"}, {"degradation": "dilate", "level": 0.1}]
AUC = {  # (method, view) -> test AUC of seeds 0, 1, 2
    ("erm", "{}"): [0.70, 0.72, 0.69],
    ("sgt", "{}"): [0.71, 0.70, 0.72],  # reads no map: trained at the dataset's own view only
    ("rrr", "{}"): [0.80, 0.83, 0.79],
    ("rrr", '{"budget":0.5}'): [0.77, 0.78, 0.76],
    ("rrr", '{"budget":0.2}'): [0.71, 0.75, 0.70],
    ("rrr", '{"degradation":"box"}'): [0.79, 0.80, 0.80],
    ("rrr", '{"degradation":"dilate","level":0.1}'): [0.74, 0.79, 0.75],
}


def write_records(params: dict, folder: Path) -> None:
    """One record per expected run of study ``tiny``, its test AUC from ``AUC`` (accuracy = AUC - 0.1; a loss but
    for ERM)."""
    fingerprints = Fingerprints()
    for spec in expand("tiny", params=params).runs:
        config = spec.config
        ident = identity(config)  # the view's non-default settings: what the report reads
        auc = AUC[(config.method, canonical_json(ident.get("annotations") or {}))][config.seed]
        record = RunRecord(
            run_id=spec.run_id,
            identity=ident,
            config=config.to_dict(),
            metrics={
                "test": {"auc": auc, "accuracy": round(auc - 0.1, 6)}
                | ({"loss": 0.5} if config.method != "erm" else {})
            },
            fingerprint=fingerprints(config.method, config.dataset, config.arch),
        )
        write_record(record, folder)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """(params path, runs folder) of the tiny annotation study, its records written by hand."""
    folder = tmp_path_factory.mktemp("curves")
    params = tiny_params(["erm", "rrr", "sgt"], seeds=3, annotations=VIEWS)
    path = write_params(folder / "params.yaml", params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALBENCH_PARAMS", str(path))
        write_records(params, folder / "runs")
    return path, folder / "runs"


@pytest.fixture
def curves(study, monkeypatch):
    monkeypatch.setenv("SALBENCH_PARAMS", str(study[0]))
    return lambda dest, *extra, runs=study[1]: main(["curves", "tiny", "--out", str(runs), "--dest", str(dest), *extra])


def snapshot(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


def test_each_setting_sits_on_its_axis_against_its_reference():
    budget = axis_point({"budget": 0.2})
    assert (budget.axis, budget.level, budget.reference, budget.reference_level) == ("budget", 0.2, "{}", 1.0)
    box = axis_point({"degradation": "box"})
    assert (box.axis, box.level, box.reference, box.reference_level, box.levelled) == ("box", 1.0, "{}", 0.0, False)
    both = axis_point({"degradation": "dilate", "level": 0.05, "budget": 0.2})
    assert (both.axis, both.level, both.reference) == ("dilate (budget=0.2)", 0.05, '{"budget":0.2}')


def test_curves_match_scipy_on_the_records_and_a_rerun_is_byte_identical(curves, tmp_path):
    dest = tmp_path / "out"
    assert curves(dest) == 0
    files = snapshot(dest)
    pngs = sorted(n for n in files if n.endswith(".png"))
    assert len(pngs) == 3 and all(files[n][:4] == b"\x89PNG" for n in pngs), pngs  # budget, box, dilate
    assert {"tiny/curves.md", "tiny/curves.json"} <= set(files)
    doc = json.loads(files["tiny/curves.json"])
    assert list(doc["metrics"]) == ["test/auc"], "the default metric: the first test split's AUC"
    comp = doc["metrics"]["test/auc"]["comparisons"]
    budget = {(r["versus"], r["level"]): r for r in comp if r["axis"] == "budget"}
    erm, full = AUC[("erm", "{}")], AUC[("rrr", "{}")]
    low = AUC[("rrr", '{"budget":0.2}')]
    assert budget[("baseline", 0.2)]["p"] == pytest.approx(stats.ttest_rel(low, erm).pvalue, rel=1e-5)
    assert budget[("reference", 0.2)]["p"] == pytest.approx(stats.ttest_rel(low, full).pvalue, rel=1e-5)
    raw = [stats.ttest_rel(AUC[("rrr", k)], erm).pvalue for k in ('{"budget":0.2}', '{"budget":0.5}', "{}")]
    holm = multipletests(raw, method="holm")[1]
    assert [budget[("baseline", lv)]["p_holm"] for lv in (0.2, 0.5, 1.0)] == pytest.approx(holm, rel=1e-5)
    assert ("reference", 1.0) not in budget, "the full-budget arm is the reference, not compared with itself"
    box = [r for r in comp if r["axis"] == "box" and r["versus"] == "reference"]
    assert [r["level"] for r in box] == [1.0] and box[0]["p"] == pytest.approx(
        stats.ttest_rel(AUC[("rrr", '{"degradation":"box"}')], full).pvalue, rel=1e-5
    )
    points = {(r["axis"], r["level"]): r for r in doc["metrics"]["test/auc"]["points"]}
    assert points[("dilate", 0.0)]["reference"] and points[("dilate", 0.0)]["mean"] == pytest.approx(np.mean(full))
    text = files["tiny/curves.md"].decode()
    assert text.count("scipy.stats.ttest_rel") == 1 and text.count("scipy.stats.t.interval") == 1, "stated once"
    assert "### tiny_digits / simple_cnn[hidden=16]: budget" in text and "(ref.)" in text
    assert "sgt ran at the default view only; not on the curves" in text and "| sgt" not in text
    assert curves(dest) == 0 and snapshot(dest) == files


def test_an_alignment_metric_and_the_accuracy_on_request(curves, tmp_path):
    assert curves(tmp_path / "o", "--metric", "test/accuracy") == 0
    doc = json.loads((tmp_path / "o" / "tiny" / "curves.json").read_text())
    erm_band = doc["metrics"]["test/accuracy"]["baseline"][0]
    assert erm_band["mean"] == pytest.approx(np.mean(AUC[("erm", "{}")]) - 0.1)


def test_the_study_declaration_gives_the_metrics_and_is_checked_by_the_schema(study, tmp_path, monkeypatch, capsys):
    """``curves: {metrics: [...]}`` in params.yaml is the default of ``--metric``; a malformed key names its field."""
    params = tiny_params(["erm", "rrr", "sgt"], seeds=3, annotations=VIEWS)
    params["studies"]["tiny"]["curves"] = {"metrics": ["test/accuracy", "test/auc"]}
    params["studies"]["tiny"]["description"] = "three views of the maps"
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "p.yaml", params)))
    assert main(["curves", "tiny", "--out", str(study[1]), "--dest", str(tmp_path / "o")]) == 0
    doc = json.loads((tmp_path / "o" / "tiny" / "curves.json").read_text())
    assert list(doc["metrics"]) == ["test/accuracy", "test/auc"] and doc["description"] == "three views of the maps"
    assert "\n\nDesign: three views of the maps\n\n" in (tmp_path / "o" / "tiny" / "curves.md").read_text()
    assert main(["curves", "tiny", "--out", str(study[1]), "--dest", str(tmp_path / "o2"), "--metric", "test/auc"]) == 0
    assert list(json.loads((tmp_path / "o2" / "tiny" / "curves.json").read_text())["metrics"]) == ["test/auc"]
    params["studies"]["tiny"]["curves"] = {"metrics": "auc"}
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "bad.yaml", params)))
    assert main(["curves", "tiny", "--out", str(study[1]), "--dest", str(tmp_path / "o3")]) == 2
    err = capsys.readouterr().err
    assert "studies.tiny.curves.metrics[0]" in err and "must be a metric key SPLIT/METRIC" in err
    assert not (tmp_path / "o3").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--metric", "test/nope"),
            "curves: unknown metric(s) ['test/nope']; known: ['test/accuracy', 'test/auc', 'test/loss']",
        ),
        (("--metric", "test/loss"), "curves: baseline 'erm' has no value of 'test/loss'"),
        (("--baseline", "gradia"), "curves: baseline 'gradia' has no done run"),
        (("--alpha", "1.5"), "curves: --alpha must be in (0, 1), got 1.5"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(curves, tmp_path, capsys, extra, message):
    assert curves(tmp_path / "out", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_no_records_and_no_annotation_axis_are_refused(curves, study, tmp_path, capsys, monkeypatch):
    assert curves(tmp_path / "out", runs=tmp_path / "empty") == 2
    err = capsys.readouterr().err
    assert (
        "curves: the study has no done runs in" in err and "(21 missing; run `python -m benchmark sweep tiny`)" in err
    )
    plain = write_params(tmp_path / "plain.yaml", tiny_params(["erm", "rrr"], seeds=3))  # the same runs at {} only
    monkeypatch.setenv("SALBENCH_PARAMS", str(plain))
    assert main(["curves", "tiny", "--out", str(study[1]), "--dest", str(tmp_path / "out")]) == 2
    assert "no run of study 'tiny' varies the annotations" in capsys.readouterr().err
    assert main(["curves", "nosuch", "--dest", str(tmp_path / "out")]) == 2
    assert "unknown study 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_pages_print_the_result_objects_description(curves, tmp_path, monkeypatch):
    """Change the paired test's description once (``statistics.curves.CURVE_TESTS``): the page and the JSON follow."""
    import benchmark.statistics.curves as curve_stats

    renamed = replace(curve_stats.CURVE_TESTS["paired"], name="Zeta-test per level")
    monkeypatch.setitem(curve_stats.CURVE_TESTS, "paired", renamed)
    assert curves(tmp_path / "z") == 0
    assert "- Comparisons: Zeta-test per level (`scipy.stats.ttest_rel`)" in (tmp_path / "z/tiny/curves.md").read_text()
    assert json.loads((tmp_path / "z/tiny/curves.json").read_text())["tests"]["paired"]["name"] == "Zeta-test per level"

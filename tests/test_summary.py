"""Reports: a study's summary is the mean and sd over seeds of its done runs' records."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sweep_helpers import Flaky, sweep, tiny_params, write_params

from benchmark.cli import main
from benchmark.records.record_store import read_record
from benchmark.records.table import load_records
from benchmark.reports.study.summary import format_cell, summarize, wide_frame
from benchmark.sweeps.study import expand

FLAKY_NAME = Flaky.name


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("summary")
    params = tiny_params(methods=["erm", {"name": FLAKY_NAME, "grid": {"mode": ["ok", "raise"]}}], seeds=3)
    sweep(params, folder / "runs")
    return params, folder


def test_summary_is_mean_and_sd_over_the_done_runs_only(swept):
    params, folder = swept
    study = expand("tiny", params=params)
    records = load_records(folder / "runs", [run.config for run in study.runs], variants=params["datasets"])
    summary = summarize(wide_frame(records.done()), ["test/accuracy", "test_iid/loss"])
    assert list(summary["method"]) == ["erm", f"{FLAKY_NAME}"], "failed cells have no done run: absent"
    assert list(summary["n"]) == [3, 3]
    runs = records.runs
    for _, row in summary.iterrows():
        done = [
            read_record(path).metrics
            for path in runs[(runs["method"] == row["method"]) & (runs["state"] == "done")]["path"]
        ]
        for metric in ("test/accuracy", "test_iid/loss"):
            split, name = metric.split("/")
            values = [metrics[split][name] for metrics in done]
            assert row[f"{metric} mean"] == pytest.approx(np.mean(values))
            assert row[f"{metric} sd"] == pytest.approx(np.std(values, ddof=1))


def test_summary_command_writes_markdown_and_json(swept, monkeypatch, tmp_path, capsys):
    params, folder = swept
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    md, js, png = tmp_path / "s.md", tmp_path / "s.json", tmp_path / "s.png"
    assert (
        main(
            [
                "summary",
                "tiny",
                "--out",
                str(folder / "runs"),
                "--metric",
                "test/accuracy",
                "--markdown",
                str(md),
                "--json",
                str(js),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "± " in out and "6 done runs of 9" in out
    cells = json.loads(js.read_text())["cells"]
    assert [c["n"] for c in cells] == [3, 3] and "test/accuracy mean" in cells[0]
    assert md.read_text().startswith("# tiny")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not list(tmp_path.glob(".*partial*"))


def test_summary_of_an_unknown_metric_fails_and_writes_nothing(swept, monkeypatch, tmp_path, capsys):
    params, folder = swept
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    js, png = tmp_path / "s.json", tmp_path / "s.png"
    assert (
        main(
            [
                "summary",
                "tiny",
                "--out",
                str(folder / "runs"),
                "--metric",
                "test/acuracy",
                "--json",
                str(js),
                "--plot",
                str(png),
            ]
        )
        == 2
    )
    assert "test/acuracy" in capsys.readouterr().err and not js.exists() and not png.exists()


def test_a_null_metric_is_not_counted_as_a_seed(swept, tmp_path):
    """A metric undefined for one run (null in its record) is averaged over the runs that have it."""
    params, folder = swept
    study = expand("tiny", params=params)
    records = load_records(folder / "runs", [run.config for run in study.runs], variants=params["datasets"])
    frame = wide_frame(records.done())
    frame.loc[0, "test/accuracy"] = np.nan
    erm = frame[frame["method"] == "erm"]
    summary = summarize(frame, ["test/accuracy"]).set_index("method")
    assert summary.loc["erm", "n"] == 3 and summary.loc["erm", "test/accuracy n"] == 2
    assert summary.loc["erm", "test/accuracy mean"] == pytest.approx(erm["test/accuracy"].dropna().mean())
    assert format_cell(0.5, 0.1, n=2, runs=3) == "0.500 ± 0.100 (n=2)"


def test_format_cell_shows_one_seed_and_missing_metrics_plainly():
    assert format_cell(0.70512, 0.0311) == "0.705 ± 0.031"
    assert format_cell(0.70512, float("nan")) == "0.705"
    assert format_cell(float("nan"), float("nan")) == "-"

"""Every statistical test is described once (``statistics.descriptions``), by the result that used it, and every
renderer prints that description: change one and every output follows."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from test_leaderboard_report import Maps, study
from test_results_readme import write

from benchmark.reports.claims.readme import results_readme
from benchmark.reports.formatting import clean
from benchmark.reports.leaderboard.html import index_html, study_html
from benchmark.reports.leaderboard.markdown import markdown_page
from benchmark.reports.leaderboard.page import gather
from benchmark.reports.leaderboard.study_page import caption
from benchmark.reports.study.board import StudyReport, markdown
from benchmark.reports.study.consistency import consistency_markdown, study_consistency
from benchmark.reports.study.tables import board_rows, detail_rows
from benchmark.reports.study.tables_file import ConsistencyTables, FamilyTables, StudyTables
from benchmark.reports.study.tex import latex
from benchmark.statistics import analyze, descriptions
from benchmark.submission.bundle import comparisons

PER_CELL = "Zeta-test of the cells"
PAIRWISE = "Omega-test over the cells"
CLAIM = "Kappa-test of the claims"


@pytest.fixture
def changed(monkeypatch):
    """The per-cell test, the pairwise test and the superiority test of a claim, renamed."""
    tests = descriptions.FAMILY_TESTS
    monkeypatch.setitem(tests, "per_cell", replace(tests["per_cell"], name=PER_CELL))
    monkeypatch.setitem(tests, "pairwise", replace(tests["pairwise"], name=PAIRWISE, short=PAIRWISE))
    verdicts = descriptions.VERDICT_TESTS
    monkeypatch.setitem(verdicts, "superiority", replace(verdicts["superiority"], name=CLAIM))


def typed_study():
    completeness, scores = study()
    r = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)
    detail = detail_rows(r, completeness)
    fam = FamilyTables.from_result(r, board_rows(r, completeness, detail), detail)
    runs = completeness.runs.drop(columns=["path", "current"])
    tables = StudyTables("s", "quick", "hand-made", "erm", 0.05, 200, 0, 500, "rope", {}, runs, {fam.key: fam})
    return r, completeness, tables


def test_the_result_carries_its_descriptions_at_its_alpha():
    completeness, scores = study()
    r = analyze(scores, "test/accuracy", "erm", alpha=0.01, reps=200, bayes_samples=500)
    assert set(r.tests) == set(descriptions.FAMILY_TESTS)
    assert r.tests["per_cell"].alpha == 0.01 and "α = 0.01" in r.tests["per_cell"].text()
    text = r.tests["per_cell"].text()
    assert "paired t-test (" in text and "(`scipy.stats.ttest_rel`)" in text and "Benjamini–Hochberg" in text
    assert "the seeds of a cell" in text, "the unit of replication is stated"


def test_a_changed_description_reaches_every_output(changed, tmp_path):
    r, completeness, tables = typed_study()
    assert r.tests["per_cell"].name == PER_CELL
    # the study's Markdown and TeX (results/leaderboards/STUDY.md / .tex)
    report = StudyReport.of(tables, completeness)
    assert PER_CELL in markdown(report) and PAIRWISE in markdown(report)
    assert PER_CELL in latex(report)  # the detail table's caption
    # the tables file, and what the leaderboard pages render from it
    read = StudyTables.from_json(__import__("json").loads(tables.to_text()))
    assert read.families["test/accuracy"].tests["per_cell"].name == PER_CELL
    page = gather({"s": read})
    marker = next(row.scores["s"].marker.title for row in page.rows if row.label == "good")
    assert PER_CELL in marker
    assert PER_CELL in index_html(page, {}) and PER_CELL in markdown_page(page, {}, tmp_path, tmp_path)
    assert PER_CELL in study_html(read, []) and PAIRWISE in study_html(read, [])
    # a submission's claim states the test of its comparisons
    claim = comparisons(r.paired, r.tests["per_cell"].text())
    assert all(PER_CELL in c["test"] for c in claim.values())
    # figure captions
    assert PAIRWISE in caption("cd_diagram")
    # the claims tables and results/README.md
    write(tmp_path)
    assert CLAIM in results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")


def test_the_consistency_descriptions_reach_every_output(monkeypatch, tmp_path):
    """The interval and the paired comparison of the study's consistency tables (its Markdown, its tables file, the
    leaderboard's study page) and the test of a consistency claim (the claims tables and results/README.md)."""
    interval, comparison, claim = "Iota-interval over the runs", "Mu-test over paired seeds", "Nu-test of a claim"
    tests = descriptions.CONSISTENCY_TESTS
    monkeypatch.setitem(tests, "interval", replace(tests["interval"], name=interval))
    monkeypatch.setitem(tests, "comparison", replace(tests["comparison"], name=comparison))
    monkeypatch.setattr(descriptions, "CONSISTENCY_CLAIM", replace(descriptions.CONSISTENCY_CLAIM, name=claim))
    completeness, _ = study(cells=1, seeds=3)
    rng = np.random.default_rng(0)
    arrays = {
        rid: {"gradient": rng.random((4, 6, 6)), "index": np.arange(4), "images": np.zeros((4, 1, 6, 6), np.uint8)}
        for rid in completeness.runs["run_id"]
    }
    result = study_consistency(Maps(arrays), completeness)
    text = "\n".join(consistency_markdown(result))
    assert interval in text and comparison in text
    _, _, tables = typed_study()
    with_consistency = replace(
        tables, consistency=ConsistencyTables(clean(result.summary), clean(result.comparisons), [], result.tests)
    )
    read = StudyTables.from_json(json.loads(with_consistency.to_text()))
    assert read.consistency.tests["interval"].name == interval and interval in study_html(read, [])
    write(tmp_path)
    path = tmp_path / "claims" / "zeta.json"
    table = json.loads(path.read_text())
    table["claims"][0]["cells"][0].update(metric="consistency/test/cam", images=32)
    path.write_text(json.dumps(table))
    readme = results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")
    assert claim in readme and "(n=5 runs paired by seed, 32 probe images)" in readme

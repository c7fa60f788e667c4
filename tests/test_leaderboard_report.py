"""The leaderboard and consistency reports on hand-made inputs: flags, letters, escaping, consistency of
identical maps, figures."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from benchmark.reports.leaderboard.html import study_html
from benchmark.reports.study import consistency_plot
from benchmark.reports.study import plots as study_plots
from benchmark.reports.study.board import StudyReport, board_display, detail_display, family_notes, markdown
from benchmark.reports.study.consistency import consistency_markdown, study_consistency
from benchmark.reports.study.tables import Completeness, board_rows, detail_rows, letters, seeds_frame
from benchmark.reports.study.tables_file import FamilyTables, StudyTables
from benchmark.reports.study.tex import tex_escape
from benchmark.statistics import analyze

METHODS = ["erm", "good", "absent"]


def study(missing: tuple = (), cells: int = 2, seeds: int = 3, absent_done: bool = False):
    """Expected runs of METHODS x cells x seeds; ``missing`` (method, cell, seed) runs are not done; the method
    'absent' never has a done run unless ``absent_done``. Returns (Completeness, done scores)."""
    rng = np.random.default_rng(0)
    runs, scores = [], []
    for c in range(cells):
        for m in METHODS:
            for s in range(seeds):
                done = (m, c, s) not in missing and (m != "absent" or absent_done)
                rid = f"{m}-{c}-{s}"
                runs.append(
                    {
                        "run_id": rid,
                        "method": m,
                        "method_name": m,
                        "arch": "cnn",
                        "dataset": f"d{c}",
                        "seed": s,
                        "state": "done" if done else "missing",
                        "current": done,
                        "problem": "",
                        "path": "",
                    }
                )
                if done:
                    scores.append(
                        {
                            "run_id": rid,
                            "method": m,
                            "arch": "cnn",
                            "dataset": f"d{c}",
                            "seed": s,
                            "state": "done",
                            "split": "test",
                            "metric": "accuracy",
                            "path": "",
                            "value": 0.8 + 0.05 * (m == "good") + rng.normal(0, 0.01),
                        }
                    )
    return Completeness(pd.DataFrame(runs)), pd.DataFrame(scores)


def test_a_missing_run_is_flagged_in_the_detail_and_the_board_and_nothing_is_dropped():
    completeness, scores = study(missing=(("good", 1, 2),))
    result = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)
    detail = detail_rows(result, completeness)
    assert len(detail) == 2 * 3, "every expected cell x method has a row, the never-done method too"
    row = detail[(detail["method"] == "good") & (detail["dataset"] == "d1")].iloc[0]
    assert (row["runs_done"], row["runs_expected"], row["n"], row["n_pairs"]) == (2, 3, 2, 2)
    assert "2/3 runs done: seed 2 missing" in row["flags"]
    never = detail[detail["method"] == "absent"]
    assert (never["n"] == 0).all() and never["flags"].str.contains("0/3 runs done").all()
    board = board_rows(result, completeness, detail).set_index("method")
    assert "1 run(s) not done in 1 cell(s)" in board.loc["good", "flags"]
    assert "not ranked" in board.loc["absent", "flags"] and pd.isna(board.loc["absent", "place"])
    shown = board_display(board.reset_index(), FamilyTables.from_result(result, board.reset_index(), detail))
    assert shown.loc[shown["method"] == "good", "runs"].item() == "5/6"
    assert shown.loc[shown["method"] == "absent", "#"].item() == "–"


def test_too_few_cells_say_so_instead_of_a_p_value():
    completeness, scores = study()
    result = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)
    detail = detail_rows(result, completeness)
    rows = board_rows(result, completeness, detail)
    typed = FamilyTables.from_result(result, rows, detail)
    board = board_display(rows, typed).set_index("method")
    assert board.loc["good", "p cells (Wilcoxon, Holm)"] == "n.a. (N=2 cells < 6)"
    shown = detail_display(detail, typed)
    assert (shown.loc[shown["method"] == "good", "p (Wilcoxon)"] == "n.a. (n<6)").all()
    notes = " ".join(family_notes(typed))
    assert "Friedman" in notes and "no pair testable" in notes and "N=2<6 cells" in notes


def test_identical_runs_and_a_constant_difference_are_labelled_in_the_detail_table():
    """Fails on the old code: a method bit-identical to the baseline showed p 'n.a.' here (NaN from the t-test)
    while the claims said 'no practical difference'; the label is now 'identical runs' in both."""
    completeness, scores = study(absent_done=True)
    erm = scores["method"] == "erm"
    for method, shift in (("good", 0.0), ("absent", 0.02)):
        scores.loc[scores["method"] == method, "value"] = scores.loc[erm, "value"].to_numpy() + shift
    result = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)
    detail = detail_rows(result, completeness)
    shown = detail_display(detail, FamilyTables.from_result(result, board_rows(result, completeness, detail), detail))
    assert (shown.loc[shown["method"] == "good", "p (paired t)"] == "1.000 (identical runs)").all()
    assert (shown.loc[shown["method"] == "absent", "p (paired t)"] == "0.250 (exact sign-flip, zero spread)").all()
    assert (detail.loc[detail["method"] == "good", "verdict"] == "identical runs").all()


@pytest.mark.parametrize("cells", [1, 2])
def test_one_or_two_cells_print_na_instead_of_the_prior_and_degenerate_intervals(cells, tmp_path, monkeypatch):
    """Issue 22: with 1 cell the Bayesian signed-rank printed its prior (0.84 / 0.16 / 0.00), the mean-rank CI
    [1.00, 1.00], the CD diagram one bar over pairs never tested. Every page says "n.a. (N cells < K)" instead,
    and the diagram is not drawn."""
    completeness, scores = study(cells=cells, seeds=5)
    result = analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)
    detail = detail_rows(result, completeness)
    rows = board_rows(result, completeness, detail)
    fam = FamilyTables.from_result(result, rows, detail)
    runs = completeness.runs.drop(columns=["path", "current"])
    tables = StudyTables("s", "quick", "few cells", "erm", 0.05, 200, 0, 500, "rope", {}, runs, {fam.key: fam})
    read = StudyTables.from_json(json.loads(tables.to_text()))
    assert read.families[fam.key].gates == {"cd_diagram": f"n.a. ({cells} cells < 6)"}
    board = board_display(rows, read.families[fam.key]).set_index("method")
    good = board.loc["good"]
    assert good["P(better / ROPE / worse), ROPE 0.01"] == f"n.a. ({cells} cells < 6)"
    assert good["mean rank [95% CI] ↓"] == f"1.00 [n.a. ({cells} cells < 6)]"
    assert good["gain, IQM [95% CI] ↑"] == f"n.a. ({cells} cells < 10)"
    assert good["group"] == f"n.a. ({cells} cells < 6)"
    assert "[" in good["Δ vs erm [95% CI] ↑"] and "CI n.a." not in good["Δ vs erm [95% CI] ↑"]
    page = markdown(StudyReport.of(read, completeness)) + study_html(read, [])
    assert f"n.a. ({cells} cells &lt; 6)" in page and f"n.a. ({cells} cells < 6)" in page
    assert "0.84 / 0.16" not in page and "[1.00, 1.00]" not in page
    assert "minimum 6 cells" in page, "the Methods footer states each minimum"

    def never(*args, **kwargs):
        raise AssertionError("a CD diagram drawn from fewer than 6 cells")

    monkeypatch.setattr("scikit_posthocs.critical_difference_diagram", never)
    name = study_plots.cd_diagram([result], tmp_path)
    assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_group_letters_follow_the_holm_matrix():
    order = ["a", "b", "c", "d"]
    p = pd.DataFrame(1.0, index=order, columns=order)
    for x, y in (("a", "c"), ("a", "d"), ("b", "d")):
        p.loc[x, y] = p.loc[y, x] = 0.01
    assert letters(order, p, 0.05) == {"a": "a", "b": "ab", "c": "bc", "d": "c"}
    assert letters(order, pd.DataFrame(1.0, index=order, columns=order), 0.05) == dict.fromkeys(order, "a")


def test_tex_escapes_specials_and_writes_symbols_as_math():
    assert tex_escape("cyborg_x 5% & Δ ↑ ± n<6") == r"cyborg\_x 5\% \& $\Delta$ $\uparrow$ $\pm$ n$<$6"


class Maps:
    """A RecordSet stand-in: runs' saliency summaries and probe-map artifacts held in memory."""

    def __init__(self, arrays: dict[str, dict[str, np.ndarray]]):
        self.arrays = arrays

    def record(self, rid):
        return SimpleNamespace(
            extra={"saliency": {"splits": ["test"], "attributions": ["gradient"]}},
            artifacts={f"saliency/test/{k}": "" for k in self.arrays[rid]},
        )

    def artifact(self, rid, name):
        return self.arrays[rid][name.rsplit("/", 1)[1]]


def test_identical_maps_are_consistency_one_and_noise_near_zero(tmp_path):
    completeness, _ = study(cells=1, seeds=4, absent_done=True, missing=(("absent", 0, 3),))
    rng = np.random.default_rng(1)
    shared = rng.random((16, 8, 8)).astype(np.float16)
    images = rng.integers(0, 255, (16, 1, 8, 8), dtype=np.uint8)
    arrays = {}
    for rid, method in zip(completeness.runs["run_id"], completeness.runs["method"]):
        maps = shared if method == "erm" else rng.random((16, 8, 8)).astype(np.float16)
        if rid == "absent-0-1":
            maps[:2] = 0  # two dead maps
        arrays[rid] = {"gradient": maps, "index": np.arange(16), "images": images}
    result = study_consistency(Maps(arrays), completeness)
    s = result.summary.set_index("method")
    for measure in ("spearman", "pearson", "topk_iou"):
        assert s.loc["erm", measure] == pytest.approx(1.0)
        assert s.loc["erm", f"{measure}_low"] == pytest.approx(1.0)
    assert abs(s.loc["good", "spearman"]) < 0.1
    assert s.loc["absent", "runs_used"] == 3 and "seed 3 missing" in s.loc["absent", "flags"]
    assert s.loc["absent", "constant_maps"] == 2 and "2 of 48 (run, image) maps constant" in s.loc["absent", "flags"]
    assert s.loc["erm", "constant_maps"] == 0
    c = result.comparisons.set_index(["method", "other"])
    assert c.loc[("erm", "good"), "n_runs"] == 4 and c.loc[("erm", "absent"), "n_runs"] == 3, "paired by seed"
    assert c.loc[("erm", "good"), "p_holm"] < 0.01 and c.loc[("erm", "good"), "mean_diff"] > 0.8
    text = "\n".join(consistency_markdown(result))
    assert "1.000 [1.000, 1.000]" in text and "jackknife" in text and "the seeds both methods have" in text
    assert "bootstrap" not in text
    name = consistency_plot.plot_group(result, completeness, ("d0", "cnn", "test", "gradient"), tmp_path)
    assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_two_runs_give_a_value_without_an_interval(tmp_path):
    completeness, _ = study(cells=1, seeds=2)
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (6, 1, 8, 8), dtype=np.uint8)
    arrays = {
        rid: {"gradient": rng.random((6, 8, 8)).astype(np.float16), "index": np.arange(6), "images": images}
        for rid in completeness.runs["run_id"]
    }
    result = study_consistency(Maps(arrays), completeness)
    s = result.summary.set_index("method")
    assert np.isfinite(s.loc["erm", "spearman"]) and np.isnan(s.loc["erm", "spearman_low"])
    assert "CI n.a. (needs >= 3 runs)" in s.loc["erm", "flags"]
    assert (result.comparisons["note"] == "n.a. (needs >= 3 runs)").all() and result.comparisons["p"].isna().all()
    text = "\n".join(consistency_markdown(result))
    assert "[CI n.a.]" in text and "n.a. (needs >= 3 runs)" in text
    consistency_plot.plot_group(result, completeness, ("d0", "cnn", "test", "gradient"), tmp_path)


def test_figures_are_written(tmp_path):
    completeness, scores = study(missing=(("good", 1, 2),))
    results = [analyze(scores, "test/accuracy", "erm", reps=200, bayes_samples=500)]
    details = {"test/accuracy": detail_rows(results[0], completeness)}
    seeds = seeds_frame(scores, ["test/accuracy"])
    assert list(seeds.columns[-1:]) == ["test/accuracy"] and len(seeds) == len(scores)
    names = [
        study_plots.cd_diagram(results, tmp_path),
        study_plots.forest(results, details, tmp_path),
        study_plots.cell_means(results, details, seeds, tmp_path),
    ]
    assert all((tmp_path / n).read_bytes()[:4] == b"\x89PNG" for n in names)

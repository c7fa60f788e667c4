"""results/README.md's "Guidance as a trade-off" (issue 26 item 5): its sentences on hand-made fronts.json and
curves.json, the line of a study not run, a byte-identical rerun of ``readme``, and the section on the files the
real ``fronts`` and ``curves`` write from hand-made records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fronts_records import fronts_params
from fronts_records import write_records as write_fronts_records
from sweep_helpers import tiny_params, write_params
from test_curves_report import VIEWS
from test_curves_report import write_records as write_curves_records
from test_results_readme import write

from benchmark.cli import main
from benchmark.reports.claims.readme import results_readme
from benchmark.reports.claims.tradeoffs import declared_studies, tradeoff_section
from benchmark.statistics.curves import CURVE_TESTS

# a statement no code restates: the section must print the JSON's own
TEST = {"name": "hand-made test", "function": "f.g", "unit": "the seeds", "correction": "Holm per cell"}
TEST |= {"reference": "Ref 2000", "short": "t", "alpha": 0.05}
TEST_TEXT = "hand-made test (`f.g`) over the seeds; Holm per cell, α = 0.05 (Ref 2000)"


def point(series: str, scale: float, x: float, y: float) -> dict:
    return {"series": series, "scale": scale, "guidance": "", "n": 3, "front": True} | {
        "x": x,
        "x_low": x - 0.01,
        "x_high": x + 0.01,
        "y": y,
        "y_low": y - 0.02,
        "y_high": y + 0.02,
    }


def comparison(a: str, b: str, diff: float, p_holm: float, verdict: str) -> dict:
    return {"a": a, "b": b, "n": 5, "diff": diff, "diff_low": diff - 0.001, "diff_high": diff + 0.001} | {
        "p": p_holm / 2,
        "p_holm": p_holm,
        "verdict": verdict,
    }


def fronts_doc(comparisons: list[dict]) -> dict:
    """A fronts.json (``reports.fronts.writer``) of one cell, erm and two guided series."""
    volumes = [
        {"series": s, "n": 5, "hv": hv, "hv_low": hv - 0.001, "hv_high": hv + 0.001, "seeds": {}}
        for s, hv in (("erm", 0.0012), ("gradia", 0.0151), ("rrr", 0.0233))
    ]
    panel = {
        "dataset": "decoy_digits",
        "arch": "simple_cnn",
        "x": "test/accuracy",
        "y": "test/saliency/gradcam/energy_pointing",
        "baseline": "erm",
        "figure": "cell.png",
        "points": [point("erm", 0.0, 0.91, 0.21), point("gradia", 0.3, 0.89, 0.31), point("rrr", 3.0, 0.81, 0.51)],
        "hypervolumes": volumes,
        "comparisons": comparisons,
    }
    head = {"study": "guidance_decoy", "profile": "quick", "baseline": "erm", "expected": 15, "done": 15}
    return head | {"alpha": 0.05, "test": TEST, "reference_rule": "the hand-made rule", "panels": [panel]}


def curves_doc() -> dict:
    """A curves.json (``reports.curves.report.json_document``): rrr beats erm at budget 0.5 and 1, loses to its
    full-budget arm at 0.2; gradia beats erm nowhere after Holm (p 0.04 at 0.5, Holm 0.08)."""
    rows = []
    for method, level, versus, gain, p_holm in (
        ("rrr", 0.2, "baseline", 0.02, 0.13),
        ("rrr", 0.5, "baseline", 0.07, 0.005),
        ("rrr", 1.0, "baseline", 0.10, 0.003),
        ("rrr", 0.2, "reference", -0.09, 0.003),
        ("rrr", 0.5, "reference", -0.04, 0.06),
        ("gradia", 0.5, "baseline", 0.03, 0.08),
    ):
        verdict = "tie" if p_holm >= 0.05 else "win" if gain > 0 else "loss"
        rows.append(
            {"dataset": "toy_faces_small", "arch": "gap_cnn", "axis": "budget", "method": method, "level": level}
            | {"reference": level == 1.0, "versus": versus, "n": 5, "gain": gain, "p_holm": p_holm, "verdict": verdict}
        )
    box = {"dataset": "toy_faces_small", "arch": "gap_cnn", "axis": "box", "method": "rrr", "level": 1.0}
    rows.append(
        box | {"reference": False, "versus": "reference", "n": 5, "gain": -0.01, "p_holm": 0.4, "verdict": "tie"}
    )
    points = [{k: r[k] for k in ("dataset", "arch", "axis", "method", "level", "reference")} for r in rows]
    axes = {"budget": "annotation budget: share of the annotated train images kept", "box": "train maps: box"}
    return {"study": "annotation_budget", "profile": "quick", "baseline": "erm", "alpha": 0.05} | {
        "tests": {"interval": TEST, "paired": TEST},
        "axes": axes,
        "metrics": {"test_closed/auc": {"direction": "higher", "points": points, "baseline": [], "comparisons": rows}},
    }


def put(folder: Path, study: str, name: str, doc: dict) -> None:
    (folder / study).mkdir(parents=True, exist_ok=True)
    (folder / study / name).write_text(json.dumps(doc), encoding="utf-8")


def section(tmp_path: Path, studies: list) -> str:
    return "\n".join(tradeoff_section(tmp_path / "fronts", tmp_path / "curves", studies))


def test_a_significant_dominance_is_named_with_its_holm_p_and_the_best_points(tmp_path):
    comps = [
        comparison("gradia", "rrr", -0.0082, 0.012, "rrr's front dominates gradia's"),
        comparison("gradia", "sgt", 0.001, 0.2, "not separated"),
    ]
    put(tmp_path / "fronts", "guidance_decoy", "fronts.json", fronts_doc(comps))
    text = section(tmp_path, [("guidance_decoy", "fronts")])
    assert "### Study `guidance_decoy`: fronts over guidance strength" in text
    assert "[fronts/guidance_decoy/fronts.md](fronts/guidance_decoy/fronts.md)" in text
    assert "[figure](fronts/guidance_decoy/cell.png)" in text and "15 of 15 expected runs done" in text
    assert (
        "by mean hypervolume [95% CI], `rrr` 0.0233 [0.0223, 0.0243], `gradia` 0.0151 [0.0141, 0.0161], "
        "`erm` 0.0012 [0.0002, 0.0022] (its point alone)." in text
    ), "ordered by mean hypervolume, with its interval"
    assert (
        "Dominance after Holm: rrr's front dominates gradia's (hypervolume difference gradia − rrr "
        "-0.0082 [-0.0092, -0.0072], Holm p = 0.012). " in text
    ), "only the significant pair"
    assert "Best single point on `test/accuracy`: `erm`@0 (0.910 [0.900, 0.920])" in text
    assert "on `test/saliency/gradcam/energy_pointing`: `rrr`@3 (0.510 [0.490, 0.530])." in text
    assert text.count(TEST_TEXT) == 1 and "the hand-made rule" in text, "the JSON's statement, once"


def test_no_pair_separated_names_the_seeds(tmp_path):
    comps = [comparison("gradia", "rrr", -0.0082, 0.07, "not separated")]
    put(tmp_path / "fronts", "guidance_decoy", "fronts.json", fronts_doc(comps))
    text = section(tmp_path, [("guidance_decoy", "fronts")])
    assert "Dominance after Holm: no pair of fronts is separated at 5 seeds." in text
    assert "dominates" not in text.split("Dominance after Holm:")[1]


def test_curves_name_the_levels_that_beat_erm_and_those_that_lose_to_the_own_arm(tmp_path):
    put(tmp_path / "curves", "annotation_budget", "curves.json", curves_doc())
    (
        tmp_path / "curves" / "annotation_budget" / "curve_test-closed-auc_toy-faces-small_gap-cnn_budget.png"
    ).write_bytes(b"\x89PNG")
    text = section(tmp_path, [("annotation_budget", "curves")])
    budget = next(line for line in text.splitlines() if line.startswith("- **toy_faces_small / gap_cnn, budget**"))
    assert "[figure](curves/annotation_budget/curve_test-closed-auc_toy-faces-small_gap-cnn_budget.png)" in budget
    assert "Beats `erm` significantly: `rrr` at 0.5 (Holm p = 0.005), 1 (ref., Holm p = 0.003)." in budget
    assert "gradia" not in budget, "p 0.04 is not significant after Holm"
    assert "Significant loss against its own full-budget / true-map arm: `rrr` at 0.2 (Holm p = 0.003)." in budget
    box = next(line for line in text.splitlines() if line.startswith("- **toy_faces_small / gap_cnn, box**"))
    assert "No method beats `erm` significantly at any level." in box and "figure" not in box, "no PNG: no link"
    assert "No significant loss of any method against its own full-budget / true-map arm." in box
    assert text.count(TEST_TEXT) == 2, "each of the report's two tests, once"


def test_an_absent_study_is_one_line_with_the_command_and_the_studies_come_from_params(tmp_path):
    params = {
        "optional_studies": {
            "more": {"extends": "x"},
            "g": {"guidance": [1, 3]},
            "a": {"grids": [{"annotations": [{}]}]},
        }
    }
    assert declared_studies(params) == [("g", "fronts"), ("a", "curves")]
    put(tmp_path / "fronts", "other", "fronts.json", fronts_doc([]))  # a report of an undeclared study: after them
    lines = tradeoff_section(tmp_path / "fronts", tmp_path / "curves", declared_studies(params))
    text = "\n".join(lines)
    assert (
        "Not run by default: `make tradeoffs` (or `python -m benchmark sweep g`, then `python -m benchmark fronts g`) "
        "writes fronts/g/fronts.json." in lines
    )
    assert text.index("### Study `g`") < text.index("### Study `a`") < text.index("### Study `other`")
    assert "one guided series only: no pair of fronts to compare" in text


def test_a_report_without_a_field_is_one_line_naming_it(tmp_path, capsys):
    write(tmp_path)
    doc = fronts_doc([])
    del doc["panels"][0]["hypervolumes"]
    put(tmp_path / "fronts", "guidance_decoy", "fronts.json", doc)
    assert main(["readme", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "fronts/guidance_decoy/fronts.json lacks field 'hypervolumes'" in err and len(err.strip().splitlines()) == 1
    assert "python -m benchmark fronts guidance_decoy" in err and not (tmp_path / "README.md").exists()


def test_readme_writes_the_section_after_the_papers_and_a_rerun_is_identical(tmp_path, monkeypatch):
    write(tmp_path)
    params = tiny_params(["erm"])
    params["optional_studies"] = {"guidance_decoy": {"guidance": [0.5], **params["studies"]["tiny"]}}
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    comps = [comparison("gradia", "rrr", -0.0082, 0.012, "rrr's front dominates gradia's")]
    put(tmp_path / "fronts", "guidance_decoy", "fronts.json", fronts_doc(comps))
    put(tmp_path / "curves", "annotation_budget", "curves.json", curves_doc())
    assert main(["readme", "--results", str(tmp_path)]) == 0
    first = (tmp_path / "README.md").read_bytes()
    text = first.decode()
    assert text.index("## ALPHA: The alpha paper") < text.index("## Guidance as a trade-off")
    assert "[after the papers](#guidance-as-a-trade-off)" in text
    assert "Holm p = 0.012" in text and "`rrr` at 0.5 (Holm p = 0.005)" in text
    assert main(["readme", "--results", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_bytes() == first
    no_section = results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")
    assert "trade-off" not in no_section, "without the folders: the page as before"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """results/ with the fronts.json and curves.json the real commands write from the tests' hand-made records."""
    folder = tmp_path_factory.mktemp("tradeoffs")
    results = folder / "results"
    with pytest.MonkeyPatch.context() as mp:
        params = fronts_params()
        write_fronts_records(params, folder / "fruns")
        mp.setenv("SALBENCH_PARAMS", str(write_params(folder / "f.yaml", params)))
        assert main(["fronts", "tiny", "--out", str(folder / "fruns"), "--dest", str(results / "fronts")]) == 0
        params = tiny_params(["erm", "rrr", "sgt"], seeds=3, annotations=VIEWS)
        mp.setenv("SALBENCH_PARAMS", str(write_params(folder / "c.yaml", params)))
        write_curves_records(params, folder / "cruns")
        assert main(["curves", "tiny", "--out", str(folder / "cruns"), "--dest", str(results / "curves")]) == 0
    return results


def test_the_section_reads_what_fronts_and_curves_write(written):
    text = section(written, [])
    assert (
        "[fronts/tiny/fronts.md](fronts/tiny/fronts.md)" in text
        and "[curves/tiny/curves.md](curves/tiny/curves.md)" in text
    )
    assert "no pair of fronts is separated at 3 seeds" in text, "the fixture's two guided series (p_Holm 0.65)"
    assert "Best single point on `test/accuracy`: `erm`@0 (0.910 [0.885, 0.935])" in text
    assert "`rrr` at 0.5 (Holm p = 0.005), 1 (ref., Holm p = 0.003)" in text, "test_curves_report's AUC table"
    assert "`rrr` at 0.2 (Holm p = 0.003), 0.5 (Holm p = 0.032)" in text
    assert "[figure](curves/tiny/curve_test-auc_tiny-digits_simple-cnn-hidden-16_budget.png)" in text
    assert CURVE_TESTS["paired"].at(0.05).text() in text


def test_each_study_s_design_is_printed_from_its_report_before_the_findings(tmp_path):
    """The study's params.yaml description travels in its report's JSON; the section prints it, once, first."""
    put(tmp_path / "curves", "annotation_budget", "curves.json", curves_doc() | {"description": "maps kept: 5% to 1"})
    put(tmp_path / "fronts", "guidance_decoy", "fronts.json", fronts_doc([]))  # an older report without one
    text = section(tmp_path, [("guidance_decoy", "fronts"), ("annotation_budget", "curves")])
    curves_part = text.split("### Study `annotation_budget`: curves over the annotation budget and quality")[1]
    assert curves_part.lstrip().startswith("Design: maps kept: 5% to 1\n\n[curves/annotation_budget/curves.md]")
    assert text.count("Design:") == 1

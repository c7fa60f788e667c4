"""results/README.md from hand-made claims tables and leaderboards; the DVC stages read what the claims name."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from benchmark.cli import main
from benchmark.reports.claims.readme import results_readme
from benchmark.reports.claims.spec import load_paper

ROOT = Path(__file__).resolve().parents[1]


def claims_table(name: str, order: int, study: str, verdict: str) -> dict:
    """A judged claims JSON (``reports.claims.report.as_json``) with one one-cell claim."""
    cell = {
        "id": f"{name.upper()}-1",
        "claim": f"{name.upper()}-1",
        "cell": "",
        "study": study,
        "metric": "test/accuracy",
        "direction": "higher",
        "test": "superiority",
        "rope": 0.01,
        "method": "a · d · n",
        "reference": "b · d · n",
        "varies": "seeds only",
        "design": "paired",
        "n": 5,
        "n_ref": 5,
        "mean": 0.6,
        "mean_ref": 0.5,
        "gain": 0.1,
        "se": 0.01,
        "df": 4.0,
        "sd_diff": 0.02,
        "d_z": 5.0,
        "p": 0.001,
        "p_tost": None,
        "p_method": "paired t",
        "zero_spread": False,
        "identical": False,
        "sim_level": 0.95,
        "sim_low": 0.05,
        "sim_high": 0.15,
        "ci_level": 0.95,
        "gain_low": 0.05,
        "gain_high": 0.15,
        "images": None,
        "notes": "",
    }
    claim = {
        "id": f"{name.upper()}-1",
        "test": "superiority",
        "n_cells": 1,
        "p": 0.001,
        "p_rule": "one cell",
        "p_tost": None,
        "p_holm": 0.002,
        "alpha_step": 0.05,
        "p_tost_holm": None,
        "verdict": verdict,
        "reason": "",
        "seeds_alpha": 0.05,
        "seeds_unit": "paired seeds",
        "seeds_needed": None,
        "stability": 0.934,
        "seeds": "5",
        "reruns": f"{verdict} 93%, inconclusive 7%",
        "verdict_tested": verdict,
        "claim": "a beats b",
        "published": "0.6 vs 0.5",
        "study": study,
        "test_name": "t",
        "cells": [cell],
    }
    return {
        "paper": name.upper(),
        "name": name,
        "order": order,
        "title": f"The {name} paper",
        "citation": "X. Y 2020",
        "url": "https://example.org",
        "studies": [study],
        "notes": [],
        "alpha": 0.05,
        "cells_total": 1,
        "simultaneous_level": 0.95,
        "counts": {verdict: 1},
        "incomplete": [],
        "figures": {"forest": f"{name}/claims.png"},
        "claims": [claim],
    }


def write(results: Path) -> None:
    (results / "claims").mkdir(parents=True)
    (results / "leaderboards" / "s1").mkdir(parents=True)
    (results / "search").mkdir()
    for name, order, verdict in (("zeta", 1, "reproduced"), ("alpha", 2, "not reproduced")):
        (results / "claims" / f"{name}.json").write_text(json.dumps(claims_table(name, order, "s1", verdict)))
    (results / "leaderboards" / "s1.csv").write_text(
        "family,metric,dataset,arch,method,baseline,runs_expected,runs_done,mean,sd,gain,marker\n"
        "test/accuracy,accuracy,d,n,erm,erm,5,5,0.5,0.01,,\n"
        "test/accuracy,accuracy,d,n,a,erm,5,4,0.6,0.02,0.1,**\n"
        "test/loss,loss,d,n,a,erm,5,4,0.6,0.02,0.1,**\n"
    )
    (results / "leaderboards" / "s1" / "cell_means.png").write_bytes(b"\x89PNG")
    (results / "search" / "dec.json").write_text(json.dumps({"description": "every method tuned"}))


def test_sections_follow_the_claims_order_with_tables_leaderboards_and_search(tmp_path):
    write(tmp_path)
    text = results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")
    assert text.index("## ZETA: The zeta paper") < text.index("## ALPHA: The alpha paper"), "claims files' order"
    assert "[ZETA](#zeta-the-zeta-paper)" in text and "![forest](claims/zeta/claims.png)" in text
    assert "**reproduced**" in text and "**not reproduced**" in text
    assert text.count("### Leaderboard of study `s1`") == 1 and "Leaderboard of study `s1`: above." in text
    assert "0.600 ± 0.020 (+0.100**) [4/5 runs]" in text, "cell mean, paired gain, marker, runs"
    assert "test/loss" not in text, "only the primary families; the full board is linked"
    assert "![s1: cell means with 95% CIs, seeds as dots](leaderboards/s1/cell_means.png)" in text
    assert "`dec`: every method tuned — [dec.md](search/dec.md)" in text


def test_each_verdict_shows_its_stability_and_seeds_and_the_legend_states_the_rule(tmp_path):
    """Issue 23 part 3a; fails on the code before it (no stability column, no legend entry)."""
    write(tmp_path)
    text = results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")
    assert "| stability (seeds)" in text and text.count("| 93% (5 seeds)") == 2
    assert "**Stability (seeds)**" in text and "below 80%" in text and "unstable: reproduced in 62%" in text
    assert "Stability (seeds per cell): stability: the share of 4000 seeded reruns" in text, "the legend's rule"
    table = claims_table("beta", 3, "s1", "inconclusive")
    table["claims"][0].update(stability=0.25, reruns="not reproduced 75%, inconclusive 25%")
    (tmp_path / "claims" / "beta.json").write_text(json.dumps(table))
    text = results_readme(tmp_path / "claims", tmp_path / "leaderboards", tmp_path / "search", "quick")
    assert "| 25% (5 seeds): not reproduced 75%, inconclusive 25% |" in text, "below 0.8: what the reruns say"


def test_readme_command_writes_the_file_and_a_rerun_is_identical(tmp_path):
    write(tmp_path)
    assert main(["readme", "--results", str(tmp_path)]) == 0
    first = (tmp_path / "README.md").read_bytes()
    assert main(["readme", "--results", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_bytes() == first


def test_without_claims_tables_readme_exits_2(tmp_path, capsys):
    assert main(["readme", "--results", str(tmp_path)]) == 2
    assert "no claims table" in capsys.readouterr().err and not (tmp_path / "README.md").exists()


def test_the_claims_and_readme_stages_depend_on_every_study_the_claims_read():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    studies = {
        s
        for p in sorted((ROOT / "claims").glob("*.yaml"))
        for s in [c.study for c in load_paper(p).claims] + load_paper(p).studies
    }
    assert {f"results/runs/{s}" for s in studies} <= set(stages["claims"]["deps"])
    assert {f"results/leaderboards/{s}.csv" for s in studies} <= set(stages["readme"]["deps"])

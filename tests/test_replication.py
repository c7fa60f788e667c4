"""A rerun as a replication (issue 23): ``reports.replication`` and ``python -m benchmark replication`` on small
hand-made results folders in the real formats (``leaderboards/STUDY.seeds.csv``, ``claims/PAPER.json``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.cli.replication_cmd import MARKER, snapshot
from benchmark.contracts import ContractError
from benchmark.reports.replication import compare, read_results, summary

SEEDS = (
    "run,method,dataset,arch,seed,test/accuracy,test/saliency/cam/auroc\n"
    "erm | digits | cnn | seed 0,erm,digits,cnn,0,0.8775510204081632,0.9009743\n"
    "erm | digits | cnn | seed 1,erm,digits,cnn,1,0.9109461966604824,\n"
    "sgt | digits | cnn | seed 0,sgt,digits,cnn,0,0.8571428571428571,0.91\n"
    "sgt | digits | cnn | seed 1,sgt,digits,cnn,1,0.9183673469387755,0.92\n"
)


def cell(claim: str, name: str, gain: float, low: float, high: float) -> dict:
    return {"id": f"{claim} · {name}", "claim": claim, "study": "toy", "metric": "test/accuracy", "cell": name,
            "method": f"sgt · digits · {name}", "reference": f"erm · digits · {name}", "n": 2, "gain": gain,
            "gain_low": low, "gain_high": high, "ci_level": 0.9875, "sim_low": low, "sim_high": high}  # fmt: skip


def claims_table() -> dict:
    claims = [
        ("TOY-1", "superiority", "reproduced", "every cell's p < α", [cell("TOY-1", "cnn", 0.05, 0.01, 0.09)]),
        ("TOY-2", "equivalence", "inconclusive", "the 90% interval reaches beyond ±ROPE",
         [cell("TOY-2", "cnn", -0.01, -0.03, 0.01), cell("TOY-2", "vit", 0.0, -0.02, 0.02)]),
    ]  # fmt: skip
    return {
        "paper": "TOY", "name": "toy", "order": 1, "studies": ["toy"], "alpha": 0.05, "cells_total": 3,
        "claims": [{"id": i, "test": t, "n_cells": len(c), "verdict": v, "reason": r, "cells": c}
                   for i, t, v, r, c in claims],
    }  # fmt: skip


def write(folder: Path, seeds: str = SEEDS, table: dict | None = None) -> Path:
    (folder / "leaderboards").mkdir(parents=True)
    (folder / "claims").mkdir()
    (folder / "leaderboards" / "toy.seeds.csv").write_text(seeds)
    (folder / "claims" / "toy.json").write_text(json.dumps(table or claims_table(), indent=1))
    return folder


@pytest.fixture
def folders(tmp_path):
    """A committed folder and a fresh one with one per-seed value and one claim's verdict (and gain) changed."""
    committed = write(tmp_path / "committed")
    table = claims_table()
    table["claims"][0].update(verdict="inconclusive", reason="the interval spans zero")
    table["claims"][0]["cells"][0].update(gain=0.12, gain_low=-0.01, gain_high=0.25)
    fresh = write(tmp_path / "fresh", SEEDS.replace("0.9183673469387755", "0.9183673469387756"), table)
    return committed, fresh


def test_the_report_names_the_changed_value_its_interval_and_the_verdict_change(folders, capsys):
    committed, fresh = folders
    out = committed.parent / "replication.md"
    assert main(["replication", "--committed", str(committed), "--results", str(fresh), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("replication: 1 of 7 per-seed values differ from the committed ones; ")
    assert "2 of 3 fresh gains inside the committed intervals; 1 of 2 verdicts changed" in line
    text = out.read_text()
    # the record: study, method, dataset, arch, seed, metric, both values (the last digit of a round-trip float)
    assert (
        "| toy | sgt | digits | cnn | 1 | test/accuracy | 0.9183673469387755 | 0.9183673469387756 | 1.11022e-16 | differs |"
        in text
    )
    assert "| toy | 7 | 1 | 0 | 0 |" in text, "per study: values compared, differ, added, missing"
    # the fresh gain outside the committed interval, with that interval and its level
    assert "| TOY-1 · cnn | 0.05 [0.01, 0.09] | 0.9875 | 0.12 [-0.01, 0.25] | **outside** |" in text
    # the verdict change, both rows side by side
    assert "### TOY-1 (TOY): changed" in text
    assert "| committed | reproduced | every cell's p < α |" in text
    assert "| fresh | inconclusive | the interval spans zero |" in text
    assert "TOY-2" not in text.split("## Verdicts")[1], "an unchanged verdict is not listed"
    assert "Cumming & Maillardet 2006" in text, "the interval check states its description"


def test_identical_results_say_bitwise_identical(tmp_path):
    rep = compare(read_results(write(tmp_path / "a")), read_results(write(tmp_path / "b")))
    assert rep.identical
    assert summary(rep).startswith("replication: bitwise identical to the committed results: 7 per-seed values, 2 ")


def test_runs_added_and_missing_are_counted(tmp_path):
    fewer = "\n".join(SEEDS.splitlines()[:-1]) + "\n"
    more = SEEDS + "sgt | digits | cnn | seed 2,sgt,digits,cnn,2,0.5,0.6\n"
    rep = compare(read_results(write(tmp_path / "a", fewer)), read_results(write(tmp_path / "b", more)))
    status = rep.values.set_index(["method", "seed", "family"])["status"]
    assert status[("sgt", 1, "test/accuracy")] == "added" and status[("sgt", 2, "test/saliency/cam/auroc")] == "added"
    assert not rep.identical and "4 per-seed values added, 0 missing" in summary(rep)


def test_a_committed_file_rounded_to_6_digits_is_compared_at_that_precision(tmp_path):
    rounded = SEEDS.replace("0.8775510204081632", "0.877551").replace("0.9109461966604824", "0.910946")
    rounded = rounded.replace("0.9009743", "0.900974")
    rounded = rounded.replace("0.8571428571428571", "0.857143").replace("0.9183673469387755", "0.918367")
    rep = compare(read_results(write(tmp_path / "old", rounded)), read_results(write(tmp_path / "new")))
    assert rep.identical and "identical to the committed results at the 6 significant digits" in summary(rep)
    exact = compare(read_results(write(tmp_path / "exact")), read_results(tmp_path / "new"))
    assert exact.identical and "significant digits" not in summary(exact)


def test_snapshot_copies_the_basis_and_replaces_only_its_own_folder(tmp_path, capsys):
    results = write(tmp_path / "results")
    (results / "claims" / "toy.md").write_text("not copied")
    dest = results / "replication" / "committed"
    assert snapshot(results, dest) == 2 and (dest / MARKER).is_file()
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.*")) == [
        MARKER, "claims/toy.json", "leaderboards/toy.seeds.csv"]  # fmt: skip
    assert snapshot(results, dest) == 2, "its own snapshot is replaced"
    shutil.rmtree(dest)
    (dest / "mine").mkdir(parents=True)
    with pytest.raises(ContractError, match="not a snapshot of this program"):
        snapshot(results, dest)
    assert (dest / "mine").is_dir() and snapshot(tmp_path / "empty", tmp_path / "none") == 0
    assert not (tmp_path / "none").exists()


def test_a_missing_snapshot_is_one_line_and_exit_2(tmp_path, capsys):
    fresh = write(tmp_path / "fresh")
    assert main(["replication", "--committed", str(tmp_path / "nothing"), "--results", str(fresh)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no snapshot at" in err
    assert not (fresh / "replication.md").exists()

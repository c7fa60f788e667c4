"""Every committed claims file (claims/*.yaml) parses and names runs its studies in params.yaml expand to."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.records.table import load_records
from benchmark.reports.claims.evaluate import check_sides
from benchmark.reports.claims.spec import load_paper
from benchmark.sweeps.study import expand

CLAIMS = sorted((Path(__file__).resolve().parents[1] / "claims").glob("*.yaml"))
PAPERS = {"sgt", "smoot", "cyborg", "sage", "decoy", "ambiguities"}


def test_every_seed_paper_and_study_has_a_claims_file():
    assert PAPERS <= {p.stem for p in CLAIMS}


@pytest.mark.parametrize("path", CLAIMS, ids=[p.stem for p in CLAIMS])
def test_claims_file_names_existing_runs(path, tmp_path):
    paper = load_paper(path)
    studies = {c.study for c in paper.claims} | {f.study for f in paper.figures} | set(paper.studies)
    expanded = {name: expand(name) for name in studies}
    records = {
        name: load_records(tmp_path / name, [s.config for s in study.runs], method_labels=study.method_labels())
        for name, study in expanded.items()
    }
    check_sides(paper, records)  # raises naming the claim whose side the study does not train
    for figure in paper.figures:
        runs = records[figure.study].runs
        for method in figure.methods:
            assert (
                (runs["method"] == method) & (runs["dataset"] == figure.dataset) & (runs["arch"] == figure.arch)
            ).any(), f"{path.name}: figure method {method} has no run"

"""Every committed claims file (claims/*.yaml) parses and names runs its studies in params.yaml expand to."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.records.table import RecordSet, combine, load_records
from benchmark.reports.claims.evaluate import check_sides
from benchmark.reports.claims.spec import load_paper
from benchmark.sweeps.study import expand, extensions

CLAIMS = sorted((Path(__file__).resolve().parents[1] / "claims").glob("*.yaml"))
PAPERS = {"sgt", "smoot", "cyborg", "sage", "decoy", "ambiguities"}


def test_every_seed_paper_and_study_has_a_claims_file():
    assert PAPERS <= {p.stem for p in CLAIMS}


def expected(name: str, folder: Path) -> RecordSet:
    """Study ``name``'s expected runs (none done) with those of the optional studies extending it."""
    sets = []
    for study in [expand(n) for n in [name, *extensions(name)]]:
        sets.append(
            load_records(folder / study.name, [s.config for s in study.runs], method_labels=study.method_labels())
        )
    return combine(*sets)


@pytest.mark.parametrize("path", CLAIMS, ids=[p.stem for p in CLAIMS])
def test_claims_file_names_existing_runs(path, tmp_path):
    """Every claim's sides are trained by its study or by an optional study extending it (``claims --extended``)."""
    paper = load_paper(path)
    studies = {c.study for c in paper.claims} | {f.study for f in paper.figures} | set(paper.studies)
    records = {name: expected(name, tmp_path) for name in studies}
    check_sides(paper, records)  # raises naming the claim whose side the study does not train
    for figure in paper.figures:
        runs = records[figure.study].runs
        for method in figure.methods:
            assert (
                (runs["method"] == method) & (runs["dataset"] == figure.dataset) & (runs["arch"] == figure.arch)
            ).any(), f"{path.name}: figure method {method} has no run"

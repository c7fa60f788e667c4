"""Optional studies that extend a default one (params.yaml ``extends:``) and the claims cells they train.

The default ``claims`` judges only the cells its studies train and names the others "not run by default";
``claims --extended`` reads the optional studies' records beside the default ones and judges every cell,
with the default cells' numbers unchanged. params.yaml's own split (SGT on the GAP CNN, the ViT, the
ambiguity ablations outside the default pipeline) is checked on the committed claims files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from scipy import stats
from sweep_helpers import tiny_params, write_params

from benchmark.cli import main
from benchmark.cli.claims_cmd import default_papers, load_studies
from benchmark.config import load_params
from benchmark.contracts import ContractError
from benchmark.params_schema import check_params_file
from benchmark.reports.claims.spec import load_paper
from benchmark.sweeps.executors import LocalExecutor
from benchmark.sweeps.study import expand, extended_entry, extensions
from benchmark.sweeps.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
CELL = {"dataset": "tiny_digits", "arch": "simple_cnn[hidden=16]"}
CLAIM = {"study": "tiny", "metric": "test/accuracy", **CELL}
CLAIMS = {
    "paper": "Tiny",
    "title": "A tiny paper",
    "citation": "Nobody. Nowhere 2026",
    "url": "https://example.org",
    "claims": [
        {"id": "T-1", "claim": "rrr beats erm", "test": "superiority", "method": "rrr", "reference": "erm", **CLAIM},
        {"id": "T-2", "claim": "lam matters", "test": "difference", "method": "rrr[lam=10.0]", "reference": "rrr"}
        | CLAIM
        | {"metric": "test/loss"},
    ],
}


def with_extension(params: dict) -> dict:
    params["optional_studies"] = {
        "tiny_more": {"extends": "tiny", "grids": [{"methods": [{"name": "rrr", "params": {"lam": 10.0}}]}]}
    }
    return params


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project root with study tiny (erm, rrr; 3 seeds) and its extension tiny_more (rrr lam=10) trained."""
    root = tmp_path_factory.mktemp("extended")
    params = with_extension(tiny_params(methods=["erm", "rrr"], seeds=3))
    path = write_params(root / "params.yaml", params)
    for name in ("tiny", "tiny_more"):
        run_sweep(expand(name, params=params), root / "results" / "runs" / name, LocalExecutor(1), progress=False)
    (root / "claims").mkdir()
    (root / "claims" / "tiny.yaml").write_text(yaml.safe_dump(CLAIMS, sort_keys=False))
    return root, path


@pytest.fixture
def env(project, monkeypatch):
    root, path = project
    monkeypatch.setenv("SALBENCH_PARAMS", str(path))
    return root


def claims(root: Path, *extra: str) -> dict:
    dest = root / ("ext" if "--extended" in extra else "default")
    runs = root / "results" / "runs" / "tiny"  # --extended: tiny_more's folder beside it
    assert (
        main(["claims", "tiny", "--out", str(runs), "--claims-dir", str(root / "claims"), "--dest", str(dest), *extra])
        == 0
    )
    return json.loads((dest / "tiny.json").read_text()) | {"md": (dest / "tiny.md").read_text()}


def losses(root: Path, study: str, lam: float) -> list[float]:
    out = {}
    for path in (root / "results" / "runs" / study).glob("*.json"):
        record = json.loads(path.read_text())
        if record["config"]["method"] == "rrr" and record["config"]["method_params"]["lam"] == lam:
            out[record["config"]["seed"]] = record["metrics"]["test"]["loss"]
    return [out[s] for s in sorted(out)]


def test_default_claims_name_the_optional_cells_and_judge_only_the_default_ones(env):
    table = claims(env)
    assert [c["id"] for c in table["claims"]] == ["T-1"] and table["cells_total"] == 1, "T-2 enters no family"
    assert "Not run by default (1 cells" in table["md"] and "`tiny_more`" in table["md"] and "T-2" in table["md"]
    assert "make claims-extended" in table["not_run"]
    assert not table["incomplete"], "the optional study's runs are not 'not done' in the default table"


def test_extended_claims_judge_every_cell_from_both_studies_records(env):
    default, extended = claims(env), claims(env, "--extended")
    assert [c["id"] for c in extended["claims"]] == ["T-1", "T-2"] and extended["cells_total"] == 2
    assert not extended["not_run"]
    t1 = {k: default["claims"][0]["cells"][0][k] for k in ("gain", "p", "n")}
    assert {k: extended["claims"][0]["cells"][0][k] for k in t1} == t1, "a default cell's numbers do not move"
    lam10, lam1000 = losses(env, "tiny_more", 10.0), losses(env, "tiny", 1000.0)
    cell = extended["claims"][1]["cells"][0]
    assert cell["n"] == 3 and cell["p"] == pytest.approx(stats.ttest_rel(lam10, lam1000).pvalue, rel=1e-5)


def test_an_extension_takes_its_base_s_settings_and_profile_blocks_but_not_its_grids():
    params = tiny_params(methods=["erm"], seeds=3, epochs=2, evaluation={"enabled": False, "probe_size": 9})
    params["studies"]["tiny"]["at_profile"] = {"quick": {"seeds": 2, "grids": [{"methods": ["erm"]}]}}
    params = with_extension(params)
    entry = extended_entry(params, params["optional_studies"]["tiny_more"])
    assert entry["seeds"] == 3 and entry["evaluation"]["probe_size"] == 9 and entry["archs"]
    assert entry["grids"] == params["optional_studies"]["tiny_more"]["grids"] and "extends" not in entry
    assert entry["at_profile"] == {"quick": {"seeds": 2}}, "the base's profile blocks without their grids"
    study = expand("tiny_more", params=params)
    assert {s.method for s in study.runs} == {"rrr[lam=10.0]"} and {s.seed for s in study.runs} == {0, 1}
    assert extensions("tiny", params) == ["tiny_more"] and extensions("tiny_more", params) == []


@pytest.mark.parametrize(
    ("where", "base", "said"),
    [
        ("studies", "tiny", "only a study under optional_studies may extend another"),
        ("optional_studies", "tiny_typo", "unknown study 'tiny_typo'"),
    ],
)
def test_a_bad_extends_is_one_line_naming_the_field(where, base, said):
    params = tiny_params()
    params.setdefault(where, {})["other"] = {"extends": base, "grids": [{"methods": ["erm"]}]}
    with pytest.raises(ContractError, match=f"{where}.other.extends: .*{said}"):
        check_params_file(params)


def test_params_yaml_keeps_ablations_vit_gap_cnn_and_fractions_out_of_the_default_claims():
    """The committed split (issue 24 item 5, the budget): these cells are in the optional studies, every other
    cell of every claims file is trained by the default pipeline."""
    papers = [load_paper(p) for p in sorted((ROOT / "claims").glob("*.yaml"))]
    records = load_studies(papers, None, None)
    kept, left = default_papers(papers, records, None)
    optional = {n.cell: n.study for cells in left.values() for n in cells}
    assert {k for k in optional if k.startswith(("CYB-1", "CYB-2"))} == {"CYB-1 · vit_tiny", "CYB-2 · vit_tiny"}
    assert {k for k in optional if k.startswith("SGT-")} == {"SGT-1 · gap_cnn", "SGT-2 · gap_cnn"}
    fractions = {f"SMOOT-{i} · sgt[fraction={f}]" for i in (1, 2) for f in (0.1, 0.3, 0.7)}
    assert {k for k in optional if k.startswith("SMOOT-")} == fractions, "SMOOT vs SGT at 0.5 stays by default"
    assert not [p for p in kept if p.name == "ambiguities" and p.claims], "every ablation is optional"
    assert set(optional.values()) == {"sgt_more", "faces_more"}
    assert all(p.claims for p in kept if p.name != "ambiguities"), "every paper keeps default cells"
    assert load_params()["optional_studies"]["faces_more"]["extends"] == "faces"

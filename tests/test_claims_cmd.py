"""``python -m benchmark claims`` on a tiny real study (erm, rrr and an rrr variant, 3 paired seeds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats
from statsmodels.stats.weightstats import ttost_paired
from sweep_helpers import sweep, tiny_params, write_params

from benchmark.cli import main
from benchmark.records.artifacts import load_array
from benchmark.statistics.consistency import pseudo_values, run_kernel
from benchmark.statistics.map_similarity import pair_similarities
from benchmark.statistics.verdicts import VERDICTS

EVALUATION = {
    "probe_size": 8,
    "ig_steps": 2,
    "mask_levels": 2,
    "sanity": False,
    "attributions": ["gradcam", "gradient"],
}
CELL = {"dataset": "tiny_digits", "arch": "simple_cnn[hidden=16]"}
CLAIMS = {
    "paper": "Tiny",
    "title": "A tiny paper",
    "citation": "Nobody. Nowhere 2026",
    "url": "https://example.org",
    "claims": [
        {
            "id": "T-1",
            "claim": "rrr beats erm",
            "published": "0.9 vs 0.5",
            "study": "tiny",
            "metric": "test/accuracy",
            "test": "superiority",
            "method": ["rrr", "rrr[lam=10.0]"],
            "reference": "erm",
            **CELL,
        },
        {
            "id": "T-2",
            "claim": "rrr keeps the in-distribution accuracy",
            "study": "tiny",
            "metric": "test_iid/accuracy",
            "test": "equivalence",
            "rope": 0.05,
            "method": "rrr",
            "reference": "erm",
            **CELL,
        },
        {
            "id": "T-3",
            "claim": "lam matters",
            "study": "tiny",
            "metric": "test/loss",
            "test": "difference",
            "method": "rrr[lam=10.0]",
            "reference": "rrr",
            **CELL,
        },
        {
            "id": "T-4",
            "claim": "rrr's saliency is more consistent",
            "study": "tiny",
            "metric": "consistency/test/gradient",
            "test": "superiority",
            "method": "rrr",
            "reference": "erm",
            **CELL,
        },
    ],
}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """(params file, runs folder, claims folder, dest of a first run)."""
    folder = tmp_path_factory.mktemp("claims")
    params = tiny_params(methods=["erm", "rrr", {"name": "rrr", "params": {"lam": 10.0}}], seeds=3)
    params["profiles"]["quick"]["evaluation"] = dict(EVALUATION)
    sweep(params, folder / "runs")
    path = write_params(folder / "params.yaml", params)
    (folder / "claims").mkdir()
    (folder / "claims" / "tiny.yaml").write_text(yaml.safe_dump(CLAIMS, sort_keys=False))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALBENCH_PARAMS", str(path))
        assert claims(folder / "runs", folder / "claims", folder / "first") == 0
    return path, folder / "runs", folder / "claims", folder / "first"


def claims(runs: Path, claims_dir: Path, dest: Path, paper: str = "tiny") -> int:
    return main(["claims", paper, "--out", str(runs), "--claims-dir", str(claims_dir), "--dest", str(dest)])


@pytest.fixture
def env(swept, monkeypatch):
    monkeypatch.setenv("SALBENCH_PARAMS", str(swept[0]))
    return swept


def snapshot(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


def values(runs: Path, method: str, params: dict, split: str, metric: str) -> np.ndarray:
    out = {}
    for path in runs.glob("*.json"):
        record = json.loads(path.read_text())
        config = record["config"]
        if (
            config["method"] == method
            and all(config["method_params"].get(k) == v for k, v in params.items())
            and (params or config["method_params"].get("lam", 1000.0) == 1000.0)
        ):
            out[config["seed"]] = record["metrics"][split][metric]
    return np.array([out[s] for s in sorted(out)])


def gradient_maps(runs: Path, method: str) -> dict[int, np.ndarray]:
    """Seed -> the stored test-split gradient maps of the default-parameter runs of ``method``."""
    out = {}
    for path in runs.glob("*.json"):
        record = json.loads(path.read_text())
        config = record["config"]
        if config["method"] == method and config["method_params"].get("lam", 1000.0) == 1000.0:
            out[config["seed"]] = load_array(path, record["artifacts"]["saliency/test/gradient"])
    return out


def test_claims_table_rows_verdicts_and_a_byte_identical_rerun(env):
    _, runs, claims_dir, dest = env
    files = snapshot(dest)
    assert {"tiny.md", "tiny.json", "tiny/claims.png"} <= set(files)
    table = json.loads(files["tiny.json"])
    assert [r["id"] for r in table["claims"]] == ["T-1", "T-2", "T-3", "T-4"], "one verdict per claims-file entry"
    cells = {r["id"]: [c["id"] for c in r["cells"]] for r in table["claims"]}
    assert cells["T-1"] == ["T-1 · rrr", "T-1 · rrr[lam=10.0]"], "a list expands into one cell each, beneath it"
    assert all(r["verdict"] in VERDICTS for r in table["claims"])
    assert sum(table["counts"].values()) == 4 and table["cells_total"] == 5, "the summary counts claims"
    text = files["tiny.md"].decode()
    assert "| ↳ T-1 · rrr " in text and "0.9 vs 0.5" in text and "What varies inside the intervals" in text
    assert "97.5% simultaneous CI" not in text and "99% simultaneous CI" in text, "1 - 0.05/5 over the 5 cells"
    assert claims(runs, claims_dir, dest) == 0
    assert snapshot(dest) == files


def test_every_claim_reports_its_stability_and_seeds(env):
    """Issue 23 part 3a (fails on the code before it): the JSON gives each claim its stability, the reruns'
    verdicts, the seeds per cell and the tested verdict; no decisive verdict is kept below 0.8."""
    _, _, _, dest = env
    table = json.loads((dest / "tiny.json").read_text())
    text = (dest / "tiny.md").read_text()
    assert "| stability (seeds)" in text and "Stability (seeds per cell):" in text
    for claim in table["claims"]:
        assert claim["seeds"] == "3" and claim["verdict_tested"] in VERDICTS
        if claim["verdict_tested"] in ("untestable", "identical runs"):
            assert claim["stability"] is None and claim["reruns"] == ""
            continue
        assert 0 <= claim["stability"] <= 1 and (claim["stability"] == 0 or claim["verdict_tested"] in claim["reruns"])
        assert f"{100 * claim['stability']:.0f}% (3 seeds)" in text
        decisive = claim["verdict_tested"] != "inconclusive"
        assert claim["verdict"] == (
            "inconclusive" if decisive and claim["stability"] < 0.8 else claim["verdict_tested"]
        )


def test_numbers_are_recomputed_from_the_record_files(env):
    _, runs, _, dest = env
    claims = {r["id"]: r for r in json.loads((dest / "tiny.json").read_text())["claims"]}
    rows = {c["id"]: c for r in claims.values() for c in r["cells"]}
    rrr, erm = values(runs, "rrr", {}, "test", "accuracy"), values(runs, "erm", {}, "test", "accuracy")
    assert rows["T-1 · rrr"]["p"] == pytest.approx(stats.ttest_rel(rrr, erm, alternative="greater").pvalue, rel=1e-5)
    assert rows["T-1 · rrr"]["gain"] == pytest.approx(np.mean(rrr - erm), rel=1e-5)
    raw = np.array([rows[i]["p"] for i in rows])
    assert claims["T-1"]["p"] == max(rows["T-1 · rrr"]["p"], rows["T-1 · rrr[lam=10.0]"]["p"]), "intersection-union"
    assert claims["T-1"]["p_holm"] >= claims["T-1"]["p"]
    assert max(r["p_holm"] for r in claims.values()) <= 1 and np.isfinite(raw).all()
    rrr_iid, erm_iid = values(runs, "rrr", {}, "test_iid", "accuracy"), values(runs, "erm", {}, "test_iid", "accuracy")
    if np.std(rrr_iid - erm_iid) > 0:
        assert rows["T-2"]["p"] == pytest.approx(ttost_paired(rrr_iid, erm_iid, -0.05, 0.05)[0], rel=1e-5)
    consistency = rows["T-4"]
    assert consistency["n"] == 3 and consistency["images"] == 8, "consistency pairs the 3 runs by seed, not images"
    maps = {m: np.stack([a for _, a in sorted(gradient_maps(runs, m).items())]) for m in ("rrr", "erm")}
    pseudo = {m: pseudo_values(run_kernel(pair_similarities(x)["spearman"])) for m, x in maps.items()}
    assert consistency["p"] == pytest.approx(
        stats.ttest_rel(pseudo["rrr"], pseudo["erm"], alternative="greater").pvalue, rel=1e-5
    )
    if claims["T-4"]["verdict"] == "inconclusive":
        assert claims["T-4"]["seeds_needed"] >= 2, "more runs add replication: the seeds figure counts runs"
    assert "jackknife" in claims["T-4"]["test_name"] and "seeds" in consistency["varies"]
    assert "initialisation, data order" in rows["T-1 · rrr"]["varies"]
    assert "the train/val split is fixed" in rows["T-1 · rrr"]["varies"], "read from the records' configs"


def test_a_deleted_record_is_named_and_its_seed_left_out(env, tmp_path, capsys):
    _, runs, claims_dir, _ = env
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    gone = next(p for p in sorted(copy.glob("*.json")) if json.loads(p.read_text())["config"]["method"] == "erm")
    gone.unlink()
    assert claims(copy, claims_dir, tmp_path / "out") == 0
    table = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert any("erm" in line and "missing" in line for line in table["incomplete"])
    row = next(c for r in table["claims"] for c in r["cells"] if c["id"] == "T-1 · rrr")
    assert row["n"] == 2 and "reference: 1 of 3 runs not done (1 missing)" in row["notes"]
    assert "not done:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["claims"][0].update(metric="test/nonsense"), "has no declared direction"),
        (lambda c: c["claims"][0].update(method="sgt"), "has no run in study 'tiny'"),
        (lambda c: c["claims"][0].update(test="bigger"), "unknown test 'bigger'"),
        (lambda c: c["claims"][0].update(study="nowhere"), "nowhere"),
        (lambda c: c["claims"][1].update(id="T-1 · rrr"), "duplicate claim id"),
        (lambda c: c["claims"][0].pop("reference"), "missing 'reference'"),
    ],
)
def test_a_bad_claims_file_exits_2_names_the_problem_and_writes_nothing(env, tmp_path, capsys, change, message):
    _, runs, _, _ = env
    bad = json.loads(json.dumps(CLAIMS))
    change(bad)
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "tiny.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
    assert claims(runs, tmp_path / "claims", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_unknown_paper_lists_the_known_ones(env, tmp_path, capsys):
    _, runs, claims_dir, _ = env
    assert claims(runs, claims_dir, tmp_path / "out", paper="nope") == 2
    assert "known papers: ['tiny']" in capsys.readouterr().err

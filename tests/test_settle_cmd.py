"""``python -m benchmark settle`` on a tiny real study (issue 23 part 3b; docs/statistics.md §1.18): only the
row that is not settled gets seeds, as ordinary records; a second settle trains nothing; ``claims`` reads the
plan and shows the row's looks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from sweep_helpers import Flaky, sweep, tiny_params, write_params

from benchmark.cli import main
from benchmark.statistics import sequential

CELL = {"study": "tiny", "dataset": "tiny_digits", "arch": "simple_cnn[hidden=16]"}
CLAIMS = {
    "paper": "Tiny",
    "title": "A tiny paper",
    "citation": "Nobody. Nowhere 2026",
    "url": "https://example.org",
    "claims": [
        # 3 seeds of 1 epoch: nothing clears look 1's nominal level (0.003), so this row gets seeds
        {"id": "T-1", "claim": "rrr beats erm", "metric": "test/accuracy", "test": "superiority", **CELL}
        | {"method": "rrr", "reference": "erm"},
        # every run of the test method fails: untestable, a verdict that more seeds would not change
        {"id": "T-2", "claim": "a broken method beats erm", "metric": "test/accuracy", "test": "superiority", **CELL}
        | {"method": f"{Flaky.name}[mode=raise]", "reference": "erm"},
    ],
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("settle")
    params = tiny_params(methods=["erm", "rrr", {"name": Flaky.name, "params": {"mode": "raise"}}], seeds=3)
    sweep(params, folder / "runs")
    (folder / "claims").mkdir()
    (folder / "claims" / "tiny.yaml").write_text(yaml.safe_dump(CLAIMS, sort_keys=False))
    return write_params(folder / "params.yaml", params), folder


def settle(folder: Path, *extra: str) -> int:
    common = ["--out", str(folder / "runs"), "--claims-dir", str(folder / "claims"), "--root", str(folder / "settle")]
    return main(["settle", *extra, *common])


def configs(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text())["config"] for p in sorted(folder.glob("*.json"))}


def test_settle_adds_seeds_to_the_unsettled_row_only_and_claims_shows_its_looks(study, monkeypatch):
    params, folder = study
    monkeypatch.setenv("SALBENCH_PARAMS", str(params))
    assert settle(folder, "tiny", "--max-seeds", "6", "--group", "3", "--quiet") == 0
    added = configs(folder / "settle" / "tiny")
    assert sorted((c["method"], c["seed"]) for c in added.values()) == [
        (m, s) for m in ("erm", "rrr") for s in (3, 4, 5)
    ]  # T-1's two sides, paired by seed; T-2's test method got none
    base = {(c["method"], c["seed"]): c for c in configs(folder / "runs").values()}
    for config in added.values():  # an ordinary record: the study's config but the seed
        assert {**config, "seed": 0} == base[(config["method"], 0)]
    plan = json.loads((folder / "settle" / "plan.json").read_text())
    assert plan == {"papers": ["tiny"], "max_seeds": 6, "group": 3, "alpha": 0.05}

    before = {p.name: p.read_bytes() for p in (folder / "settle" / "tiny").glob("*.json")}
    assert settle(folder, "tiny", "--max-seeds", "6", "--group", "3", "--quiet") == 0  # resumable: a no-op
    assert {p.name: p.read_bytes() for p in (folder / "settle" / "tiny").glob("*.json")} == before

    dest = folder / "out"
    args = ["claims", "tiny", "--out", str(folder / "runs"), "--claims-dir", str(folder / "claims")]
    assert main([*args, "--dest", str(dest), "--settle", str(folder / "settle")]) == 0
    rows = {r["id"]: r for r in json.loads((dest / "tiny.json").read_text())["claims"]}
    alphas = sequential.plan(3, 3, 6).alphas
    assert (rows["T-1"]["looks"], rows["T-1"]["looks_planned"], rows["T-1"]["seeds"]) == (2, 2, "6")
    assert rows["T-1"]["alpha_look"] == pytest.approx(alphas[1], rel=1e-4)
    assert (rows["T-2"]["looks"], rows["T-2"]["verdict"], rows["T-2"]["seeds"]) == (1, "untestable", "0")
    assert rows["T-2"]["alpha_look"] == pytest.approx(alphas[0], rel=1e-4)
    assert rows["T-1"]["verdict"] != "untestable"
    partial = folder / "partial"  # a look whose runs are not all there: claims stops the row at its look
    shutil.copytree(folder / "settle", partial)
    next(iter(sorted((partial / "tiny").glob("*.json")))).unlink()
    assert main([*args, "--dest", str(folder / "out_partial"), "--settle", str(partial)]) == 0
    stopped = {r["id"]: r for r in json.loads((folder / "out_partial" / "tiny.json").read_text())["claims"]}
    assert (stopped["T-1"]["looks"], stopped["T-1"]["seeds"]) == (1, "3")
    assert stopped["T-1"]["alpha_look"] == pytest.approx(alphas[0], rel=1e-4)
    assert "O'Brien–Fleming-type α spending" in (dest / "tiny.md").read_text()  # the legend states the design
    assert f"6 seeds; look 2 of 2, α = {alphas[1]:.3g}" in (dest / "tiny.md").read_text()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["nopaper"], "no claims file"),
        (["tiny", "--max-seeds", "2"], "--max-seeds 2 is below study 'tiny''s 3 seeds"),
        (["tiny", "--group", "0"], "--group must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(study, monkeypatch, capsys, tmp_path, extra, said):
    params, folder = study
    monkeypatch.setenv("SALBENCH_PARAMS", str(params))
    common = ["--out", str(folder / "runs"), "--claims-dir", str(folder / "claims"), "--root", str(tmp_path / "s")]
    assert main(["settle", *extra, *common]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0]
    assert not (tmp_path / "s").exists()

"""``submit METHOD --verify --rerun K``, the sentinel re-run (``benchmark.submission.rerun``; issue 24): the seeded
draw, K refused outside 1..N before any compute, the comparison naming run, field and both values, and the
leaderboard's mark read from the bundle's ``verification.json``. The real re-run of a ``hint`` bundle at the tiny
profile (2/2 identical; an edited record with its sha256 recomputed named) is in tests/test_contributing.py, on
the bundle its guide run makes; ``cheat`` below is the edit it makes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from leaderboard_fixtures import link, write_submission
from test_leaderboard_page import both

from benchmark.reports.leaderboard.html import index_html
from benchmark.reports.leaderboard.markdown import markdown_page
from benchmark.reports.leaderboard.page import gather
from benchmark.reports.leaderboard.submissions import VERIFICATION, bundle_digest
from benchmark.statistics import descriptions
from benchmark.submission import rerun

ROOT = Path(__file__).resolve().parent.parent


def cheat(bundle: Path, split: str, metric: str, value: float, k: int = 2) -> tuple[str, float, str]:
    """Edit ``metrics.SPLIT.METRIC`` of the bundle's first record and recompute its sha256 in fingerprints.json
    and that file's in submission.json, as a cheater would (the record written as ``records.record_store.record_text`` writes it); returns (the
    run, its original value, a salt whose draw of ``k`` runs includes it: the first of s0, s1, ...)."""
    key = rerun.bundle_runs(bundle)[0]
    path = bundle / "records" / f"{key}.json"
    data = json.loads(path.read_text())
    original = data["metrics"][split][metric]
    data["metrics"][split][metric] = value
    path.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")
    prints = json.loads((bundle / "fingerprints.json").read_text())
    prints[key]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / "fingerprints.json").write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n")
    submission = json.loads((bundle / "submission.json").read_text())
    submission["file_sha256"]["fingerprints.json"] = hashlib.sha256(
        (bundle / "fingerprints.json").read_bytes()
    ).hexdigest()
    (bundle / "submission.json").write_text(json.dumps(submission, indent=1, sort_keys=True) + "\n")
    salt = next(f"s{i}" for i in range(1000) if key in rerun.choose(bundle, k, f"s{i}"))
    return key, original, salt


def fake_bundle(folder: Path, runs: int) -> Path:
    """A bundle's files as far as the draw reads them: claim.json, fingerprints.json and ``runs`` record files."""
    for i in range(runs):
        path = folder / "records" / ("decoy" if i % 2 else "faces") / f"{i:016x}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    (folder / "claim.json").write_text(json.dumps({"method": "erm", "profile": "tiny", "studies": {}}) + "\n")
    (folder / "fingerprints.json").write_text("{}\n")
    return folder


def test_the_draw_is_fixed_by_the_bundle_and_the_salt(tmp_path):
    bundle = fake_bundle(tmp_path / "erm", runs=6)
    runs = rerun.bundle_runs(bundle)
    first = rerun.choose(bundle, 2, "salt")
    assert first == rerun.choose(bundle, 2, "salt") and len(set(first)) == 2 and set(first) <= set(runs)
    assert first == sorted(first), "in the bundle's order"
    draws = {tuple(rerun.choose(bundle, 2, f"s{i}")) for i in range(40)}
    assert len(draws) > 5, "another salt, another draw"
    seed = rerun.draw_seed(bundle_digest(bundle), "salt")
    assert seed == int.from_bytes(hashlib.sha256(f"{bundle_digest(bundle)}:salt".encode()).digest()[:8], "big")
    (bundle / "claim.json").write_text('{"method": "erm", "edited": true}\n')
    assert rerun.draw_seed(bundle_digest(bundle), "salt") != seed, "the seed pins the claim"
    assert rerun.chance_of_drawing(6, 2) == pytest.approx(1 / 3)
    assert rerun.chance_of_drawing(6, 2, edited=2) == pytest.approx(1 - 6 / 15)  # 1 - C(4,2)/C(6,2)


def submit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SALBENCH_ROOT": str(ROOT), "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "benchmark", "submit", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("k", ["0", "4"])
def test_a_k_outside_1_to_n_is_one_line_exit_2_before_any_compute(tmp_path, k):
    bundle = fake_bundle(tmp_path / "erm", runs=3)
    out = submit("erm", "--verify", "--rerun", k, "--submissions", str(tmp_path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.splitlines() == [f"error: --rerun {k}: K must be between 1 and the bundle's 3 runs"]
    assert out.stdout == "" and not (bundle / VERIFICATION).exists()


def test_submit_refuses_a_k_above_its_protocols_runs_before_the_checks(tmp_path):
    out = submit("gradia", "--profile", "tiny", "--rerun", "99", "--submissions", str(tmp_path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "error: --rerun 99: K must be between 1 and the bundle's 6 runs" in out.stderr.splitlines()
    assert "check 1/4" not in out.stdout and not (tmp_path / "gradia").exists()


def record(weights: str = "w1", **metrics: dict) -> SimpleNamespace:
    return SimpleNamespace(extra={"weights_sha256": weights}, metrics=metrics)


def test_the_comparison_names_the_run_the_field_and_both_values():
    base = record(test={"accuracy": 0.5, "loss": 1.25, "saliency/cam/auroc": None})
    assert rerun.differences("decoy/abc", base, record(test=dict(base.metrics["test"]))) == []
    ulp = 0.5000000000000001
    other = record("w2", test={"accuracy": ulp, "loss": 1.25}, val={"accuracy": 1.0})
    assert rerun.differences("decoy/abc", base, other) == [
        "decoy/abc: extra.weights_sha256: recorded w1, re-run w2",
        f"decoy/abc: metrics.test.accuracy: recorded 0.5, re-run {ulp!r}",
        "decoy/abc: metrics.test.saliency/cam/auroc: recorded None, re-run absent",
        "decoy/abc: metrics.val.accuracy: recorded absent, re-run 1.0",
    ]
    # on a GPU: within each metric's stated tolerance, the weights digest not required
    near = record("w2", test={"accuracy": 0.505, "loss": 1.3, "saliency/cam/auroc": None})
    assert rerun.differences("f/x", base, near, on_gpu=True) == []
    far = record("w2", test={"accuracy": 0.52, "loss": 1.25, "saliency/cam/auroc": None})
    assert rerun.differences("f/x", base, far, on_gpu=True) == [
        "f/x: metrics.test.accuracy: recorded 0.5, re-run 0.52 (tolerance ±0.01)"
    ]


def verified(folder: Path, identical: int, k: int = 2) -> None:
    """A verification.json for the bundle in ``folder`` as ``--rerun k`` writes it, ``identical`` of them so."""
    (folder / "fingerprints.json").write_text("{}\n")
    chosen = [f"alpha/run{i}" for i in range(k)]
    result = rerun.Rerun(k, 5, "salt", 1, bundle_digest(folder), chosen, identical=chosen[:identical])
    rerun.write_verification(folder, result)


def test_the_leaderboard_marks_a_row_from_its_bundles_verification(tmp_path, monkeypatch):
    subs = tmp_path / "results" / "submissions"
    verified(write_submission(tmp_path, subs, "focus"), identical=2)
    verified(write_submission(tmp_path, subs, "mixed", profile="tiny"), identical=1)
    write_submission(tmp_path, subs, "plain")
    monkeypatch.setattr(descriptions, "SENTINEL_RERUN", replace(descriptions.SENTINEL_RERUN, name="Sigma-rerun"))
    page = gather(both(), subs, tmp_path, link=link)
    marks = {r.label: r.rerun for r in [*page.rows, *page.apart] if r.kind == "submission"}
    assert marks == {"focus": "re-run: 2/2 identical", "mixed": "re-run: 1/2 identical", "plain": ""}
    md = markdown_page(page, {}, tmp_path, tmp_path / "leaderboards")
    assert "*(submission, profile quick; re-run: 2/2 identical)*" in md
    assert "*(submission, profile tiny; re-run: 1/2 identical)*" in md
    assert "Sigma-rerun (`numpy.random.Generator.choice" in md, "the legend states the re-run's description"
    assert "submission · quick · re-run: 2/2 identical" in index_html(page, {})
    (subs / "focus" / "claim.json").write_text((subs / "focus" / "claim.json").read_text().replace("1.5", "1.25"))
    again = next(r for r in gather(both(), subs, tmp_path, link=link).rows if r.label == "focus")
    assert again.rerun == "re-run: outdated (the bundle changed since; re-run again)"

"""``python -m benchmark submit``: refusals before any compute, failed checks as one line each with exit 2 and
nothing written, ``--checks-only``. (The whole protocol at the tiny profile runs in tests/test_contributing.py,
the guide's own example; the protocol's pieces in tests/test_submission_protocol.py.)

Each case runs the command in a temporary project (``SALBENCH_ROOT``: the repository's methods, datasets,
params.yaml and published searches linked, an empty ``results/``), so nothing is written into the checkout. The
refusals run ``python -m benchmark`` (the real exit path); ``--checks-only`` runs in this process
(``benchmark.cli.main``) with a cheaper cost measurement (``CHEAP_COST``, as tests/test_submission_checks.py: the
cost check's own tests are tests/test_submission_cost.py), since the default's rounds took 20 of its 27 s."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.registry import DATASETS, METHODS
from benchmark.submission import checks
from benchmark.submission.cost import CostSettings

ROOT = Path(__file__).resolve().parent.parent

NAN_METHOD = '''"""A method whose loss is NaN,

    L = CE(f(x), y) * nan
"""
import torch.nn.functional as F
from benchmark.contracts import Cost, Method
from benchmark.registry import register_method


@register_method
class NanLoss(Method):
    name = "nanloss"
    citation = "Nobody. A broken method. Nowhere 2026"
    url = "https://arxiv.org/abs/2401.00001"
    cost = Cost(forward=1, backward=1)

    def loss(self, net, batch, state):
        ce = F.cross_entropy(net(batch.x).logits, batch.y) * float("nan")
        return ce, {"ce": ce.detach()}
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "methods").mkdir()
    for path in (ROOT / "methods").glob("*.py"):
        (tmp_path / "methods" / path.name).symlink_to(path)
    (tmp_path / "methods" / "nanloss.py").write_text(NAN_METHOD)
    for name in ("datasets", "params.yaml", "claims"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "results" / "search").mkdir(parents=True)
    for path in (ROOT / "results" / "search").glob("*.json"):
        (tmp_path / "results" / "search" / path.name).symlink_to(path)
    return tmp_path


def submit(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SALBENCH_ROOT": str(project), "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "benchmark", "submit", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def written(project: Path, method: str) -> list[Path]:
    return [
        p
        for p in (project / "results" / "submissions" / method, project / "results" / "submission-work" / method)
        if p.exists()
    ]


def test_an_unknown_method_is_one_line_naming_the_closest(project):
    out = submit(project, "gradiaa", "--profile", "tiny")
    assert out.returncode == 2
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "unknown method 'gradiaa'; did you mean 'gradia'?" in errors[0], out.stderr
    assert written(project, "gradiaa") == []


def test_a_failed_check_names_check_arch_dataset_and_fix_and_writes_nothing(project):
    out = submit(project, "nanloss", "--profile", "tiny")
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert any(
        line.startswith("error: check 'smoke' failed on arch simple_cnn, dataset decoy_digits: ") and "; fix: " in line
        for line in errors
    ), out.stderr
    assert any("check 'smoke' failed on arch gap_cnn, dataset toy_faces: " in line for line in errors), out.stderr
    assert len(errors) == 2, out.stderr  # determinism and honesty are skipped after a failed smoke run
    assert "check 3/4 determinism: skipped (the smoke run failed)" in out.stdout
    assert written(project, "nanloss") == []


CHEAP_COST = CostSettings(
    batch_size=16, rounds=3, max_rounds=3, max_half_width=float("inf"), min_run_time=0.01, warmup=1, unit_rounds=1
)


def test_checks_only_runs_checks_1_to_4_and_writes_nothing(project, monkeypatch, capsys):
    METHODS.load()  # the registries from the checkout (the project links the same files), before SALBENCH_ROOT
    DATASETS.load()
    monkeypatch.setenv("SALBENCH_ROOT", str(project))
    monkeypatch.chdir(project)
    monkeypatch.setattr(checks, "run_checks", functools.partial(checks.run_checks, cost_settings=CHEAP_COST))
    code = main(["submit", "gradia", "--profile", "tiny", "--checks-only"])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "check 1/4 contract: ok (methods/gradia.py)" in out.out
    assert "check 4/4 honesty: ok" in out.out and all(f"  cost {a} (" in out.out for a in ("simple_cnn", "gap_cnn"))
    assert "study decoy (profile tiny): 3 runs, 3 seeds in 1 cell(s): decoy_digits/simple_cnn" in out.out
    assert "the protocol was not run (--checks-only); nothing written" in out.out
    assert written(project, "gradia") == []


def test_a_bundle_folder_it_did_not_write_is_refused_before_any_check(project):
    foreign = project / "results" / "submissions" / "gradia"
    foreign.mkdir(parents=True)
    (foreign / "mine.txt").write_text("not the program's")
    out = submit(project, "gradia", "--profile", "tiny")
    assert out.returncode == 2
    assert "exists and was not written by `python -m benchmark submit`" in out.stderr
    assert "check 1/4" not in out.stdout
    assert sorted(p.name for p in foreign.iterdir()) == ["mine.txt"]

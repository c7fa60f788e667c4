"""Sweeps: study expansion, a SIGKILLed sweep resumes to the same records, failures are recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import Flaky, records, sweep, tiny_params, write_params

from benchmark.contracts import ContractError
from benchmark.records.identity import run_id
from benchmark.records.record_store import read_record
from benchmark.runs.run import resolve_config
from benchmark.sweeps.study import HAS_EVALUATION, expand
from benchmark.sweeps.worker import WORK_TIMINGS, guard_checkpoint

ROOT = Path(__file__).resolve().parent.parent
FLAKY = Flaky.name


def test_study_expands_the_grid_with_profile_and_study_settings():
    params = tiny_params(
        methods=["erm", {"name": FLAKY, "params": {"scale": 2}, "grid": {"mode": ["ok", "nan"]}}],
        seeds=2,
        epochs=1,
        batch_size=32,
        evaluation={"enabled": True, "probe_size": 32},
        datasets=["tiny_digits", {"name": "tiny_digits", "params": {"noise": 0.0}}],
    )
    params["profiles"]["quick"]["optimizer"] = {"name": "sgd", "lr": 0.1}
    study = expand("tiny", params=params)
    assert len(study.runs) == 3 * 2 * 2  # (erm + flaky x 2 modes) x 2 dataset items x 2 seeds
    assert [run.seed for run in study.runs] == [0] * 6 + [1] * 6  # seed-major: a killed sweep has whole seeds
    labels = [run.label for run in study.runs[:6]]
    assert labels[:3] == [
        "erm/simple_cnn[hidden=16]/tiny_digits/seed=0",
        f"{FLAKY}[mode=ok,scale=2]/simple_cnn[hidden=16]/tiny_digits/seed=0",
        f"{FLAKY}[mode=nan,scale=2]/simple_cnn[hidden=16]/tiny_digits/seed=0",
    ]
    assert labels[3] == "erm/simple_cnn[hidden=16]/tiny_digits[noise=0.0]/seed=0"
    flaky = study.runs[2].config
    assert flaky.method_params == {"mode": "nan", "scale": 2.0}  # resolved: int 2 -> float
    assert flaky.dataset == "decoy_digits" and flaky.dataset_params["image_size"] == 12
    assert study.runs[3].config.dataset_params["noise"] == 0.0
    assert flaky.batch_size == 32 and flaky.epochs == 1 and flaky.optimizer == {"name": "sgd", "lr": 0.1}
    if HAS_EVALUATION:  # the study's evaluation settings refine the profile's
        assert flaky.evaluation["enabled"] is True and flaky.evaluation["probe_size"] == 32
    for run in study.runs:
        assert run.run_id == run_id(resolve_config(run.config))  # what the record will be named
    assert len({run.run_id for run in study.runs}) == len(study.runs)


def test_grids_form_a_union_without_duplicates_and_profiles_switch_settings():
    params = tiny_params(seeds=[3], grids=[{}, {"methods": ["erm", FLAKY]}])
    params["profiles"]["long"] = {"epochs": 4, "checkpoint": True, "threads": None}
    study = expand("tiny", params=params)
    assert [run.method for run in study.runs] == ["erm", FLAKY]
    long = expand("tiny", profile="long", params=params)
    assert long.profile.checkpoint and long.profile.threads is None
    assert all(run.config.epochs == 4 for run in long.runs)
    assert {r.run_id for r in long.runs}.isdisjoint(r.run_id for r in study.runs)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda p: p["studies"]["tiny"].update(metods=["erm"]),
            "studies.tiny: unknown key 'metods'; did you mean 'methods'?",
        ),
        (lambda p: p["studies"]["tiny"].update(methods=["nope"]), "studies.tiny: unknown method 'nope'"),
        (
            lambda p: p["studies"]["tiny"].update(seeds=-1),
            "studies.tiny.seeds: must be a count (N -> 0..N-1) or a list of non-negative integers, got -1",
        ),
        (lambda p: p["studies"]["tiny"].update(seeds=10**9), "studies.tiny.seeds: count 1000000000 exceeds 10000"),
        (lambda p: p["studies"]["tiny"].update(datasets=["nope"]), "unknown dataset 'nope'"),
        (
            lambda p: p["studies"]["tiny"].update(methods=[{"name": FLAKY, "grid": {"mode": "nan"}}]),
            "studies.tiny.methods[0].grid.mode: expected a non-empty list",
        ),
        (
            lambda p: p["studies"]["tiny"].update(methods=[{"name": FLAKY, "params": {"mode": "boom"}}]),
            "hyperparameter 'mode' must be one of ['ok', 'raise', 'nan']",
        ),
        (
            lambda p: p["studies"]["tiny"].update(optimizer={"name": "rmsprop"}),
            "studies.tiny.optimizer.name: unknown optimizer 'rmsprop'",
        ),
        (
            lambda p: p["studies"]["tiny"].update(grids=[{"seeds": 1, "archs": []}]),
            "studies.tiny.grids[0].archs: expected a non-empty list",
        ),
        (
            lambda p: p["studies"]["tiny"].update(epochs="ten"),
            "studies.tiny.epochs: must be an integer >= 1, got 'ten'",
        ),
        (lambda p: p["studies"]["tiny"].update(profile="nope"), "unknown profile 'nope'"),
        (lambda p: p["profiles"]["quick"].update(threads=0), "profiles.quick.threads: must be an integer >= 1, got 0"),
    ],
)
def test_study_errors_name_the_place(edit, message):
    params = tiny_params()
    edit(params)
    with pytest.raises(ContractError) as info:
        expand("tiny", params=params)
    assert message in str(info.value)
    with pytest.raises(ContractError, match=r"unknown study 'other'; studies in .*: \['tiny'\]"):
        expand(
            "other", params=tiny_params()
        )  # (a document with an error anywhere is refused before the study is looked up)


def test_failed_runs_write_failure_records_and_the_sweep_goes_on(tmp_path):
    params = tiny_params(methods=[{"name": FLAKY, "grid": {"mode": ["raise", "nan", "ok"]}}], seeds=1)
    summary = sweep(params, tmp_path)
    assert (summary.ok, summary.failed, summary.lost, summary.skipped) == (1, 2, 0, 0)
    by_mode = {r.config["method_params"]["mode"]: r for r in map(read_record, tmp_path.glob("*.json"))}
    assert by_mode["ok"].status == "ok" and by_mode["ok"].error is None
    raised, nan = by_mode["raise"], by_mode["nan"]
    assert raised.status == nan.status == "failed"
    assert raised.error["type"] == "RuntimeError" and raised.error["message"] == "flaky method failed on purpose"
    assert 'raise RuntimeError("flaky method failed on purpose")' in raised.error["traceback"]
    assert nan.error["type"] == "NonFiniteLoss" and "the training diverged: non-finite" in nan.error["message"]
    assert nan.fingerprint == by_mode["ok"].fingerprint and set(nan.fingerprint) == {
        "method",
        "dataset",
        "arch",
        "core",
    }
    assert not raised.metrics
    again = sweep(params, tmp_path)
    assert (again.ok, again.failed, again.skipped) == (0, 0, 3), "failures are results: not redone by default"
    retried = sweep(params, tmp_path, retry_failed=True)
    assert (retried.ok, retried.failed, retried.skipped) == (0, 2, 1)


def test_checkpoint_of_other_code_is_discarded_and_of_same_code_kept(tmp_path):
    ckpt = tmp_path / "abc.ckpt"
    ckpt.write_bytes(b"weights")
    guard_checkpoint(tmp_path, "abc", {"core": "old"})
    assert not ckpt.exists(), "a checkpoint without a code stamp is not trusted"
    ckpt.write_bytes(b"weights")
    guard_checkpoint(tmp_path, "abc", {"core": "old"})
    assert ckpt.exists(), "same code: resume"
    guard_checkpoint(tmp_path, "abc", {"core": "new"})
    assert not ckpt.exists(), "code changed since the checkpoint: restart"


def _group_stopped(pgid: int) -> bool:
    """Every process of the group is stopped (state T in /proc): nothing can write any more."""
    states = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            states.append(fields[0])
    return bool(states) and all(state in "TtZX" for state in states)


STOP_WAIT = 5.0  # seconds a SIGSTOPped process group gets to reach state T


def freeze_when(proc: subprocess.Popen, condition, deadline: float) -> bool:
    """SIGSTOP the process group once ``condition()`` holds, re-checked while every process is
    stopped (a run may finish between a check and a signal); True when frozen in that state."""
    while proc.poll() is None and time.monotonic() < deadline:
        if condition():
            os.killpg(proc.pid, signal.SIGSTOP)
            # A worker in uninterruptible I/O (state D) can take minutes to reach T (seen once in six runs under
            # load): wait a bounded time, then judge by the files; SIGKILL follows either way.
            stop_by = min(deadline, time.monotonic() + STOP_WAIT)
            while not _group_stopped(proc.pid) and time.monotonic() < stop_by:
                time.sleep(0.001)
            if condition():
                return True
            os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.01)
    return False


def test_sigkilled_sweep_resumes_to_the_records_of_an_uninterrupted_sweep(tmp_path):
    """kill -9 the sweep and its workers once a run is recorded and another has an epoch checkpoint."""
    params = tiny_params(seeds=3, epochs=3, checkpoint=True)
    env = {**os.environ, "SALBENCH_PARAMS": str(write_params(tmp_path / "params.yaml", params))}
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmark", "sweep", "tiny", "--out", str(killed), "--jobs", "2", "--quiet"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def one_recorded_and_one_mid_way() -> bool:
        recorded = {p.stem for p in killed.glob("*.json")}
        return bool(recorded) and any(p.stem not in recorded for p in killed.glob("*.ckpt"))

    frozen = freeze_when(proc, one_recorded_and_one_mid_way, time.monotonic() + 300)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
    proc.wait()
    assert frozen and proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    finished_before_kill = len(list(killed.glob("*.json")))
    assert 1 <= finished_before_kill < 3 and list(killed.glob("*.ckpt"))
    resumed = sweep(params, killed)
    assert resumed.skipped == finished_before_kill and resumed.ok == 3 - finished_before_kill
    assert any(read_record(p).timing["resumed_from_epoch"] > 0 for p in killed.glob("*.json")), "a run resumed mid-way"
    full = sweep(params, tmp_path / "full")
    assert full.ok == 3
    assert records(killed) == records(tmp_path / "full")
    assert not list(killed.glob("*.ckpt")) and not list(killed.glob("*.tmp")) and not list(killed.glob("*.code"))


@pytest.mark.slow
def test_runner_overhead_per_run_is_under_half_a_second(tmp_path):
    """100 one-epoch runs in one process: sweep wall time minus the runs' own train+eval time."""
    params = tiny_params(seeds=100, epochs=1)
    started = time.perf_counter()
    summary = sweep(params, tmp_path)
    wall = time.perf_counter() - started
    compute = sum(read_record(p).timing.get(key, 0.0) for p in tmp_path.glob("*.json") for key in WORK_TIMINGS)
    overhead = (wall - compute) / summary.ok
    print(f"100 runs: wall {wall:.1f} s, train+eval {compute:.1f} s, overhead {overhead:.3f} s/run")
    assert summary.ok == 100 and overhead < 0.5

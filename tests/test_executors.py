"""Every executor gives the records of the in-process sweep, byte for byte apart from timing."""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys

import pytest
import torch
from sweep_helpers import records, sweep, tiny_params

from benchmark.contracts import ContractError
from benchmark.numerics import IN_EFFECT
from benchmark.sweeps.executors import LocalExecutor, RayExecutor, SlurmExecutor, make_executor, with_threads
from benchmark.sweeps.study import expand
from benchmark.sweeps.worker import make_task

PARAMS = tiny_params(seeds=2)


def pinned_numerics(folder) -> bool:
    """Every record's environment says its worker computed with the portable pins (read back there)."""
    found = [
        {k.removeprefix("numerics_"): v for k, v in json.loads(p.read_text())["environment"].items() if "numerics" in k}
        for p in sorted(folder.glob("*.json"))
    ]
    return bool(found) and all(f == IN_EFFECT for f in found)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    assert sweep(PARAMS, folder, LocalExecutor(1)).ok == 2
    return records(folder)


def test_local_process_pool_gives_the_in_process_records(reference, tmp_path):
    summary = sweep(PARAMS, tmp_path, LocalExecutor(2))
    assert (summary.ok, summary.failed, summary.lost) == (2, 0, 0)
    assert records(tmp_path) == reference and pinned_numerics(tmp_path)


def test_the_hosts_thread_count_does_not_reach_the_run(reference, tmp_path):
    """The profile pins a run's threads (tiny: 1): a process computing with 2 gives the same records."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert sweep(PARAMS, tmp_path, LocalExecutor(1)).ok == 2
    finally:
        torch.set_num_threads(before)
    assert records(tmp_path) == reference


def test_slurm_job_array_via_submitit_local_gives_the_same_records(reference, tmp_path):
    pytest.importorskip("submitit")
    executor = SlurmExecutor(
        tmp_path / "logs", {"time_min": 5, "poll_seconds": 0.2, "partition": "gpu", "gres": "gpu:1"}, cluster="local"
    )
    summary = sweep(PARAMS, tmp_path / "runs", executor)
    assert (summary.ok, summary.failed, summary.lost) == (2, 0, 0)
    assert records(tmp_path / "runs") == reference and pinned_numerics(tmp_path / "runs")
    assert (
        len(list((tmp_path / "logs").glob("*_submission.sh"))) + len(list((tmp_path / "logs").glob("*_result.pkl")))
        >= 2
    )


def test_ray_local_instance_gives_the_same_records(reference, tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
    # Ray renices its workers to 15: beside the other xdist worker (or anything else busy) they starved, and
    # this test took 80 s instead of 15 on a busy 2-core machine. The local instance's processes read the
    # variable when ray.init starts them.
    monkeypatch.setenv("RAY_worker_niceness", "0")
    summary = sweep(PARAMS, tmp_path, RayExecutor(jobs=2, device="cpu"))
    assert (summary.ok, summary.failed, summary.lost) == (2, 0, 0)
    assert records(tmp_path) == reference and pinned_numerics(tmp_path)


def test_executor_settings_fail_clearly(tmp_path, monkeypatch):
    with pytest.raises(ContractError, match=r"unknown executor 'dask'; known: \['local', 'ray', 'slurm'\]"):
        make_executor("dask")
    with pytest.raises(ContractError, match=r"--jobs must be a positive integer or 'auto', got 0"):
        LocalExecutor(0)
    monkeypatch.setattr("benchmark.sweeps.executors.available_cores", lambda: 8)
    assert LocalExecutor("auto", "cpu", threads=1).jobs == 8 and LocalExecutor("auto", "cpu", threads=4).jobs == 2
    assert LocalExecutor("auto", "cpu", threads=16).jobs == 1
    with pytest.raises(ContractError, match=r"profile slurm: unknown key 'partiton'; did you mean 'partition'\?"):
        SlurmExecutor(tmp_path, {"partiton": "gpu"}, cluster="local")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ContractError, match=r"--executor ray needs Ray, an optional extra: pip install '.\[ray\]'"):
        make_executor("ray")


def test_a_task_is_a_frozen_picklable_dataclass(tmp_path):
    study = expand("tiny", params=PARAMS)
    task = make_task(study.runs[0], study.profile, tmp_path, data_root=tmp_path / "data")
    assert pickle.loads(pickle.dumps(task)) == task  # process pools, Ray and submitit pickle it
    assert task.out_dir == tmp_path.resolve() and task.data_root == (tmp_path / "data").resolve()
    assert task.config == study.runs[0].config.to_dict() and task.run_id == study.runs[0].run_id
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.threads = 2  # type: ignore[misc]
    open_threads = dataclasses.replace(task, threads=None)
    assert [t.threads for t in with_threads([task, open_threads], 4)] == [task.threads, 4]

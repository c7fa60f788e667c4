"""GPU sweeps without a GPU: the devices the local pool's workers get (monkeypatched device counts), the
device a worker's run uses, Ray's retries (a fake ``ray`` module when Ray is absent) and the SLURM array
element that a requeue resumes (submitit's checkpoint protocol)."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import torch
from sweep_helpers import records, sweep, tiny_params

from benchmark.contracts import ContractError
from benchmark.sweeps import executors, worker
from benchmark.sweeps.executors import LocalExecutor
from benchmark.sweeps.study import expand
from benchmark.sweeps.worker import make_task, outcome, run_task, set_worker_device

PARAMS = tiny_params(seeds=4)


def fake_gpus(monkeypatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def tasks(tmp_path, device: str = "cuda:0", checkpoint: bool = False):
    study = expand("tiny", params=PARAMS)
    profile = SimpleNamespace(
        device=device,
        checkpoint=checkpoint,
        threads=1,
        data_placement="auto",
        checkpoint_every_epochs=1,
        checkpoint_every_minutes=None,
    )
    return [make_task(spec, profile, tmp_path) for spec in study.runs]  # type: ignore[arg-type]


class FakePool:
    """A process pool in this process: starts ``max_workers`` workers (their initializer draws a device
    from the executor's queue) and runs each submitted task at once."""

    def __init__(self, max_workers, mp_context=None, initializer=None, initargs=()):
        for _ in range(max_workers):
            initializer(*initargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        future: Future = Future()
        future.set_result(fn(*args))
        return future


@pytest.mark.parametrize(
    "gpus, runs_per_gpu, expected",
    [
        (2, 1, ["cuda:0", "cuda:1"]),
        (2, 2, ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]),
        (1, 3, ["cuda:0", "cuda:0", "cuda:0"]),
        (4, 1, ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]),  # 4 runs: all four GPUs busy
    ],
)
def test_jobs_auto_starts_runs_per_gpu_workers_on_each_visible_gpu(tmp_path, monkeypatch, gpus, runs_per_gpu, expected):
    fake_gpus(monkeypatch, gpus)
    executor = LocalExecutor("auto", "cuda:0", threads=4, runs_per_gpu=runs_per_gpu)
    assert executor.jobs == gpus * runs_per_gpu and executor.gpus == gpus
    drawn: list[str] = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", FakePool)
    monkeypatch.setattr(executors, "set_worker_device", drawn.append)
    monkeypatch.setattr(executors, "run_task", lambda task: outcome(task, "ok", 0.0))
    done = []
    executor.run(tasks(tmp_path), done.append)
    assert drawn == expected and len(done) == 4


def test_a_cpu_profile_or_no_gpu_keeps_the_core_count(monkeypatch):
    monkeypatch.setattr(executors, "available_cores", lambda: 8)
    fake_gpus(monkeypatch, 2)
    assert LocalExecutor("auto", "cpu", threads=2, runs_per_gpu=3).jobs == 4  # cpu: the GPUs are not used
    fake_gpus(monkeypatch, 0)
    assert LocalExecutor("auto", "cuda", threads=2, runs_per_gpu=3).jobs == 4
    assert executors.worker_devices(3, 0) == ["", "", ""]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_runs_per_gpu_below_one_is_refused_naming_the_field(bad):
    with pytest.raises(ContractError, match=rf"^profile runs_per_gpu: must be an integer >= 1, got {bad!r}$"):
        LocalExecutor("auto", "cuda", runs_per_gpu=bad)


@pytest.mark.parametrize("named", ["auto", "cuda", "cuda:0", "cuda:3"])
def test_a_worker_s_gpu_wins_over_the_cuda_device_the_profile_names(tmp_path, monkeypatch, named):
    """A profile naming cuda:0 does not pin every worker to GPU 0: the run goes to the worker's GPU."""
    seen = []

    def record_run(config, folder, device, **kwargs):
        seen.append(device)
        return SimpleNamespace(record=SimpleNamespace(timing={}))

    monkeypatch.setattr(worker, "record_run", record_run)
    task = tasks(tmp_path, device=named)[0]
    set_worker_device("cuda:1")
    try:
        assert run_task(task).status == "ok"
        cpu = run_task(tasks(tmp_path, device="cpu")[0])
    finally:
        set_worker_device(None)
    assert cpu.status == "ok" and seen == ["cuda:1", "cpu"]
    run_task(task)  # no worker device (one job, in this process): the profile's device
    assert seen[-1] == named


def test_the_profile_s_runs_per_gpu_reaches_the_local_executor(monkeypatch):
    params = tiny_params(seeds=1)
    params["profiles"]["quick"]["runs_per_gpu"] = 3
    profile = expand("tiny", params=params).profile
    assert profile.runs_per_gpu == 3 and expand("tiny", params=PARAMS).profile.runs_per_gpu == 1
    fake_gpus(monkeypatch, 2)
    executor = executors.make_executor("local", jobs="auto", device="cuda", runs_per_gpu=profile.runs_per_gpu)
    assert isinstance(executor, LocalExecutor) and executor.jobs == 6
    gpu_profile = dataclasses.replace(profile, device="cuda")  # settle, search and a submission's runs
    assert executors.local_executor(gpu_profile, "auto").jobs == 6


class FakeRay(ModuleType):
    """What RayExecutor calls of ``ray``, in this process: records the options of ``ray.remote``."""

    def __init__(self, gpus: float) -> None:
        super().__init__("ray")
        self.gpus, self.options, self.calls = gpus, [], []

    def is_initialized(self):
        return False

    def init(self, **options):
        pass

    def shutdown(self):
        pass

    def cluster_resources(self):
        return {"CPU": 8.0, **({"GPU": self.gpus} if self.gpus else {})}

    def remote(self, **options):
        self.options.append(options)

        def wrap(fn):
            def remote(*args):
                self.calls.append(args[1:])
                return fn(*args)

            return SimpleNamespace(remote=remote)

        return wrap

    def wait(self, refs, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        return ref


def ray_sweep(tmp_path, monkeypatch, settings=None, gpus=2.0, checkpoint=False, runs_per_gpu=1, device="cuda"):
    fake = FakeRay(gpus)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(worker, "run_task", lambda task: outcome(task, "ok", 0.0, message=worker._WORKER_DEVICE or ""))
    executor = executors.make_executor("ray", device=device, profile_ray=settings, runs_per_gpu=runs_per_gpu)
    done = []
    executor.run(tasks(tmp_path, device=device, checkpoint=checkpoint), done.append)
    set_worker_device(None)
    assert [d.status for d in done] == ["ok"] * 4
    return fake, done


def test_ray_retries_a_lost_run_only_when_it_resumes_from_a_checkpoint(tmp_path, monkeypatch):
    fake, done = ray_sweep(tmp_path, monkeypatch, checkpoint=True)
    assert fake.options == [{"num_cpus": 1, "num_gpus": 1.0, "max_retries": 2}]
    assert {d.message for d in done} == {"cuda:0"}  # Ray's task sees its own GPU(s) only: cuda:0 is its GPU
    fake, _ = ray_sweep(tmp_path, monkeypatch, checkpoint=False)
    assert fake.options[0]["max_retries"] == 0  # a retry would start the run over: the next sweep reruns it
    fake, _ = ray_sweep(tmp_path, monkeypatch, {"max_retries": 5, "num_cpus": 4}, checkpoint=False)
    assert fake.options == [{"num_cpus": 4, "num_gpus": 1.0, "max_retries": 5}]


def test_ray_shares_a_gpu_between_runs_per_gpu_runs(tmp_path, monkeypatch):
    fake, _ = ray_sweep(tmp_path, monkeypatch, runs_per_gpu=4)
    assert fake.options[0]["num_gpus"] == 0.25
    fake, done = ray_sweep(tmp_path, monkeypatch, gpus=0)  # a CPU cluster: no GPU asked for, no device pinned
    assert fake.options[0]["num_gpus"] == 0 and {d.message for d in done} == {""} and fake.calls[0] == ("",)
    fake, _ = ray_sweep(tmp_path, monkeypatch, {"num_gpus": 2}, runs_per_gpu=4)
    assert fake.options[0]["num_gpus"] == 2  # the profile's num_gpus wins


def test_ray_settings_are_checked(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", FakeRay(0))
    with pytest.raises(ContractError, match=r"profile ray: max_retries: must be an integer >= 0, got -1"):
        executors.make_executor("ray", profile_ray={"max_retries": -1})


class Preempted(BaseException):
    """What submitit's signal handler does inside a run once it has requeued the job: exit the process."""


def test_a_requeued_array_element_never_recomputes_a_finished_run(tmp_path, monkeypatch):
    submitit = pytest.importorskip("submitit")
    ran: list[str] = []

    def fake_run(task):
        ran.append(task.run_id)
        if len(ran) == 2 and not resumed:
            raise Preempted  # the signal arrives during the second run
        return outcome(task, "ok", 1.0, message="computed")

    monkeypatch.setattr(worker, "run_task", fake_run)
    chunk = tasks(tmp_path)[:3]
    element = worker.ResumableRuns()
    resumed = False
    with pytest.raises(Preempted):
        element(chunk)
    requeued = element.checkpoint(chunk)  # what submitit pickles and requeues
    assert isinstance(requeued, submitit.helpers.DelayedSubmission) and requeued.args == (chunk,)
    assert requeued.function is element  # submitit requeues the element itself, with what it has finished
    requeued = pickle.loads(pickle.dumps(requeued))
    assert list(requeued.function.finished) == [chunk[0].run_id]
    resumed = True
    results = requeued.result()
    assert [r.run_id for r in results] == [t.run_id for t in chunk] and {r.status for r in results} == {"ok"}
    assert ran == [chunk[0].run_id, chunk[1].run_id, chunk[1].run_id, chunk[2].run_id]  # the first ran once


def test_a_requeued_element_skips_a_run_whose_record_is_current(tmp_path, monkeypatch):
    """A requeue that carried no state (a lost node): the record on disk says the run is done."""
    first, second = tasks(tmp_path, device="cpu")[:2]
    assert run_task(first).status == "ok"  # a real record of the current code
    before = (tmp_path / f"{first.run_id}.json").stat().st_mtime_ns
    monkeypatch.setattr(worker, "run_task", lambda task: outcome(task, "ok", 1.0, message="computed"))
    results = worker.ResumableRuns()([first, second])
    assert [r.message for r in results] == ["record already current (requeued job): not rerun", "computed"]
    assert results[0].compute_seconds > 0 and (tmp_path / f"{first.run_id}.json").stat().st_mtime_ns == before


def test_a_job_submitit_ends_leaves_no_failure_record(tmp_path, monkeypatch):
    """submitit ends a job timed out too often by raising inside the run: lost (rerun next), not failed."""
    submitit = pytest.importorskip("submitit")

    def interrupted(config, folder, **kwargs):
        raise submitit.core.utils.UncompletedJobError("Job not requeued because: timed-out too many times.")

    monkeypatch.setattr(worker, "record_run", interrupted)
    task = tasks(tmp_path, device="cpu")[0]
    with pytest.raises(submitit.core.utils.UncompletedJobError):
        run_task(task)
    assert not list(tmp_path.glob("*.json"))


def test_a_preempted_slurm_element_is_requeued_and_resumes_in_submitit_local_mode(tmp_path):
    """A real submitit job (local mode) signalled as SLURM signals a preempted job: it is requeued, its
    finished run is not recomputed, the interrupted one resumes from its checkpoint and the records equal an
    uninterrupted sweep's."""
    submitit = pytest.importorskip("submitit")
    params = tiny_params(seeds=2, epochs=4, checkpoint=True)
    study = expand("tiny", params=params)
    reference = tmp_path / "reference"
    assert sweep(params, reference, LocalExecutor(1)).ok == 2
    chunk = [make_task(spec, study.profile, tmp_path / "runs") for spec in study.runs]
    executor = submitit.AutoExecutor(folder=str(tmp_path / "logs"), cluster="local")
    executor.update_parameters(timeout_min=60)  # a signal in the first 48 minutes: a preemption
    job = executor.submit(worker.ResumableRuns(), chunk)
    first = tmp_path / "runs" / f"{chunk[0].run_id}.json"
    second_checkpoint = tmp_path / "runs" / f"{chunk[1].run_id}.ckpt"  # the second run has saved an epoch
    deadline = time.monotonic() + 120
    while not second_checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    written = first.stat().st_mtime_ns
    # SIGUSR2, as SLURM signals a preempted job, to the job's python (the child of submitit's local controller)
    controller = job._process.pid
    (child,) = Path(f"/proc/{controller}/task/{controller}/children").read_text().split()
    os.kill(int(child), signal.SIGUSR2)
    results = job.result()
    assert [r.status for r in results] == ["ok", "ok"]
    log = "".join(p.read_text() for p in sorted((tmp_path / "logs").iterdir()) if p.suffix in (".out", ".err"))
    assert "this job is preempted" in log and "Requeued job" in log, log[-2000:]
    assert first.stat().st_mtime_ns == written  # the finished run was not recomputed
    second = json.loads((tmp_path / "runs" / f"{chunk[1].run_id}.json").read_text())
    assert second["timing"]["resumed_from_epoch"] >= 1  # the interrupted run resumed from its checkpoint
    assert records(tmp_path / "runs") == records(reference)

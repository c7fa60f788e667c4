"""Executors: run a list of tasks (``worker.run_task``) and report each outcome as it arrives.

One interface, ``Executor.run(tasks, on_done)``; three back ends:

* ``local``: in this process (one job) or a spawn-started process pool (``jobs`` workers).
  With GPUs (``torch.cuda.device_count()``, so those ``CUDA_VISIBLE_DEVICES`` leaves visible)
  ``jobs='auto'`` is one worker per GPU times the profile's ``runs_per_gpu``; worker i runs on
  ``cuda:{i % GPUs}`` whatever CUDA device the profile names (``worker.set_worker_device``);
* ``ray``: tasks on an existing Ray cluster (``address``) or on a local Ray instance, with
  ``num_gpus`` per run requested from Ray (default ``1 / runs_per_gpu`` when the cluster has GPUs;
  optional extra: ``pip install '.[ray]'``); a task whose worker or node is lost is retried
  ``max_retries`` times (the profile's ``ray:``; default: 2 when the profile checkpoints, so a
  retry resumes the run from its last epoch, else 0);
* ``slurm``: a submitit job array (time, partition, gres, ... from the profile's ``slurm:``),
  or submitit's local test mode when asked for by name (``cluster='local'`` or ``'debug'``).
  Each element (``worker.ResumableRuns``) follows submitit's checkpoint protocol: preempted or
  near its time limit, it is requeued with the outcomes of its finished runs, which it never
  recomputes; the interrupted run resumes from its last checkpoint (``checkpoint: true``).
  Without ``sbatch`` on this machine and without that name it refuses (it never falls back to
  local processes silently: a GPU profile's runs would each fail there after minutes).

``Executor.executes_here`` says whether the runs use this machine (so whether this machine's
lack of CUDA matters): local, a local Ray instance, SLURM's local test mode.

Every back end calls the same ``run_task`` with the same thread count, so records agree
bitwise (timing fields aside). A worker that dies (segfault, OOM kill, job timeout) leaves
no record: its runs come back as ``lost`` and the next sweep reruns them.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import shlex
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch

from ..contracts import ContractError
from ..numerics import worker_env
from ..params_schema import Slurm, validated
from ..params_schema.profiles import Ray
from ..paths import project_root
from .worker import ResumableRuns, RunOutcome, RunTask, outcome, run_pinned, run_task, set_worker_device

OnDone = Callable[[RunOutcome], None]
EXECUTORS = ("local", "ray", "slurm")


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def gpu_count(device: str) -> int:
    return torch.cuda.device_count() if device != "cpu" and torch.cuda.is_available() else 0


def with_threads(tasks: list[RunTask], threads: int) -> list[RunTask]:
    """Tasks whose profile left ``threads`` open get ``threads`` (the executor's share of cores)."""
    return [task if task.threads else dataclasses.replace(task, threads=max(1, threads)) for task in tasks]


def lost(task: RunTask, exc: BaseException) -> RunOutcome:
    return outcome(task, "lost", 0.0, message=f"no record, rerun by the next sweep ({type(exc).__name__}: {exc})")


class Executor:
    """Runs tasks; calls ``on_done(outcome)`` in the calling thread as each one finishes."""

    name = ""
    executes_here = True  # the runs use this machine's devices

    def describe(self) -> str:
        return self.name

    def run(self, tasks: list[RunTask], on_done: OnDone) -> None:
        raise NotImplementedError


def _init_worker(devices: Any) -> None:
    set_worker_device(devices.get())


def worker_devices(workers: int, gpus: int) -> list[str]:
    """The device of each pool worker: worker i on ``cuda:{i % gpus}``; '' (the run's own) without GPUs."""
    return [f"cuda:{i % gpus}" if gpus else "" for i in range(workers)]


def check_runs_per_gpu(runs_per_gpu: Any) -> int:
    if isinstance(runs_per_gpu, bool) or not isinstance(runs_per_gpu, int) or runs_per_gpu < 1:
        raise ContractError(f"profile runs_per_gpu: must be an integer >= 1, got {runs_per_gpu!r}")
    return runs_per_gpu


class LocalExecutor(Executor):
    name = "local"

    def __init__(
        self, jobs: int | str = 1, device: str = "auto", threads: int | None = None, runs_per_gpu: int = 1
    ) -> None:
        self.gpus = gpu_count(device)
        self.runs_per_gpu = check_runs_per_gpu(runs_per_gpu)
        if jobs == "auto":  # runs_per_gpu per GPU, else as many as the cores hold at the profile's threads per run
            jobs = self.gpus * self.runs_per_gpu or max(1, available_cores() // (threads or 1))
        if not isinstance(jobs, int) or jobs < 1:
            raise ContractError(f"--jobs must be a positive integer or 'auto', got {jobs!r}")
        self.jobs = jobs

    def describe(self) -> str:
        where = f"{self.gpus} GPU(s)" if self.gpus else f"{available_cores()} CPU core(s)"
        return f"local, {self.jobs} job(s) on {where}"

    def run(self, tasks: list[RunTask], on_done: OnDone) -> None:
        workers = min(self.jobs, len(tasks))
        tasks = with_threads(tasks, available_cores() // max(workers, 1))
        if workers <= 1:
            for task in tasks:
                on_done(run_task(task))
            return
        ctx = mp.get_context("spawn")  # no fork after torch/CUDA initialization
        devices = ctx.Queue()
        for device in worker_devices(workers, self.gpus):
            devices.put(device)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(devices,)) as pool:
            futures = {pool.submit(run_task, task): task for task in tasks}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker process (BrokenProcessPool)
                    result = lost(futures[future], exc)
                on_done(result)


def salbench_env() -> dict[str, str]:
    """The variables workers on other hosts need: SALBENCH_* (project root, data, params) and the numerics
    pins (``benchmark.numerics``: a worker whose numerics differ from the run's fails it, naming them)."""
    env = {k: v for k, v in os.environ.items() if k.startswith("SALBENCH_")}
    env.setdefault("SALBENCH_ROOT", str(project_root()))
    return {**env, **worker_env()}


RAY_RETRIES_WITH_CHECKPOINT = 2


def ray_default_retries(tasks: list[RunTask]) -> int:
    """Retries of a task whose worker or node is lost, when the profile's ``ray:`` leaves them out: a run
    that checkpoints resumes from its last epoch (so a retry redoes at most one epoch), one that does not
    would start over, so it is not retried (the next sweep reruns it, as for every lost run)."""
    return RAY_RETRIES_WITH_CHECKPOINT if tasks and all(task.checkpoint for task in tasks) else 0


class RayExecutor(Executor):
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        jobs: int | str | None = None,
        device: str = "auto",
        settings: dict[str, Any] | None = None,
        runs_per_gpu: int = 1,
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise ContractError(
                "--executor ray needs Ray, an optional extra: pip install '.[ray]' (or: pip install ray)"
            ) from exc
        self.address = address
        self.executes_here = not address
        self.jobs = None if jobs in (None, "auto") else jobs
        self.device = device
        self.settings = dict(settings or {})
        validated(Ray, self.settings, "profile ray")
        self.runs_per_gpu = check_runs_per_gpu(runs_per_gpu)

    def describe(self) -> str:
        return f"ray ({self.address or 'local instance'})"

    def run(self, tasks: list[RunTask], on_done: OnDone) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            package_parent = str(Path(__file__).resolve().parents[2])
            env = {
                **salbench_env(),
                "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
            }
            options: dict[str, Any] = dict(
                address=self.address, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env}
            )
            if not self.address:
                options["num_cpus"] = self.jobs or available_cores()
            ray.init(**options)
        try:
            cluster_gpus = ray.cluster_resources().get("GPU", 0)
            gpus = 1 / self.runs_per_gpu if self.device != "cpu" and cluster_gpus else 0
            num_gpus = self.settings.get("num_gpus", gpus)
            num_cpus = self.settings.get("num_cpus", 1)
            retries = self.settings.get("max_retries", ray_default_retries(tasks))
            remote = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=retries)(run_pinned)
            # Ray makes a task's GPU(s) its only visible ones: cuda:0 is the task's GPU whatever the profile names
            device = "cuda:0" if num_gpus else ""
            pending = {remote.remote(task, device): task for task in with_threads(tasks, int(num_cpus))}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - worker died, node lost
                        result = lost(task, exc)
                    on_done(result)
        finally:
            if started_here:
                ray.shutdown()


# profile ``slurm:`` keys -> submitit AutoExecutor parameters
SLURM_PARAMETERS = {
    "time_min": "timeout_min",
    "partition": "slurm_partition",
    "gres": "slurm_gres",
    "cpus_per_task": "cpus_per_task",
    "mem_gb": "mem_gb",
    "gpus_per_node": "gpus_per_node",
    "array_parallelism": "slurm_array_parallelism",
    "account": "slurm_account",
    "qos": "slurm_qos",
    "constraint": "slurm_constraint",
    "additional": "slurm_additional_parameters",
}
SLURM_OWN = {"runs_per_job", "poll_seconds"}
SLURM_LOCAL_MODES = ("local", "debug")  # submitit's test modes, on this machine


def check_slurm_cluster(cluster: str | None) -> None:
    """A SLURM cluster needs ``sbatch`` here; the local test modes must be asked for by name."""
    if cluster in SLURM_LOCAL_MODES:
        return
    if cluster not in (None, "slurm"):
        raise ContractError(
            f"--cluster {cluster!r} unknown; known: ['slurm', {', '.join(map(repr, SLURM_LOCAL_MODES))}]"
        )
    if shutil.which("sbatch") is None:
        raise ContractError(
            "--executor slurm: 'sbatch' is not on this machine's PATH (no SLURM cluster here); run on "
            "a SLURM login node, or pass --cluster local (or debug) to test the SLURM path here, "
            "or use --executor local"
        )


class SlurmExecutor(Executor):
    """A submitit job array; each array element runs ``runs_per_job`` runs one after the other."""

    name = "slurm"

    def __init__(
        self,
        folder: Path,
        settings: dict[str, Any] | None = None,
        cluster: str | None = None,
        job_name: str = "salbench",
    ) -> None:
        check_slurm_cluster(cluster)
        self.executes_here = cluster in SLURM_LOCAL_MODES
        try:
            import submitit
        except ImportError as exc:
            raise ContractError("--executor slurm needs submitit, an optional extra: pip install '.[slurm]'") from exc
        settings = dict(settings or {})
        validated(Slurm, settings, "profile slurm")  # params.yaml's schema (a profile's slurm: is checked on load)
        self.runs_per_job = int(settings.get("runs_per_job", 1))
        self.poll_seconds = float(settings.get("poll_seconds", 10))
        self.cpus = int(settings.get("cpus_per_task", 1))
        self.executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
        parameters = {SLURM_PARAMETERS[k]: v for k, v in settings.items() if k in SLURM_PARAMETERS}
        parameters.setdefault("timeout_min", 60)
        # the numerics pins, exported in the sbatch script before the job's python starts (the local modes
        # inherit this process's environment); a job whose numerics differ fails its runs, naming them
        parameters["slurm_setup"] = [f"export {k}={shlex.quote(v)}" for k, v in sorted(worker_env().items())]
        try:
            self.executor.update_parameters(name=job_name, **parameters)
        except (NameError, AssertionError, ValueError) as exc:
            raise ContractError(f"profile slurm: {exc}") from exc

    def describe(self) -> str:
        return f"slurm via submitit ({self.executor.cluster}), {self.runs_per_job} run(s) per array element"

    def run(self, tasks: list[RunTask], on_done: OnDone) -> None:
        import submitit

        tasks = with_threads(tasks, self.cpus)
        chunks = [tasks[i : i + self.runs_per_job] for i in range(0, len(tasks), self.runs_per_job)]
        jobs = self.executor.map_array(ResumableRuns(), chunks)  # requeued after a preemption or timeout
        chunk_of = {job.job_id: chunk for job, chunk in zip(jobs, chunks)}
        for job in submitit.helpers.as_completed(jobs, poll_frequency=self.poll_seconds):
            try:
                results = job.result()
            except Exception as exc:  # noqa: BLE001 - job failed, timed out or was cancelled
                results = [lost(task, exc) for task in chunk_of[job.job_id]]
            for result in results:
                on_done(result)


def local_executor(profile: Any, jobs: int | str = 1) -> LocalExecutor:
    """This machine's executor at a study's profile (its device, threads and ``runs_per_gpu``): what
    ``settle``, ``search`` and a submission's runs use."""
    return LocalExecutor(jobs, profile.device, profile.threads, profile.runs_per_gpu)


def make_executor(
    name: str,
    jobs: int | str = 1,
    device: str = "auto",
    address: str | None = None,
    profile_slurm: dict[str, Any] | None = None,
    profile_ray: dict[str, Any] | None = None,
    log_dir: Path | None = None,
    cluster: str | None = None,
    threads: int | None = None,
    runs_per_gpu: int = 1,
) -> Executor:
    if name == "local":
        return LocalExecutor(jobs, device, threads, runs_per_gpu)
    if name == "ray":
        return RayExecutor(address, jobs, device, profile_ray, runs_per_gpu)
    if name == "slurm":
        return SlurmExecutor(log_dir or project_root() / "results" / "logs", profile_slurm, cluster)
    raise ContractError(f"unknown executor '{name}'; known: {list(EXECUTORS)}")

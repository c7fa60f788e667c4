"""The one function every executor runs for a run: ``run_task(task) -> outcome``.

A task (``RunTask``) is a frozen dataclass of plain values (executors pickle it to other
processes and hosts): the resolved config as a dict of JSON types, its run id, the record
folder and the execution settings. The outcome (``RunOutcome``) is one too. An exception
inside the run (NaN loss included: ``NonFiniteLoss``)
becomes a failure record with the exception and traceback, so the sweep goes on; an
interrupt (``KeyboardInterrupt``, SIGKILL) leaves no record and the run is redone next time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from ..atomic import atomic_write_text
from ..contracts import RunConfig
from ..records.identity import canonical_json
from ..records.provenance import code_fingerprint
from ..records.record_store import write_record
from ..records.recorder import checkpoint_path, failure_record, record_run
from ..records.run_states import folder_status
from ..records.schema import RunRecord
from ..runs.training import Cadence
from .study import Profile, RunSpec

WORK_TIMINGS = ("train_seconds", "eval_seconds", "saliency_seconds")  # a run's own work, not the sweep's
_WORKER_DEVICE: str | None = None  # this process's GPU, set by a pool initializer


def set_worker_device(device: str | None) -> None:
    """Pin the runs of this worker process to ``device`` (e.g. 'cuda:1', the GPU the executor gave it): a
    run whose device is 'auto' or any CUDA device ('cuda', 'cuda:0', ...) runs there; 'cpu' stays on the CPU."""
    global _WORKER_DEVICE
    _WORKER_DEVICE = device or None


@dataclass(frozen=True)
class RunTask:
    """One run as an executor ships it: picklable plain values (a process pool, Ray and submitit
    pickle it to other processes and hosts)."""

    run_id: str
    label: str
    config: dict[str, Any]  # ``RunConfig.to_dict()``: the resolved config in JSON types
    out_dir: Path  # the record folder, absolute
    device: str  # the profile's device ('auto', 'cpu', 'cuda', 'cuda:1', ...)
    checkpoint: bool  # checkpoints, resumed by a rerun
    threads: int | None  # CPU threads per run; None: the executor's share of the cores (``with_threads``)
    data_root: Path | None = None  # absolute; None: the default data root
    data_placement: str = "auto"  # images resident or streamed (``runs.placement``); never the record
    checkpoint_every_epochs: int | None = 1  # when a checkpoint is saved (``runs.training.Cadence``)
    checkpoint_every_minutes: float | None = None


Status = Literal["ok", "failed", "lost"]


@dataclass(frozen=True)
class RunOutcome:
    """What became of a task. status: ok | failed (a failure record exists) | lost (no record: the
    worker died)."""

    run_id: str
    label: str
    status: Status
    seconds: float
    compute_seconds: float = 0.0  # the run's own train + eval + saliency seconds (``WORK_TIMINGS``)
    message: str = ""


def make_task(spec: RunSpec, profile: Profile, folder: Path, data_root: Path | None = None) -> RunTask:
    return RunTask(
        run_id=spec.run_id,
        label=spec.label,
        config=spec.config.to_dict(),
        out_dir=Path(folder).resolve(),
        device=profile.device,
        checkpoint=profile.checkpoint,
        threads=profile.threads,
        data_root=None if data_root is None else Path(data_root).resolve(),
        data_placement=profile.data_placement,
        checkpoint_every_epochs=profile.checkpoint_every_epochs,
        checkpoint_every_minutes=profile.checkpoint_every_minutes,
    )


def outcome(task: RunTask, status: Status, seconds: float, compute: float = 0.0, message: str = "") -> RunOutcome:
    """status: ok | failed (a failure record exists) | lost (no record: the worker died)."""
    return RunOutcome(task.run_id, task.label, status, seconds, compute, message)


def guard_checkpoint(folder: Path, rid: str, fingerprint: dict[str, str]) -> Path:
    """Resume only from a checkpoint written by the same code: ``RUN_ID.ckpt.code`` stamps it.
    A checkpoint without a matching stamp is deleted (its run restarts from epoch 0)."""
    ckpt = checkpoint_path(folder, rid)
    stamp = ckpt.with_name(ckpt.name + ".code")
    current = canonical_json(fingerprint)
    if ckpt.exists() and (not stamp.exists() or stamp.read_text() != current):
        ckpt.unlink()
    atomic_write_text(stamp, current)
    return stamp


def job_ended(exc: BaseException) -> bool:
    """submitit ending a job it does not requeue (timed out too often), raised inside the run by its signal
    handler: the run did not fail, its job ended; no failure record (the run comes back lost, rerun next)."""
    return type(exc).__name__ == "UncompletedJobError" and type(exc).__module__.startswith("submitit")


def worker_device(device: str) -> str:
    """The device a run of this process uses: the worker's GPU (``set_worker_device``) for a run naming
    'auto' or any CUDA device, so that a profile's 'cuda:0' does not pin every worker to GPU 0."""
    if _WORKER_DEVICE and (device == "auto" or device.startswith("cuda")):
        return _WORKER_DEVICE
    return device


def run_task(task: RunTask) -> RunOutcome:
    """Run one task; write its record (success or failure) into ``task.out_dir``."""
    config = RunConfig.from_dict(task.config)
    folder = Path(task.out_dir)
    device = worker_device(task.device)
    previous_threads = torch.get_num_threads()
    if task.threads:
        torch.set_num_threads(int(task.threads))
    started = time.perf_counter()
    stamp = None
    try:
        if task.checkpoint:
            stamp = guard_checkpoint(folder, task.run_id, code_fingerprint(config.method, config.dataset, config.arch))
        result = record_run(
            config,
            folder,
            device=device,
            progress=False,
            checkpoint=task.checkpoint,
            data_root=task.data_root,
            data_placement=task.data_placement,
            cadence=Cadence(task.checkpoint_every_epochs, task.checkpoint_every_minutes),
        )
        if stamp is not None:
            stamp.unlink(missing_ok=True)
        compute = sum(result.record.timing.get(key, 0.0) for key in WORK_TIMINGS)
        return outcome(task, "ok", time.perf_counter() - started, compute)
    except Exception as exc:  # noqa: BLE001 - any failure of a run becomes its failure record
        if job_ended(exc):
            raise
        seconds = time.perf_counter() - started
        write_record(failure_record(task.config, exc, seconds, device), folder)
        return outcome(task, "failed", seconds, message=f"{type(exc).__name__}: {exc}")
    finally:
        torch.set_num_threads(previous_threads)


def run_pinned(task: RunTask, device: str) -> RunOutcome:
    """``run_task`` in a process whose GPU is ``device`` ('' : none); a Ray task's entry point."""
    set_worker_device(device)
    return run_task(task)


def current_records(tasks: list[RunTask]) -> dict[str, RunRecord]:
    """The tasks' runs whose record in their folder is valid, successful and of the current code."""
    folders: dict[Path, list[str]] = {}
    for task in tasks:
        folders.setdefault(Path(task.out_dir), []).append(task.run_id)
    found = {}
    for folder, run_ids in folders.items():
        for rid, state in folder_status(folder, run_ids).runs.items():
            if state.state == "done" and state.record is not None:
                found[rid] = state.record
    return found


class ResumableRuns:
    """A SLURM array element's runs, one after the other, requeued after a preemption or a timeout
    (submitit's checkpoint protocol: a callable with a ``checkpoint`` method returning the submission
    to requeue, here itself, pickled with the outcomes of the runs it has finished).

    The requeued element never recomputes a finished run: it takes the outcome it carries, or skips a
    run whose record is already current (written before a requeue that kept no state, e.g. a lost
    node); the interrupted run restarts and, with ``checkpoint: true``, resumes from its last epoch
    (``run_task`` keeps a checkpoint of the same code)."""

    def __init__(self) -> None:
        self.finished: dict[str, RunOutcome] = {}  # run id -> outcome, carried across requeues

    def __call__(self, tasks: list[RunTask]) -> list[RunOutcome]:
        todo = [task for task in tasks if task.run_id not in self.finished]
        current = current_records(todo) if todo else {}
        for task in todo:
            record = current.get(task.run_id)
            if record is not None:
                compute = sum(record.timing.get(key, 0.0) for key in WORK_TIMINGS)
                self.finished[task.run_id] = outcome(
                    task, "ok", 0.0, compute, message="record already current (requeued job): not rerun"
                )
            else:
                self.finished[task.run_id] = run_task(task)
        return [self.finished[task.run_id] for task in tasks]

    def checkpoint(self, tasks: list[RunTask]) -> Any:
        """What submitit requeues: this element, with what it has finished, and the same runs."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self, tasks)

"""Checks 3 and 4 on a tiny generated study (decoy digits on a 12 px canvas, a 16-channel simple_cnn, ERM):
a 2-run sweep with ``--jobs auto``, and a checkpoint resume.

- ``sweep_check``: the study (2 seeds, 1 epoch, saliency evaluation off) expanded from an in-memory
  params document (``sweeps.study.expand``) and swept by ``LocalExecutor(jobs="auto")`` (one worker per
  visible GPU; on the CPU, one per core) into a temporary folder, the dataset built in memory; PASSes
  when every run's record reads back as a valid, current record (``study_status``: state ``done``).
- ``resume_check``: the study's seed-0 run trained 2 epochs with a checkpoint per epoch (the epoch-1
  checkpoint kept), then a fresh run of the same config resumed from that checkpoint
  (``runs.training.train(checkpoint=)``, as a rerun of a killed run does); PASSes when it resumed at
  epoch 1 and its final weights equal the uninterrupted run's: bitwise on the CPU (sha256 of the
  weights, ``runs.run.weights_digest``), on CUDA bitwise or within ``CUDA_TOLERANCE`` (atomics in some
  CUDA kernels may reorder float sums; the line says which held).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..contracts import Network, RunConfig
from ..numerics import mode as numerics_mode
from ..runs.run import prepare, weights_digest
from ..runs.training import train
from ..sweeps.executors import LocalExecutor
from ..sweeps.study import expand
from ..sweeps.study_states import StudyRun, study_status
from ..sweeps.sweep import run_sweep
from .verdicts import Verdict, one_line

STUDY = "doctor"
VARIANT = "doctor_digits"
FAMILY = "decoy_digits"
DATA = {"image_size": 12, "digit_size": 8, "patch_size": 3}  # seconds per run on a CPU
ARCH, ARCH_PARAMS = "simple_cnn", {"hidden": 16}
TRAINING: dict[str, Any] = {
    "batch_size": 64,
    "optimizer": {"name": "adam", "lr": 0.001},
    "schedule": {"name": "constant"},
    "evaluation": {"enabled": False},
}
SEEDS = 2
RTOL, ATOL = 1e-4, 1e-6  # CUDA_TOLERANCE: torch.allclose per weight tensor
CUDA_TOLERANCE = f"rtol {RTOL:g}, atol {ATOL:g}"


def sweep_device(device: torch.device) -> str:
    """The study profile's device: 'cpu' on the CPU, else 'cuda' (the executor spreads workers over every
    visible GPU; a profile naming one GPU is not how a sweep uses a node)."""
    return "cpu" if device.type == "cpu" else device.type


def study_params(device: str) -> dict[str, Any]:
    """A params.yaml document with only the tiny study: its dataset variant, its profile and the study."""
    profile = {**TRAINING, "epochs": 1, "device": device, "threads": 1, "checkpoint": False}
    study = {"methods": ["erm"], "archs": [{"name": ARCH, "params": ARCH_PARAMS}], "datasets": [VARIANT]}
    return {
        "datasets": {VARIANT: {"family": FAMILY, "params": dict(DATA)}},
        "profiles": {"quick": profile},
        "studies": {STUDY: {**study, "seeds": SEEDS}},
    }


def unfinished(run: StudyRun) -> str:
    """``erm/simple_cnn/doctor_digits/seed=1: failed (RuntimeError: ...)``."""
    why = run.problem
    if run.record is not None and run.record.error:
        why = f"{run.record.error.get('type')}: {run.record.error.get('message')}"
    return f"{run.spec.label}: {run.state}" + (f" ({one_line(why)})" if why else "")


def sweep_check(device: torch.device) -> Verdict:
    """Check 3 (the module docstring)."""
    name = "sweep --jobs auto"
    where = sweep_device(device)
    study = expand(STUDY, params=study_params(where))
    executor = LocalExecutor(jobs="auto", device=where, threads=1)
    with tempfile.TemporaryDirectory(prefix="salbench-doctor-") as tmp:
        folder, log = Path(tmp) / "runs", io.StringIO()
        summary = run_sweep(study, folder, executor, progress=False, data_root=Path(tmp) / "data", stream=log)
        status = study_status(study, folder)
    missing = [unfinished(run) for run in status.runs if run.state != "done"]
    if missing or summary.ok != len(study.runs):
        return Verdict("FAIL", name, f"{executor.describe()}: {'; '.join(missing) or one_line(log.getvalue())}")
    return Verdict(
        "PASS",
        name,
        f"{len(study.runs)} runs, {len(study.runs)} valid records ({executor.describe()}), "
        f"wall {summary.wall_seconds:.1f} s",
    )


def resume_config() -> RunConfig:
    """The study's seed-0 run, 2 epochs."""
    return RunConfig(
        method="erm",
        dataset=FAMILY,
        arch=ARCH,
        seed=0,
        epochs=2,
        dataset_params=dict(DATA),
        arch_params=dict(ARCH_PARAMS),
        numerics=numerics_mode(),
        **TRAINING,
    )


def trained(
    config: RunConfig, device: torch.device, data: Path, checkpoint: Path, keep: Path | None = None
) -> tuple[Network, int]:
    """A fresh run of ``config`` trained with ``checkpoint`` (resumed from it when it exists); with ``keep``,
    the checkpoint as written after epoch 1 is copied there."""
    ready = prepare(config, device, data)

    def on_epoch(epoch: int) -> None:
        if keep is not None and epoch == 1:
            shutil.copyfile(checkpoint, keep)

    result = train(
        ready.network,
        ready.method,
        ready.train_split,
        ready.splits["val"],
        ready.config,
        device,
        progress=False,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return ready.network, result.resumed_from_epoch


def weights_gap(a: torch.nn.Module, b: torch.nn.Module) -> tuple[bool, float]:
    """(every weight tensor within ``CUDA_TOLERANCE``, the largest absolute difference)."""
    pairs = [(x.detach().float(), y.detach().float()) for x, y in zip(a.state_dict().values(), b.state_dict().values())]
    close = all(torch.allclose(x, y, rtol=RTOL, atol=ATOL) for x, y in pairs)
    return close, max((float((x - y).abs().max()) for x, y in pairs if x.numel()), default=0.0)


def resume_check(device: torch.device) -> Verdict:
    """Check 4 (the module docstring)."""
    name = "checkpoint resume"
    config = resume_config()
    with tempfile.TemporaryDirectory(prefix="salbench-doctor-") as tmp:
        folder = Path(tmp)
        whole, _ = trained(config, device, folder / "data", folder / "run.ckpt", keep=folder / "epoch1.ckpt")
        shutil.copyfile(folder / "epoch1.ckpt", folder / "resumed.ckpt")
        resumed, start = trained(config, device, folder / "data", folder / "resumed.ckpt")
    if start != 1:
        return Verdict("FAIL", name, f"the rerun started at epoch {start}, not from the epoch-1 checkpoint")
    digest, again = weights_digest(whole), weights_digest(resumed)
    what = f"{config.epochs} epochs in one go vs epoch 1 + a rerun resumed from its checkpoint"
    if digest == again:
        return Verdict("PASS", name, f"{what}: final weights bitwise equal (sha256 {digest[:12]})")
    close, gap = weights_gap(whole, resumed)
    if device.type == "cuda" and close:
        return Verdict("PASS", name, f"{what}: not bitwise, max |difference| {gap:.2e}, within {CUDA_TOLERANCE} (CUDA)")
    bound = f"outside {CUDA_TOLERANCE}" if device.type == "cuda" else "the CPU must give equal weights bitwise"
    return Verdict("FAIL", name, f"{what}: final weights differ (max |difference| {gap:.2e}; {bound})")

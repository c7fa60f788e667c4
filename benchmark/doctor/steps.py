"""Check 2, the training steps: every method x architecture, one fp32 and one bf16 step at the size asked for.

Each step is ``benchmark.runs.training.train_step`` (the step the training loop runs: the loss under
autocast, backward, the optimizer step) on a fresh copy of a seeded network and a seeded synthetic
fully annotated batch (``benchmark.profiling.case``), after the determinism switches every run sets
(``seeding.enable_determinism``). A step PASSes when it runs and its loss and logged scalars are
finite; its line gives the wall time of that one (first, so warm-up included) step, and on CUDA the
peak of ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` (the CPU has no such
counter: said so) and the ops torch warned have no deterministic kernel. On CUDA each step runs under
``torch.cuda.set_sync_debug_mode("error")`` (``submission.smoke.no_host_sync``): a step that waits
for the device FAILs; ``guard_verdict`` sums that up, or SKIPs it on the CPU, saying why. bf16 is
CUDA's autocast where the card computes bfloat16 natively (``runs.precision.bf16_native``, the runs' own
check), else SKIPped; on the CPU torch's bf16 autocast.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..contracts import Method
from ..profiling.case import Case, make_case, make_step
from ..registry import METHODS
from ..runs.precision import bf16_native
from ..runs.training import train_step
from ..seeding import enable_determinism
from ..submission.harness import exception_line
from ..submission.smoke import SYNC_MESSAGE, no_host_sync
from .verdicts import Verdict, failed_with, guarded

PRECISIONS = ("fp32", "bf16")
CHANNELS = 3  # RGB: the paper studies' images
MIB = 1024**2
SYNCED = "synchronizes the host with the device"  # in the detail of a step that did
NONDETERMINISTIC = " does not have a deterministic implementation"  # torch's warn_only message


@dataclass(frozen=True)
class StepPlan:
    """What the step checks run: architectures at one image side and batch size, methods, optimizer, device."""

    archs: list[str]
    image_size: int
    batch_size: int
    methods: list[str]
    optimizer: dict[str, Any]
    device: torch.device


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bf16_problem(device: torch.device) -> str | None:
    """Why ``device`` cannot run a bf16 autocast step, or None."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        if not bf16_native(index):
            return f"{torch.cuda.get_device_name(index)} has no native bfloat16 (compute capability below 8.0); the runs refuse bf16 there too"
        return None
    if not torch.amp.is_autocast_available(device.type):
        return f"torch has no autocast for device type '{device.type}'"
    return None


def peak_start(device: torch.device) -> int:
    """Reset CUDA's peak counter; the bytes allocated now (0 on the CPU)."""
    if device.type != "cuda":
        return 0
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    return int(torch.cuda.memory_allocated(device))


def peak_text(device: torch.device, start: int) -> str:
    """The step's peak memory as measured, or why there is no number."""
    if device.type != "cuda":
        return "peak memory n.a. on CPU (a CUDA allocator counter)"
    peak = int(torch.cuda.max_memory_allocated(device))
    return f"peak {peak / MIB:.0f} MiB allocated ({(peak - start) / MIB:.0f} MiB above the step's start)"


def nondeterministic_ops(caught: list[warnings.WarningMessage]) -> list[str]:
    """The ops torch warned (``use_deterministic_algorithms(True, warn_only=True)``) have no deterministic
    kernel; every other warning is shown as usual."""
    ops = []
    for w in caught:
        text = str(w.message)
        if NONDETERMINISTIC in text:
            ops.append(text.split(NONDETERMINISTIC)[0].split()[-1])
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return sorted(set(ops))


def step_failure(name: str, exc: Exception, method: Method) -> Verdict:
    """The FAIL of a step that raised, at the line of the method's file that raised."""
    where = exception_line(exc, type(method))
    if SYNC_MESSAGE in str(exc):
        return Verdict("FAIL", name, f"the step {SYNCED}: {where}")
    return Verdict("FAIL", name, f"the step raised {where}")


def one_step(name: str, method_name: str, case: Case) -> Verdict:
    """One ``train_step`` of ``method_name`` (its defaults) on ``case`` (the module docstring)."""
    method = METHODS.get(method_name)()
    step = make_step(method, case)
    start = peak_start(case.device)
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with no_host_sync(case.device):
                loss, scalars = train_step(
                    step.net, method, case.batch, step.state, step.opt, precision=case.precision, scaler=step.scaler
                )
            sync(case.device)
        except Exception as exc:  # noqa: BLE001 - the method's exception is the verdict
            return step_failure(name, exc, method)
    seconds = time.perf_counter() - began
    ops = nondeterministic_ops(caught)
    value = float(loss.detach())
    bad = sorted(key for key, v in scalars.items() if not math.isfinite(float(v)))
    if not math.isfinite(value) or bad:
        return Verdict("FAIL", name, f"not finite after one step: loss {value}, scalars {bad or 'finite'}")
    detail = f"first step {seconds:.2f} s, loss {value:.3f}, {peak_text(case.device, start)}"
    return Verdict("PASS", name, detail + (f"; no deterministic kernel: {', '.join(ops)}" if ops else ""))


def step_checks(plan: StepPlan, emit: Callable[[Verdict], None]) -> list[Verdict]:
    """Every method x architecture x precision of ``plan``, each verdict passed to ``emit`` as it comes."""
    enable_determinism()  # what every run's prepare sets: the steps run as the runs do
    out: list[Verdict] = []

    def add(verdict: Verdict) -> None:
        out.append(verdict)
        emit(verdict)

    for arch in plan.archs:
        try:
            base = make_case(arch, plan.batch_size, CHANNELS, plan.image_size, plan.optimizer, plan.device)
        except Exception as exc:  # noqa: BLE001 - a network that cannot be built here is a finding
            add(failed_with(f"network {arch} at {plan.image_size} px", exc))
            continue
        for precision in PRECISIONS:
            case = dataclasses.replace(base, precision=precision)
            problem = bf16_problem(plan.device) if precision == "bf16" else None
            for method in plan.methods:
                name = f"step {method}/{arch} {precision}"
                if problem is not None:
                    add(Verdict("SKIP", name, problem))
                else:
                    add(guarded(name, lambda: one_step(name, method, case)))  # noqa: B023 (called at once)
    return out


def guard_verdict(device: torch.device, steps: list[Verdict]) -> Verdict:
    """The no-host-sync guard over the steps: SKIP on the CPU; on CUDA, FAIL naming the steps that synced."""
    name = "no-host-sync guard"
    if device.type != "cuda":
        return Verdict(
            "SKIP",
            name,
            f"device {device}: torch.cuda.set_sync_debug_mode needs CUDA (a CPU step has no device to wait for); "
            "the CPU steps ran unguarded",
        )
    ran = [v for v in steps if v.name.startswith("step ") and v.status != "SKIP"]
    synced = [v.name.removeprefix("step ") for v in ran if SYNCED in v.detail]
    if synced:
        return Verdict("FAIL", name, f"{len(synced)} of {len(ran)} step(s) waited for the device: {', '.join(synced)}")
    return Verdict("PASS", name, f"{len(ran)} step(s) ran under torch.cuda.set_sync_debug_mode('error'): none synced")

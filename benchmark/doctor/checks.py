"""The doctor's checks in order, each verdict printed as it comes: facts, steps, the guard, sweep, resume."""

from __future__ import annotations

import time
from collections.abc import Callable

from .facts import cuda_facts, host_facts
from .pipeline import resume_check, sweep_check
from .steps import StepPlan, guard_verdict, step_checks
from .verdicts import Verdict, guarded, summary_line


def run_checks(plan: StepPlan, sweep: bool, emit: Callable[[str], None]) -> bool:
    """Run every check of ``plan`` (the sweep only when ``sweep``), ``emit`` each verdict's line and then
    the summary line; True when none failed."""
    started = time.perf_counter()
    device = plan.device
    verdicts: list[Verdict] = []

    def add(verdict: Verdict) -> None:
        verdicts.append(verdict)
        emit(verdict.line())

    add(guarded("device facts", lambda: host_facts(device)))
    add(guarded("CUDA facts", lambda: cuda_facts(device)))
    steps = step_checks(plan, add)
    add(guard_verdict(device, steps))
    if sweep:
        add(guarded("sweep --jobs auto", lambda: sweep_check(device)))
    else:
        add(Verdict("SKIP", "sweep --jobs auto", "--skip-sweep"))
    add(guarded("checkpoint resume", lambda: resume_check(device)))
    where = str(device) if device.type == "cuda" else f"{device} (no CUDA check ran: each is SKIPped above)"
    emit(summary_line(verdicts, started, where))
    return not any(v.status == "FAIL" for v in verdicts)

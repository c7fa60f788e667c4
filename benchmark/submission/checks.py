"""``run_checks``: a submitted method's checks 1 -> 4, in order, and what they found (``ChecksReport``).

1. contract (``contract``): nothing else runs when it fails, so a method that cannot load gets no compute;
2. smoke (``smoke``): one training step on every config the dataset of which has what the method needs;
3. determinism (``determinism``): on the first such config;
4. honesty (``honesty``): the protocol's datasets have what the method declares it needs (checked first,
   before any training: a config that fails it is left out of 2-4), train rows only and annotations as
   declared on every config; the cost (``cost``) on the first config of each architecture, a warning at most.

A failed contract stops there (no compute for a method that cannot load), a failed smoke step there too (a
step that breaks would fail determinism and honesty for the same reason); otherwise every failure is
collected. ``ChecksReport.passed`` is True when no failure but warnings was found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..contracts import RunConfig
from .contract import contract_failures
from .cost import CostSettings, cost_report, row_line
from .determinism import determinism_failures
from .failures import CheckFailure
from .harness import STEPS, device_of
from .honesty import compatibility_failure, split_failures
from .smoke import smoke_failures

TITLES = ("contract", "smoke", "determinism", "honesty")


@dataclass
class CheckResult:
    """One numbered check: its failures (warnings included), what it ran on, or why it was skipped."""

    number: int
    title: str
    failures: list[CheckFailure] = field(default_factory=list)
    detail: str = ""
    skipped: str = ""

    def head(self) -> str:
        """``check 2/4 smoke: ok (2 configs: ...)``, ``... 1 failure``, ``... skipped (why)``."""
        label = f"check {self.number}/{len(TITLES)} {self.title}"
        if self.skipped:
            return f"{label}: skipped ({self.skipped})"
        errors = sum(not f.warning for f in self.failures)
        warned = len(self.failures) - errors
        verdict = (f"{errors} failure{'s' * (errors != 1)}" if errors else "ok") + (
            f", {warned} warning{'s' * (warned != 1)}" if warned else ""
        )
        return f"{label}: {verdict}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ChecksReport:
    """What ``run_checks`` found: where the method came from, every check's result and the cost rows."""

    source: str
    results: list[CheckResult]
    cost_rows: list[dict[str, Any]] = field(default_factory=list)  # cost.cost_row: arch, declared, measured [CI], ...

    @property
    def failures(self) -> list[CheckFailure]:
        return [f for r in self.results for f in r.failures if not f.warning]

    @property
    def warnings(self) -> list[CheckFailure]:
        return [f for r in self.results for f in r.failures if f.warning]

    @property
    def passed(self) -> bool:
        """No failure (warnings allowed)."""
        return not self.failures

    def lines(self) -> list[str]:
        """One line per check, each of its failures (and the cost rows under check 4) indented below it."""
        out = []
        for result in self.results:
            out.append(result.head())
            out += [f"  {f.line()}" for f in result.failures]
            if result.title == "honesty":
                out += [f"  cost {row_line(row)}" for row in self.cost_rows]
        return out


def _cells(configs: list[RunConfig]) -> str:
    return ", ".join(f"{c.arch} x {c.dataset}" for c in configs)


def run_checks(
    name: str,
    configs: list[RunConfig],
    device: str | torch.device = "auto",
    progress: Callable[[str], None] | None = None,
    cost_settings: CostSettings = CostSettings(),
) -> ChecksReport:
    """Checks 1 -> 4 of method ``name`` on ``configs`` (one per architecture x dataset of the protocol,
    resolved, seed 0); ``progress`` gets a line as each check starts."""
    say = progress or (lambda line: None)
    device = device_of(device)
    say(f"check 1/4 contract: loading method '{name}'")
    cls, source, failures = contract_failures(name)
    results = [CheckResult(1, "contract", failures, detail=source)]
    if failures:
        results += [CheckResult(n, title, skipped="the contract failed") for n, title in enumerate(TITLES[1:], 2)]
        return ChecksReport(source, results)
    refused = {i: compatibility_failure(name, config) for i, config in enumerate(configs)}
    runnable = [config for i, config in enumerate(configs) if refused[i] is None]
    if not runnable:
        why = "no config of the protocol has what the method needs (check 4)"
        results += [
            CheckResult(2, "smoke", skipped=why),
            CheckResult(3, "determinism", skipped=why),
            CheckResult(4, "honesty", [f for f in refused.values() if f is not None]),
        ]
        return ChecksReport(source, results)

    say(f"check 2/4 smoke: one training step on each of {len(runnable)} config(s)")
    smoke = smoke_failures(name, runnable, device)
    results.append(CheckResult(2, "smoke", smoke, detail=_cells(runnable)))
    if any(not f.warning for f in smoke):  # a step that breaks would fail 3 and 4 for the same reason
        results += [
            CheckResult(3, "determinism", skipped="the smoke run failed"),
            CheckResult(
                4,
                "honesty",
                [f for f in refused.values() if f is not None],
                skipped="" if any(refused.values()) else "the smoke run failed",
            ),
        ]
        return ChecksReport(source, results)

    say(f"check 3/4 determinism: two trainings of {STEPS} steps on {_cells(runnable[:1])}")
    results.append(
        CheckResult(
            3,
            "determinism",
            determinism_failures(name, runnable[0], device),
            detail=f"{_cells(runnable[:1])}, {STEPS} steps twice",
        )
    )

    per_arch: dict[str, RunConfig] = {}
    for config in runnable:
        per_arch.setdefault(config.arch, config)
    say(
        f"check 4/4 honesty: what training hands the method on {len(runnable)} config(s), the cost on "
        f"{', '.join(per_arch)}"
    )
    honesty = [f for f in refused.values() if f is not None]
    honesty += [f for config in runnable for f in split_failures(name, config, device)]
    rows, warnings = cost_report(name, list(per_arch.values()), device, cost_settings)
    results.append(
        CheckResult(
            4,
            "honesty",
            honesty + warnings,
            detail="train rows only, annotations only as declared, declared vs measured cost",
        )
    )
    return ChecksReport(source, results, rows)

"""A check's verdict (PASS, FAIL or SKIP with its reason), its one printed line, and the summary line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["PASS", "FAIL", "SKIP"]
NAME_WIDTH = 30  # column of the details: the longest usual name, "step smoot/resnet50 bf16", fits


@dataclass(frozen=True)
class Verdict:
    """What one check found: its status, its name and one line of detail (for SKIP: the reason)."""

    status: Status
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status}  {self.name:<{NAME_WIDTH}}  {self.detail}"


def one_line(text: str) -> str:
    """``text`` with its whitespace runs (newlines included) made single spaces."""
    return " ".join(str(text).split())


def failed_with(name: str, exc: BaseException) -> Verdict:
    """The FAIL of a check that raised ``exc`` (an exception is a finding, not a crash of the doctor)."""
    text = one_line(str(exc))
    return Verdict("FAIL", name, f"{type(exc).__name__}{': ' + text if text else ''}")


def guarded(name: str, check: Callable[[], Verdict]) -> Verdict:
    """``check()``, or the FAIL of the exception it raised (``KeyboardInterrupt`` is not caught)."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - any exception of a check is its verdict
        return failed_with(name, exc)


def summary_line(verdicts: list[Verdict], started: float, where: str) -> str:
    """``doctor: 31 checks: 29 passed, 0 failed, 2 skipped in 84.2 s on cpu``, with the failed ones named."""
    counts = {status: sum(v.status == status for v in verdicts) for status in ("PASS", "FAIL", "SKIP")}
    text = (
        f"doctor: {len(verdicts)} checks: {counts['PASS']} passed, {counts['FAIL']} failed, "
        f"{counts['SKIP']} skipped in {time.perf_counter() - started:.1f} s on {where}"
    )
    failed = [v.name for v in verdicts if v.status == "FAIL"]
    return text + (f"; FAILED: {', '.join(failed)}" if failed else "")

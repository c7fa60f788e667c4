"""``TestDescription``: one statistical test as every report states it (docs/statistics.md §1.15); the tests
themselves are in ``descriptions``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class TestDescription:
    """One statistical test as a report states it."""

    name: str  # e.g. "paired t-test"
    function: str  # the library function that computes it
    unit: str  # the unit of replication
    correction: str  # the multiple-comparison correction and its family ("none" when there is none)
    reference: str
    short: str  # a few words for figure captions and column notes
    alpha: float | None = None
    # the fewest cells it is computed from (None: a rule of its own, in min_reason) and why; below it every
    # output prints "n.a. (N cells < K)" (statistics.gates)
    min_cells: int | None = None
    min_reason: str = ""

    def at(self, alpha: float) -> TestDescription:
        return replace(self, alpha=alpha)

    def minimum(self) -> str:
        """ "minimum K cells: why", or "" when the test states none."""
        if self.min_cells is None:
            return f"minimum: {self.min_reason}" if self.min_reason else ""
        return f"minimum {self.min_cells} cell{'s' if self.min_cells > 1 else ''}: {self.min_reason}"

    def text(self) -> str:
        """One sentence: test (function), unit, correction, α, the minimum of cells, reference."""
        level = f", α = {self.alpha:g}" if self.alpha is not None else ""
        least = f"; {self.minimum()}" if self.minimum() else ""
        return f"{self.name} (`{self.function}`) over {self.unit}; {self.correction}{level}{least} ({self.reference})"

    def to_json(self) -> dict[str, Any]:
        """The fields; the minimum only when there is one (files written before it had none)."""
        out = asdict(self)
        for key, default in (("min_cells", None), ("min_reason", "")):
            if out[key] == default:
                del out[key]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestDescription:
        return cls(
            **{k: data[k] for k in ("name", "function", "unit", "correction", "reference", "short")},
            alpha=data.get("alpha"),
            min_cells=data.get("min_cells"),
            min_reason=data.get("min_reason", ""),
        )

"""``CheckFailure``: one problem a submission check found, said as one line with what to change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckFailure:
    """Check ``check`` failed (or, with ``warning``, only warns) on ``arch`` / ``dataset`` when given:
    ``problem`` says what is wrong, ``fix`` what to change."""

    check: str
    problem: str
    fix: str
    arch: str | None = None
    dataset: str | None = None
    warning: bool = False

    def where(self) -> str:
        """``on arch gap_cnn, dataset toy_faces_small`` (the parts given), or ``""``."""
        parts = [f"{kind} {value}" for kind, value in (("arch", self.arch), ("dataset", self.dataset)) if value]
        return f" on {', '.join(parts)}" if parts else ""

    def line(self) -> str:
        """``check 'smoke' failed on arch gap_cnn, dataset toy_faces_small: the loss is nan ...; fix: ...``
        (a warning says ``warning`` instead of ``failed``)."""
        verdict = "warning" if self.warning else "failed"
        return f"check '{self.check}' {verdict}{self.where()}: {self.problem}; fix: {self.fix}"

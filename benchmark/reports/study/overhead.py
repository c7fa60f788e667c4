"""The measured training overhead beside a study's scores: each method's step time over ERM's.

Read from the stored profiles (``records.profiles``; written by ``python -m benchmark profile``),
never measured here. Only a method label that is a bare registered name (the method at its
default hyperparameters, which is what the profile times) gets a number; a labelled variant
(``sage[view_forward=separate]``) may cost differently and says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...records.profiles import Overheads
from .tables_file import OverheadRow

COLUMN = "step time ÷ ERM [95% CI]"


def overhead_texts(methods: Iterable[str], archs: list[str], overheads: Overheads, baseline: str) -> dict[str, str]:
    """method label -> the text of its overhead cell (one ratio per architecture of the study)."""
    out = {}
    for method in methods:
        found = overheads.for_method(method, archs)
        if "[" in method:
            out[method] = "n.a. (variant; profile times defaults)"
        elif not found:
            out[method] = "not profiled"
        elif len(archs) == 1:
            out[method] = found[0].text()
        else:
            out[method] = "; ".join(f"{o.arch} {o.text()}" for o in found)
            missing = [a for a in archs if (method, a) not in overheads.found]
            out[method] += "".join(f"; {a} not profiled" for a in missing)
    return out


def overhead_rows(methods: Iterable[str], archs: list[str], overheads: Overheads) -> list[OverheadRow]:
    """The numbers behind the column, for the tables file: one row per method x architecture found."""
    return [
        OverheadRow(o.method, o.arch, o.ratio, o.low, o.high, o.theoretical, o.step_ms, o.precision, o.source)
        for m in methods
        for o in overheads.for_method(m, archs)
    ]


def overhead_note(overheads: Overheads, label: str, folder: str) -> str:
    """One footer line: where the ratios come from, or how to produce them."""
    if overheads.files:
        text = (
            f"- **Overhead.** Median training-step wall time over ERM's on the same network and batch, with a "
            f"bootstrap 95% CI, from the stored profile(s) {', '.join(f'`{folder}/{f}`' for f in overheads.files)} "
            f"(`python -m benchmark profile`, training profile `{label}`; the file names the machine, threads "
            "and precision). Synthetic batch of the profile, not this study's data."
        )
    else:
        text = (
            f"- **Overhead.** Not profiled: no `{folder}/{label}.json`; run `python -m benchmark profile "
            f"--label {label}` (or `dvc repro profile`) and rerun `stats`."
        )
    return text + "".join(f" Left out: {p}." for p in overheads.problems)

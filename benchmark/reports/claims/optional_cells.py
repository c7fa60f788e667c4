"""Which claims cells the default pipeline trains, and which an optional study adds.

An optional study with ``extends: STUDY`` (params.yaml) trains arms beside STUDY's: SGT on the GAP CNN, the ViT,
the ambiguity ablations. The default ``claims`` reads STUDY's records alone, so a cell one of whose sides only
such a study trains is not judged there: it is taken out of the paper before anything is measured (it enters no
Holm family and no simultaneous level) and named on the page as not run by default. ``claims --extended`` reads
the optional studies' records beside their base's, and every cell is judged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...records.table import RecordSet
from .evaluate import side_runs
from .spec import Paper, Side

Arm = tuple[str, str, str]  # (method label, dataset, arch) of a study's runs
EXTENDED_COMMAND = "make claims-extended"  # optional/dvc.yaml:claims-extended, writing results/claims_extended/


def arm(side: Side) -> Arm:
    return side.method, side.dataset, side.arch


@dataclasses.dataclass(frozen=True)
class NotRun:
    """A claims cell that the default pipeline does not train: a side of it is trained only by ``study``."""

    cell: str
    study: str


def split_paper(
    paper: Paper, records: Mapping[str, RecordSet], optional: Mapping[str, Mapping[Arm, str]]
) -> tuple[Paper, list[NotRun]]:
    """The paper with only the cells whose both sides have runs in their study's ``records``, and the cells
    left out because a side is trained only by an optional study (``optional[study][arm]`` names it).
    A side in neither stays (``evaluate.check_sides`` refuses it with its one line); a figure with a
    method only an optional study trains is left out with its cells."""

    def optional_only(study: str, side: Side) -> bool:
        return study in records and side_runs(records[study], side).empty and arm(side) in optional.get(study, {})

    kept, left = [], []
    for claim in paper.claims:
        missing = [s for s in (claim.side, claim.reference) if optional_only(claim.study, s)]
        if missing:
            left.append(NotRun(claim.id, optional[claim.study][arm(missing[0])]))
        else:
            kept.append(claim)
    figures = [
        f for f in paper.figures if not any(optional_only(f.study, Side(m, f.dataset, f.arch)) for m in f.methods)
    ]
    return dataclasses.replace(paper, claims=kept, figures=figures), left


def not_run_text(left: list[NotRun]) -> str:
    """One paragraph naming the cells not run by default and how to run them, or '' when there is none."""
    if not left:
        return ""
    studies = ", ".join(f"`{s}`" for s in dict.fromkeys(n.study for n in left))
    cells = ", ".join(n.cell for n in left)
    return (
        f"Not run by default ({len(left)} cells, their arms in the optional {studies}; `{EXTENDED_COMMAND}` trains "
        f"them and writes every cell's verdict to results/claims_extended/): {cells}."
    )

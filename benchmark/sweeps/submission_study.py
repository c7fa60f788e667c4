"""Where a submitted method trains: the leaderboard studies of params.yaml and their comparison cells.

``leaderboard:`` in params.yaml lists the studies a new method is ranked in (the decoy benchmark
and the toy-faces study of the paper tables). A submission trains, at the chosen profile, in
every *comparison cell* of each: a (dataset, architecture) pair where the study trains two or
more methods at their defaults (not an ablation's ``sgt[fill=mean]``, not a tuned ``sgt[tuned]``),
with that cell's seeds and run settings. So ERM's reference cells (7x the faces, the clean
digits) and the ablation-only cells get no submission runs, and a profile's ``at_profile`` block
(``paper``: ResNet-50 on the CYBORG faces; ``tiny``: a handful of images) moves the cells with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..config import params_path
from ..contracts import ContractError
from ..params_schema import LEADERBOARD as KEY
from ..params_schema import leaderboard_studies
from ..records.identity import run_id
from .study import RunSpec, Study, _resolve, expand


def is_default_arm(spec: RunSpec) -> bool:
    """A run of a method at its defaults: not tuned, no hyperparameter set by the study."""
    return spec.tuned is None and spec.method == spec.config.method


def comparison_cells(study: Study) -> dict[tuple[str, str], list[RunSpec]]:
    """(dataset, arch) -> the default-arm runs there, for the cells with two or more methods at their defaults."""
    cells: dict[tuple[str, str], list[RunSpec]] = {}
    for spec in study.runs:
        if is_default_arm(spec):
            cells.setdefault((spec.dataset, spec.arch), []).append(spec)
    return {cell: specs for cell, specs in cells.items() if len({s.method for s in specs}) >= 2}


def _template(cell: tuple[str, str], specs: list[RunSpec]) -> RunSpec:
    """The cell's run settings, which every default arm there must share (else the cell is ambiguous)."""

    def settings(spec: RunSpec) -> tuple:
        c = spec.config
        return (
            c.epochs,
            c.batch_size,
            repr(c.optimizer),
            repr(c.schedule),
            repr(c.evaluation),
            c.precision,
            c.split,
            repr(c.dataset_params),
            repr(c.arch_params),
        )

    found = {settings(s) for s in specs}
    if len(found) > 1:
        raise ContractError(
            f"cell {cell[0]}/{cell[1]}: its methods train with different settings; a submission "
            f"would not know which to use"
        )
    return specs[0]


def submission_study(study: Study, method: str) -> Study:
    """The runs ``method`` (at its defaults) makes in ``study``'s comparison cells: each cell's seeds and settings."""
    cells = comparison_cells(study)
    if not cells:
        raise ContractError(
            f"study '{study.name}' at profile '{study.profile.name}' has no cell where two methods "
            f"train at their defaults: nothing to compare a submission with"
        )
    runs: dict[str, RunSpec] = {}
    where = f"{params_path().name}: {KEY} ({study.name})"
    for cell, specs in cells.items():
        template = _template(cell, specs)
        for seed in sorted({s.seed for s in specs}):
            config = _resolve(where, dataclasses.replace(template.config, method=method, method_params={}, seed=seed))
            spec = RunSpec(
                config=config, run_id=run_id(config), method=method, arch=template.arch, dataset=template.dataset
            )
            runs.setdefault(spec.run_id, spec)
    return Study(name=study.name, description=study.description, profile=study.profile, runs=tuple(runs.values()))


def leaderboard_protocol(method: str, profile: str | None, params: Mapping[str, Any]) -> list[tuple[Study, Study]]:
    """(reference study, the submission's runs in it) for every leaderboard study at ``profile``."""
    out = []
    for name in leaderboard_studies(params):
        reference = expand(name, profile, params=params)
        out.append((reference, submission_study(reference, method)))
    return out

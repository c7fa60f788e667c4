"""Dataset variants that ``dvc repro`` does not build: the ``paper_datasets:`` section of params.yaml.

``datasets:`` is the foreach of dvc.yaml's ``data`` stage: every variant there is built offline
by the default pipeline. Paper-scale data cannot be: torchvision's MNIST family needs internet
once, and the CYBORG/SAGE face and iris data are not downloadable at all (the user points an
``annotated_folder`` variant at their copy). Those variants live in ``paper_datasets:``, with the
same entry format (``NAME: {family: FAMILY, params: {...}}``); a study names them like any
other variant (usually in its ``at_profile: {paper: ...}`` block, ``benchmark.sweeps.at_profile``),
and records are labelled with them (``benchmark.records.table``). A name may be in one section
only. Whether a variant's source is on this machine: ``benchmark.data.availability``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import check_variant, check_variants, dataset_variant, params_path
from ..contracts import ContractError
from ..registry import DATASETS, did_you_mean

SECTION = "paper_datasets"


def paper_variants(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``paper_datasets:`` section, every entry checked like a ``datasets:`` one. A name may also be
    under ``datasets:`` (e.g. ``mnist`` added there to build it with ``dvc repro``) only with the same
    family and parameters: one name, one variant."""
    where = f"{params_path().name}: {SECTION}"
    variants = check_variants(params.get(SECTION), where)
    built = params.get("datasets") or {}
    for name in sorted(variants):
        if (
            isinstance(built, Mapping)
            and name in built
            and check_variant(name, variants[name], where)
            != check_variant(name, built[name], f"{params_path().name}: datasets")
        ):
            raise ContractError(
                f"{where}.{name}: also under 'datasets:' in {params_path().name} with another family or "
                f"other parameters; a variant name names one variant (rename one of them)"
            )
    return variants


def all_variants(params: Mapping[str, Any]) -> dict[str, Any]:
    """``datasets:`` and ``paper_datasets:`` together (the names records are labelled with)."""
    built = params.get("datasets") or {}
    return {**(dict(built) if isinstance(built, Mapping) else {}), **paper_variants(params)}


def resolve_variant(name: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(family, construction parameters) of a dataset name: a ``paper_datasets:`` variant, else what
    ``config.dataset_variant`` resolves (a ``datasets:`` variant or a family); an unknown name is
    refused with the names of both sections."""
    paper = paper_variants(params)
    if name in paper:
        where = f"{params_path().name}: {SECTION}"
        family, variant_params = check_variant(name, paper[name], where)
        if family not in DATASETS.names():
            raise ContractError(
                f"{where}.{name}.family: unknown dataset family '{family}'"
                f"{did_you_mean(family, DATASETS.names())}; families: {DATASETS.names()}"
            )
        return family, variant_params
    try:
        return dataset_variant(name, dict(params))
    except ContractError as exc:
        if not paper or not str(exc).startswith("unknown dataset"):
            raise
        built = params.get("datasets") or {}
        names = [*(built if isinstance(built, Mapping) else {}), *paper, *DATASETS.names()]
        raise ContractError(
            f"unknown dataset '{name}'{did_you_mean(name, names)}; variants in {params_path().name}: "
            f"datasets {sorted(built)}, {SECTION} {sorted(paper)}; families: {DATASETS.names()}"
        ) from None

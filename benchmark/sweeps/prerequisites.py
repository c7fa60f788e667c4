"""What a study's runs need from outside that is not on this machine: datasets and pretrained weights.

One line per absent thing, naming it, what is missing and how to get it (``absent_lines``):

- a dataset whose source is absent (``benchmark.data.availability``: torchvision's MNIST family or
  CIFAR-10 not downloaded, an ``annotated_folder`` root unset, missing, empty or incomplete), with
  the params.yaml entry that sets its parameters (``paper_datasets.NAME`` or ``datasets.NAME``);
- a ``paper_datasets:`` variant read from a user's folder that is there but not built into the store
  (``unbuilt_folder``: build it once with ``data build NAME``; runs only load it);
- torchvision pretrained weights (an arch parameter ``weights`` other than ``none``) absent from the
  torch hub cache, with the command that downloads them.

``state_rows`` is the dry run's table of every dataset and pretrained weights a study needs, present or
not: built in the store (and where), its source present but not built, absent; weights not needed, in
the torch hub cache, absent.

``sweep --dry-run`` prints the absent ones as warnings (exit 0: the machine that runs the sweep may have what
this one lacks); a sweep refuses them before anything is computed or written (exit 2). Nothing here
touches the network, decodes an image or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..contracts import ContractError
from ..data import dataset_store
from ..data.availability import source_problem
from ..data.paper_variants import SECTION, paper_variants
from ..registry import ARCHS, DATASETS


def variant_key(variant: str, params: Mapping[str, Any]) -> str | None:
    """Where variant ``variant``'s parameters are set in params.yaml, or None (a bare family)."""
    try:
        if variant in paper_variants(params):
            return f"{SECTION}.{variant}"
    except ContractError:
        return None
    built = params.get("datasets") or {}
    return f"datasets.{variant}" if isinstance(built, Mapping) and variant in built else None


def weights_problem(arch: str, arch_params: Mapping[str, Any]) -> str | None:
    """Why the torchvision pretrained ``weights`` of ``arch`` cannot be loaded offline here, or None."""
    weights = arch_params.get("weights")
    if not isinstance(weights, str) or weights in ("", "none"):
        return None
    import torch
    import torchvision  # only for an arch with pretrained weights

    factory = getattr(ARCHS.get(arch), "factory", arch)
    try:
        url = torchvision.models.get_model_weights(factory)[weights].url
    except (KeyError, ValueError) as exc:
        return f"arch '{arch}': unknown torchvision weights '{weights}' for {factory} ({exc}); see torchvision.models.get_model_weights('{factory}')"
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    if checkpoint.is_file():
        return None
    command = f"python -c \"import torchvision; torchvision.models.{factory}(weights='{weights}')\""
    return (
        f"arch '{arch}' weights '{weights}' are absent: no {checkpoint}; download them once (internet) with: "
        f"{command}  - or offline, place {url} there"
    )


def weights_state(arch: str, arch_params: Mapping[str, Any]) -> str:
    """``none (random init)``, ``cached`` or ``absent`` (``weights_problem`` says how to get them)."""
    weights = arch_params.get("weights")
    if not isinstance(weights, str) or weights in ("", "none"):
        return "none (random init)"
    return "absent (see the warning below)" if weights_problem(arch, arch_params) else f"{weights}: cached"


def dataset_state(spec: Any, params: Mapping[str, Any]) -> str:
    """Where a run's dataset comes from on this machine: its build in the store, else its source."""
    config = spec.config
    built = dataset_store.find(config.dataset, config.dataset_params)
    if built is not None:
        return f"built: {built}"
    variant = spec.dataset.split("[", 1)[0]
    if source_problem(spec.dataset, config.dataset, config.dataset_params, variant_key(variant, params)):
        return "absent (see the warning below)"
    if unbuilt_folder(spec, params):
        return "not built (see the warning below)"
    return f"not built: each run builds it in memory (`python -m benchmark data build {variant}` once saves that)"


def unbuilt_folder(spec: Any, params: Mapping[str, Any]) -> str | None:
    """The line refusing a sweep over a ``paper_datasets:`` variant read from a user's folder (a family
    with a ``source_checksum``, e.g. the CYBORG faces) that is present but not built into the store:
    such data is built once, streamed (``data build``), and runs only load it; None otherwise."""
    config = spec.config
    variant = spec.dataset.split("[", 1)[0]
    key = variant_key(variant, params)
    if key is None or not key.startswith(f"{SECTION}.") or spec.dataset != variant:
        return None
    if getattr(DATASETS.get(config.dataset), "source_checksum", None) is None:
        return None
    if dataset_store.find(config.dataset, config.dataset_params) is not None:
        return None
    return (
        f"dataset '{variant}' ({config.dataset}) is not built: build it once with `python -m benchmark data build "
        f"{variant}`; runs only load a built folder"
    )


def state_rows(study: Any, params: Mapping[str, Any]) -> list[list[str]]:
    """[kind, name, state] of every distinct dataset and architecture's weights the study's runs need."""
    rows: list[list[str]] = []
    seen: set[str] = set()
    for spec in study.runs:
        config = spec.config
        for kind, name, key, state in (
            ("dataset", spec.dataset, repr((config.dataset, sorted(config.dataset_params.items()))), dataset_state),
            ("weights", config.arch, repr((config.arch, sorted(config.arch_params.items()))), None),
        ):
            if key in seen:
                continue
            seen.add(key)
            if state is None:
                weights = config.arch_params.get("weights", "none")
                label = name if weights in ("", "none") else f"{name}[weights={weights}]"
                rows.append([kind, label, weights_state(config.arch, config.arch_params)])
            else:
                rows.append([kind, name, state(spec, params)])
    return rows


def absent_lines(study: Any, params: Mapping[str, Any]) -> list[str]:
    """One line per dataset or pretrained weights the study's runs need and this machine lacks."""
    lines: list[str] = []
    seen: set[str] = set()
    for spec in study.runs:
        config = spec.config
        variant = spec.dataset.split("[", 1)[0]
        key = repr((spec.dataset, config.dataset, sorted(config.dataset_params.items())))
        if key not in seen:
            seen.add(key)
            problem = source_problem(spec.dataset, config.dataset, config.dataset_params, variant_key(variant, params))
            problem = problem or unbuilt_folder(spec, params)
            if problem and problem not in lines:
                lines.append(problem)
        key = repr((config.arch, sorted(config.arch_params.items())))
        if key not in seen:
            seen.add(key)
            problem = weights_problem(config.arch, config.arch_params)
            if problem and problem not in lines:
                lines.append(problem)
    return lines

"""What a study's runs need from outside that is not on this machine: datasets and pretrained weights.

One line per absent thing, naming it, what is missing and how to get it (``absent_lines``):

- a dataset whose source is absent (``benchmark.data.availability``: torchvision's MNIST family or
  CIFAR-10 not downloaded, an ``annotated_folder`` root unset, missing, empty or incomplete), with
  the params.yaml entry that sets its parameters (``paper_datasets.NAME`` or ``datasets.NAME``);
- torchvision pretrained weights (an arch parameter ``weights`` other than ``none``) absent from the
  torch hub cache, with the command that downloads them.

``sweep --dry-run`` prints them as warnings (exit 0: the machine that runs the sweep may have what
this one lacks); a sweep refuses them before anything is computed or written (exit 2). Nothing here
touches the network, decodes an image or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..contracts import ContractError
from ..data.availability import source_problem
from ..data.paper_variants import SECTION, paper_variants
from ..registry import ARCHS


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
            if problem and problem not in lines:
                lines.append(problem)
        key = repr((config.arch, sorted(config.arch_params.items())))
        if key not in seen:
            seen.add(key)
            problem = weights_problem(config.arch, config.arch_params)
            if problem and problem not in lines:
                lines.append(problem)
    return lines

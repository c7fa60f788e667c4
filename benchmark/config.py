"""The project's ``params.yaml``: dataset variants, profiles and studies (read-only here)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .contracts import ContractError
from .paths import project_root
from .registry import DATASETS


def params_path() -> Path:
    return Path(os.environ.get("SALBENCH_PARAMS", project_root() / "params.yaml"))


def load_params(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or params_path())
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: invalid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ContractError(f"{path}: top level must be a mapping")
    return data


def dataset_variant(name: str, params: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(family, construction parameters) of a dataset name: a variant under ``datasets:`` in
    params.yaml (``{family: ..., params: {...}}``), else a registered family with defaults."""
    variants = (load_params() if params is None else params).get("datasets", {}) or {}
    if name in variants:
        entry = variants[name] or {}
        family = entry.get("family", name)
        DATASETS.get(family)
        return family, dict(entry.get("params") or {})
    if name in DATASETS.names():
        return name, {}
    raise ContractError(
        f"unknown dataset '{name}'; variants in {params_path().name}: {sorted(variants)}; "
        f"families: {DATASETS.names()}"
    )

"""Instantiate a registered architecture for an input shape and a number of classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..contracts import Network, resolve_hparams
from ..registry import ARCHS


def build_network(
    name: str, in_channels: int, num_classes: int, image_size: int, overrides: Mapping[str, Any] | None = None
) -> Network:
    """Instantiate architecture ``name`` for the given input shape and number of classes."""
    cls = ARCHS.get(name)
    params = arch_params(name, overrides)
    return cls(in_channels=in_channels, num_classes=num_classes, image_size=image_size, **params)


def arch_params(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The resolved (defaults + overrides) parameters of architecture ``name``: declared ranges, then
    the class's ``check_params(params)`` when it has one (relations between parameters)."""
    cls = ARCHS.get(name)
    params = resolve_hparams(cls.params, overrides or {}, owner=f"arch '{name}'")
    check = getattr(cls, "check_params", None)
    if check is not None:
        check(params)
    return params

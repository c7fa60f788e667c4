"""Architectures: every one returns ``NetOutput`` and gives a differentiable CAM.

Each module of this package that registers an architecture (``@register_arch``) is imported
by ``benchmark.registry.ARCHS`` on first use, one module per architecture family, so a
run's code fingerprint covers only its own architecture's file and what that file imports.
"""

from .build import arch_params, build_network

__all__ = ["arch_params", "build_network"]

"""Saliency-guided training benchmark: data -> runs -> records -> statistics -> reports."""

__version__ = "0.1.0"

from .numerics import pin_environment  # noqa: E402 - before anything imports torch (benchmark.numerics)

pin_environment()

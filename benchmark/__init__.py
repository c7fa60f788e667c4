"""Saliency-guided training benchmark: data -> runs -> records -> statistics -> reports."""

__version__ = "0.1.0"

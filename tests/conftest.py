"""Shared fixtures: a tiny run config and a temporary results folder."""

from __future__ import annotations

import os

import pytest
import torch
from quick import QUICK_TRAINING

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def tiny_config():
    """A 2-epoch ERM run on the decoy digits: seconds on a CPU. Saliency evaluation is off
    unless a test asks for it (``evaluation={}`` = the default settings)."""
    from benchmark.contracts import RunConfig

    def make(**overrides):
        base = dict(
            method="erm",
            dataset="decoy_digits",
            arch="simple_cnn",
            seed=0,
            **{**QUICK_TRAINING, "epochs": 2},
            evaluation={"enabled": False},
        )
        base.update(overrides)
        return RunConfig(**base)

    return make

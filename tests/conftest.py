"""Shared fixtures (a tiny run config) and the set-up of parallel runs.

``make test`` runs the suite in two pytest-xdist workers (pyproject.toml's addopts: ``--numprocesses=2
--dist=loadfile``: each test file runs whole in one worker, so a module-scoped fixture is made once);
``-n 0`` or ``-p no:xdist`` runs it in this process."""

from __future__ import annotations

import os

import pytest

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... in a pytest-xdist worker, else None
if XDIST_WORKER:
    # The workers share the cores: one intra-op thread each (two threads per worker oversubscribe two cores, and
    # torch's spinning threads then crawl), and one in every process a test spawns (its torch reads these
    # variables when it starts), so a worker and its subprocesses also compute with the same thread count.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"

import benchmark  # noqa: E402, F401, I001 - pins the portable CPU numerics before torch loads (benchmark.numerics)
import torch  # noqa: E402 - after the thread variables and the pins
from quick import QUICK_TRAINING  # noqa: E402

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
torch.set_num_threads(1 if XDIST_WORKER else min(2, torch.get_num_threads()))


def pytest_addoption(parser, pluginmanager):
    """With pytest-xdist off (``-p no:xdist``) or not installed, addopts' ``--numprocesses``/``--dist`` are
    accepted and ignored: the run is serial, as with ``-n 0``. (Their own names: pytest-benchmark reads an
    option ``dist`` other than "no" as xdist at work.)"""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is off: these options are accepted and ignored")
    group.addoption("--numprocesses", dest="ignored_numprocesses", help="ignored without pytest-xdist")
    group.addoption("--dist", dest="ignored_dist", help="ignored without pytest-xdist")


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

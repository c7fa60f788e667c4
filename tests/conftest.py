"""Shared fixtures (a tiny run config) and the set-up of parallel runs.

``make test`` runs the suite in two pytest-xdist workers (pyproject.toml's addopts: ``--numprocesses=2
--dist=loadfile``: each test file runs whole in one worker, so a module-scoped fixture is made once);
``-n 0`` or ``-p no:xdist`` runs it in this process. The files that take longest run first (``LONGEST_FIRST``,
with addopts' ``--no-loadscope-reorder``, which keeps this order): a long file handed out last kept one core
busy alone at the end (6.5 min on 2 cores for 11 min of work)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
    """With pytest-xdist off (``-p no:xdist``) or not installed, addopts' xdist options are
    accepted and ignored: the run is serial, as with ``-n 0``. (Their own names: pytest-benchmark reads an
    option ``dist`` other than "no" as xdist at work.)"""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is off: these options are accepted and ignored")
    group.addoption("--numprocesses", dest="ignored_numprocesses", help="ignored without pytest-xdist")
    group.addoption("--dist", dest="ignored_dist", help="ignored without pytest-xdist")
    group.addoption("--no-loadscope-reorder", action="store_true", dest="ignored_reorder", help="ignored too")


# The slowest files, slowest first (``--durations`` summed per file, 2 idle cores); every other file follows in
# its collection order. Only the order changes: a file missing here merely starts later.
LONGEST_FIRST = (
    "test_contributing.py",
    "test_submit_verify.py",
    "test_cli.py",
    "test_executors.py",
    "test_submit_cmd.py",
)


def pytest_collection_modifyitems(items):
    """The tests of ``LONGEST_FIRST``'s files first, in its order (a stable sort: nothing else moves)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def faces_submission(tmp_path_factory) -> Path:
    """The project of hint's tiny submission on the faces study (tiny_submission.py), made once per session: in
    one xdist worker, while the others wait for its lock (pytest-xdist's pattern for a session fixture; filelock
    is a dependency of torch). Read it, or copy it: other tests read it too."""
    from filelock import FileLock
    from tiny_submission import faces_project

    if not XDIST_WORKER:
        return faces_project(tmp_path_factory.mktemp("faces-submission"))
    shared = tmp_path_factory.getbasetemp().parent / "faces-submission"  # the session's folder, all workers'
    with FileLock(f"{shared}.lock"):
        if not (shared / "done").is_file():
            shutil.rmtree(shared, ignore_errors=True)  # what a failed attempt left
            shared.mkdir()
            faces_project(shared)
            (shared / "done").touch()
    return shared / "project"


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

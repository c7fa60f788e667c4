"""Running a submitted method's real training steps, a few at a time (checks 2-4).

A short training is a real one cut short: ``benchmark.runs.run.prepare`` builds the run as ``execute``
does (method, data on the device, the train split as the loop hands it to the method, the network from
the run's seed), and ``benchmark.runs.training.train`` trains it, with the method replaced by a
``probe_class`` subclass that hands each batch to a recorder, calls the method's own ``loss``, and ends
the training (``Enough``) when it is asked for one step more than allowed; so the steps taken are
exactly the loop's, batches, seeds and optimizer included. The batch size is at most ``BATCH``.
"""

from __future__ import annotations

import dataclasses
import inspect
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from ..contracts import Batch, Method, RunConfig
from ..runs.run import Prepared, prepare, select_device
from ..runs.training import train

BATCH = 8  # rows per batch of the short trainings: the checks test the code path, not the model
STEPS = 3  # training steps of a short training


class Enough(Exception):
    """Raised by a probe's ``loss`` when it is called after its last allowed step: ends a short training."""


def probe_class(cls: type[Method], steps: int, record: Callable[[Batch], None] | None = None) -> type[Method]:
    """A subclass of ``cls`` whose ``loss`` passes each batch to ``record`` and then calls ``cls.loss``, for
    ``steps`` calls; the next call raises ``Enough`` before anything is computed."""

    calls = [0]  # the count lives here, not on the instance: nothing is added to the method's attributes

    class Probe(cls):  # type: ignore[valid-type, misc]
        def loss(self, net, batch, state):
            if calls[0] >= steps:
                raise Enough
            calls[0] += 1
            if record is not None:
                record(batch)
            return super().loss(net, batch, state)

    Probe.__name__ = Probe.__qualname__ = f"Probe[{cls.__name__}]"
    return Probe


def device_of(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` ("auto": the GPU when present)."""
    return select_device(device) if isinstance(device, str) else device


def of_method(name: str, configs: list[RunConfig]) -> list[RunConfig]:
    """``configs``, checked to be runs of method ``name`` (a ``ValueError`` otherwise: a caller's mistake)."""
    other = sorted({config.method for config in configs} - {name})
    if other:
        raise ValueError(f"the configs checked for method '{name}' are runs of {other}")
    return configs


def small(config: RunConfig) -> RunConfig:
    """``config`` with batches of at most ``BATCH`` rows."""
    return dataclasses.replace(config, batch_size=min(config.batch_size, BATCH))


def short_training(
    config: RunConfig, device: torch.device, steps: int = STEPS, record: Callable[[Batch], None] | None = None
) -> Prepared:
    """Train ``small(config)`` for ``steps`` steps (fewer when its epochs hold fewer) through the real loop,
    each batch handed to ``record`` first; returns the prepared run, its network trained."""
    ready = prepare(small(config), device)
    method = probe_class(type(ready.method), steps, record)(**ready.config.method_params)
    try:
        train(ready.network, method, ready.train_split, ready.splits["val"], ready.config, ready.device, progress=False)
    except Enough:
        pass
    return ready


def method_files(cls: type) -> set[str]:
    """The source files of ``cls`` and of every ``Method`` subclass it derives from (resolved paths)."""
    files = set()
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, Method) and klass is not Method:
            try:
                files.add(str(Path(inspect.getfile(klass)).resolve()))
            except (TypeError, OSError):
                pass
    return files


def exception_line(exc: BaseException, cls: type) -> str:
    """``ZeroDivisionError: division by zero (methods/x.py:12 in loss)``: the exception on one line, at the
    last frame of its traceback that lies in the method's files (else its last frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if str(Path(f.filename).resolve()) in method_files(cls)]
    frame = (mine or frames or [None])[-1]
    text = " ".join(str(exc).split())
    where = "" if frame is None else f" ({short_path(frame.filename)}:{frame.lineno} in {frame.name})"
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


def short_path(filename: str) -> str:
    """``methods/x.py`` for a file in a ``methods`` folder, else the path as given."""
    path = Path(filename)
    return f"{path.parent.name}/{path.name}" if path.parent.name == "methods" else filename

"""Check 3, determinism: two identical short trainings (``harness.short_training``: the real loop, a few
steps, the same seed) must end with identical weights; a mismatch names the first differing parameter.

The loop re-seeds the global streams (torch, numpy, Python's ``random``) from the run's seed every epoch
(``training.start_epoch``), so a loss drawing from them repeats itself and two runs agree. Such draws still
break the contract (``TrainState.generator`` is the method's own stream): they shift the dropout masks the
loop draws for the network, so a method no longer shares them with ERM at the same seed, and they depend
on whatever else draws from the global stream. So the trainings also watch the torch functions that draw
random numbers (``GlobalDraws``): one called from the method's own files without ``generator=`` fails the
check, naming the function and the line.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from ..contracts import RunConfig
from ..registry import METHODS
from .failures import CheckFailure
from .harness import STEPS, device_of, exception_line, method_files, of_method, short_path, short_training

CHECK = "determinism"
RANDOM_FUNCTIONS = frozenset(
    {
        "rand",
        "rand_like",
        "randn",
        "randn_like",
        "randint",
        "randint_like",
        "randperm",
        "bernoulli",
        "bernoulli_",
        "multinomial",
        "normal",
        "normal_",
        "poisson",
        "uniform_",
        "random_",
        "exponential_",
        "geometric_",
        "cauchy_",
        "log_normal_",
        "dropout",
        "dropout1d",
        "dropout2d",
        "dropout3d",
        "alpha_dropout",
        "feature_alpha_dropout",
        "rrelu",
    }
)
FIX = (
    "draw every random number from `state.generator` (e.g. torch.rand(shape, generator=state.generator, "
    "device=x.device)), never from torch's global stream, numpy's or Python's `random`, the clock or an "
    "unseeded generator"
)


class GlobalDraws(TorchFunctionMode):
    """Records the torch random functions called without ``generator=`` from one of ``files`` (the innermost
    frame outside torch decides: the network's dropout, called from benchmark/models, is not recorded)."""

    def __init__(self, files: set[str]) -> None:
        super().__init__()
        self.files = files
        self.torch_dir = str(Path(torch.__file__).resolve().parent)
        self.found: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in RANDOM_FUNCTIONS and kwargs.get("generator") is None:
            caller = next(
                (
                    f
                    for f in reversed(traceback.extract_stack()[:-1])
                    if not str(Path(f.filename).resolve()).startswith(self.torch_dir) and f.filename != __file__
                ),
                None,
            )
            if caller is not None and str(Path(caller.filename).resolve()) in self.files:
                self.found.append(f"torch.{func.__name__} at {short_path(caller.filename)}:{caller.lineno}")
        return func(*args, **kwargs)


def trained_weights(config: RunConfig, device: torch.device, steps: int, draws: GlobalDraws) -> dict[str, torch.Tensor]:
    """The state dict after a short training of ``config`` with ``draws`` watching."""
    with draws:
        ready = short_training(config, device, steps)
    return {key: value.detach().cpu().clone() for key, value in ready.network.state_dict().items()}


def first_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> str | None:
    """The first key (state-dict order) whose tensors differ between ``a`` and ``b``, or None."""
    return next((key for key in a if key not in b or not torch.equal(a[key], b[key])), None)


def determinism_failures(
    name: str, config: RunConfig, device: str | torch.device = "auto", steps: int = STEPS
) -> list[CheckFailure]:
    """Check 3 on ``config`` (resolved, of method ``name``, which passed its contract): two short trainings of
    ``steps`` steps."""
    device = device_of(device)
    (config,) = of_method(name, [config])
    cls = METHODS.get(name)

    def failure(problem: str, fix: str = FIX) -> list[CheckFailure]:
        return [CheckFailure(CHECK, problem, fix, arch=config.arch, dataset=config.dataset)]

    draws = GlobalDraws(method_files(cls))
    try:
        first = trained_weights(config, device, steps, draws)
        second = trained_weights(config, device, steps, draws)
    except Exception as exc:  # noqa: BLE001 - the method's exception is reported, not raised
        return failure(f"a short training raised {exception_line(exc, cls)}", "fix the loss at that line")
    if draws.found:
        return failure(
            f"the loss draws from torch's global random stream ({', '.join(dict.fromkeys(draws.found))}, "
            f"without generator=): its draws shift the dropout masks the loop draws for the network "
            f"and depend on whatever else draws from that stream"
        )
    differing = first_difference(first, second)
    if differing is not None:
        return failure(
            f"two identical trainings of {steps} steps (same seed) end with different weights, first "
            f"at parameter '{differing}'"
        )
    return []

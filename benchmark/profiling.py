"""Training-step cost: measured step time per method beside the time its declared ``Cost`` predicts.

The unit costs (one forward, one full backward, one input-only backward) are measured on the
ERM step of the same network, batch and machine; a method's theoretical step time is
``Cost.seconds(forward_s, backward_s, input_backward_s)``. Fixed units (backward = 2F)
mislead on a CPU, where a backward of a small CNN costs about a forward or less.

Every time is the minimum over repeats: on a shared machine the fastest repeat is the one
least disturbed by other processes (medians are in pytest-benchmark's own table).

Used by ``tests/benchmarks/test_step_time.py`` (pytest-benchmark times the steps there) and
by anything that wants the same table from Python: ``profile_methods(...)``.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from tabulate import tabulate

from .contracts import Batch, Method, Network, TrainState
from .models.build import build_network
from .registry import METHODS
from .runs.training import train_step
from .seeding import make_generator

TARGET = 1.2  # measured/theoretical ratio to ERM that counts as "as cheap as declared"


@dataclass(frozen=True)
class UnitCosts:
    forward_s: float
    backward_s: float
    input_backward_s: float


@dataclass
class StepSetup:
    """A network (template, never trained), a synthetic fully annotated batch and the run-like state."""

    arch: str
    net: Network
    batch: Batch
    device: torch.device

    def state(self) -> TrainState:
        return TrainState(epoch=0, step=0, epochs=1, device=self.device, generator=make_generator(0, self.device))


def make_setup(arch: str, batch_size: int, channels: int, side: int, num_classes: int = 10,
               device: str | torch.device = "cpu", seed: int = 0) -> StepSetup:
    """Seeded random images and labels, with a central-square human map on every image."""
    device = torch.device(device)
    torch.manual_seed(seed)
    net = build_network(arch, channels, num_classes, side).to(device).train()
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch_size, channels, side, side, generator=g)
    y = torch.randint(0, num_classes, (batch_size,), generator=g)
    saliency = torch.zeros(batch_size, 1, side, side)
    saliency[..., side // 4:3 * side // 4, side // 4:3 * side // 4] = 1.0
    batch = Batch(x=x.to(device), y=y.to(device), saliency=saliency.to(device))
    return StepSetup(arch=arch, net=net, batch=batch, device=device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def min_time(run: Callable[[object], object], prepare: Callable[[], object] = lambda: None,
                repeats: int = 5, warmup: int = 1, device: torch.device = torch.device("cpu")) -> float:
    """Fastest of ``repeats`` timings of ``run(prepare())``, timing ``run`` only (``prepare`` is untimed)."""
    times = []
    for i in range(warmup + repeats):
        arg = prepare()
        _sync(device)
        began = time.perf_counter()
        run(arg)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - began)
    return min(times)


def measure_units(setup: StepSetup, repeats: int = 5, warmup: int = 1) -> UnitCosts:
    """ERM's forward, full backward (CE) and input-only backward (log-softmax of the label), in train mode."""
    net, batch, dev = copy.deepcopy(setup.net), setup.batch, setup.device

    def forward(_: object) -> torch.Tensor:
        return net(batch.x).logits

    def ce_graph() -> torch.Tensor:
        net.zero_grad(set_to_none=True)
        return F.cross_entropy(net(batch.x).logits, batch.y)

    def input_graph() -> tuple[torch.Tensor, torch.Tensor]:
        x = batch.x.detach().requires_grad_(True)
        return F.log_softmax(net(x).logits, 1).gather(1, batch.y[:, None]).sum(), x

    return UnitCosts(
        forward_s=min_time(forward, repeats=repeats, warmup=warmup, device=dev),
        backward_s=min_time(lambda loss: loss.backward(), ce_graph, repeats, warmup, dev),
        input_backward_s=min_time(lambda g: torch.autograd.grad(*g), input_graph, repeats, warmup, dev),
    )


def make_step(method: Method, setup: StepSetup) -> Callable[[], None]:
    """One training step as the loop runs it (loss, backward, Adam step) on a private copy of the network."""
    net = copy.deepcopy(setup.net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    state = setup.state()

    def step() -> None:
        train_step(net, method, setup.batch, state, opt)
        _sync(setup.device)

    return step


def rows(step_seconds: dict[str, float], units: UnitCosts, baseline: str = "erm") -> list[dict[str, float | str]]:
    """Per method: measured step time, measured and theoretical ratio to ``baseline``, and their quotient."""
    unit = (units.forward_s, units.backward_s, units.input_backward_s)
    base_measured = step_seconds[baseline]
    base_theory = METHODS.get(baseline).cost.seconds(*unit)
    out = []
    for name, seconds in step_seconds.items():
        cost = METHODS.get(name).cost
        measured, theory = seconds / base_measured, cost.seconds(*unit) / base_theory
        out.append({"method": name, "step_ms": 1e3 * seconds, "passes": f"{cost.forward:g}F+{cost.backward:g}B+"
                    f"{cost.input_backward:g}IB", "measured_ratio": measured, "theoretical_ratio": theory,
                    "measured/theoretical": measured / theory})
    return out


def format_table(title: str, table: Sequence[dict[str, float | str]], units: UnitCosts) -> str:
    """A GitHub-style table of ``rows`` under a line giving the unit costs."""
    head = (f"{title}: forward {1e3 * units.forward_s:.1f} ms, backward {1e3 * units.backward_s:.1f} ms, "
            f"input-only backward {1e3 * units.input_backward_s:.1f} ms (ERM, measured)")
    body = [{**r, "within target": "yes" if r["measured/theoretical"] <= TARGET else "NO"} for r in table]
    return head + "\n" + tabulate(body, headers="keys", tablefmt="github", floatfmt=".2f")


def profile_methods(methods: Iterable[str], arch: str, batch_size: int, channels: int, side: int,
                    repeats: int = 5, warmup: int = 1, device: str | torch.device = "cpu") -> str:
    """Measure units and one step per method (``erm`` always included) and return the table."""
    setup = make_setup(arch, batch_size, channels, side, device=device)
    units = measure_units(setup, repeats, warmup)
    names = ["erm", *[m for m in methods if m != "erm"]]
    seconds = {n: min_time(lambda _, s=make_step(METHODS.get(n)(), setup): s(), repeats=repeats,
                              warmup=warmup, device=setup.device) for n in names}
    return format_table(f"{arch}, batch {batch_size}x{channels}x{side}x{side}", rows(seconds, units), units)

"""One profiling case: a network template, a seeded synthetic fully annotated batch, and a
training step of a method on a private copy of the network (``benchmark.runs.training.train_step``,
the step the training loop runs, with the training profile's optimizer)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..contracts import Batch, Method, Network, TrainState
from ..models.build import build_network
from ..models.layout import channels_last_network, training_layout
from ..runs.precision import autocast, make_scaler
from ..runs.training import make_optimizer, train_step
from ..seeding import derive_seed, make_generator

NUM_CLASSES = 10
DEFAULT_SHAPES = {"simple_cnn": (1, 28)}  # arch -> (channels, side); any other arch: DEFAULT_SHAPE
DEFAULT_SHAPE = (3, 32)


def default_shape(arch: str) -> tuple[int, int]:
    """(channels, image side) a case of ``arch`` uses unless told: MNIST-like 1x28x28 for the SGT
    network, CIFAR-like 3x32x32 for the others."""
    return DEFAULT_SHAPES.get(arch, DEFAULT_SHAPE)


def synthetic_batch(
    batch_size: int,
    channels: int,
    side: int,
    seed: int = 0,
    num_classes: int = NUM_CLASSES,
    device: torch.device | str = "cpu",
) -> Batch:
    """Seeded uniform images in [0,1] and labels, a central-square human map on every image (all
    annotated, so every method runs its full step). Drawn on the CPU, then moved: the same seed
    gives the same batch on every device."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch_size, channels, side, side, generator=g)
    y = torch.randint(0, num_classes, (batch_size,), generator=g)
    saliency = torch.zeros(batch_size, 1, side, side)
    saliency[..., side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1.0
    return Batch(x=x.to(device), y=y.to(device), saliency=saliency.to(device))


@dataclass
class Case:
    """A network template (never trained itself), a batch, and what every step of the case shares."""

    arch: str
    channels: int
    image_size: int
    net: Network
    batch: Batch
    device: torch.device
    optimizer: Mapping[str, Any]
    precision: str = "fp32"
    seed: int = 0

    @property
    def batch_size(self) -> int:
        return self.batch.size

    @contextlib.contextmanager
    def autocast(self, net: Network, double_backward: bool = False) -> Iterator[None]:
        """What ``train_step`` puts around a method's loss: the autocast region of the case's precision
        (``benchmark.runs.precision``) and the step's layout (``benchmark.models.layout.training_layout``:
        channels-last on the CPU, NCHW there for a ``double_backward`` graph, channels-last on CUDA), so the
        unit costs are measured as the steps run."""
        with autocast(self.precision, self.device), training_layout(net, self.device, double_backward):
            yield

    def fresh_net(self) -> Network:
        """A private copy of the template, in train mode."""
        return copy.deepcopy(self.net).train()


def make_case(
    arch: str,
    batch_size: int,
    channels: int,
    image_size: int,
    optimizer: Mapping[str, Any],
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    seed: int = 0,
) -> Case:
    """Build the network (weights from ``seed``, the global RNG left as it was) and the batch."""
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "profile-init", arch))
        net = build_network(arch, channels, NUM_CLASSES, image_size)
    batch = synthetic_batch(batch_size, channels, image_size, seed=seed, device=device)
    return Case(
        arch=arch,
        channels=channels,
        image_size=image_size,
        net=channels_last_network(net.to(device), device).train(),  # as the training loop converts it
        batch=batch,
        device=device,
        optimizer=dict(optimizer),
        precision=precision,
        seed=seed,
    )


class Step:
    """One training step as the loop runs it (``train_step``: loss under autocast, backward, optimizer
    step, loss scaling for fp16 on CUDA), on a private network, optimizer and random stream; call it."""

    def __init__(self, method: Method, case: Case) -> None:
        self.method, self.case = method, case
        self.net = case.fresh_net()
        self.opt = make_optimizer(self.net.parameters(), dict(case.optimizer))
        self.scaler = make_scaler(case.precision, case.device)
        self.state = TrainState(
            epoch=0,
            step=0,
            epochs=1,
            device=case.device,
            generator=make_generator(derive_seed(case.seed, "profile-method", method.name), case.device),
        )

    def __call__(self) -> None:
        train_step(
            self.net,
            self.method,
            self.case.batch,
            self.state,
            self.opt,
            precision=self.case.precision,
            scaler=self.scaler,
        )
        self.state.step += 1

    def release(self) -> None:
        """Free the gradients the last step left (the next step's ``zero_grad`` would)."""
        self.opt.zero_grad(set_to_none=True)


def make_step(method: Method, case: Case) -> Step:
    """The step of ``method`` on ``case`` (``Step``)."""
    return Step(method, case)

"""Every registered method x every architecture: one training step on CPU, partial annotations.

Parametrized from the registries, so a new method file or architecture is covered the moment
it registers. The batch is tiny (4 grayscale images, two of them annotated): 28x28 like the
digit datasets, 16x16 for the ImageNet-sized CNNs (their small-image stem keeps full
resolution through the first stage, so 28 px costs several times more) to keep the grid fast.
"""

from __future__ import annotations

import math

import pytest
import torch

from benchmark.contracts import Batch, TrainState
from benchmark.models import build_network
from benchmark.registry import ARCHS, METHODS
from benchmark.seeding import make_generator

SIDE = {"simple_cnn": 28, "vit_tiny": 28}  # every other architecture: 16 px
# Test-only plug-ins that other test modules register (names starting with "_") are not project methods.
PROJECT_METHODS = [name for name in METHODS.names() if not name.startswith("_")]


def partially_annotated_batch(side: int) -> Batch:
    g = torch.Generator().manual_seed(0)
    saliency = torch.zeros(4, 1, side, side)
    saliency[:, :, side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1.0  # the central square
    annotated = torch.tensor([True, False, True, False])
    saliency[~annotated] = 0.0  # contract: unannotated rows are zeros
    return Batch(
        x=torch.rand(4, 1, side, side, generator=g),
        y=torch.tensor([0, 1, 2, 1]),
        saliency=saliency,
        annotated=annotated,
    )


@pytest.mark.parametrize("arch", ARCHS.names())
@pytest.mark.parametrize("method_name", PROJECT_METHODS)
def test_one_training_step_is_finite_and_moves_the_parameters(method_name, arch):
    torch.manual_seed(0)
    net = build_network(arch, in_channels=1, num_classes=3, image_size=SIDE.get(arch, 16))
    net.train()
    method = METHODS.get(method_name)()
    state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.SGD(net.parameters(), lr=0.05)

    loss, scalars = method.loss(net, partially_annotated_batch(SIDE.get(arch, 16)), state)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()

    assert loss.ndim == 0 and torch.isfinite(loss), f"{method_name}/{arch}: loss {loss}"
    assert all(math.isfinite(float(v)) for v in scalars.values()), f"{method_name}/{arch}: {scalars}"
    assert net.training, f"{method_name} left the network in eval mode"
    assert any(not torch.equal(b, p) for b, p in zip(before, net.parameters())), f"{method_name}/{arch}: no change"
    assert all(math.isfinite(v) for v in method.on_epoch_end(state).values())

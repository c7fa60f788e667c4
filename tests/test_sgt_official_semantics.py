"""Our SGT step and the official SGT code's MNIST step compute the same thing.

The official step is reimplemented in ``tests/benchmarks/test_sgt_official.py`` (from
ayaabdelsalam91/saliency_guided_training, ``Scripts/interpretable.py`` and ``Scripts/cnn.py``;
see its docstring for the lines). Here, on one batch and one set of weights:

- the saliency: Captum's gradient of the official network's log-probability equals ours;
- the masks: given the same saliency, the official ``topk(largest=False)`` and our
  ``bottom_k_mask`` select the same positions (ties: the same number and the same values;
  topk leaves the order of ties unspecified, ours takes the lowest positions);
- the fill: the official per-image ``np.random.uniform(min, max)`` and our per-image U(min, max)
  draw different numbers from different generators, so the test checks the distribution:
  k values per image, all within the image's [min, max], and the same law (two-sample
  Kolmogorov-Smirnov on the fills rescaled to [0, 1], and each against U(0, 1));
- the loss: with the same masked batch and dropout off, CE + KL of both agree to 1e-6, and
  so do the gradients of the weights.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import kstest

from benchmark.contracts import Batch, TrainState
from benchmark.models.layout import channels_last_images
from benchmark.seeding import make_generator
from methods import sgt

REFERENCE = Path(__file__).parent / "benchmarks" / "test_sgt_official.py"


def load_reference():
    name = "sgt_official_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


official = load_reference()
K = int(official.FRACTION * 28 * 28)


@pytest.fixture(scope="module")
def setup():
    ours_net, official_net = official.paired_networks(seed=3)
    x, y = official.mnist_batch(16, seed=3)
    return ours_net, official_net, x, y


def test_saliency_equals_the_official_captum_saliency(setup):
    ours_net, official_net, x, y = setup
    theirs = official.official_saliency(official_net, x.clone().requires_grad_(True), y)
    official_net.train()
    ours = sgt.input_saliency(ours_net, x, y).mean(dim=1)
    assert ours_net.training
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    # our step runs the network on channels-last inputs (benchmark.models.layout): same values to rounding
    fast = sgt.input_saliency(ours_net, channels_last_images(x), y).mean(dim=1)
    assert torch.allclose(fast, theirs, rtol=1e-4, atol=1e-6)


def official_positions(x: torch.Tensor, score: torch.Tensor, absolute: bool) -> torch.Tensor:
    """(B,1,H,W) bool: where the official masking changed the batch (random fill: a draw equal to the
    original pixel has probability zero for these continuous inputs)."""
    np.random.seed(0)
    masked = official.official_mask(x, score, official.FRACTION, random_masking=True, absolute=absolute)
    return masked != x


@pytest.mark.parametrize("sign", ["signed", "absolute"])
def test_same_saliency_same_positions(setup, sign):
    _, official_net, x, y = setup
    score = official.official_saliency(official_net, x.clone().requires_grad_(True), y)
    official_net.train()
    theirs = official_positions(x, score, absolute=sign == "absolute")
    ours = sgt.bottom_k_mask(score.abs() if sign == "absolute" else score, K)
    assert (ours.flatten(1).sum(1) == K).all()
    assert torch.equal(ours, theirs)


def test_ties_same_count_and_same_values():
    g = torch.Generator().manual_seed(1)
    score = torch.randint(-3, 4, (8, 28, 28), generator=g).float()  # every value tied ~112 times
    x = torch.rand(8, 1, 28, 28, generator=g)
    theirs = official_positions(x, score, absolute=False)
    ours = sgt.bottom_k_mask(score, K)
    assert (theirs.flatten(1).sum(1) == K).all() and (ours.flatten(1).sum(1) == K).all()
    for i in range(8):
        assert torch.equal(score[i][ours[i, 0]].sort().values, score[i][theirs[i, 0]].sort().values)
    # ours: of the tied values at the boundary, the lowest positions (a stable sort's choice)
    stable = score.flatten(1).argsort(dim=1, stable=True)[:, :K]
    assert torch.equal(ours.flatten(1), torch.zeros(8, 784, dtype=torch.bool).scatter_(1, stable, True))


def test_random_fill_same_distribution(setup):
    _, official_net, _, _ = setup
    x, y = official.mnist_batch(64, seed=4)
    score = official.official_saliency(official_net, x.clone().requires_grad_(True), y)
    official_net.train()
    np.random.seed(0)
    theirs = official.official_mask(x, score, official.FRACTION, random_masking=True)
    method = official.ours_method()
    method_net = official.paired_networks(seed=3)[0]
    ours = method.masked_input(method_net, Batch(x=x, y=y), make_generator(0))
    low, high = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
    rescaled = {}
    for name, masked in (("official", theirs), ("ours", ours)):
        changed = masked != x
        assert (changed.flatten(1).sum(1) == K).all(), name
        assert ((masked >= low) & (masked <= high)).all(), name
        rescaled[name] = ((masked - low) / (high - low))[changed].numpy()
    assert kstest(rescaled["official"], rescaled["ours"]).pvalue > 0.01
    for name, values in rescaled.items():
        assert kstest(values, "uniform").pvalue > 0.01, name


def test_same_loss_and_gradients_on_the_same_masked_batch(setup):
    ours_net, official_net, x, y = setup
    for net in (ours_net, official_net):
        for module in net.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0  # the two draw dropout from different layouts: compare the formula without it
    try:
        score = official.official_saliency(official_net, x.clone().requires_grad_(True), y)
        np.random.seed(0)
        masked = official.official_mask(x, score, official.FRACTION, random_masking=True)
        official_net.zero_grad()
        loss_theirs, ce_theirs, kl_theirs, _ = official.official_loss(official_net, x, masked, y)
        loss_theirs.backward()

        method = official.ours_method()
        method._masked = lambda net, x_, y_, generator: masked  # the official mask, fixed
        ours_net.zero_grad()
        state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
        loss_ours, scalars = method.loss(ours_net, Batch(x=x, y=y), state)
        loss_ours.backward()
    finally:
        ours_net.drop1.p, ours_net.drop2.p = 0.25, 0.5
        official_net.dropout1.p, official_net.dropout2.p = 0.25, 0.5
    assert kl_theirs > 0
    assert torch.allclose(loss_ours, loss_theirs, atol=1e-6, rtol=0)
    assert torch.allclose(scalars["ce"], ce_theirs, atol=1e-6, rtol=0)
    assert torch.allclose(scalars["kl"], kl_theirs, atol=1e-6, rtol=0)
    for name, p in official_net.named_parameters():
        ours_grad = dict(ours_net.named_parameters())[name].grad
        assert torch.allclose(ours_grad, p.grad, atol=1e-6, rtol=1e-4), name

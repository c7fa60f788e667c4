"""SGT (methods/sgt.py): the mask, the fills, the loss and its gradients, against hand-built cases."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import Saliency
from nets import LinearNet

from benchmark.contracts import Batch, ContractError, TrainState
from benchmark.models import build_network
from benchmark.registry import METHODS
from benchmark.seeding import make_generator

SGT = METHODS.get("sgt")
sgt_module = sys.modules[SGT.__module__]

# A hand-built score grid (one image, 2x3) and its orderings.
GRID = torch.tensor([[0.5, -2.0, 0.1], [3.0, -0.2, 1.0]])
SIGNED_LOWEST_2 = [[False, True, False], [False, True, False]]  # -2, -0.2
ABS_LOWEST_2 = [[False, False, True], [False, True, False]]  # |0.1|, |-0.2|


def two_class_net(a: torch.Tensor) -> LinearNet:
    """Class 0's logit is <a, x>, class 1's is 0: d log p0/dx = (1 - p0) a, ordered like a."""
    return LinearNet.from_weight(torch.stack([a.flatten(), torch.zeros(a.numel())]))


def state(seed: int = 0) -> TrainState:
    return TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(seed))


def test_bottom_k_mask_picks_the_k_lowest_scores():
    mask = sgt_module.bottom_k_mask(GRID[None], 2)
    assert mask.shape == (1, 1, 2, 3)
    assert mask[0, 0].tolist() == SIGNED_LOWEST_2
    assert sgt_module.bottom_k_mask(GRID.abs()[None], 2)[0, 0].tolist() == ABS_LOWEST_2
    assert sgt_module.bottom_k_mask(GRID[None], 0).sum() == 0
    assert sgt_module.bottom_k_mask(GRID[None], 6).all()


@pytest.mark.parametrize("sign,expected", [("signed", SIGNED_LOWEST_2), ("absolute", ABS_LOWEST_2)])
def test_grayscale_mask_through_the_network_gradient(sign, expected):
    method = SGT(fraction=2 / 6, saliency_sign=sign, fill="constant", fill_value=9.0)
    x = torch.full((1, 1, 2, 3), 0.5)
    masked = method.masked_input(two_class_net(GRID), Batch(x=x, y=torch.tensor([0])), None)
    assert (masked[0, 0] == 9.0).tolist() == expected
    assert torch.equal(masked[masked != 9.0], x[masked != 9.0])
    assert not masked.requires_grad


def test_rgb_masks_whole_pixels_by_channel_mean_saliency():
    # No channel alone orders the pixels like GRID; their mean is GRID, which alone decides the mask.
    p = 5 * torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]])
    a = torch.stack([GRID + p, GRID - 2 * p, GRID + p])
    for channel in a:
        assert sgt_module.bottom_k_mask(channel[None], 2)[0, 0].tolist() != SIGNED_LOWEST_2
    assert torch.allclose(a.mean(0), GRID)
    method = SGT(fraction=2 / 6, saliency_sign="signed", fill="constant", fill_value=9.0)
    x = torch.full((1, 3, 2, 3), 0.5)
    masked = method.masked_input(two_class_net(a), Batch(x=x, y=torch.tensor([0])), None)
    hit = masked[0] == 9.0
    assert all(hit[c].tolist() == SIGNED_LOWEST_2 for c in range(3))


def random_images() -> torch.Tensor:
    """Three RGB images with a distinct value range per image and channel."""
    g = torch.Generator().manual_seed(1)
    low = torch.tensor([[0.0, 0.2, 0.5], [0.1, 0.6, 0.0], [0.3, 0.3, 0.7]])[:, :, None, None]
    return low + 0.25 * torch.rand(3, 3, 8, 8, generator=g)


def test_random_fill_is_uniform_within_each_image_and_channel_range():
    x = random_images()
    net = LinearNet.from_weight(torch.randn(4, 3 * 8 * 8, generator=torch.Generator().manual_seed(2)))
    method = SGT(fraction=0.5, fill="random")
    batch = Batch(x=x, y=torch.tensor([0, 1, 2]))
    masked = method.masked_input(net, batch, make_generator(5))
    changed = masked != x
    assert changed.sum() == 3 * 3 * 32  # 32 of 64 pixels, all channels, every image
    low, high = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    assert ((masked >= low) & (masked <= high)).all()
    fills = masked[changed].view(3, 3, 32)
    assert (fills.std(dim=2) > 0.03).all()  # drawn, not one value
    again = method.masked_input(net, batch, make_generator(5))
    other = method.masked_input(net, batch, make_generator(6))
    assert torch.equal(masked, again) and not torch.equal(masked, other)


def test_mean_and_constant_fills():
    x = random_images()
    net = LinearNet.from_weight(torch.randn(4, 3 * 8 * 8, generator=torch.Generator().manual_seed(2)))
    batch = Batch(x=x, y=torch.tensor([0, 1, 2]))
    masked = SGT(fraction=0.25, fill="mean").masked_input(net, batch, None)
    changed = masked != x
    expected = x.mean((2, 3), keepdim=True).expand_as(x)
    assert changed.sum() == 3 * 3 * 16
    assert torch.equal(masked[changed], expected[changed])
    masked = SGT(fraction=0.25, fill="constant", fill_value=-1.5).masked_input(net, batch, None)
    filled = masked == -1.5
    assert filled.sum() == 3 * 3 * 16
    assert torch.equal(masked[~filled], x[~filled])


def test_kl_is_zero_when_the_network_ignores_the_masked_features():
    a = torch.tensor([[0.0, 1.0, -2.0], [0.0, 0.7, 0.0]])  # the three zero-weight pixels are masked
    net = two_class_net(a)
    batch = Batch(x=torch.rand(4, 1, 2, 3, generator=torch.Generator().manual_seed(3)), y=torch.tensor([0, 1, 0, 1]))
    loss, scalars = SGT(fraction=0.5, fill="random").loss(net, batch, state())
    assert scalars["kl"] == 0.0
    assert loss == F.cross_entropy(net(batch.x).logits, batch.y)
    assert scalars["masked_accuracy"] == scalars["train_accuracy"]


def independent_loss(weight, bias, x, y, fraction, fill_value, lam, detach_clean=False):
    """Closed-form SGT for a linear softmax model: d log p_y/dx = W_y - p^T W; numpy sort; explicit KL."""
    logits = x.flatten(1) @ weight.T + bias
    p = torch.softmax(logits, 1).detach()
    grad = (weight.detach()[y] - p @ weight.detach()).view_as(x)
    score = grad.mean(1).abs().flatten(1).numpy()
    k = int(fraction * score.shape[1])
    xm = x.clone().flatten(2)
    for i, idx in enumerate(np.argsort(score, axis=1, kind="stable")[:, :k]):
        xm[i, :, idx] = fill_value
    masked_logits = xm.flatten(1) @ weight.T + bias
    clean = logits.detach() if detach_clean else logits
    logp, logq = F.log_softmax(clean, 1), F.log_softmax(masked_logits, 1)
    kl = (logp.exp() * (logp - logq)).sum(1).mean()
    return F.cross_entropy(logits, y) + lam * kl


def test_loss_and_gradients_equal_an_independent_formula_through_both_branches():
    g = torch.Generator().manual_seed(4)
    weight, bias = torch.randn(3, 2 * 4 * 4, generator=g), torch.randn(3, generator=g)
    x, y = torch.rand(5, 2, 4, 4, generator=g), torch.tensor([0, 1, 2, 1, 0])
    net = LinearNet.from_weight(weight, bias)
    loss, _ = SGT(fraction=0.25, fill="constant", fill_value=0.3, kl_weight=0.7).loss(net, Batch(x=x, y=y), state())
    loss.backward()
    w, b = weight.clone().requires_grad_(True), bias.clone().requires_grad_(True)
    ref = independent_loss(w, b, x, y, 0.25, 0.3, 0.7)
    ref.backward()
    assert torch.allclose(loss, ref, atol=1e-6)
    assert torch.allclose(net.fc.weight.grad, w.grad, atol=1e-6)
    w2 = weight.clone().requires_grad_(True)
    independent_loss(w2, bias, x, y, 0.25, 0.3, 0.7, detach_clean=True).backward()
    assert not torch.allclose(net.fc.weight.grad, w2.grad, atol=1e-4), "the clean branch must carry KL gradient"


@pytest.mark.parametrize("output", ["log_softmax", "logit"])
def test_saliency_equals_captum_in_eval_mode_and_restores_train_mode(output):
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 10, 28)  # has dropout: only eval mode is deterministic
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([3, 1, 4, 1])
    net.train()
    ours = sgt_module.input_saliency(net, x, y, output)
    assert net.training
    net.eval()
    head = (lambda v: F.log_softmax(net(v).logits, 1)) if output == "log_softmax" else (lambda v: net(v).logits)
    theirs = Saliency(head).attribute(x.clone().requires_grad_(True), target=y, abs=False)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-8)
    assert ours.abs().sum() > 0


def test_saliency_pass_leaves_batchnorm_statistics_alone():
    torch.manual_seed(0)
    resnet = build_network("resnet18", 1, 10, 28)
    before = {k: v.clone() for k, v in resnet.state_dict().items() if "running" in k}
    resnet.train()
    SGT().masked_input(resnet, Batch(x=torch.rand(2, 1, 28, 28), y=torch.tensor([0, 1])), make_generator(0))
    after = resnet.state_dict()
    assert resnet.training and all(torch.equal(before[k], after[k]) for k in before)


def test_fraction_outside_unit_interval_fails_naming_it():
    with pytest.raises(ContractError, match="'fraction' must be in \\[0, 1\\]"):
        SGT(fraction=1.5)


def test_bottom_k_mask_equals_a_stable_sort_with_ties_signed_zeros_and_nans():
    g = torch.Generator().manual_seed(7)
    cases = [
        torch.randn(3, 4, 5, generator=g),
        torch.randint(-2, 3, (3, 4, 5), generator=g).float(),
        torch.tensor([0.0, -0.0]).repeat(30)[torch.randperm(60, generator=g)].view(3, 4, 5),
    ]
    with_nan = torch.randint(-1, 2, (3, 4, 5), generator=g).float()
    with_nan[torch.rand(3, 4, 5, generator=g) < 0.3] = float("nan")
    for score in cases + [with_nan]:
        stable = score.flatten(1).argsort(dim=1, stable=True)
        for k in range(21):
            expected = torch.zeros(3, 20, dtype=torch.bool).scatter_(1, stable[:, :k], True).view(3, 1, 4, 5)
            assert torch.equal(sgt_module.bottom_k_mask(score, k), expected), (score, k)

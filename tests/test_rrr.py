"""RRR: the input-gradient penalty outside the annotation, its double backprop, and its reductions."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from nets import LinearNet
from test_cyborg import state

from benchmark.contracts import Batch
from benchmark.models import build_network
from benchmark.registry import METHODS


def rrr_loss(net, x, y, saliency, annotated=None, **hp):
    return METHODS.get("rrr")(**hp).loss(net, Batch(x, y, saliency, annotated), state())


def test_penalty_and_its_parameter_gradient_match_the_closed_form_of_a_linear_model():
    torch.manual_seed(0)
    net = LinearNet(pixels=2 * 3 * 3, classes=3)
    x, y = torch.rand(4, 2, 3, 3), torch.tensor([0, 1, 2, 1])
    saliency = (torch.rand(4, 1, 3, 3) > 0.5).float()
    loss, scalars = rrr_loss(net, x, y, saliency, lam=7.0)  # default pixel_scale 255: per grey level
    loss.backward()
    got = [p.grad.clone() for p in net.parameters()]

    net.zero_grad()
    logits = net.fc(x.flatten(1))
    p = logits.softmax(dim=1)
    grad_x = ((1 - 3 * p) @ net.fc.weight).view_as(x) / 255  # no autograd through an autograd result
    penalty = (((1 - saliency) * grad_x) ** 2).sum(dim=(1, 2, 3)).mean()
    expected = F.cross_entropy(logits, y) + 7.0 * penalty
    expected.backward()
    torch.testing.assert_close(scalars["right_reasons"], penalty.detach())
    torch.testing.assert_close(loss.detach(), expected.detach())
    for g, param in zip(got, net.parameters()):
        torch.testing.assert_close(g, param.grad)  # double backprop gives the true gradient


def test_penalty_equals_each_samples_own_input_gradient_outside_the_mask():
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 10, 28, {"dropout": False})
    x, y = torch.rand(3, 1, 28, 28), torch.tensor([3, 1, 4])
    saliency = torch.zeros(3, 1, 28, 28)
    saliency[:, :, 7:21, 7:21] = 1.0
    loss, scalars = rrr_loss(net, x, y, saliency, lam=1000.0, pixel_scale=1.0)
    penalties = []
    for i in range(3):  # one sample at a time, no batching trick
        xi = x[i : i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(F.log_softmax(net(xi).logits, dim=1).sum(), xi)
        penalties.append((((1 - saliency[i]) * g[0]) ** 2).sum())
    penalty = torch.stack(penalties).mean()
    torch.testing.assert_close(scalars["right_reasons"], penalty)
    torch.testing.assert_close(loss, F.cross_entropy(net(x).logits, y) + 1000.0 * penalty)


def test_no_penalty_when_the_annotation_covers_everything():
    torch.manual_seed(0)
    net = LinearNet(pixels=16, classes=3)
    x, y = torch.rand(2, 1, 4, 4), torch.tensor([0, 2])
    loss, scalars = rrr_loss(net, x, y, torch.ones(2, 1, 4, 4), lam=1000.0)
    assert scalars["right_reasons"] == 0
    torch.testing.assert_close(loss, F.cross_entropy(net(x).logits, y))


def test_reductions_and_unannotated_samples():
    torch.manual_seed(0)
    net = LinearNet(pixels=16, classes=3)
    x, y = torch.rand(2, 1, 4, 4), torch.tensor([0, 2])
    saliency = torch.zeros(2, 1, 4, 4)
    saliency[0, :, :2] = 1.0  # sample 0: top half matters, A = bottom half (8 pixels)
    annotated = torch.tensor([True, False])
    p = net(x[:1]).logits.softmax(dim=1)
    grad_x = ((1 - 3 * p) @ net.fc.weight).view(4, 4)
    own = (grad_x[2:] ** 2).sum()  # sample 0's penalty
    expected = {"batch": own / 2, "annotated": own, "entries": own / 8}
    for reduction, value in expected.items():
        a = rrr_loss(net, x, y, saliency, annotated, reduction=reduction, pixel_scale=1.0)
        noisy = saliency.clone()
        noisy[1] = torch.rand(1, 4, 4)
        b = rrr_loss(net, x, y, noisy, annotated, reduction=reduction, pixel_scale=1.0)
        torch.testing.assert_close(a[1]["right_reasons"], value)
        assert torch.equal(a[0], b[0]), reduction


def test_double_backprop_through_attention_trains_a_vit():
    torch.manual_seed(0)
    net = build_network("vit_tiny", 1, 10, 16)
    batch = Batch(torch.rand(2, 1, 16, 16), torch.tensor([0, 1]), torch.zeros(2, 1, 16, 16))
    loss, scalars = METHODS.get("rrr")(lam=1.0).loss(net, batch, state())
    loss.backward()
    assert scalars["right_reasons"] > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters() if p.requires_grad)

"""GRADIA: real Grad-CAM (against Captum and autograd), the L1 term by hand, the official-code options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from scipy.ndimage import gaussian_filter
from test_cyborg import H, PooledNet, X, Y, state, upsample

from benchmark.contracts import Batch
from benchmark.models import build_network
from benchmark.registry import METHODS

gradia_module = __import__("sys").modules[METHODS.get("gradia").__module__]


def gradia_loss(net, x, y, saliency, annotated=None, **hp):
    return METHODS.get("gradia")(**hp).loss(net, Batch(x, y, saliency, annotated), state())


def test_grad_cam_matches_captum_on_a_gap_head():
    torch.manual_seed(0)
    net = build_network("resnet18", 1, 10, 16).eval()
    x, target = torch.rand(2, 1, 16, 16), torch.tensor([4, 7])
    ours = gradia_module.grad_cam(net, net(x), target, create_graph=False)
    captum = LayerGradCam(lambda inp: net(inp).logits, net.body).attribute(x, target=target, relu_attributions=False)
    torch.testing.assert_close(ours, captum[:, 0], rtol=1e-4, atol=1e-6)


def test_grad_cam_matches_autograd_on_an_mlp_head():
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 10, 28, {"dropout": False})
    x, target = torch.rand(3, 1, 28, 28), torch.tensor([1, 2, 3])
    out = net(x)
    expected = []
    for i in range(3):  # one sample at a time, straight from Grad-CAM's definition
        (g,) = torch.autograd.grad(out.logits[i, target[i]], out.feature_map, retain_graph=True)
        expected.append((g[i].mean(dim=(1, 2))[:, None, None] * out.feature_map[i]).sum(dim=0))
    torch.testing.assert_close(gradia_module.grad_cam(net, out, target, create_graph=False), torch.stack(expected))


def test_attention_term_equals_the_hand_computed_l1():
    net = PooledNet()
    loss, scalars = gradia_loss(net, X, Y, saliency=H, blur_human=False, lam=2.0)
    l1 = (1 + 0.25 + 0.5 + 0.5) / 4  # |[0,.25,.5,1] - [1,0,0,.5]|
    torch.testing.assert_close(scalars["attention_l1"], torch.tensor(l1))
    torch.testing.assert_close(loss, F.cross_entropy(net(X).logits, Y) + 2.0 * l1)


def test_blurred_human_map_matches_scipy_gaussian_filter():
    human = torch.rand(2, 1, 14, 14)
    ours = gradia_module.attention_label(human, (7, 7), blur=True)
    pooled = F.avg_pool2d(human, 2)[:, 0].numpy()
    # OpenCV's 3x3 Gaussian (sigma 0.8) with reflect-101 borders = scipy's 'mirror', radius 1
    blurred = np.stack([gaussian_filter(p, sigma=0.8, mode="mirror", truncate=1.25) for p in pooled])
    expected = blurred / blurred.max(axis=(1, 2), keepdims=True)
    torch.testing.assert_close(ours, torch.from_numpy(expected).float())


def test_relu_option_rectifies_before_min_max():
    net = PooledNet()
    x = upsample([[-1.0, 2.0], [3.0, 5.0]])
    _, plain = gradia_loss(net, x, Y, saliency=torch.zeros_like(x), blur_human=False)
    _, relu = gradia_loss(net, x, Y, saliency=torch.zeros_like(x), blur_human=False, relu=True)
    # against a zero map the L1 is the mean of the normalized CAM
    torch.testing.assert_close(plain["attention_l1"], torch.tensor((0 + 3 / 6 + 4 / 6 + 1) / 4))
    torch.testing.assert_close(relu["attention_l1"], torch.tensor((0 + 0.4 + 0.6 + 1) / 4))


@pytest.mark.parametrize("arch", ["simple_cnn", "gap_head"])
def test_detached_weights_keep_the_head_out_of_the_attention_gradient(arch):
    """Official code: Grad-CAM weights are constants; ``second_order`` differentiates them too."""
    torch.manual_seed(0)
    if arch == "simple_cnn":
        net, x = build_network("simple_cnn", 1, 10, 28, {"dropout": False}), torch.rand(4, 1, 28, 28)
    else:  # two feature channels: with one, min-max would cancel any change of the head weight
        net, x = PooledNet(weights=((1.0, 0.5), (-1.0, 2.0))), torch.rand(4, 2, 28, 28)
    head = net.classifier_weight
    batch = Batch(x, torch.arange(4) % net.num_classes, (torch.rand(4, 1, 28, 28) > 0.5).float())

    def head_grad(**hp):
        net.zero_grad()
        loss, _ = METHODS.get("gradia")(**hp).loss(net, batch, state())
        loss.backward()
        return head.grad.clone()

    ce_only = head_grad(lam=0.0)
    torch.testing.assert_close(head_grad(weight_gradient="detached"), ce_only)
    assert not torch.allclose(head_grad(weight_gradient="second_order"), ce_only)


def test_unannotated_samples_contribute_nothing():
    net = PooledNet()
    x = torch.cat([X, upsample([[4.0, 1.0], [0.0, 2.0]])])
    y = torch.tensor([0, 1])
    annotated = torch.tensor([True, False])
    a = gradia_loss(net, x, y, torch.cat([H, torch.zeros_like(H)]), annotated, blur_human=False)
    b = gradia_loss(net, x, y, torch.cat([H, torch.rand(1, 1, 4, 4)]), annotated, blur_human=False)
    assert torch.equal(a[0], b[0])
    torch.testing.assert_close(a[1]["attention_l1"], torch.tensor(0.5625))

"""Every architecture returns the network-output contract and a differentiable CAM."""

import pytest
import torch

from benchmark.models import build_network
from benchmark.registry import ARCHS

SHAPES = [(1, 28), (3, 32)]


@pytest.mark.parametrize("arch", ["simple_cnn", "gap_cnn", "resnet18", "resnet50", "densenet121", "vit_tiny"])
@pytest.mark.parametrize("channels, side", SHAPES)
def test_outputs_and_cam_shapes(arch, channels, side):
    torch.manual_seed(0)
    net = build_network(arch, channels, 10, side).eval()
    out = net(torch.rand(3, channels, side, side))
    assert out.logits.shape == (3, 10)
    assert out.embedding.shape[0] == 3 and out.embedding.ndim == 2
    b, d, h, w = out.feature_map.shape
    assert net.classifier_weight.shape == (10, out.embedding.shape[1]) or not net.exact_cam
    cam = net.cam(out, torch.tensor([0, 4, 9]))
    assert cam.shape == (3, h, w)
    cam.sum().backward()  # differentiable down to the parameters
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize("arch", ["gap_cnn", "resnet18", "densenet121", "vit_tiny"])
def test_exact_cam_is_classifier_row_dot_feature_map_and_explains_the_logit(arch):
    torch.manual_seed(0)
    net = build_network(arch, 3, 5, 32).eval()
    out = net(torch.rand(2, 3, 32, 32))
    target = torch.tensor([1, 3])
    cam = net.cam(out, target)
    w = net.classifier_weight[target]
    by_hand = (out.feature_map * w[:, :, None, None]).sum(1)
    torch.testing.assert_close(cam, by_hand)
    # GAP -> linear: the mean of the CAM plus the bias is the logit (Zhou et al. 2016)
    logit = out.logits.gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(cam.mean((1, 2)) + net.fc.bias[target], logit, rtol=1e-4, atol=1e-4)


def test_simple_cnn_grad_cam_matches_hand_computation():
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 10, 28).eval()
    x = torch.rand(2, 1, 28, 28)
    out = net(x)
    target = torch.tensor([2, 7])
    cam = net.cam(out, target)
    grads = torch.autograd.grad(out.logits[torch.arange(2), target].sum(), out.feature_map, retain_graph=True)[0]
    by_hand = (grads.mean((2, 3))[:, :, None, None] * out.feature_map).sum(1)
    torch.testing.assert_close(cam, by_hand)


def test_same_seed_same_initial_weights():
    weights = []
    for _ in range(2):
        torch.manual_seed(123)
        weights.append(build_network("resnet18", 1, 10, 28).state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_all_builtin_archs_registered():
    assert {"simple_cnn", "gap_cnn", "resnet18", "resnet50", "densenet121", "vit_tiny"} <= set(ARCHS.names())


def test_gap_cnn_feature_map_keeps_a_quarter_of_the_side():
    net = build_network("gap_cnn", 3, 2, 32, {"width": 8}).eval()
    out = net(torch.rand(2, 3, 32, 32))
    assert out.feature_map.shape == (2, 32, 8, 8) and out.embedding.shape == (2, 32)

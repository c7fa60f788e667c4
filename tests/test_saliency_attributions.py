"""Attribution maps against Captum and autograd, and the sanity check's randomization."""

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, LayerGradCam
from nets import LinearNet
from torch import nn

from benchmark.contracts import NetOutput, Network
from benchmark.models import build_network
from benchmark.saliency import attributions as A
from benchmark.saliency import sanity as S
from benchmark.seeding import make_generator


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    net = build_network("resnet18", 1, 3, 16).eval()  # GAP -> linear head; 2x2 feature map
    x = torch.rand(4, 1, 16, 16, generator=make_generator(1))
    return net, x, torch.tensor([0, 1, 2, 0])


def test_cam_equals_captum_layer_gradcam_up_to_the_pooling_scale(resnet):
    net, x, target = resnet
    reference = LayerGradCam(A.Logits(net), net.body).attribute(x, target=target, relu_attributions=False)[:, 0]
    with torch.no_grad():
        cam = net.cam(net(x), target)
    h, w = cam.shape[-2:]
    torch.testing.assert_close(cam / (h * w), reference.detach(), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(A.cam(net, x, target), cam.relu())


def test_grad_cam_equals_captum_with_relu(resnet):
    net, x, target = resnet
    reference = LayerGradCam(A.Logits(net), net.body).attribute(x, target=target, relu_attributions=True)[:, 0]
    torch.testing.assert_close(A.grad_cam(net, x, target), reference.detach(), rtol=1e-4, atol=1e-7)


def test_gradient_is_the_absolute_input_gradient(resnet):
    net, x, target = resnet
    leaf = x.clone().requires_grad_(True)
    score = net(leaf).logits.gather(1, target[:, None]).sum()
    (grad,) = torch.autograd.grad(score, leaf)
    torch.testing.assert_close(A.gradient(net, x, target), grad.abs().mean(dim=1))
    torch.testing.assert_close(A.input_x_gradient(net, x, target), (x * grad).abs().mean(dim=1))


def test_one_shared_pass_gives_captums_maps_bitwise(resnet):
    from captum.attr import InputXGradient, Saliency

    net, x, target = resnet
    maps = A.gradient_maps(net, x, target, A.GRADIENT_MAPS)
    saliency = Saliency(A.Logits(net)).attribute(x.clone().requires_grad_(True), target=target, abs=True).mean(dim=1)
    ixg = InputXGradient(A.Logits(net)).attribute(x.clone().requires_grad_(True), target=target).abs().mean(dim=1)
    assert torch.equal(maps["gradient"], saliency.detach()) and torch.equal(maps["input_x_gradient"], ixg.detach())
    assert torch.equal(maps["gradcam"], A.gradient_maps(net, x, target, ["gradcam"])["gradcam"])


class TinyGap(Network):
    """conv -> ReLU -> conv -> ReLU -> global average pool -> linear: an exact CAM, cheap to run."""

    exact_cam = True
    num_classes = 3

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2), nn.ReLU())
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        fmap = self.features(x)
        return NetOutput(logits=self.fc(fmap.mean(dim=(2, 3))), embedding=fmap.mean(dim=(2, 3)), feature_map=fmap)

    @property
    def classifier_weight(self):
        return self.fc.weight


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return TinyGap().eval(), torch.rand(5, 1, 12, 12, generator=make_generator(4)), torch.tensor([0, 1, 2, 0, 1])


def test_cam_equals_layer_gradcam_on_a_second_gap_network(tiny):
    net, x, target = tiny
    reference = LayerGradCam(A.Logits(net), net.features).attribute(x, target=target)[:, 0].detach()
    with torch.no_grad():
        cam = net.cam(net(x), target)
    torch.testing.assert_close(cam / cam[0].numel(), reference, rtol=1e-4, atol=1e-7)


def test_integrated_gradients_via_captum_with_its_delta(tiny):
    net, x, target = tiny
    importance, delta, total = A.integrated_gradients(net, x, target, steps=8, baseline="zeros", batch_size=16)
    attr, reference_delta = IntegratedGradients(A.Logits(net)).attribute(
        x, baselines=torch.zeros_like(x), target=target, n_steps=8, return_convergence_delta=True
    )
    torch.testing.assert_close(importance, attr.abs().mean(dim=1))
    torch.testing.assert_close(delta, reference_delta.float())
    with torch.no_grad():  # completeness: sum IG = F(x) - F(0) + delta
        gap = (net(x).logits - net(torch.zeros_like(x)).logits).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(total, gap + delta, rtol=1e-4, atol=1e-5)


def test_attribute_batches_and_skips_the_duplicate_class_activation_map(tiny):
    net, x, target = tiny
    small = build_network("simple_cnn", 1, 3, 16)
    assert A.applicable(small, ["cam", "gradcam", "gradient"])[0] == ["gradcam", "gradient"]
    names, skipped = A.applicable(net, ["cam", "gradcam", "gradient"])  # Grad-CAM = CAM / hw here
    assert names == ["cam", "gradient"] and set(skipped) == {"gradcam"}
    whole = A.attribute(
        net, x, target, ["gradient", "integrated_gradients"], ig_steps=4, ig_baseline="mean", batch_size=8
    )
    chunked = A.attribute(
        net, x, target, ["gradient", "integrated_gradients"], ig_steps=4, ig_baseline="mean", batch_size=3
    )
    for name in whole.native:
        torch.testing.assert_close(whole.native[name], chunked.native[name])
    assert whole.ig_delta.shape == (5,)


def test_an_attribution_list_without_a_gradient_map_needs_no_backward_pass(tiny):
    """Issue 25 item 7 (fails on the code before it: ``autograd.grad(score, [])`` raised a ValueError): CAM and
    IG only, the paper-scale list without gradient maps, gives each map as alone."""
    net, x, target = tiny
    maps = A.attribute(net, x, target, ["cam", "integrated_gradients"], ig_steps=4, ig_baseline="zeros", batch_size=8)
    assert set(maps.native) == {"cam", "integrated_gradients"} and maps.ig_delta.shape == (x.shape[0],)
    torch.testing.assert_close(maps.native["cam"], A.cam(net.eval(), x, target))
    assert A.gradient_maps(net, x, target, ["cam"]) == {}


def test_quantized_maps_are_scale_free_float16():
    maps = torch.tensor([[[0.0, 2e-9], [1e-9, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    stored = A.quantize(maps)
    assert stored.dtype == torch.float16
    assert stored[0].tolist() == [[0.0, 1.0], [0.5, 0.0]] and stored[1].abs().sum() == 0


def test_cascade_blocks_go_from_the_logits_down():
    simple = build_network("simple_cnn", 1, 10, 28)
    assert [n for n, _ in S.cascade_blocks(simple, 8)] == ["fc2", "fc1", "conv2", "conv1"]
    resnet = build_network("resnet18", 1, 10, 28)
    blocks = [n for n, _ in S.cascade_blocks(resnet, 8)]
    assert blocks[0] == "fc" and blocks[-1] == "body.0" and len(blocks) <= 8


def test_sanity_flags_a_model_independent_map_and_passes_the_gradient():
    torch.manual_seed(0)
    net = LinearNet(12 * 12)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.rand(6, 1, 12, 12, generator=make_generator(2))
    target = torch.zeros(6, dtype=torch.long)

    def maps(model, images, classes):
        return {"gradient": A.gradient(model, images, classes), "edge": images[:, 0] * 1.0}

    result = S.cascading_randomization(net, x, target, maps, max_stages=8, seed=5)
    assert result.blocks == ["fc"]
    assert result.final()["edge"] == pytest.approx(1.0)
    assert abs(result.final()["gradient"]) < 0.3
    assert result.flags(0.5) == {"gradient": False, "edge": True}
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "the trained net is untouched"
    # the trained maps, when the caller has them, are not recomputed and give the same result
    given = S.cascading_randomization(net, x, target, maps, max_stages=8, seed=5, reference=maps(net, x, target))
    assert given.similarity == result.similarity


def test_spearman_rows_and_constant_maps():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    b = np.array([[10.0, 20.0, 30.0], [3.0, 2.0, 1.0]])
    assert S.spearman_rows(a, b).tolist() == [1.0, -1.0]
    # a randomized map that became constant shares nothing: counted as 0, not dropped
    assert S.similarity(a, np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])) == 0.5


def test_attribute_on_the_cpu_uses_a_channels_last_copy_with_the_same_maps_to_rounding():
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 3, 16).train()
    x = torch.rand(6, 1, 16, 16, generator=make_generator(3))
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    names = ["gradcam", "gradient", "input_x_gradient", "integrated_gradients"]
    maps = A.attribute(net, x, target, names, ig_steps=4, ig_baseline="zeros", batch_size=8)
    assert net.training and all(p.is_contiguous() for p in net.parameters()), "the network is untouched"
    net.eval()
    plain = {
        "integrated_gradients": A.integrated_gradients(net, x, target, steps=4, baseline="zeros", batch_size=8)[0],
        **A.gradient_maps(net, x, target, A.GRADIENT_MAPS),
    }
    for name in names:
        # another summation order inside oneDNN's convolutions: equal to float32 rounding relative to the map's scale
        scale = plain[name].abs().max()
        torch.testing.assert_close(maps.native[name] / scale, plain[name] / scale, rtol=0, atol=1e-5)
        assert maps.native[name].is_contiguous()
    again = A.attribute(net, x, target, names, ig_steps=4, ig_baseline="zeros", batch_size=8)
    assert all(torch.equal(maps.native[n], again.native[n]) for n in names), "bitwise reproducible"

"""SAGE (reconstruction): views, triplet and Jensen-Shannon terms on hand-built cases and against SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter
from scipy.spatial.distance import jensenshannon
from torch import nn

from benchmark.contracts import Batch, NetOutput, Network, TrainState
from benchmark.registry import METHODS

sage_module = __import__("sys").modules[METHODS.get("sage").__module__]

X = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # mean 0.25
H = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # the top-left pixel is salient
Y = torch.tensor([1])
POS = torch.tensor([[[[1.0, 0.25], [0.25, 0.25]]]])  # x+ with mean fill: salient kept
NEG = torch.tensor([[[[0.25, 0.0], [0.0, 0.0]]]])  # x-: salient replaced


class FlatNet(Network):
    """Embedding = the flattened image (optionally batch-normalized), logits = a fixed linear map of it."""

    exact_cam = True

    def __init__(self, pixels: int = 4, classes: int = 3, batchnorm: bool = False):
        super().__init__()
        self.num_classes = classes
        self.norm = nn.BatchNorm1d(pixels) if batchnorm else nn.Identity()
        self.fc = nn.Linear(pixels, classes)
        with torch.no_grad():
            self.fc.weight.copy_(torch.arange(pixels * classes, dtype=torch.float32).view(classes, pixels).sin())
            self.fc.bias.zero_()

    def forward(self, x):
        emb = self.norm(x.flatten(1))
        return NetOutput(logits=self.fc(emb), embedding=emb, feature_map=x)

    @property
    def classifier_weight(self):
        return self.fc.weight


def sage_loss(net, x, y, saliency, annotated=None, generator_seed=0, **hp):
    st = TrainState(
        epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=torch.Generator().manual_seed(generator_seed)
    )
    return METHODS.get("sage")(**hp).loss(net, Batch(x, y, saliency, annotated), st)


def scipy_js(logits_p, logits_q, temperature=1.0):
    p = torch.softmax(logits_p / temperature, dim=-1).double().numpy()
    q = torch.softmax(logits_q / temperature, dim=-1).double().numpy()
    return float(jensenshannon(p, q) ** 2)  # natural log by default


def test_views_keep_or_degrade_the_salient_pixels():
    degraded = sage_module.degrade(X, "mean", torch.Generator(), 0.1, 0.3)
    pos, neg = sage_module.saliency_views(X, H, degraded)
    assert torch.equal(pos, POS) and torch.equal(neg, NEG)


def test_triplet_term_is_zero_when_the_margin_is_met_and_hand_computed_otherwise():
    net = FlatNet()
    # d(x, x+) = |(1-H)(D-x)| = 0.25 * sqrt(3); d(x, x-) = |H(D-x)| = 0.75
    gap = 0.75 - 0.25 * math.sqrt(3)
    _, met = sage_loss(net, X, Y, H, degradation="mean", margin=0.2, js_weight=0.0)
    _, unmet = sage_loss(net, X, Y, H, degradation="mean", margin=1.0, js_weight=0.0)
    assert met["triplet"] == 0
    torch.testing.assert_close(unmet["triplet"], torch.tensor(1.0 - gap))


def test_loss_is_ce_plus_weighted_triplet_plus_js_against_scipy():
    net = FlatNet()
    loss, scalars = sage_loss(
        net, X, Y, H, degradation="mean", margin=1.0, triplet_weight=0.5, js_weight=2.0, temperature=3.0
    )
    js = scipy_js(net(X).logits[0].detach(), net(POS).logits[0].detach(), temperature=3.0)
    torch.testing.assert_close(scalars["js"].double(), torch.tensor(js, dtype=torch.float64), rtol=1e-5, atol=1e-7)
    ce = F.cross_entropy(net(X).logits, Y)
    torch.testing.assert_close(loss, ce + 0.5 * scalars["triplet"] + 2.0 * scalars["js"])
    _, scaled = sage_loss(net, X, Y, H, degradation="mean", temperature=3.0, js_t2=True)
    torch.testing.assert_close(scaled["js"], 9.0 * scalars["js"])


def test_js_divergence_is_zero_for_identical_views_and_matches_scipy():
    torch.manual_seed(0)
    p, q = torch.randn(5, 7), torch.randn(5, 7)
    assert torch.all(sage_module.js_divergence(p, p, 2.0).abs() < 1e-7)
    ours = sage_module.js_divergence(p, q, 2.0)
    expected = torch.tensor([scipy_js(p[i], q[i], 2.0) for i in range(5)], dtype=torch.float32)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-7)


def test_inverted_saliency_is_guidance_by_one_minus_the_map():
    net = FlatNet()
    inverted, _ = sage_loss(net, X, Y, H, degradation="mean", invert_saliency=True)
    by_complement, _ = sage_loss(net, X, Y, 1 - H, degradation="mean")
    plain, _ = sage_loss(net, X, Y, H, degradation="mean")
    torch.testing.assert_close(inverted, by_complement)
    assert not torch.allclose(inverted, plain)


def test_noise_comes_from_the_runs_method_stream():
    x, h = torch.rand(2, 1, 6, 6), (torch.rand(2, 1, 6, 6) > 0.5).float()
    net, y = FlatNet(pixels=36), torch.tensor([0, 2])
    torch.manual_seed(1)
    a, _ = sage_loss(net, x, y, h, degradation="noise", generator_seed=5)
    torch.manual_seed(2)  # the global stream does not matter
    b, _ = sage_loss(net, x, y, h, degradation="noise", generator_seed=5)
    c, _ = sage_loss(net, x, y, h, degradation="noise", generator_seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_blur_matches_scipy_gaussian_filter():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 20, 20)
    sigma = 0.1 * 20
    ours = sage_module.blur(x, 0.1)
    radius = math.ceil(3 * sigma)  # torchvision's 'reflect' padding is scipy's 'mirror'
    expected = np.stack(
        [[gaussian_filter(c, sigma=sigma, mode="mirror", truncate=radius / sigma) for c in img] for img in x.numpy()]
    )
    torch.testing.assert_close(ours, torch.from_numpy(expected).float(), rtol=1e-5, atol=1e-6)


def test_unannotated_samples_contribute_nothing():
    net = FlatNet()
    x = torch.cat([X, torch.tensor([[[[0.3, 0.9], [0.1, 0.5]]]])])
    y = torch.tensor([1, 0])
    annotated = torch.tensor([True, False])
    a = sage_loss(net, x, y, torch.cat([H, torch.zeros_like(H)]), annotated, degradation="mean")
    b = sage_loss(net, x, y, torch.cat([H, torch.rand(1, 1, 2, 2)]), annotated, degradation="mean")
    alone = sage_loss(net, X, Y, H, degradation="mean")
    assert torch.equal(a[0], b[0])
    torch.testing.assert_close(a[1]["triplet"], alone[1]["triplet"])
    torch.testing.assert_close(a[1]["js"], alone[1]["js"])
    torch.testing.assert_close(a[0], F.cross_entropy(net(x).logits, y) + alone[1]["triplet"] + alone[1]["js"])


def test_batch_without_annotations_is_plain_ce():
    net = FlatNet()
    loss, scalars = sage_loss(net, X, Y, torch.zeros_like(H), torch.tensor([False]))
    assert scalars["triplet"] == 0 and scalars["js"] == 0
    torch.testing.assert_close(loss, F.cross_entropy(net(X).logits, Y))


@pytest.mark.parametrize("batchnorm", [False, True])
def test_joint_and_separate_forwards(batchnorm):
    torch.manual_seed(0)
    x, h, y = torch.rand(4, 1, 2, 2), (torch.rand(4, 1, 2, 2) > 0.5).float(), torch.tensor([0, 1, 2, 0])
    net = FlatNet(batchnorm=batchnorm)
    joint, _ = sage_loss(net, x, y, h, degradation="mean", view_forward="joint")
    separate, scalars = sage_loss(net, x, y, h, degradation="mean", view_forward="separate")
    torch.testing.assert_close(scalars["ce"], F.cross_entropy(net(x).logits, y))  # the clean forward is ERM's
    assert torch.allclose(joint, separate) != batchnorm  # BatchNorm statistics mix the views only in joint


def test_ce_on_positive_adds_the_cross_entropy_of_x_plus():
    net = FlatNet()
    plain, _ = sage_loss(net, X, Y, H, degradation="mean")
    more, _ = sage_loss(net, X, Y, H, degradation="mean", ce_on_positive=True)
    torch.testing.assert_close(more - plain, F.cross_entropy(net(POS).logits, Y))

"""CYBORG's loss on hand-built cases: alpha*CE + (1-alpha)*MSE(min-max CAM, min-max human map)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmark.contracts import Batch, NetOutput, Network, TrainState
from benchmark.registry import METHODS


class PooledNet(Network):
    """A GAP -> linear network whose feature map is the 2x2 average pool of the input.

    The CAM of class c is then w[c] . avgpool(x): known by hand. ``weights`` (K,) for one
    input channel or (K,C) for C. Used by the GRADIA tests too.
    """

    exact_cam = True

    def __init__(self, weights=(1.0, -1.0), biases=(0.0, 0.0)):
        super().__init__()
        weights = torch.tensor(weights)
        weights = weights[:, None] if weights.ndim == 1 else weights
        self.num_classes = weights.shape[0]
        self.fc = nn.Linear(weights.shape[1], self.num_classes)
        self.gain = nn.Parameter(torch.ones(()))  # something upstream of the feature map to train
        with torch.no_grad():
            self.fc.weight.copy_(weights)
            self.fc.bias.copy_(torch.tensor(biases))

    def forward(self, x):
        fmap = self.gain * F.avg_pool2d(x, 2)
        embedding = fmap.mean(dim=(2, 3))
        return NetOutput(logits=self.fc(embedding), embedding=embedding, feature_map=fmap)

    @property
    def classifier_weight(self):
        return self.fc.weight


def upsample(values) -> torch.Tensor:
    """A (1,1,4,4) image whose 2x2 average pool is ``values`` (2x2)."""
    return torch.tensor(values, dtype=torch.float32).repeat_interleave(2, 0).repeat_interleave(2, 1)[None, None]


def state() -> TrainState:
    return TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))


X = upsample([[1.0, 2.0], [3.0, 5.0]])  # pooled: CAM of class 0 = [[1,2],[3,5]] -> min-max [[0,.25],[.5,1]]
H = upsample([[1.0, 0.0], [0.0, 0.5]])  # resized to 2x2 and min-max: [[1,0],[0,.5]]
Y = torch.tensor([0])


def cyborg_loss(net, x, y, saliency, annotated=None, **hp):
    return METHODS.get("cyborg")(**hp).loss(net, Batch(x, y, saliency, annotated), state())


def test_term_is_zero_when_the_normalized_cam_equals_the_annotation():
    net = PooledNet()
    loss, scalars = cyborg_loss(net, X, Y, saliency=X / 8)  # a positive rescaling of the CAM (exact in float)
    ce = F.cross_entropy(net(X).logits, Y)
    assert scalars["cam_mse"] == 0
    torch.testing.assert_close(loss, 0.5 * ce)


def test_term_equals_the_hand_computed_mse():
    net = PooledNet()
    loss, scalars = cyborg_loss(net, X, Y, saliency=H, alpha=0.3)
    mse = ((0 - 1) ** 2 + (0.25 - 0) ** 2 + (0.5 - 0) ** 2 + (1 - 0.5) ** 2) / 4  # 0.390625
    torch.testing.assert_close(scalars["cam_mse"], torch.tensor(mse))
    torch.testing.assert_close(loss, 0.3 * F.cross_entropy(net(X).logits, Y) + 0.7 * mse)


def test_predicted_class_option_guides_the_predicted_classs_cam():
    net = PooledNet(biases=(0.0, 10.0))  # predicts class 1, whose CAM is the negated map
    assert net(X).logits.argmax().item() == 1
    _, true = cyborg_loss(net, X, Y, saliency=X, cam_class="true")
    _, predicted = cyborg_loss(net, X, Y, saliency=X, cam_class="predicted")
    assert true["cam_mse"] == 0
    # minmax(-cam) = 1 - m, m = [0,.25,.5,1]: mean((1 - 2m)^2) = (1 + .25 + 0 + 1) / 4
    torch.testing.assert_close(predicted["cam_mse"], torch.tensor(0.5625))


def test_adaptive_alpha_is_ce_over_ce_plus_mse_and_detached():
    net = PooledNet()
    loss, scalars = cyborg_loss(net, X, Y, saliency=H, alpha_mode="adaptive")
    loss.backward()
    got = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    ce = F.cross_entropy(net(X).logits, Y)
    mse = torch.tensor(0.390625)
    alpha = ce.item() / (ce.item() + mse.item())
    torch.testing.assert_close(scalars["alpha"], torch.tensor(alpha))
    torch.testing.assert_close(loss.detach(), alpha * ce.detach() + (1 - alpha) * mse)
    reference = cyborg_loss(net, X, Y, saliency=H, alpha=alpha)[0]  # the same loss with alpha a constant
    reference.backward()
    for g, p in zip(got, net.parameters()):
        torch.testing.assert_close(g, p.grad)


def test_unannotated_samples_contribute_nothing_to_the_saliency_term():
    net = PooledNet()
    x = torch.cat([X, upsample([[4.0, 1.0], [0.0, 2.0]])])
    y = torch.tensor([0, 1])
    annotated = torch.tensor([True, False])
    for mode in ("per_sample", "batch"):
        a = cyborg_loss(net, x, y, torch.cat([H, torch.zeros_like(H)]), annotated, normalization=mode)
        b = cyborg_loss(net, x, y, torch.cat([H, torch.rand(1, 1, 4, 4)]), annotated, normalization=mode)
        assert torch.equal(a[0], b[0])
        torch.testing.assert_close(a[1]["cam_mse"], torch.tensor(0.390625))  # sample 0 alone
        torch.testing.assert_close(a[0], 0.5 * F.cross_entropy(net(x).logits, y) + 0.5 * 0.390625)


def test_batch_normalization_uses_one_range_over_annotated_samples():
    net = PooledNet()
    x = torch.cat([X, upsample([[9.0, 9.0], [9.0, 9.0]]), upsample([[100.0, 0.0], [0.0, 0.0]])])
    y = torch.tensor([0, 0, 0])
    saliency = torch.cat([X, X, torch.zeros_like(H)])
    annotated = torch.tensor([True, True, False])
    _, scalars = cyborg_loss(net, x, y, saliency, annotated, normalization="batch")
    # one range over samples 0 and 1: min 1, max 9 -> sample 0: [0, 1/8, 2/8, 4/8], sample 1: all 1
    m = torch.tensor([0.0, 0.25, 0.5, 1.0])
    cam0 = torch.tensor([0.0, 1 / 8, 2 / 8, 4 / 8])
    expected = (((cam0 - m) ** 2).mean() + ((1 - m) ** 2).mean()) / 2
    torch.testing.assert_close(scalars["cam_mse"], expected)


def test_batch_without_annotations_gives_alpha_times_ce():
    net = PooledNet()
    loss, scalars = cyborg_loss(net, X, Y, saliency=torch.zeros_like(H), annotated=torch.tensor([False]))
    assert scalars["cam_mse"] == 0
    torch.testing.assert_close(loss, 0.5 * F.cross_entropy(net(X).logits, Y))


@pytest.mark.parametrize("arch", ["simple_cnn", "resnet18"])
def test_cam_comes_from_the_training_forward_and_trains_the_body(arch):
    """One forward per step; the saliency term alone moves the feature extractor."""
    from benchmark.models import build_network

    torch.manual_seed(0)
    net = build_network(arch, 1, 10, 16)
    calls = []
    net.register_forward_hook(lambda *_: calls.append(1))
    batch = Batch(torch.rand(4, 1, 16, 16), torch.arange(4), (torch.rand(4, 1, 16, 16) > 0.5).float())
    loss, scalars = METHODS.get("cyborg")(alpha=0.0).loss(net, batch, state())
    loss.backward()
    assert len(calls) == 1
    assert scalars["cam_mse"] > 0
    first_conv = next(p for p in net.parameters() if p.ndim == 4)
    assert first_conv.grad.abs().sum() > 0


def test_default_human_resize_is_area_and_gives_the_reference_loss():
    net = PooledNet()
    default = cyborg_loss(net, X, Y, saliency=H, alpha=0.3)
    area = cyborg_loss(net, X, Y, saliency=H, alpha=0.3, human_resize="area")
    assert METHODS.get("cyborg")().human_resize == "area"
    assert torch.equal(default[0], area[0])
    assert torch.equal(default[1]["cam_mse"], torch.tensor(0.390625))  # the hand-computed reference, exact in float
    torch.testing.assert_close(default[0], 0.3 * F.cross_entropy(net(X).logits, Y) + 0.7 * 0.390625)


# PIL's bilinear 4 -> 2: a triangle filter of half-width 2 input pixels around output centres
# 1.0 and 3.0, taps at input centres 0.5..3.5, weights (1 - d/2) normalized: [3,3,1,0]/7, [0,1,3,3]/7.
PIL_4_TO_2 = torch.tensor([[3.0, 3.0, 1.0, 0.0], [0.0, 1.0, 3.0, 3.0]]) / 7
H_ODD = torch.tensor([[7.0, 0.0, 14.0, 0.0], [0.0, 7.0, 0.0, 0.0], [0.0, 0.0, 0.0, 7.0], [21.0, 0.0, 0.0, 0.0]])[
    None, None
]  # area: [[14,14],[21,7]]/4, min-max [[.5,.5],[1,0]]


def test_bilinear_antialias_is_the_pil_style_interpolate_on_a_hand_made_map():
    from methods.cyborg import resize_human

    h = H_ODD
    got = resize_human(h, (2, 2), "bilinear_antialias")
    reference = F.interpolate(h, size=(2, 2), mode="bilinear", antialias=True, align_corners=False)[:, 0]
    assert torch.equal(got, reference)
    torch.testing.assert_close(got[0], PIL_4_TO_2 @ h[0, 0] @ PIL_4_TO_2.T)  # the weights by hand
    from PIL import Image  # the official loader's resize (torchvision Resize on a PIL image), in float

    pil = Image.fromarray(h[0, 0].numpy(), mode="F").resize((2, 2), Image.BILINEAR)
    torch.testing.assert_close(got[0], torch.tensor([[pil.getpixel((c, r)) for c in range(2)] for r in range(2)]))
    assert torch.equal(resize_human(h, (4, 4), "bilinear_antialias"), h[:, 0])  # same size: untouched


def test_bilinear_antialias_loss_uses_the_antialiased_human_map():
    net = PooledNet()
    _, area = cyborg_loss(net, X, Y, saliency=H_ODD)
    loss, bilinear = cyborg_loss(net, X, Y, saliency=H_ODD, alpha=0.3, human_resize="bilinear_antialias")
    cam = torch.tensor([[0.0, 0.25], [0.5, 1.0]])
    human = F.interpolate(H_ODD, size=(2, 2), mode="bilinear", antialias=True, align_corners=False)[0, 0]
    human = (human - human.min()) / (human.max() - human.min())
    torch.testing.assert_close(bilinear["cam_mse"], ((cam - human) ** 2).mean())
    torch.testing.assert_close(loss, 0.3 * F.cross_entropy(net(X).logits, Y) + 0.7 * ((cam - human) ** 2).mean())
    area_human = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    torch.testing.assert_close(area["cam_mse"], ((cam - area_human) ** 2).mean())
    assert not torch.allclose(area["cam_mse"], bilinear["cam_mse"])


def test_human_resize_is_validated():
    from benchmark.contracts import ContractError
    from methods.cyborg import resize_human

    with pytest.raises(ContractError, match="human_resize"):
        METHODS.get("cyborg")(human_resize="bicubic")
    with pytest.raises(ContractError, match="human_resize"):
        resize_human(H, (2, 2), "bicubic")

"""Rao et al.'s Energy and L1 guidance losses (``benchmark.model_guidance``, ``methods/energy.py``,
``methods/l1.py``): each per-image loss and each method's batch loss against a hand computation on 2-image
batches (hand-made attributions and masks, the zero-energy edge case, an unannotated row), the gradient of the
guidance term reaching the network, and the submission's contract, smoke, determinism and honesty checks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmark.contracts import Batch, ContractError, NetOutput, Network, RunConfig, TrainState
from benchmark.model_guidance import energy_loss, forward_with_attribution, l1_loss, max_normalized
from benchmark.models import build_network
from benchmark.registry import METHODS
from benchmark.seeding import make_generator

STATE = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))

# Two 2x2 attributions: image 0 mixed signs, image 1 without any positive value (zero energy).
A = torch.tensor([[[2.0, -1.0], [1.0, 0.0]], [[-1.0, -2.0], [0.0, -3.0]]])
M = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.0, 0.0]]])


def test_energy_is_the_positive_share_outside_the_map_and_1_minus_inside_when_there_is_none():
    # image 0: A+ = [[2,0],[1,0]], sum 3, inside sum(A+ * M) = 2 -> 1 - 2/3; image 1: sum(A+) = 0 -> 1 - 0
    assert torch.allclose(energy_loss(A, M), torch.tensor([1 - 2 / 3, 1.0]))


def test_energy_below_the_official_floor_is_1_minus_the_numerator_not_the_ratio():
    tiny = torch.tensor([[[5e-8, 0.0], [0.0, 0.0]]], dtype=torch.float64)  # sum(A+) < 1e-7: the ratio would give 0
    inside = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
    assert energy_loss(tiny, inside).item() == pytest.approx(1 - 5e-8, abs=1e-15)


def test_soft_maps_weigh_the_energy_inside():
    soft = torch.tensor([[[0.5, 0.0], [0.25, 0.0]]])  # inside = 2 * 0.5 + 1 * 0.25 = 1.25 of 3
    assert energy_loss(A[:1], soft).item() == pytest.approx(1 - 1.25 / 3)


def test_l1_divides_the_rectified_attribution_by_its_max_and_leaves_an_all_zero_one():
    # image 0: A' = [[1,0],[0.5,0]], |A' - M| = [[0,0],[0.5,1]] -> 1.5/4; image 1: A' = 0, |M| -> 1/4
    assert torch.equal(max_normalized(A), torch.tensor([[[1.0, 0.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]))
    assert torch.allclose(l1_loss(max_normalized(A), M), torch.tensor([0.375, 0.25]))


class PooledNet(Network):
    """A GAP -> linear head on a 2x2 feature map, 2 x the 2x2 average pooling of a 4x4 input: exact CAM
    w[y] * feature_map, hand-computable."""

    def __init__(self, weight: list[float]):
        super().__init__()
        self.num_classes = len(weight)
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.fc = nn.Linear(1, len(weight), bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor(weight)[:, None])

    def forward(self, x: torch.Tensor) -> NetOutput:
        fmap = self.scale * F.avg_pool2d(x, 2)
        pooled = fmap.mean(dim=(2, 3))
        return NetOutput(logits=self.fc(pooled), embedding=pooled, feature_map=fmap)

    @property
    def classifier_weight(self) -> torch.Tensor:
        return self.fc.weight


def two_image_batch(annotated: list[bool]) -> Batch:
    """Image 0's feature map is [[1,0],[1,0]] (the left column), image 1's [[0,0.5],[0,0.5]]; maps: left half."""
    x = torch.zeros(2, 1, 4, 4)
    x[0, :, :, :2] = 0.5
    x[1, :, :, 2:] = 0.25
    saliency = torch.zeros(2, 1, 4, 4)
    saliency[:, :, :, :2] = 1.0
    rows = torch.tensor(annotated)
    saliency[~rows] = 0.0
    return Batch(x=x, y=torch.tensor([0, 1]), saliency=saliency, annotated=rows)


def hand_ce() -> float:
    # logits = w * mean(fmap) with w = (1, -1): image 0 mean 0.5 (y=0), image 1 mean 0.25 (y=1)
    return 0.5 * (math.log(1 + math.exp(-2 * 0.5)) + math.log(1 + math.exp(2 * 0.25)))


@pytest.mark.parametrize("name,lam,term", [("energy", 2.0, 0.125), ("l1", 3.0, 0.125)])
def test_the_method_loss_is_ce_plus_lam_times_the_mean_over_annotated_images(name, lam, term):
    """Image 0's CAM [[1,0],[1,0]] upsampled bilinearly to 4x4 is [1, .75, .25, 0] on every row. Energy: inside
    (1 + .75) of 2 per row -> 1 - 1.75/2 = 0.125. L1 (max 1): |[0, .25, .25, 0]| / 4 per row -> 0.125. Image 1
    (class 1, w = -1: a CAM <= 0) is unannotated: left out, or its energy 1 would count."""
    method = METHODS.get(name)(lam=lam)
    loss, scalars = method.loss(PooledNet([1.0, -1.0]), two_image_batch([True, False]), STATE)
    assert scalars["ce"].item() == pytest.approx(hand_ce(), abs=1e-6)
    assert scalars[method.term].item() == pytest.approx(term, abs=1e-6)
    assert loss.item() == pytest.approx(hand_ce() + lam * term, abs=1e-6)


@pytest.mark.parametrize("name", ["energy", "l1"])
def test_a_batch_without_annotated_rows_is_cross_entropy_alone(name):
    loss, scalars = METHODS.get(name)().loss(PooledNet([1.0, -1.0]), two_image_batch([False, False]), STATE)
    assert scalars[METHODS.get(name).term].item() == 0.0 and loss.item() == pytest.approx(hand_ce(), abs=1e-6)


def test_input_x_gradient_is_x_times_the_true_logits_input_gradient_summed_over_channels():
    """logit_y = w[y] * 2 * mean(avgpool(x)) = w[y] * 2 * mean(x): d/dx = 2 w[y] / 16 per pixel."""
    batch = two_image_batch([True, True])
    _, attributions = forward_with_attribution(PooledNet([1.0, -1.0]), batch, "input_x_gradient")
    expected = batch.x[:, 0] * torch.tensor([1.0, -1.0]).view(2, 1, 1) * 2 / 16
    assert torch.allclose(attributions, expected)


@pytest.mark.parametrize("attribution", ["cam", "input_x_gradient"])
@pytest.mark.parametrize("name", ["energy", "l1"])
def test_the_guidance_term_alone_reaches_the_first_layer(name, attribution):
    torch.manual_seed(0)
    net = build_network("gap_cnn", in_channels=1, num_classes=3, image_size=16)
    method = METHODS.get(name)(attribution=attribution)
    batch = Batch(
        x=torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(1)),
        y=torch.tensor([0, 2]),
        saliency=torch.zeros(2, 1, 16, 16).index_fill_(3, torch.arange(4, 12), 1.0),
    )
    _, attributions = forward_with_attribution(net, batch, attribution)
    term = method.per_image(attributions, batch.saliency[:, 0]).mean()
    first = next(p for p in net.parameters() if p.ndim == 4)
    (grad,) = torch.autograd.grad(term, first)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_no_host_sync_with_input_x_gradient():
    """tests/test_host_sync.py covers every method's default attribution (cam); the double-backward one here
    (shared by both methods: energy's floor branch is a torch.where, l1's division too)."""
    from test_host_sync import guarded_epoch

    found = guarded_epoch(
        "energy", {"attribution": "input_x_gradient"}, "gap_cnn", "partly", {"name": "adam", "lr": 1e-3}
    )
    assert not found, "\n".join(dict.fromkeys(found))


def test_the_cost_follows_the_attribution_and_a_bad_one_is_one_line_naming_it():
    assert METHODS.get("energy")().cost.double_backward == 0
    assert METHODS.get("l1")(attribution="input_x_gradient").cost.double_backward == 1
    with pytest.raises(ContractError, match="attribution") as caught:
        METHODS.get("l1")(attribution="gradcam")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["energy", "l1"])
def test_the_methods_pass_the_submission_checks(name, tiny_config):
    """Checks 1-3 and the honesty check's split audit (the cost measurement is tests/test_submission_cost.py's)."""
    from benchmark.submission.contract import contract_failures
    from benchmark.submission.determinism import determinism_failures
    from benchmark.submission.honesty import split_failures
    from benchmark.submission.smoke import smoke_failures

    config: RunConfig = tiny_config(method=name, epochs=1, dataset_params={"test_fraction": 0.8, "val_fraction": 0.1})
    assert [f.line() for f in contract_failures(name)[2]] == []
    assert [f.line() for f in smoke_failures(name, [config], device="cpu")] == []
    assert [f.line() for f in determinism_failures(name, config, device="cpu")] == []
    assert [f.line() for f in split_failures(name, config, "cpu")] == []

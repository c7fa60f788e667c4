"""Perturbation curves: a model that ignores the masked pixels has a flat curve; values by hand."""
import numpy as np
import pytest
import torch
from torch import nn

from benchmark.contracts import NetOutput, Network
from benchmark.saliency import faithfulness as F
from benchmark.seeding import make_generator


class OnePixel(Network):
    """Two classes; the logit of class 1 is 10 * (x[0,0] - 0.5): only the top-left pixel matters."""

    exact_cam = False
    num_classes = 2

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, x):
        logit = self.scale * (x[:, 0, 0, 0] - 0.5)
        logits = torch.stack([torch.zeros_like(logit), logit], dim=1)
        return NetOutput(logits=logits, embedding=logits, feature_map=x)


def images(n=6, side=6):
    x = torch.rand(n, 1, side, side, generator=make_generator(0))
    x[:, 0, 0, 0] = torch.tensor([0.9, 0.1] * (n // 2))  # the class is the top-left pixel
    return x, torch.tensor([1, 0] * (n // 2))


def test_pixel_ranks_put_the_most_important_first_and_break_ties_reproducibly():
    importance = torch.tensor([[[0.1, 0.9], [0.5, 0.5]]])
    a = F.pixel_ranks(importance, make_generator(3))
    b = F.pixel_ranks(importance, make_generator(3))
    assert torch.equal(a, b)
    assert a[0, 1] == 0 and a[0, 0] == 3 and sorted(a[0, 2:].tolist()) == [1, 2]


def test_masking_curve_is_flat_when_the_model_ignores_the_masked_pixels():
    x, y = images()
    importance = torch.ones(len(y), 6, 6)
    importance[:, 0, 0] = 0.0  # the only pixel the model reads is ranked last
    curves = F.perturbation_curves(OnePixel(), x, y, y, {"ignores": importance}, levels=10, fill="mean",
                                   batch_size=4, generator=make_generator(0))
    assert curves.accuracy["ignores"] == [1.0] * 10
    assert len(set(curves.deletion["ignores"][:-1])) == 1  # until the last step deletes everything
    summary = curves.summary()
    assert summary["ignores"]["masking_gap"] <= 0.0  # random masking hits the pixel sooner


def test_masking_curve_drops_at_once_when_the_read_pixel_is_ranked_first():
    x, y = images()
    importance = torch.zeros(len(y), 6, 6)
    importance[:, 0, 0] = 1.0
    curves = F.perturbation_curves(OnePixel(), x, y, y, {"reads": importance}, levels=4, fill="mean",
                                   batch_size=64, generator=make_generator(0))
    mean_fill_correct = ((x.mean(dim=(1, 2, 3)) > 0.5).long() == y).float().mean().item()
    assert curves.accuracy["reads"] == [1.0] + [pytest.approx(mean_fill_correct)] * 3
    assert curves.summary()["reads"]["masking_gap"] > 0


def test_deletion_and_insertion_curves_by_hand():
    x, y = images(n=2, side=4)
    importance = torch.zeros(2, 4, 4)
    importance[:, 0, 0] = 1.0
    net = OnePixel()
    curves = F.perturbation_curves(net, x, y, y, {"reads": importance}, levels=2, fill="mean",
                                   batch_size=8, generator=make_generator(0))

    def prob(top_left):  # probability of the labelled class when the read pixel has this value
        p1 = torch.sigmoid(10 * (top_left - 0.5))
        return torch.where(y == 1, p1, 1 - p1).mean().item()

    mean = x.mean(dim=(1, 2, 3))
    blur = F.blurred(x)[:, 0, 0, 0]
    # half the pixels (8 of 16) are enough to reach the read pixel, ranked first
    assert curves.deletion["reads"] == pytest.approx([prob(x[:, 0, 0, 0]), prob(mean), prob(mean)])
    assert curves.insertion["reads"] == pytest.approx([prob(blur), prob(x[:, 0, 0, 0]), prob(x[:, 0, 0, 0])])
    expected_auc = np.trapezoid(curves.deletion["reads"], [0.0, 0.5, 1.0])
    assert curves.summary()["reads"]["deletion_auc"] == pytest.approx(expected_auc)


def test_random_fill_stays_within_each_images_range():
    x, _ = images()
    fill = F.substrate(x, "random", make_generator(1))
    low, high = x.amin(dim=(1, 2, 3)), x.amax(dim=(1, 2, 3))
    assert (fill.amin(dim=(1, 2, 3)) >= low).all() and (fill.amax(dim=(1, 2, 3)) <= high).all()

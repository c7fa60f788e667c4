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
    curves = F.perturbation_curves(
        OnePixel(), x, y, y, {"ignores": importance}, levels=10, fill="mean", batch_size=4, generator=make_generator(0)
    )
    assert curves.accuracy["ignores"] == [1.0] * 10
    assert len(set(curves.deletion["ignores"][:-1])) == 1  # until the last step deletes everything
    summary = curves.summary()
    assert summary["ignores"]["masking_gap"] <= 0.0  # random masking hits the pixel sooner


def test_masking_curve_drops_at_once_when_the_read_pixel_is_ranked_first():
    x, y = images()
    importance = torch.zeros(len(y), 6, 6)
    importance[:, 0, 0] = 1.0
    curves = F.perturbation_curves(
        OnePixel(), x, y, y, {"reads": importance}, levels=4, fill="mean", batch_size=64, generator=make_generator(0)
    )
    mean_fill_correct = ((x.mean(dim=(1, 2, 3)) > 0.5).long() == y).float().mean().item()
    assert curves.accuracy["reads"] == [1.0] + [pytest.approx(mean_fill_correct)] * 3
    assert curves.summary()["reads"]["masking_gap"] > 0


def test_deletion_and_insertion_curves_by_hand():
    x, y = images(n=2, side=4)
    importance = torch.zeros(2, 4, 4)
    importance[:, 0, 0] = 1.0
    net = OnePixel()
    curves = F.perturbation_curves(
        net, x, y, y, {"reads": importance}, levels=2, fill="mean", batch_size=8, generator=make_generator(0)
    )

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


class TinyConv(Network):
    """conv -> ReLU -> max-pool -> linear, random weights: a network whose every pixel matters."""

    exact_cam = False
    num_classes = 3

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(2, 4, 3)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        fmap = torch.nn.functional.max_pool2d(self.conv(x).relu(), 2)
        logits = self.fc(fmap.flatten(1))
        return NetOutput(logits=logits, embedding=logits, feature_map=fmap)


def unbatched_curves(net, x, y, target, importance, levels, fill, generator):
    """The definition, one image and one fraction at a time (the module docstring's recipe)."""
    ranks = {name: F.pixel_ranks(imp, generator) for name, imp in importance.items()}
    ranks[F.RANDOM] = F.pixel_ranks(torch.zeros_like(x[:, 0]), generator)  # same stream order as the module
    fill_values, start = F.substrate(x, fill, generator), F.blurred(x)
    pixels = x.shape[-2] * x.shape[-1]
    out = {"deletion": {}, "insertion": {}, "accuracy": {}}
    with torch.no_grad():

        def score(image, i):
            logits = net(image[None]).logits[0]
            return float(logits.softmax(0)[target[i]]), float(logits.argmax() == y[i])

        for name, r in ranks.items():
            deletion, insertion, accuracy = [], [], []
            for j in range(levels + 1):
                count = round(j / levels * pixels)
                d = [
                    score(F.replace_top(x[i : i + 1], r[i : i + 1], count, fill_values[i : i + 1])[0], i)
                    for i in range(len(y))
                ]
                ins = [
                    score(F.replace_top(start[i : i + 1], r[i : i + 1], count, x[i : i + 1])[0], i)
                    for i in range(len(y))
                ]
                deletion.append(np.mean([p for p, _ in d]))
                insertion.append(np.mean([p for p, _ in ins]))
                if j < levels:
                    accuracy.append(np.mean([c for _, c in d]))
            out["deletion"][name], out["insertion"][name], out["accuracy"][name] = deletion, insertion, accuracy
    return out


@pytest.mark.parametrize("fill, levels, batch_size", [("mean", 4, 5), ("random", 3, 64), ("mean", 1, 2)])
def test_batched_curves_equal_the_unbatched_definition(fill, levels, batch_size):
    net = TinyConv()  # in training mode (no dropout or batch norm: the same outputs as in eval mode)
    x = torch.rand(7, 2, 8, 8, generator=make_generator(5))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    target = torch.tensor([0, 1, 1, 2, 1, 0, 0])  # explained class != label for some images
    importance = {"a": torch.rand(7, 8, 8, generator=make_generator(6)), "flat": torch.ones(7, 8, 8)}
    curves = F.perturbation_curves(net, x, y, target, importance, levels, fill, batch_size, make_generator(7))
    reference = unbatched_curves(net, x, y, target, importance, levels, fill, make_generator(7))
    assert curves.fractions == [j / levels for j in range(levels + 1)]
    for kind in ("deletion", "insertion", "accuracy"):
        assert set(getattr(curves, kind)) == {"a", "flat", F.RANDOM}
        for name, values in reference[kind].items():
            # one image per forward vs chunks of images, and a float32 mean vs numpy's float64 mean:
            # the summation order differs, so probabilities agree to float32 rounding (~1e-7), not bitwise
            assert getattr(curves, kind)[name] == pytest.approx(values, rel=0, abs=1e-6), (kind, name)
    assert net.training, "the network's mode is restored"
    assert all(p.is_contiguous() for p in net.parameters()), "the CPU's channels-last scoring network is a copy"


def test_mask_fractions_span_sgts_masking_range_with_short_steps_first():
    assert F.mask_fractions(10, 1.0) == pytest.approx([j / 10 for j in range(11)], abs=1e-15)  # the earlier default
    default = F.mask_fractions(7, 1.5)
    assert default == pytest.approx([0.0, 0.0612, 0.1732, 0.3182, 0.4899, 0.6847, 0.9, 1.0], abs=1e-4)
    assert F.mask_fractions(2, 1.5) == [0.0, 0.9, 1.0] and F.mask_fractions(1, 1.5) == [0.0, 1.0]
    steps = np.diff(default[:-1])
    assert (np.diff(steps) > 0).all(), "short steps at small fractions, where the curves of a faithful map move"
    with pytest.raises(ValueError, match="increase from 0 to 1"):
        F.perturbation_curves(
            OnePixel(), *images(), torch.tensor([1, 0] * 3), {}, [0.0, 0.5], "mean", 8, make_generator(0)
        )


def test_curves_at_given_fractions_equal_the_same_fractions_of_a_finer_even_grid():
    """Uneven fractions change where the curves are sampled, not what a sample is."""
    net, (x, y) = TinyConv(), (torch.rand(5, 2, 8, 8, generator=make_generator(8)), torch.tensor([0, 1, 2, 0, 1]))
    importance = {"a": torch.rand(5, 8, 8, generator=make_generator(9))}
    fine = F.perturbation_curves(net, x, y, y, importance, 8, "mean", 64, make_generator(3))
    uneven = F.perturbation_curves(net, x, y, y, importance, [0.0, 0.125, 0.5, 1.0], "mean", 64, make_generator(3))
    for kind in ("deletion", "insertion"):
        for name in ("a", F.RANDOM):
            # the same images in chunks of another composition: equal to float32 rounding
            assert getattr(uneven, kind)[name] == pytest.approx(
                [getattr(fine, kind)[name][j] for j in (0, 1, 4, 8)], abs=1e-6
            )
    assert uneven.accuracy["a"] == [fine.accuracy["a"][j] for j in (0, 1, 4)]

"""Faithfulness by perturbation, without retraining: SGT's masking curve and RISE's deletion / insertion.

Pixels are ranked by importance (ties broken by a seeded random permutation). At the
fractions 0 = f_0 < f_1 < ... < f_L = 1 of the pixels (``mask_fractions``, below):

- deletion (Petsiuk et al., RISE, BMVC 2018): the top-f_j pixels (all channels) take the
  substrate value (the image's channel mean, or uniform noise in its range as SGT's
  ``--RandomMasking``); the curve is the mean softmax probability of the explained class;
- SGT's masking curve (Ismail et al., NeurIPS 2021, ``maskedAcc``): the accuracy on the same
  deletion images for d = f_0..f_{L-1} (0..90%), beside the same curve for a random pixel
  ranking; summary = area between the random and the salient curve divided by the range
  of d, i.e. the mean accuracy gap (higher = the salient pixels matter more);
- insertion (RISE): start from a Gaussian-blurred copy (RISE's ``gkern(11, 5)``) and put
  back the top-f_j pixels; the curve is the mean probability of the explained class.
AUC = trapezoid over the f_j (RISE's (sum - first/2 - last/2) / n on an even grid).

Fractions (settings ``mask_levels`` L, ``mask_power`` p): d_j = 0.9 (j/(L-1))^p for
j = 0..L-1, then f_L = 1. The default is L = 7, p = 1.5: 0, 6.1, 17.3, 31.8, 49.0, 68.5,
90, 100% (six perturbed levels). Until issue 13 it was the even grid 0, 10, ..., 100%
(L = 10, p = 1: nine perturbed levels, still available). The curves of a faithful map
move in the first few percent (a trained simple_cnn's probability under deletion by the
gradient ranking falls from 0.69 to 0.16 within the first 10% of the pixels) and are flat
later, so short steps there and long ones later estimate the area as well with a third
fewer forward passes. Measured against RISE's own 1% steps (L = 100, the reference) on
five trained networks (decoy digits, quick profile, seed 0, 64 probe images: ERM
simple_cnn on test, test_iid and with random fill, RRR simple_cnn, ERM gap_cnn), the
largest error |value - reference| over every ranking, old grid / new grid, was 0.021 /
0.013 for the deletion AUC, 0.018 / 0.010 for the insertion AUC and 0.038 / 0.036 for the
masking gap (reference: the mean gap over 0..90% on the 1% grid); the mean errors 0.008 /
0.005, 0.007 / 0.004 and 0.016 / 0.015. Values on ERM simple_cnn, test split, mean fill
(old / new / reference):

    ranking               deletion AUC           insertion AUC          masking gap
    gradcam               0.329 / 0.328 / 0.329  0.518 / 0.517 / 0.519  0.232 / 0.225 / 0.242
    gradient              0.135 / 0.133 / 0.125  0.652 / 0.656 / 0.662  0.493 / 0.465 / 0.501
    input_x_gradient      0.147 / 0.141 / 0.132  0.642 / 0.646 / 0.653  0.326 / 0.330 / 0.339
    integrated_gradients  0.145 / 0.136 / 0.129  0.645 / 0.653 / 0.658  0.299 / 0.309 / 0.322
    random                0.498 / 0.492 / 0.501  0.527 / 0.524 / 0.525

The even grid overestimates the deletion AUC (and underestimates the insertion AUC) of
the gradient-based rankings by up to 0.02, because its first step already spans the drop;
the new values are 0.002-0.009 closer to the reference for them, Grad-CAM's stay within
0.002, and the random ranking's deletion AUC, whose curve falls late (70-100%), moves 0.006
away (0.492 vs 0.501). The order of the rankings is the same under every metric. The
masking gap averages a jagged 0/1 accuracy curve of 64 images: any grid is a few
hundredths off on some runs (here the gradient's 0.465 vs 0.501), the new one no more than
the old in the worst case.

Computation. Every image the curves need is one entry of a ``Plan``: groups of the N
images, each group a (base, source, ranking, pixel count); the images shared by every
ranking (f = 0 and f = 1) are one group each. The perturbed images are built a chunk at a
time by one vectorized ``torch.where`` (no loop over images, fractions or rankings) and
scored in inference mode, so memory is bounded by one chunk whatever the image size. On
an accelerator a chunk is ``eval_batch_size`` images and the network is the trained one.
On the CPU a chunk is at most ``models.layout.CPU_CHUNK`` = 64 images, because there large batches are
slower per image, not faster: simple_cnn's activations at batch 512 (75 MB for conv2's
output) leave the cores' caches and the memory-bound ReLU and max-pool dominate (64 images
per forward: 1.75x fewer CPU seconds per image than 512); and the images are scored by a
channels-last copy of the network, whose oneDNN convolutions and max-pool are 1.6x faster
than the NCHW ones on simple_cnn (max-pool alone 6x). The copy changes the summation order
inside the convolutions: probabilities move by at most 6e-8 on the trained simple_cnn
(accuracies unchanged), and the results stay bitwise reproducible for the same inputs.
The values equal a one-image-at-a-time evaluation of the definition (tested to 1e-6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..contracts import Network
from ..models.layout import cpu_channels_last_copy, inference_chunk

RANDOM = "random"
MAX_MASKED = 0.9  # the last masked fraction of the masking curve: SGT's 0..90%
BLUR_KERNEL, BLUR_SIGMA = 11, 5.0


def mask_fractions(levels: int, power: float) -> list[float]:
    """The L + 1 fractions of the curves (module doc): the masked fractions 0.9 (j/(L-1))^power,
    j = 0..L-1, then 1 (L = 1: 0 and 1). L = 10, power = 1: 0, 0.1, ..., 1 (the earlier grid)."""
    if levels == 1:
        return [0.0, 1.0]
    return [MAX_MASKED * (j / (levels - 1)) ** power for j in range(levels)] + [1.0]


def pixel_ranks(importance: Tensor, generator: torch.Generator) -> Tensor:
    """(N,P) rank of every pixel in descending importance (0 = most important), ties random."""
    flat = importance.flatten(1)
    shuffle = torch.rand(flat.shape, generator=generator, device=flat.device).argsort(dim=1)
    order = shuffle.gather(1, flat.gather(1, shuffle).sort(dim=1, descending=True, stable=True).indices)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order).contiguous())
    return ranks


def substrate(x: Tensor, fill: str, generator: torch.Generator) -> Tensor:
    """What masked pixels become: each image's channel mean, or uniform noise in its [min, max]."""
    if fill == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    low = x.amin(dim=(1, 2, 3), keepdim=True)
    high = x.amax(dim=(1, 2, 3), keepdim=True)
    return low + (high - low) * torch.rand(x.shape, generator=generator, device=x.device)


def blurred(x: Tensor) -> Tensor:
    """RISE's insertion start: Gaussian blur, kernel 11 and sigma 5 (kernel clipped for tiny images)."""
    kernel = min(BLUR_KERNEL, 2 * min(x.shape[-2:]) - 1)
    kernel -= 1 - kernel % 2
    import torchvision.transforms.functional as TF  # here: the reporting commands import this module, not blur

    return TF.gaussian_blur(x, [kernel, kernel], [BLUR_SIGMA, BLUR_SIGMA])


def replace_top(base: Tensor, ranks: Tensor, count: int, source: Tensor) -> Tensor:
    """``base`` with its ``count`` top-ranked pixels (every channel) taken from ``source``: the
    definition of one perturbed image (``perturbed`` builds many of them at once)."""
    chosen = (ranks < count).view(ranks.shape[0], 1, *base.shape[-2:])
    return torch.where(chosen, source, base)


def scoring_network(net: Network) -> Network:
    """The network that scores the perturbed images: on the CPU a channels-last copy in eval mode
    (module doc; ``net`` itself is left as it is), elsewhere ``net``."""
    return cpu_channels_last_copy(net)


@dataclass(frozen=True)
class Plan:
    """Every image the curves need, as G groups of the N images: group g holds
    ``replace_top(images[base[g]], ranks[ranking[g]], count[g], images[source[g]])``."""

    base: Tensor  # (G,) index into the stacked images (K, N, C, H, W)
    source: Tensor  # (G,) index into the stacked images
    ranking: Tensor  # (G,) index into the stacked rankings (R, N, H*W)
    count: Tensor  # (G,) how many top-ranked pixels are replaced

    @classmethod
    def of(cls, groups: list[tuple[int, int, int, int]], device: torch.device) -> Plan:
        """From (base, source, ranking, count) rows."""
        base, source, ranking, count = torch.tensor(groups, dtype=torch.long, device=device).T
        return cls(base, source, ranking, count)

    def __len__(self) -> int:
        return int(self.count.shape[0])


def perturbed(images: Tensor, ranks: Tensor, plan: Plan, flat: Tensor) -> Tensor:
    """The images at flat positions ``flat`` (g * N + n) of ``plan``, built in one vectorized step."""
    n = images.shape[1]
    group, image = flat // n, flat % n
    chosen = (ranks[plan.ranking[group], image] < plan.count[group, None]).view(len(flat), 1, *images.shape[-2:])
    return torch.where(chosen, images[plan.source[group], image], images[plan.base[group], image])


def score_plan(
    net: Network, images: Tensor, ranks: Tensor, plan: Plan, y: Tensor, target: Tensor, chunk: int
) -> tuple[Tensor, Tensor]:
    """(correct, probability of ``target``), each (G, N), for every image of ``plan``, in inference
    mode; the images are built ``chunk`` at a time, so memory stays bounded by one chunk."""
    n, total = len(y), len(plan) * len(y)
    with torch.inference_mode():
        logits = torch.cat(
            [
                net(
                    perturbed(images, ranks, plan, torch.arange(s, min(s + chunk, total), device=y.device))
                ).logits.float()
                for s in range(0, total, chunk)
            ]
        ).view(len(plan), n, -1)
        prob = logits.softmax(dim=2).gather(2, target.expand(len(plan), n)[..., None])[..., 0]
        correct = (logits.argmax(dim=2) == y).float()
    return correct, prob


@dataclass
class Curves:
    """Mean curves per ranking: ``fractions`` (L+1,), deletion / insertion probability at every
    fraction, masking accuracy at the first L fractions."""

    fractions: list[float]
    deletion: dict[str, list[float]] = field(default_factory=dict)
    insertion: dict[str, list[float]] = field(default_factory=dict)
    accuracy: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, float]]:
        """{ranking: {masking_gap, deletion_auc, insertion_auc}}; no masking gap for the random ranking."""
        f = np.asarray(self.fractions)
        d = f[:-1]
        out: dict[str, dict[str, float]] = {}
        for name in self.deletion:
            row = {
                "deletion_auc": float(np.trapezoid(self.deletion[name], f)),
                "insertion_auc": float(np.trapezoid(self.insertion[name], f)),
            }
            if name != RANDOM and len(d) > 1:
                gap = np.asarray(self.accuracy[RANDOM]) - np.asarray(self.accuracy[name])
                row["masking_gap"] = float(np.trapezoid(gap, d) / (d[-1] - d[0]))
            out[name] = row
        return out


def perturbation_curves(
    net: Network,
    x: Tensor,
    y: Tensor,
    target: Tensor,
    importance: dict[str, Tensor],
    levels: int | Sequence[float],
    fill: str,
    batch_size: int,
    generator: torch.Generator,
) -> Curves:
    """Deletion, insertion and masking curves of every importance map (N,H,W) and of a random ranking,
    at the fractions j/L, j = 0..L (``levels`` = L), or at the given fractions (increasing from 0 to 1,
    e.g. ``mask_fractions``).

    Every perturbed image of every fraction and ranking is scored in one pass (``score_plan``)."""
    fractions = [j / levels for j in range(levels + 1)] if isinstance(levels, int) else [float(f) for f in levels]
    if len(fractions) < 2 or fractions[0] != 0.0 or fractions[-1] != 1.0 or sorted(set(fractions)) != fractions:
        raise ValueError(f"fractions must increase from 0 to 1, got {fractions}")
    levels = len(fractions) - 1
    was_training = net.training
    net.eval()
    ranks = {name: pixel_ranks(imp, generator) for name, imp in importance.items()}
    ranks[RANDOM] = pixel_ranks(torch.zeros_like(x[:, 0]), generator)
    names = list(ranks)
    fill_values, start = substrate(x, fill, generator), blurred(x)
    pixels = x.shape[-2] * x.shape[-1]
    curves = Curves(fractions=fractions)
    # groups 0-2 are shared by every ranking: the images (f = 0 of deletion, f = 1 of insertion),
    # the substrate (f = 1 of deletion) and the blur (f = 0 of insertion); then, per interior
    # fraction and ranking, a deletion (x <- substrate) and an insertion (blur <- x) group
    X, FILL, BLUR = 0, 1, 2
    groups = [(X, X, 0, 0), (X, FILL, 0, pixels), (BLUR, X, 0, 0)]
    interior = range(1, levels)
    for j in interior:
        count = round(fractions[j] * pixels)
        groups += [(X, FILL, k, count) for k in range(len(names))] + [(BLUR, X, k, count) for k in range(len(names))]
    try:
        correct, prob = score_plan(
            scoring_network(net),
            torch.stack([x, fill_values, start]),
            torch.stack([ranks[k] for k in names]),
            Plan.of(groups, x.device),
            y,
            target,
            inference_chunk(batch_size, x.device),
        )
    finally:
        net.train(was_training)
    accuracy, probability = correct.mean(dim=1).cpu(), prob.mean(dim=1).cpu()  # (G,) means over the N images
    for k, name in enumerate(names):
        deletion = [3 + 2 * len(names) * (j - 1) + k for j in interior]
        insertion = [g + len(names) for g in deletion]
        curves.deletion[name] = [float(probability[g]) for g in [0, *deletion, 1]]
        curves.insertion[name] = [float(probability[g]) for g in [2, *insertion, 0]]
        curves.accuracy[name] = [float(accuracy[g]) for g in [0, *deletion]]
    return curves

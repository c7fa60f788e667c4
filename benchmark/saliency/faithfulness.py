"""Faithfulness by perturbation, without retraining: SGT's masking curve and RISE's deletion / insertion.

Pixels are ranked by importance (ties broken by a seeded random permutation). At the
fractions f_j = j/L, j = 0..L, of the pixels:

- deletion (Petsiuk et al., RISE, BMVC 2018): the top-f_j pixels (all channels) take the
  substrate value (the image's channel mean, or uniform noise in its range as SGT's
  ``--RandomMasking``); the curve is the mean softmax probability of the explained class;
- SGT's masking curve (Ismail et al., NeurIPS 2021, ``maskedAcc``): the accuracy on the same
  deletion images for d = f_0..f_{L-1} (0..90% for L = 10), beside the same curve for a
  random pixel ranking; summary = area between the random and the salient curve divided by
  the range of d, i.e. the mean accuracy gap (higher = the salient pixels matter more);
- insertion (RISE): start from a Gaussian-blurred copy (RISE's ``gkern(11, 5)``) and put
  back the top-f_j pixels; the curve is the mean probability of the explained class.
AUC = trapezoid over f in [0, 1] (RISE's (sum - first/2 - last/2) / n).
Images shared by every ranking (f = 0 and f = 1) are evaluated once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torchvision.transforms.functional as TF
from torch import Tensor

from ..contracts import Network

RANDOM = "random"
BLUR_KERNEL, BLUR_SIGMA = 11, 5.0


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
    return TF.gaussian_blur(x, [kernel, kernel], [BLUR_SIGMA, BLUR_SIGMA])


def replace_top(base: Tensor, ranks: Tensor, count: int, source: Tensor) -> Tensor:
    """``base`` with its ``count`` top-ranked pixels (every channel) taken from ``source``."""
    chosen = (ranks < count).view(ranks.shape[0], 1, *base.shape[-2:])
    return torch.where(chosen, source, base)


@torch.no_grad()
def _score(net: Network, images: Tensor, y: Tensor, target: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    """(correct (M,), probability of ``target`` (M,)) for images whose labels repeat ``y`` / ``target``."""
    logits = torch.cat([net(images[s:s + batch_size]).logits.float() for s in range(0, len(images), batch_size)])
    reps = len(images) // len(y)
    y, target = y.repeat(reps), target.repeat(reps)
    prob = logits.softmax(dim=1).gather(1, target[:, None])[:, 0]
    return (logits.argmax(dim=1) == y).float(), prob


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
            row = {"deletion_auc": float(np.trapezoid(self.deletion[name], f)),
                   "insertion_auc": float(np.trapezoid(self.insertion[name], f))}
            if name != RANDOM and len(d) > 1:
                gap = np.asarray(self.accuracy[RANDOM]) - np.asarray(self.accuracy[name])
                row["masking_gap"] = float(np.trapezoid(gap, d) / (d[-1] - d[0]))
            out[name] = row
        return out


def perturbation_curves(net: Network, x: Tensor, y: Tensor, target: Tensor, importance: dict[str, Tensor],
                        levels: int, fill: str, batch_size: int, generator: torch.Generator) -> Curves:
    """Deletion, insertion and masking curves of every importance map (N,H,W) and of a random ranking."""
    was_training = net.training
    net.eval()
    ranks = {name: pixel_ranks(imp, generator) for name, imp in importance.items()}
    ranks[RANDOM] = pixel_ranks(torch.zeros_like(x[:, 0]), generator)
    names = list(ranks)
    fill_values, start = substrate(x, fill, generator), blurred(x)
    pixels = x.shape[-2] * x.shape[-1]
    fractions = [j / levels for j in range(levels + 1)]
    curves = Curves(fractions=fractions)
    series: dict[tuple[str, str], list[Tensor]] = {(kind, n): [] for kind in ("del", "ins", "acc") for n in names}
    try:
        shared_correct, shared_prob = _score(net, torch.cat([x, fill_values, start]), y, target, batch_size)
        n = len(y)
        original = (shared_correct[:n], shared_prob[:n])
        emptied = (shared_correct[n:2 * n], shared_prob[n:2 * n])
        from_blur = (shared_correct[2 * n:], shared_prob[2 * n:])
        for j, fraction in enumerate(fractions):
            count = round(fraction * pixels)
            if 0 < j < levels:
                deleted = torch.cat([replace_top(x, ranks[k], count, fill_values) for k in names])
                inserted = torch.cat([replace_top(start, ranks[k], count, x) for k in names])
                d_correct, d_prob = _score(net, deleted, y, target, batch_size)
                _, i_prob = _score(net, inserted, y, target, batch_size)
            for i, name in enumerate(names):
                if j == 0:
                    dc, dp, ip = original[0], original[1], from_blur[1]
                elif j == levels:
                    dc, dp, ip = emptied[0], emptied[1], original[1]
                else:
                    part = slice(i * n, (i + 1) * n)
                    dc, dp, ip = d_correct[part], d_prob[part], i_prob[part]
                series["del", name].append(dp.mean())
                series["ins", name].append(ip.mean())
                if j < levels:
                    series["acc", name].append(dc.mean())
    finally:
        net.train(was_training)
    for (kind, name), values in series.items():
        store = {"del": curves.deletion, "ins": curves.insertion, "acc": curves.accuracy}[kind]
        store[name] = [float(v) for v in torch.stack(values).cpu()]
    return curves

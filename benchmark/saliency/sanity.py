"""Sanity check by cascading model-parameter randomization (Adebayo et al., NeurIPS 2018, Sec. 3.1).

The network's blocks are re-initialized one after another from the logits down ("complete
randomization ... up to that block inclusive"); after each stage every attribution is
recomputed on the same images and compared with the trained model's map by the Spearman
rank correlation per image (the similarity of Adebayo et al. and Quantus' MPRT). A method
whose maps barely change once the whole network is random explains the input, not the
model: it is flagged (final similarity >= threshold).

Blocks: starting from the network's children that hold parameters, the container with the
most parameters is split into its children (merged into contiguous groups when they are
too many) while the count stays within ``max_stages`` (simple_cnn: conv1, conv2, fc1, fc2;
ResNet-18: stem conv, stem BN, layer1-3, the two blocks of layer4, fc). Re-initialization calls each layer's own ``reset_parameters`` under
a fixed seed, as Quantus' ``MPRT`` does; tensors without an initializer (a ViT's class token
and position embedding) keep their trained values. The trained network is never modified.
The trained network's maps are passed in when the caller already has them (the run's
evaluation uses the maps it stores for the same probe images), so only the randomized
stages are computed here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor, nn

from ..seeding import derive_seed

MapFn = Callable[[nn.Module, Tensor, Tensor], dict[str, Tensor]]


def _size(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _children_with_parameters(module: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
    return [(f"{prefix}{name}", child) for name, child in module.named_children() if _size(child) > 0]


Block = tuple[str, list[nn.Module]]


def _grouped(parts: list[tuple[str, nn.Module]], count: int) -> list[Block]:
    """``parts`` as at most ``count`` contiguous groups, named ``first..last`` when merged."""
    chunks = np.array_split(np.arange(len(parts)), min(count, len(parts)))
    return [
        (
            parts[c[0]][0] if len(c) == 1 else f"{parts[c[0]][0]}..{parts[c[-1]][0].rsplit('.', 1)[-1]}",
            [parts[j][1] for j in c],
        )
        for c in chunks
    ]


def cascade_blocks(net: nn.Module, max_stages: int) -> list[Block]:
    """The blocks randomized one per stage, top (logits) first: (name, modules)."""
    blocks = _grouped(_children_with_parameters(net, ""), max_stages)
    while True:
        room = max_stages - len(blocks) + 1
        splittable = [
            (i, name, mods[0])
            for i, (name, mods) in enumerate(blocks)
            if len(mods) == 1 and _children_with_parameters(mods[0], "")
        ]
        if room < 2 or not splittable:
            break
        i, name, module = max(splittable, key=lambda item: (_size(item[2]), -item[0]))
        blocks[i : i + 1] = _grouped(_children_with_parameters(module, f"{name}."), room)
    return blocks[::-1]


def randomize(block: list[nn.Module], seed: int) -> None:
    """Re-initialize every layer of ``block`` with its own initializer, from ``seed`` (global RNG untouched)."""
    devices = sorted({p.device.index or 0 for m in block for p in m.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for module in (sub for m in block for sub in m.modules()):
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each pair of rows (N,P); NaN where either row is constant."""
    ra = rankdata(a.reshape(len(a), -1), axis=1)
    rb = rankdata(b.reshape(len(b), -1), axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / denom, np.nan)


def similarity(trained: np.ndarray, randomized: np.ndarray) -> float | None:
    """Mean Spearman over images whose trained map is not constant; a randomized map that became
    constant shares no ranking with the trained one and counts 0. None when no image qualifies."""
    rho = spearman_rows(trained, randomized)
    flat_t = trained.reshape(len(trained), -1)
    informative = flat_t.max(axis=1) > flat_t.min(axis=1)
    rho = np.where(np.isnan(rho), 0.0, rho)[informative]
    return float(rho.mean()) if rho.size else None


@dataclass
class SanityResult:
    blocks: list[str]
    similarity: dict[str, list[float | None]] = field(default_factory=dict)  # per method, per stage

    def final(self) -> dict[str, float | None]:
        return {name: values[-1] if values else None for name, values in self.similarity.items()}

    def flags(self, threshold: float) -> dict[str, bool]:
        """True for a method whose fully randomized maps keep Spearman >= ``threshold``."""
        return {name: value is not None and value >= threshold for name, value in self.final().items()}


def cascading_randomization(
    net: nn.Module,
    x: Tensor,
    target: Tensor,
    maps: MapFn,
    max_stages: int,
    seed: int,
    reference: dict[str, Tensor] | None = None,
) -> SanityResult:
    """Similarity of every method's maps before and after each cascade stage, on images ``x``;
    ``reference``: the trained network's maps of ``x`` when already computed (else ``maps`` computes them)."""
    trained = {
        k: v.float().cpu().numpy() for k, v in (maps(net, x, target) if reference is None else reference).items()
    }
    model = copy.deepcopy(net)
    blocks = cascade_blocks(model, max_stages)
    result = SanityResult(blocks=[name for name, _ in blocks], similarity={k: [] for k in trained})
    for stage, (name, block) in enumerate(blocks):
        randomize(block, derive_seed(seed, "sanity", stage, name))
        current = maps(model, x, target)
        for method, base in trained.items():
            result.similarity[method].append(similarity(base, current[method].float().cpu().numpy()))
    return result

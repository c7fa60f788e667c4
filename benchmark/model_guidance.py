"""Rao et al.'s guidance losses and their attributions (Rao, Böhle, Parchami-Araghi, Schiele, "Studying How to
Efficiently and Effectively Guide Models with Explanations", ICCV 2023, arXiv 2303.11932), shared by
``methods/energy.py`` and ``methods/l1.py``.

Per annotated image, with A the attribution of the true class at image resolution, A+ = max(A, 0) and M the
human map in [0,1] (Sec. 3.2 of the paper):

    Energy:  L = 1 - sum(A+ * M) / sum(A+)          (1 - sum(A+ * M) when sum(A+) < 1e-7)
    L1:      L = mean_pixels |A' - M|,   A' = A+ / max |A|   (A+ unchanged when max |A| = 0)

M enters as weights: a pixel counts toward the energy inside the annotation in proportion to M, and the L1
target is M itself. On a binary mask (the paper's bounding boxes) both are exactly the paper's losses. The
official code (github sukrutrao/Model-Guidance, ``losses.py``, ``attribution_methods.py``) computes the
attribution at the guided layer, rectifies and (for L1) divides by the maximum there, then upsamples
bilinearly to the image (captum's ``LayerAttribution.interpolate``, align_corners False): the same order here.

Attributions (``ATTRIBUTIONS``), both of the true class y, both differentiable w.r.t. the network:

- ``cam``: ``Network.cam`` of the training forward, rectified. On a global-average-pool -> linear head
  (gap_cnn, resnet*, densenet*, vit_tiny) it is the exact CAM, h*w times Rao's final-layer Grad-CAM; on
  simple_cnn it is Grad-CAM. Neither loss sees a positive scale (Energy is a ratio; L1 divides by the max).
- ``input_x_gradient``: x * d logit_y / dx summed over channels (Rao's IxG at the input layer), the gradient
  built with ``create_graph=True`` so the loss back-propagates through it (double back-propagation, as RRR).
  One gradient of the batch's summed true logits serves every image (the official batch mode's too): with
  BatchNorm in training mode it also carries terms through the other images' outputs, as RRR's here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from .contracts import Batch, ContractError, Cost, Guidance, Method, NetOutput, Network, TrainState
from .maps import masked_mean
from .phases import phase

ATTRIBUTIONS = ("cam", "input_x_gradient")
ENERGY_FLOOR = 1e-7  # the official code's threshold on sum(A+)
COSTS = {
    # the CAM reuses the training forward; Grad-CAM's head backward on a non-GAP head
    "cam": Cost(forward=1, backward=1, grad_cam=1),
    # the input gradient with a graph, then one backward through both (as RRR)
    "input_x_gradient": Cost(forward=1, backward=0, double_backward=1),
}


def energy_loss(attributions: Tensor, mask: Tensor) -> Tensor:
    """Per-image Energy loss (B,) of attributions (B,H,W) against maps ``mask`` (B,H,W) in [0,1] (module docstring)."""
    positive = attributions.clamp_min(0).flatten(1)
    inside = (positive * mask.flatten(1)).sum(dim=1)
    total = positive.sum(dim=1)
    return torch.where(total < ENERGY_FLOOR, 1 - inside, 1 - inside / total.clamp_min(ENERGY_FLOOR))


def image_size(maps: Tensor) -> tuple[int, int]:
    """The (H, W) of maps (..., H, W)."""
    return int(maps.shape[-2]), int(maps.shape[-1])


def max_normalized(attributions: Tensor) -> Tensor:
    """A+ / max|A| per image (B,h,w), A+ unchanged where max|A| = 0 (the official ``binarize`` after ``only_positive``)."""
    positive = attributions.clamp_min(0)
    peak = positive.amax(dim=(1, 2), keepdim=True)  # max |A+| = max A+
    return torch.where(peak > 0, positive / torch.where(peak > 0, peak, torch.ones_like(peak)), positive)


def l1_loss(normalized: Tensor, mask: Tensor) -> Tensor:
    """Per-image L1 loss (B,): mean over pixels of |A' - M|, A' = ``max_normalized`` attributions at M's resolution."""
    return (normalized - mask).abs().flatten(1).mean(dim=1)


def forward_with_attribution(net: Network, batch: Batch, kind: str) -> tuple[NetOutput, Tensor]:
    """The training forward and the attribution (B,h,w) of the true class: the rectified CAM at the feature map's
    h x w (``cam``) or Input x Gradient at the image's (``input_x_gradient``, not rectified: each loss does)."""
    if kind == "cam":
        out = net(batch.x)
        with phase("saliency"):
            return out, net.cam(out, batch.y).relu()  # Rao's Grad-CAM rectifies
    x = batch.x.detach().requires_grad_(True)
    with sdpa_kernel(SDPBackend.MATH):  # the fused attention kernels have no double backward
        out = net(x)
    with phase("saliency"):  # the input gradient, built with a graph (its backward is in "backward")
        (grads,) = torch.autograd.grad(out.logits.gather(1, batch.y[:, None]).sum(), x, create_graph=True)
        return out, (x * grads).sum(dim=1)


class AttributionGuidance(Method):
    """CE + lam * (mean over the batch's annotated images of a per-image loss of the true class's attribution
    against the human map); a subclass names the loss (``per_image``) and the logged term (``term``)."""

    needs_annotations = True
    guidance = Guidance(("lam",), "weight")
    cost = COSTS["cam"]
    term: ClassVar[str] = "guidance"
    lam: float  # hyperparameters, declared by each subclass's ``hparams``
    attribution: str

    def __init__(self, **overrides: Any) -> None:
        super().__init__(**overrides)
        vars(self)["cost"] = COSTS[self.attribution]  # the instance's step: the double backward of IxG

    def per_image(self, attributions: Tensor, mask: Tensor) -> Tensor:
        """Per-image loss (B,) of attributions (B,h,w) against human maps (B,H,W) at the image's resolution."""
        raise NotImplementedError

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor | float]]:
        if batch.saliency is None or batch.annotated is None:
            raise ContractError(f"method '{self.name}': the batch carries no human maps (Batch.saliency)")
        out, attributions = forward_with_attribution(net, batch, self.attribution)
        ce = F.cross_entropy(out.logits, batch.y)
        with phase("masking"):
            term = masked_mean(self.per_image(attributions, batch.saliency[:, 0]), batch.annotated)
        return ce + self.lam * term, {"ce": ce.detach(), self.term: term.detach()}

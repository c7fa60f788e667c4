"""CYBORG: ConveY Brain Oversight to Raise Generalization (Boyd, Tinsley, Bowyer, Czajka; WACV 2023).

The paper's loss, at the resolution of the class activation map (7x7 for a 224-px ResNet-50):

    L = alpha * CE(f(x), y) + (1 - alpha) * MSE(CAM_c(x), H),    alpha = 0.5

CAM_c(x) = sum_k w[c,k] A_k(x), the classifier row of class c dotted with the last feature
map A (Zhou et al. CVPR 2016), min-max normalized to [0,1]; H is the human saliency map
resized to the CAM's h x w and min-max normalized. The CAM comes from the training forward
itself (``Network.cam`` on its output), so a step costs about what cross-entropy costs.
Only annotated samples enter the MSE (the mean of their per-sample squared errors).
Official code: github CVRL/CYBORG (``train_cam.py``).

Ambiguities, each a hyperparameter (paper / official code / our default and why):

- ``cam_class``: the paper says "the CAM" without a class; the original ``train_cam.py``
  takes the predicted class (argmax of the logits), the lab's later code the true label.
  Default ``true`` (docs/methods.md, CYBORG): early in training the prediction is noise, and guiding
  the map of a wrong class teaches the wrong evidence.
- ``normalization``: the official code min-max normalizes each sample's CAM (no epsilon:
  a constant map gives 0/0 = NaN; here a constant map becomes zeros, ``benchmark.maps``).
  ``batch`` uses one min and max over the batch's annotated CAMs instead, which keeps the
  relative strength of the maps. Default ``per_sample`` (the official code).
- ``alpha_mode``: the paper fixes alpha = 0.5; the lab's later work ("Training Better Deep
  Learning Models Using Human Saliency", arXiv 2410.16190) balances the two terms
  adaptively, alpha = CE / (CE + MSE), recomputed every batch and detached (a weight, not a
  path for gradients). Default ``fixed`` (the paper).
- ``human_resize``: the paper only says the human map is brought to the CAM's size; the
  official loader (``training_code/dataset_Loader_cam.py``) applies torchvision's
  ``transforms.Resize([7, 7])`` to the annotation as a PIL image, i.e. PIL's bilinear
  resize, which antialiases when shrinking (a triangle filter widened by the scale factor),
  on the 8-bit image. ``bilinear_antialias`` reproduces it in float on the batch
  (``F.interpolate(mode="bilinear", antialias=True, align_corners=False)``, torch's
  PIL-compatible kernel, without the 8-bit rounding); ``area`` averages each block of
  pixels (``benchmark.maps.resize_maps``, as the other methods here). Default ``area``:
  the behaviour the existing studies were run with, and the two differ little. Measured on
  the toy_faces train maps, min-max normalized: 32 px to gap_cnn's 8x8 CAM, mean |diff|
  0.016 per pixel, max 0.145; 64 px to 16x16, 0.008, max 0.115. CYBORG's MSE term on a
  fixed 128-image batch (32 px, gap_cnn at init / after 3 ERM epochs): area 0.236 / 0.226,
  bilinear 0.224 / 0.214; cosine of the two MSE-term gradients 0.9998.
- Which layer: the official ResNet-50 path hooks the last bottleneck's conv3 output (before
  its batch norm and residual add); we use ``NetOutput.feature_map``, the map that is pooled
  into the classifier, the one on which the CAM equals the logit (docs/methods.md default). It
  is fixed by the network contract, not a hyperparameter.
- A batch with no annotated sample: the MSE term is absent (0) and the loss is
  alpha * CE, not CE alone, so every batch's cross-entropy has the same weight (with SGD,
  CE alone would double the step of unannotated batches); with adaptive alpha, MSE = 0
  gives alpha = 1, i.e. CE.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from benchmark.contracts import Batch, ContractError, Cost, Guidance, HParam, Method, Network, TrainState
from benchmark.maps import EPS, batch_minmax, masked_mean, minmax, resize_maps
from benchmark.phases import phase
from benchmark.registry import register_method

HUMAN_RESIZES = ("area", "bilinear_antialias")


def resize_human(saliency: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    """Human maps (B,1,H,W) or (B,H,W) to (B,h,w): ``area`` (``resize_maps``) or PIL-style antialiased bilinear."""
    if mode == "area":
        return resize_maps(saliency, size)
    if mode != "bilinear_antialias":
        raise ContractError(
            f"method 'cyborg': hyperparameter 'human_resize' must be one of {list(HUMAN_RESIZES)}, got {mode!r}"
        )
    maps = saliency[:, None] if saliency.ndim == 3 else saliency
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps[:, 0]
    return F.interpolate(maps, size=size, mode="bilinear", antialias=True, align_corners=False)[:, 0]


@register_method
class CYBORG(Method):
    """Boyd et al., WACV 2023: alpha*CE + (1-alpha)*MSE(CAM, human map), at CAM resolution."""

    name = "cyborg"
    citation = (
        "Boyd, Tinsley, Bowyer, Czajka. CYBORG: Blending Human Saliency Into the Loss Improves "
        "Deep Learning-Based Synthetic Face Detection. WACV 2023"
    )
    url = "https://arxiv.org/abs/2112.00686"
    needs_annotations = True
    cost = Cost(forward=1, backward=1, grad_cam=1)  # the CAM reuses the training forward; Grad-CAM on a non-GAP head
    guidance = Guidance(("alpha",), "ce_share")  # alpha*CE + (1-alpha)*MSE: the CE share
    hparams = {
        "alpha": HParam(
            0.5, "weight of cross-entropy; 1 - alpha weighs the CAM-vs-human MSE (paper: 0.5)", low=0, high=1
        ),
        "alpha_mode": HParam(
            "fixed",
            "fixed: alpha as set (paper); adaptive: alpha = CE/(CE+MSE) per batch, detached (the lab's later work)",
            choices=("fixed", "adaptive"),
        ),
        "cam_class": HParam(
            "true",
            "class whose CAM is guided: true label (lab's later code) or predicted (original train_cam.py)",
            choices=("true", "predicted"),
        ),
        "normalization": HParam(
            "per_sample",
            "CAM min-max range: per sample (official) or one range over the batch's annotated samples",
            choices=("per_sample", "batch"),
        ),
        "human_resize": HParam(
            "area",
            "human map to CAM size: area averaging (our default, as before and as "
            "the other methods) or antialiased bilinear (official code: PIL bilinear via "
            "torchvision Resize; the paper does not say)",
            choices=HUMAN_RESIZES,
        ),
    }

    def target_class(self, logits: Tensor, y: Tensor) -> Tensor:
        return y if self.cam_class == "true" else logits.detach().argmax(dim=1)

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        out = net(batch.x)
        ce = F.cross_entropy(out.logits, batch.y)
        with phase("saliency"):
            cam = net.cam(out, self.target_class(out.logits, batch.y))
            cam = minmax(cam) if self.normalization == "per_sample" else batch_minmax(cam, batch.annotated)
        with phase("masking"):
            human = minmax(resize_human(batch.saliency, tuple(cam.shape[-2:]), self.human_resize))
        mse = masked_mean(((cam - human) ** 2).mean(dim=(1, 2)), batch.annotated)
        alpha = self.alpha if self.alpha_mode == "fixed" else (ce / (ce + mse).clamp_min(EPS)).detach()
        loss = alpha * ce + (1 - alpha) * mse
        # A fixed alpha is logged as the Python number it is: a tensor made from it every step
        # would be a host tensor copied to the device (a sync) by the training loop.
        return loss, {"ce": ce.detach(), "cam_mse": mse.detach(), "alpha": alpha}

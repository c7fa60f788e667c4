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
  Default ``true`` (METHODS.md): early in training the prediction is noise, and guiding
  the map of a wrong class teaches the wrong evidence.
- ``normalization``: the official code min-max normalizes each sample's CAM (no epsilon:
  a constant map gives 0/0 = NaN; here a constant map becomes zeros, ``benchmark.maps``).
  ``batch`` uses one min and max over the batch's annotated CAMs instead, which keeps the
  relative strength of the maps. Default ``per_sample`` (the official code).
- ``alpha_mode``: the paper fixes alpha = 0.5; the lab's later work ("Training Better Deep
  Learning Models Using Human Saliency", arXiv 2410.16190) balances the two terms
  adaptively, alpha = CE / (CE + MSE), recomputed every batch and detached (a weight, not a
  path for gradients). Default ``fixed`` (the paper).
- Which layer: the official ResNet-50 path hooks the last bottleneck's conv3 output (before
  its batch norm and residual add); we use ``NetOutput.feature_map``, the map that is pooled
  into the classifier, the one on which the CAM equals the logit (METHODS.md default). It
  is fixed by the network contract, not a hyperparameter.
- A batch with no annotated sample: the MSE term is absent (0) and the loss is
  alpha * CE, not CE alone, so every batch's cross-entropy has the same weight (with SGD,
  CE alone would double the step of unannotated batches); with adaptive alpha, MSE = 0
  gives alpha = 1, i.e. CE.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmark.contracts import Batch, Cost, HParam, Method, Network, TrainState
from benchmark.maps import EPS, batch_minmax, masked_mean, minmax, resize_maps
from benchmark.registry import register_method


@register_method
class CYBORG(Method):
    """Boyd et al., WACV 2023: alpha*CE + (1-alpha)*MSE(CAM, human map), at CAM resolution."""

    name = "cyborg"
    citation = ("Boyd, Tinsley, Bowyer, Czajka. CYBORG: Blending Human Saliency Into the Loss Improves "
                "Deep Learning-Based Synthetic Face Detection. WACV 2023")
    needs_annotations = True
    cost = Cost(forward=1, backward=1)  # the CAM reuses the training forward
    hparams = {
        "alpha": HParam(0.5, "weight of cross-entropy; 1 - alpha weighs the CAM-vs-human MSE (paper: 0.5)"),
        "alpha_mode": HParam("fixed", "fixed: alpha as set (paper); adaptive: alpha = CE/(CE+MSE) per batch, "
                             "detached (the lab's later work)", choices=("fixed", "adaptive")),
        "cam_class": HParam("true", "class whose CAM is guided: true label (lab's later code) or predicted "
                            "(original train_cam.py)", choices=("true", "predicted")),
        "normalization": HParam("per_sample", "CAM min-max range: per sample (official) or one range over the "
                                "batch's annotated samples", choices=("per_sample", "batch")),
    }

    def target_class(self, logits: Tensor, y: Tensor) -> Tensor:
        return y if self.cam_class == "true" else logits.detach().argmax(dim=1)

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        out = net(batch.x)
        ce = F.cross_entropy(out.logits, batch.y)
        cam = net.cam(out, self.target_class(out.logits, batch.y))
        cam = minmax(cam) if self.normalization == "per_sample" else batch_minmax(cam, batch.annotated)
        human = minmax(resize_maps(batch.saliency, tuple(cam.shape[-2:])))
        mse = masked_mean(((cam - human) ** 2).mean(dim=(1, 2)), batch.annotated)
        alpha = self.alpha if self.alpha_mode == "fixed" else (ce / (ce + mse).clamp_min(EPS)).detach()
        loss = alpha * ce + (1 - alpha) * mse
        return loss, {"ce": ce.detach(), "cam_mse": mse.detach(), "alpha": torch.as_tensor(alpha).detach()}

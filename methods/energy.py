"""Energy loss (Rao, Böhle, Parchami-Araghi, Schiele; ICCV 2023, arXiv 2303.11932, Sec. 3.2): the share of the
true class's positive attribution that falls outside the annotation, the Energy-based Pointing Game as a loss,

    L = CE(f(x), y) + lam * mean_i [ 1 - sum(A_i+ * M_i) / sum(A_i+) ]

over the batch's annotated images i (0 for a batch without one), A+ = max(A, 0) the attribution of class y at
the image's resolution, M the human map. When sum(A+) < 1e-7 the term is 1 - sum(A+ * M) (official code).
Official code: github sukrutrao/Model-Guidance (``losses.py``, ``EnergyPointingGameBBMultipleLoss``). The
losses and attributions are in ``benchmark.model_guidance``; docs/methods.md, Energy and L1, has the choices:

- ``attribution``: ``cam`` (default) the true class's rectified CAM of the training forward (Rao's final-layer
  Grad-CAM up to a positive scale, which the ratio removes), bilinearly upsampled to the image; every
  architecture (exact CAM on gap_cnn, resnet*, densenet*, vit_tiny; Grad-CAM on simple_cnn); cost about ERM's
  (1F+1B, + a head backward on simple_cnn). ``input_x_gradient``: x * d logit_y / dx summed over channels, with
  double back-propagation (1F+1DB, as RRR; every architecture, vit_tiny on the math attention kernel). The
  paper finds final-layer guidance effective for every attribution it tries, and it is the cheap one.
- M is soft here (maps in [0,1]) and enters as weights: a pixel's positive attribution counts as inside in
  proportion to M. On a binary mask, as the paper's boxes, the loss is exactly the paper's.
- ``lam``: the paper sums the per-image losses over the batch (official ``--localization_loss_lambda``, its
  README's example 1e-3 at batch 64, next to a BCE over 20 classes), we average over the annotated images (as
  CYBORG and GRADIA here): lam = lam_paper * (annotated images per batch). Default 1, by the suite's rule (the
  term of the order of the cross-entropy at the start): on one batch of 64 at initialization the term is 0.84
  on decoy digits (simple_cnn, CE 2.31) and 0.76 on toy faces (gap_cnn, CE 0.71), most of the positive
  attribution being outside the map (docs/methods.md, Energy and L1).
"""

from __future__ import annotations

from torch import Tensor

from benchmark.contracts import HParam
from benchmark.maps import resize_maps
from benchmark.model_guidance import ATTRIBUTIONS, AttributionGuidance, energy_loss, image_size
from benchmark.registry import register_method


@register_method
class Energy(AttributionGuidance):
    """Rao et al., ICCV 2023: CE + lam * (1 - positive attribution energy inside the human map / total)."""

    name = "energy"
    citation = (
        "Rao, Böhle, Parchami-Araghi, Schiele. Studying How to Efficiently and Effectively Guide Models with "
        "Explanations. ICCV 2023"
    )
    url = "https://arxiv.org/abs/2303.11932"
    term = "energy"
    hparams = {
        "lam": HParam(1.0, "weight of the Energy term, a mean over annotated images (paper: a sum)", low=0),
        "attribution": HParam(
            "cam",
            "the guided attribution of the true class: the training forward's CAM (final layer) or Input x Gradient",
            choices=ATTRIBUTIONS,
        ),
    }

    def per_image(self, attributions: Tensor, mask: Tensor) -> Tensor:
        return energy_loss(resize_maps(attributions, image_size(mask)), mask)

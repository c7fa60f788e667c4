"""L1 guidance loss (Rao, Böhle, Parchami-Araghi, Schiele; ICCV 2023, arXiv 2303.11932, Sec. 3.2, after GRADIA):
the true class's attribution, rectified and divided by its maximum, against the annotation,

    L = CE(f(x), y) + lam * mean_i mean_pixels | A_i+ / max|A_i| - M_i |

over the batch's annotated images i (0 for a batch without one), A+ = max(A, 0) the attribution of class y
(left unchanged when max|A| = 0), upsampled bilinearly to the image after the division, M the human map.
Official code: github sukrutrao/Model-Guidance (``losses.py``, ``GradiaBBMultipleLoss``; the ``only_positive``
and ``binarize`` steps of ``attribution_methods.py``). The losses and attributions are in
``benchmark.model_guidance``; docs/methods.md, Energy and L1, has the choices:

- ``attribution``: ``cam`` (default) the true class's rectified CAM of the training forward (Rao's final-layer
  Grad-CAM up to a positive scale, which the division by the maximum removes); every architecture (exact CAM
  on gap_cnn, resnet*, densenet*, vit_tiny; Grad-CAM on simple_cnn); cost about ERM's (1F+1B, + a head
  backward on simple_cnn). ``input_x_gradient``: x * d logit_y / dx summed over channels, with double
  back-propagation (1F+1DB, as RRR; every architecture, vit_tiny on the math attention kernel).
- M is soft here (maps in [0,1]) and is the L1's target as it is; on a binary mask, as the paper's boxes,
  the loss is exactly the paper's. Unlike GRADIA (min-max normalized, unrectified Grad-CAM at the feature
  map's resolution, a blurred map there), the comparison is at the image's resolution.
- ``lam``: the paper sums the per-image losses over the batch (official ``--localization_loss_lambda``),
  we average over the annotated images (as CYBORG and GRADIA here): lam = lam_paper * (annotated images per
  batch). Default 3, by the suite's rule (the term of the order of the cross-entropy at the start): on one
  batch of 64 at initialization the term is 0.21 on decoy digits (simple_cnn, CE 2.31) and 0.33 on toy faces
  (gap_cnn, CE 0.71), so 3 x: 0.63 and 0.99 (docs/methods.md, Energy and L1).
"""

from __future__ import annotations

from torch import Tensor

from benchmark.contracts import HParam
from benchmark.maps import resize_maps
from benchmark.model_guidance import ATTRIBUTIONS, AttributionGuidance, image_size, l1_loss, max_normalized
from benchmark.registry import register_method


@register_method
class L1(AttributionGuidance):
    """Rao et al., ICCV 2023: CE + lam * mean |rectified attribution / its max - human map|."""

    name = "l1"
    citation = (
        "Rao, Böhle, Parchami-Araghi, Schiele. Studying How to Efficiently and Effectively Guide Models with "
        "Explanations. ICCV 2023"
    )
    url = "https://arxiv.org/abs/2303.11932"
    term = "attribution_l1"
    hparams = {
        "lam": HParam(3.0, "weight of the L1 term, a mean over annotated images (paper: a sum)", low=0),
        "attribution": HParam(
            "cam",
            "the guided attribution of the true class: the training forward's CAM (final layer) or Input x Gradient",
            choices=ATTRIBUTIONS,
        ),
    }

    def per_image(self, attributions: Tensor, mask: Tensor) -> Tensor:
        return l1_loss(resize_maps(max_normalized(attributions), image_size(mask)), mask)

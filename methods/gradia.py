"""GRADIA (Gao, Sun, Zhao, Hong; "Aligning Eyes between Humans and Deep Neural Network through
Interactive Attention Alignment", Proc. ACM HCI / CSCW 2022, arXiv 2202.02838).

    L = CE(f(x), y) + lambda * mean_i |M_y(x) - H|,    M_y = minmax(Grad-CAM_y(x))

Grad-CAM of the true class y (Selvaraju et al. ICCV 2017, Eq. 1-2): weights
a_k = mean_ij d y_y / d A_k(i,j), map sum_k a_k A_k on the last feature map A, min-max
normalized per sample; H is the human map at the feature map's h x w. The L1 is averaged
over the map's cells and over the annotated samples of the batch. Official code: github
YuyangGao/GRADIA (``GRADIA.py``; the same baseline also lives in YuyangGao/RES).

Grad-CAM here is computed as Grad-CAM, from the gradient of the class score, on every
architecture. On a global-average-pool -> linear head (ResNet, DenseNet, our ViT) it equals
the exact CAM that ``Network.cam`` returns divided by h*w (the gradient of the logit with
respect to A_k(i,j) is w[y,k] / (h*w)); min-max normalization removes that factor, so the
guided map is the same either way. Only the classifier head is back-propagated to get the
weights (not the body), and one batched forward serves every sample (the official code runs
a second forward and backward per annotated image).

Ambiguities, each a hyperparameter (paper / official code / our default and why):

- ``relu``: Grad-CAM as defined (Eq. 2) rectifies the map; the official training code does
  not (``cam - min(cam)`` then ``/ max``, "the original way used by GRADIA" in the RES
  repository) and applies the ReLU only when drawing the map. Default False (the official
  code); with ReLU, a map with no positive cell is constant (zeros) and gives no gradient.
- ``weight_gradient``: the official code takes the Grad-CAM weights from a backward hook
  without ``create_graph``, so the weights are constants in the attention loss and its
  gradient reaches the network only through the feature map (``detached``).
  ``second_order`` differentiates through the weights as well (``create_graph=True``:
  double back-propagation through the head). Default ``detached`` (the official code).
- ``blur_human``: the official code resizes the human map to 7x7 with area averaging, blurs
  it with a 3x3 Gaussian ("7x7 can be too small to show attention details, blur it to
  reward nearby pixels"; OpenCV's sigma for a 3x3 kernel is 0.8) and divides it by its
  maximum; the RES repository's GRADIA baseline uses the unblurred map. Default True (the
  method's own code). Without blur the map is divided by its maximum all the same.
- ``lam``: the paper writes a plain sum; the official ``--attention_weight`` defaults to 1
  and the loss line uses weight 1. Default 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmark.contracts import Batch, Cost, Guidance, HParam, Method, NetOutput, Network, TrainState
from benchmark.maps import EPS, gaussian_blur, masked_mean, minmax, resize_maps
from benchmark.phases import phase
from benchmark.registry import register_method

OPENCV_SIGMA_3X3 = 0.8  # cv2.getGaussianKernel(3, 0): 0.3 * ((3 - 1) * 0.5 - 1) + 0.8


def grad_cam(net: Network, out: NetOutput, target: Tensor, create_graph: bool) -> Tensor:
    """Grad-CAM (B,h,w) of class ``target`` (B,) on ``out.feature_map``, unrectified.

    Weights a_k = mean_ij d y_c / d A_k(i,j). A global-average-pool -> linear head has that
    gradient in closed form, w[c,k] / (h*w) (no backward needed; it is also the only way on
    our ViT, whose token grid is reshaped beside, not before, the pooling). Other heads get
    it from one backward of the summed target logits (samples do not interact in a head),
    keeping the training graph for the loss's own backward.
    """
    fmap = out.feature_map
    if net.exact_cam:
        weights = net.classifier_weight[target] / (fmap.shape[-2] * fmap.shape[-1])
        weights = weights if create_graph else weights.detach()
    else:
        score = out.logits.gather(1, target[:, None]).sum()
        (grads,) = torch.autograd.grad(score, fmap, create_graph=create_graph, retain_graph=True)
        weights = grads.mean(dim=(2, 3))
    return torch.einsum("bkhw,bk->bhw", fmap, weights)


def attention_label(saliency: Tensor, size: tuple[int, int], blur: bool) -> Tensor:
    """The human map at the Grad-CAM's h x w: area resize, optional 3x3 Gaussian blur, divided by its max."""
    human = resize_maps(saliency, size)
    if blur:  # torchvision's gaussian_blur, bit for bit, its kernel cached
        human = gaussian_blur(human[:, None], kernel_size=[3, 3], sigma=[OPENCV_SIGMA_3X3] * 2)[:, 0]
    return human / human.amax(dim=(1, 2), keepdim=True).clamp_min(EPS)


@register_method
class GRADIA(Method):
    """Gao et al., CSCW 2022: CE + lambda * L1(min-max Grad-CAM of the true class, human map)."""

    name = "gradia"
    citation = (
        "Gao, Sun, Zhao, Hong. Aligning Eyes between Humans and Deep Neural Network through "
        "Interactive Attention Alignment. Proc. ACM HCI (CSCW) 2022"
    )
    url = "https://doi.org/10.1145/3555590"
    needs_annotations = True
    cost = Cost(forward=1, backward=1, grad_cam=1)  # + a backward through the head when it is not GAP -> linear
    guidance = Guidance(("lam",))
    hparams = {
        "lam": HParam(1.0, "weight of the L1 attention term (official --attention_weight: 1)", low=0),
        "relu": HParam(False, "rectify Grad-CAM before min-max (Grad-CAM's definition); official training code: no"),
        "weight_gradient": HParam(
            "detached",
            "Grad-CAM weights as constants (official hook) or differentiated too (create_graph)",
            choices=("detached", "second_order"),
        ),
        "blur_human": HParam(True, "3x3 Gaussian blur of the resized human map (official GRADIA code)"),
    }

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        out = net(batch.x)
        ce = F.cross_entropy(out.logits, batch.y)
        with phase("saliency"):
            cam = grad_cam(net, out, batch.y, create_graph=self.weight_gradient == "second_order")
            cam = minmax(cam.relu() if self.relu else cam)
        with phase("masking"):
            human = attention_label(batch.saliency, tuple(cam.shape[-2:]), self.blur_human)
        attention = masked_mean((cam - human).abs().mean(dim=(1, 2)), batch.annotated)
        return ce + self.lam * attention, {"ce": ce.detach(), "attention_l1": attention.detach()}

"""RRR: Right for the Right Reasons (Ross, Hughes, Doshi-Velez; IJCAI 2017, arXiv 1703.03717), Eq. 1:

    L = CE(f(x), y) + lambda_1 * sum_d ( A_d * d/dx_d sum_k log p_k(x) )^2  (+ lambda_2 ||theta||^2)

A marks the input features that must NOT matter. Which map gives A is the hyperparameter
``annotation``:

- ``human`` (default): human saliency H marks what should matter, so A = 1 - H on annotated
  samples (soft maps give soft weights). On decoy digits that penalizes everything outside
  the strokes (88.7% of the pixels), the patch included: another experiment than the paper's.
- ``wrong_reason``: A = the dataset's wrong-reason mask, the paper's Decoy-MNIST experiment.
  The official code (dtak/rrr ``rrr/decoy_mnist.py``, ``augment``) returns with each image
  ``expl``, 1 on the 4x4 decoy patch and 0 elsewhere, and its notebook (``experiments/Decoy
  MNIST.ipynb``) trains with A = expl (``mlp_annotated.fit(X, y, E)``): the patch alone is
  penalized, the digit's other background pixels are not. The mask is the one the
  saliency evaluation reads for its wrong-reason metric (setting ``wrong_reason_keys``:
  decoy digits' ``extra.decoy``, toy faces' ``extra.cue_mask``); the run loads it for this
  method only (``needs_wrong_reason``) and refuses, before training, a dataset without one
  (``runs.run.wrong_reason_source``). The other methods, the saliency evaluation and its
  alignment metrics keep the human map. A is still 0 on samples without a human annotation,
  so an annotation coverage (``annotated``) means the same for both options; on decoy digits
  every training image is annotated, as in the paper.

A is the same for every channel and 0 on unannotated samples. The input gradient is built with
``create_graph=True`` and the loss back-propagates through it (double back-propagation).
Official code: github dtak/rrr (``rrr/multilayer_perceptron.py``, autograd).

Scale convention. The official objective sums the cross-entropy and the penalty over the
batch; dividing both by the batch size gives what we compute: mean cross-entropy plus
lambda_1 times the batch mean of each sample's penalty summed over its pixels and channels,
so lambda_1 has the same meaning. The gradient's unit matters too: the Decoy-MNIST
experiment (lambda_1 = 1000; test accuracy 0.961 against 0.516 for a plain MLP) feeds raw
0..255 pixels, ours are in [0,1], and d/dx = 255 d/dx_raw. ``pixel_scale`` = 255 takes the
gradient per grey level, as the paper did, so the paper's lambda_1 = 1000 is our default
with its original strength (1000 / 255^2 ~ 0.015 per unit of our inputs). Chosen from the
paper and its code, not tuned here; the strengths we measured on decoy digits are in the
README (the paper's own rule: the two terms of comparable magnitude).

Ambiguities, each a hyperparameter or stated here (paper / official code / our choice):

- ``reduction`` of the per-sample penalties over the batch: the official code sums over the
  batch with A = 0 for samples without annotation, i.e. (after dividing by the batch size)
  a mean over ALL samples (``batch``, our default); ``annotated`` averages over the
  annotated samples only, so the strength per annotated sample does not shrink with the
  annotation coverage; ``entries`` divides the summed penalty by sum(A), the later official
  ``normalize=True`` path (which also divides the cross-entropy by the batch size, as we do).
- lambda_2 ||theta||^2: the paper's objective has it (lambda_2 = 1e-4 in the code, with a
  summed cross-entropy). It is left to the optimizer's weight decay, which every method of a
  comparison shares: the same regularizer for ERM and RRR, or the comparison would credit
  RRR with it. Adam's coupled ``weight_decay = 2 * lambda_2 / batch_size`` reproduces the
  official term exactly (~7.8e-7 for their batch of 256).
- Networks with BatchNorm in training mode couple the samples of a batch, so the gradient of
  the batch's summed log-probabilities with respect to x_i also carries terms through the
  other samples' outputs; the official MLP has no BatchNorm, and a PyTorch port (Stammer and
  Schramowski's ``rrr_loss_function``) does the same as we do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from benchmark.contracts import Batch, ContractError, Cost, Guidance, HParam, Method, Network, TrainState
from benchmark.maps import masked_mean
from benchmark.phases import phase
from benchmark.registry import register_method


def right_reasons(log_probs: Tensor, x: Tensor, irrelevant: Tensor, pixel_scale: float = 1.0) -> Tensor:
    """Per-sample sum_d (A_d * d/dx_d sum_k log p_k)^2, shape (B,); differentiable (double backprop).

    The gradient is taken per ``1 / pixel_scale`` of intensity (x in [0,1]; 255: per grey level).
    """
    (grads,) = torch.autograd.grad(log_probs.sum(), x, create_graph=True)
    return ((irrelevant * grads / pixel_scale) ** 2).flatten(1).sum(dim=1)


@register_method
class RRR(Method):
    """Ross et al., IJCAI 2017: CE + lambda * ||A * d/dx sum_k log p_k||^2 (double backprop), A = 1 - H
    (``annotation=human``) or the dataset's wrong-reason mask (``annotation=wrong_reason``)."""

    name = "rrr"
    citation = (
        "Ross, Hughes, Doshi-Velez. Right for the Right Reasons: Training Differentiable Models by "
        "Constraining their Explanations. IJCAI 2017"
    )
    url = "https://arxiv.org/abs/1703.03717"
    needs_annotations = True
    cost = Cost(forward=1, backward=0, double_backward=1)  # input gradient with graph, then one backward through both
    guidance = Guidance(("lam",))
    hparams = {
        "lam": HParam(1000.0, "lambda_1, weight of the input-gradient penalty (paper's Decoy-MNIST: 1000)", low=0),
        "pixel_scale": HParam(
            255.0,
            "gradient per 1/pixel_scale of intensity: 255 = per grey level as the paper's "
            "raw pixels (lambda_1 keeps its meaning); 1 = per unit of our [0,1] inputs; > 0",
            low=0,
        ),
        "reduction": HParam(
            "batch",
            "penalty averaged over all samples (official), over annotated samples, or "
            "divided by sum(A) (official normalize=True)",
            choices=("batch", "annotated", "entries"),
        ),
        "annotation": HParam(
            "human",
            "A, the pixels whose input gradient is penalized: the complement of the human "
            "map (human) or the dataset's wrong-reason mask, e.g. the decoy patch as in the paper's "
            "Decoy-MNIST (wrong_reason)",
            choices=("human", "wrong_reason"),
        ),
    }

    def __init__(self, **overrides) -> None:
        super().__init__(**overrides)
        if self.pixel_scale <= 0:  # the declared range is inclusive; the gradient is divided by it
            raise ContractError(
                f"method '{self.name}': hyperparameter 'pixel_scale' must be > 0, got {self.pixel_scale!r}"
            )

    @property
    def needs_wrong_reason(self) -> bool:
        return self.annotation == "wrong_reason"

    def irrelevant(self, batch: Batch, x: Tensor) -> Tensor:
        """A, shaped like ``x``: where the input must not matter (0 on unannotated samples)."""
        annotated = batch.annotated.to(x.dtype).view(-1, 1, 1, 1)
        if self.annotation == "human":
            return (annotated * (1 - batch.saliency)).expand_as(x)
        if batch.wrong_reason is None:
            raise ContractError(
                f"method '{self.name}' with annotation=wrong_reason: the batch carries no "
                f"wrong-reason mask (a run loads it from the dataset; Batch.wrong_reason)"
            )
        return (annotated * batch.wrong_reason.to(x.dtype)).expand_as(x)

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch.x.detach().requires_grad_(True)
        with sdpa_kernel(SDPBackend.MATH):  # the fused attention kernels have no double backward
            log_probs = F.log_softmax(net(x).logits, dim=1)
        ce = F.nll_loss(log_probs, batch.y)
        irrelevant = self.irrelevant(batch, x)  # A: where the input must not matter
        with phase("saliency"):  # the input gradient, built with a graph (its backward is in "backward")
            penalty = right_reasons(log_probs, x, irrelevant, self.pixel_scale)
        if self.reduction == "batch":
            reasons = penalty.mean()
        elif self.reduction == "annotated":
            reasons = masked_mean(penalty, batch.annotated)
        else:
            reasons = penalty.sum() / irrelevant.sum().clamp_min(1.0)
        return ce + self.lam * reasons, {"ce": ce.detach(), "right_reasons": reasons.detach()}

"""SGT: Saliency Guided Training (Ismail, Corrada Bravo, Feizi; NeurIPS 2021; arXiv 2111.14338).

Per minibatch (paper Alg. 1; official code ayaabdelsalam91/saliency_guided_training,
``Scripts/interpretable.py``):

1. saliency S = d log softmax(f(x))_y / dx, the gradient of the true class's output with
   respect to the input, computed with the network in eval mode (dropout off, BatchNorm on
   its running statistics), averaged over channels;
2. x~ = x with the k = floor(fraction * H * W) lowest-saliency positions replaced (per
   feature for one channel, per pixel with all channels together for RGB), detached;
3. L = CE(f(x), y) + lambda * KL(softmax f(x) || softmax f(x~)), batch mean, with gradients
   through both the clean and the masked branch (paper Eq. 3; the code's ``KLDivLoss``).

Known defects of the official code, not reproduced here: the MNIST training loader is never
shuffled (``shuffle`` is only set on the CUDA path); the model is selected on the test set
(best test-accuracy checkpoint); under Python 3 the MNIST script crashes after the first
epoch (patience compared as a string; the version we read also reads an undeclared
``--TrainWithAugmented``); the stored training step flattens RGB images, so the pixel
indices of the channel-averaged saliency land in the first channel only (the CIFAR/BIRD
helpers ``get_SingleMask``/``fill_SingleMask`` mask whole pixels, which is what we do); fill
values come from NumPy's global generator, one image at a time (ours: the run's seeded
method stream, one tensor operation per batch).

Speed (``tests/benchmarks/test_sgt_official.py`` times our step against a reimplementation of
the official MNIST step; ``tests/test_sgt_official_semantics.py`` checks that both compute the
same saliency, masks, fill law and loss). The step is the official one pass for pass; what
differs is how it runs:

- on the CPU, ``train_step`` runs every forward of every method's loss channels-last
  (``benchmark.models.layout``; the three passes here: saliency, clean, masked), with
  channels-last activation gradients. The values are the same up to float rounding (the
  saliency within ~1e-6 of its largest magnitude, so a mask can differ only where two saliency
  values are within rounding of each other; none of 50,176 positions did on the semantics
  test's batch), and dropout draws other, equally distributed masks: runs are deterministic per
  seed, not bit-identical to runs of the NCHW version. ERM runs the same way, so ratios to ERM
  stay fair;
- the bottom-k selection is a ``kthvalue`` threshold with a running count for the ties at the
  boundary, not a stable sort: the same mask bit for bit (tested against the sort);
- the random fill is scaled in place (the same values bit for bit).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmark.contracts import Batch, ContractError, Cost, Guidance, HParam, Method, Network, TrainState
from benchmark.phases import phase
from benchmark.registry import register_method

FILLS = ("random", "mean", "constant")


def input_saliency(net: Network, x: Tensor, y: Tensor, output: str = "log_softmax") -> Tensor:
    """Vanilla gradient (Simonyan et al. 2014) of class ``y``'s output w.r.t. ``x``, shape of ``x``.

    ``output``: 'log_softmax' (the official MNIST network returns log-probabilities) or
    'logit' (the official CIFAR/BIRD ResNets return logits). The network runs in eval mode
    and its previous mode is restored; only the input gradient is computed (no parameter
    gradients), and the result is detached.
    """
    was_training = net.training
    net.eval()
    try:
        with torch.enable_grad():
            probe = x.detach().requires_grad_(True)
            logits = net(probe).logits
            scores = F.log_softmax(logits, dim=1) if output == "log_softmax" else logits
            (grad,) = torch.autograd.grad(scores.gather(1, y[:, None]).sum(), probe)
    finally:
        net.train(was_training)
    return grad.detach()


def bottom_k_mask(score: Tensor, k: int) -> Tensor:
    """(B,H,W) scores -> (B,1,H,W) bool, True at each sample's k lowest scores.

    Ties are broken by position (lowest flat index first), as a stable sort would, identically
    on every device (torch.topk leaves the order of ties unspecified). Computed without a sort:
    the k-th lowest value per row (``kthvalue``, linear time), every value below it, and of the
    values equal to it the first ``k - #below`` by position (a running count); no host sync.
    A NaN score counts as +inf (a stable sort puts NaN after +inf: the two differ only for a row
    holding both at its k-th position, i.e. a diverged network).
    """
    flat = score.flatten(1)
    if k <= 0 or k >= flat.shape[1] or flat.device.type not in ("cpu", "cuda"):
        lowest = flat.argsort(dim=1, stable=True)[:, :k]
        mask = torch.zeros_like(flat, dtype=torch.bool).scatter_(1, lowest, True)
        return mask.view(score.shape[0], 1, *score.shape[1:])
    flat = flat.nan_to_num(nan=float("inf"), posinf=float("inf"), neginf=float("-inf"))
    kth = flat.kthvalue(k, dim=1, keepdim=True).values
    below = flat < kth
    tied = flat == kth
    mask = below | (tied & (tied.cumsum(1) <= k - below.sum(1, keepdim=True)))
    return mask.view(score.shape[0], 1, *score.shape[1:])


def fill_values(x: Tensor, fill: str, generator: torch.Generator | None = None, constant: float = 0.0) -> Tensor:
    """Replacement values for every position of ``x`` (B,C,H,W).

    random: U(min, max) of that image and channel (official ``--RandomMasking``; for one
    channel that is the image's min and max); mean: that image's per-channel mean
    (official CIFAR/BIRD default ``meanMask``); constant: ``constant`` everywhere.
    """
    if fill == "random":
        low = x.amin(dim=(2, 3), keepdim=True)
        high = x.amax(dim=(2, 3), keepdim=True)
        noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return noise.mul_(high - low).add_(low)  # = low + (high - low) * noise, bit for bit, in place
    if fill == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    if fill == "constant":
        return torch.full_like(x, constant)
    raise ContractError(f"SGT fill '{fill}' unknown; known: {list(FILLS)}")


@register_method
class SGT(Method):
    """Ismail et al., NeurIPS 2021: CE(f(x),y) + lambda*KL(p(x) || p(x~)), x~ = x with its lowest-saliency features masked."""

    name = "sgt"
    citation = (
        "Ismail, Corrada Bravo, Feizi. Improving Deep Learning Interpretability by Saliency "
        "Guided Training. NeurIPS 2021 (arXiv 2111.14338)"
    )
    url = "https://arxiv.org/abs/2111.14338"
    needs_annotations = False
    # eval forward + input-only backward (saliency), clean and masked forwards, backward through both.
    cost = Cost(forward=3, backward=2, input_backward=1)
    guidance = Guidance(("kl_weight",))
    hparams = {
        "fraction": HParam(
            0.5,
            "share of features masked, k = floor(fraction*H*W). Paper: a per-dataset hyperparameter; "
            "official README's MNIST command: 0.5, the script's default: 0.1. Default 0.5 (the README's command)",
            low=0,
            high=1,
        ),
        "saliency_sign": HParam(
            "absolute",
            "sort by |grad| or signed grad. Paper text: 'features with small and potentially noisy "
            "gradients' (magnitude); official MNIST command omits --abs (signed: bottom = most negative). "
            "Default absolute (the paper's text)",
            choices=("absolute", "signed"),
        ),
        "fill": HParam(
            "random",
            "replacement of masked features: random U(min,max) per image and channel (README's "
            "--RandomMasking), mean (per-channel image mean, official CIFAR/BIRD default), constant "
            "(fill_value). Default random (the README's command)",
            choices=FILLS,
        ),
        "fill_value": HParam(
            0.0,
            "value of the constant fill, in input units (images are in [0,1]; any finite value is "
            "accepted, e.g. 9 to mark masked pixels in a test). Official MNIST code: the batch's first "
            "pixel (the background); default 0.0 (black, the digit datasets' background)",
            low=-math.inf,
            high=math.inf,
        ),
        "kl_weight": HParam(
            1.0,
            "lambda, weight of KL(clean || masked). Paper Eq. 3 has lambda; official code fixes it to 1 "
            "(not exposed). Default 1",
            low=0,
        ),
        "saliency_of": HParam(
            "log_softmax",
            "output differentiated for the saliency: log_softmax of the true class (official "
            "MNIST network, docs/methods.md) or its logit (official CIFAR/BIRD ResNets return logits). "
            "Default log_softmax",
            choices=("log_softmax", "logit"),
        ),
    }

    def __init__(self, **overrides) -> None:
        super().__init__(**overrides)  # the declared ranges are checked there (and by resolve_config, before any run)
        self.check_fraction("fraction", self.fraction)

    def check_fraction(self, field: str, value: float) -> None:
        """The range of a masked fraction (declared on its HParam; kept for a value set after resolving)."""
        if not 0.0 <= value <= 1.0:
            raise ContractError(f"method '{self.name}': hyperparameter '{field}' must be in [0, 1], got {value!r}")

    def masked_input(self, net: Network, batch: Batch, generator: torch.Generator | None) -> Tensor:
        """x~: the batch with its k lowest-saliency positions (channel-averaged saliency) filled, detached."""
        return self._masked(net, batch.x, batch.y, generator)

    def _masked(self, net: Network, x: Tensor, y: Tensor, generator: torch.Generator | None) -> Tensor:
        with phase("saliency"):
            score = input_saliency(net, x, y, self.saliency_of).mean(dim=1)
        with phase("masking"):
            if self.saliency_sign == "absolute":
                score = score.abs()
            k = int(self.fraction * score[0].numel())
            mask = bottom_k_mask(score, k)
            fill = fill_values(x, self.fill, generator, self.fill_value)
            return torch.where(mask, fill, x).detach()

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch.x
        x_masked = self._masked(net, x, batch.y, state.generator)
        clean = net(x).logits
        masked = net(x_masked).logits
        ce = F.cross_entropy(clean, batch.y)
        log_q = F.log_softmax(masked, dim=1)
        kl = F.kl_div(log_q, F.log_softmax(clean, dim=1), reduction="batchmean", log_target=True)
        scalars = {
            "ce": ce.detach(),
            "kl": kl.detach(),
            "masked_ce": F.nll_loss(log_q.detach(), batch.y),  # = cross_entropy(masked, y), bit for bit
            "train_accuracy": (clean.detach().argmax(1) == batch.y).float().mean(),
            "masked_accuracy": (masked.detach().argmax(1) == batch.y).float().mean(),
        }
        return ce + self.kl_weight * kl, scalars

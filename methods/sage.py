"""SAGE: Saliency-Guided Contrastive Embeddings (Crum, Sweet, Czajka; arXiv 2511.12744).

A RECONSTRUCTION: the paper body and code are not public. What is known (abstract and
summaries): guidance moves from image space to the latent embeddings; each input x gets a
salient-preserving view x+ (non-salient regions degraded) and a saliency-degrading view x-
(salient regions degraded); a triplet loss pulls e(x) toward e(x+) and pushes it from e(x-);
a temperature-scaled Jensen-Shannon "sanity check" keeps the logit distributions of the
views consistent; ablations vary temperature and augmentation; a sanity check trains with
inverted saliency maps. What we implement (docs/methods.md, SAGE):

    L = CE(x, y) + w_t  * TripletMargin(e(x), e(x+), e(x-); margin m)
                 + w_js * JS(softmax(z(x)/T) || softmax(z(x+)/T))

    x+ = H * x + (1 - H) * D(x),    x- = (1 - H) * x + H * D(x)

e = ``NetOutput.embedding`` (pooled penultimate features), z = logits, H = the human map in
[0,1] at image resolution (soft maps blend softly), D = the degradation operator.
JS(P||Q) = KL(P||M)/2 + KL(Q||M)/2, M = (P+Q)/2, natural log (in [0, ln 2]).

Our choices where nothing is known (each a hyperparameter unless stated):

- ``degradation``: Gaussian blur (default; sigma = ``blur_sigma`` x image side, kernel
  truncated at 3 sigma, applied as two 1-D passes), additive Gaussian noise of std
  ``noise_std`` (clamped to [0,1]; drawn from the run's method stream), or the image's
  per-channel mean.
- ``view_forward``: ``joint`` sends x, x+ and x- through ONE forward (concatenated along
  the batch, as SimCLR-style code does: one large batch is fastest on a GPU), so BatchNorm
  statistics in training mode are taken over all three views together; ``separate`` runs
  three forwards, so the clean forward (and its cross-entropy) is exactly ERM's. Default
  ``joint``. Networks without BatchNorm (simple_cnn, ViT) give the same values either way.
- ``ce_on_positive``: the formula has CE on x only; True adds CE on x+ (which keeps the
  salient evidence). CE on x- is never added: it would reward classifying from the
  non-salient regions. Default False (the formula).
- ``js_t2``: Hinton et al.'s distillation multiplies a temperature-softened divergence by
  T^2 to keep gradient magnitudes comparable across T; default False (the formula as
  written), T = 1 by default (plain JS; the paper ablates T, values unknown).
- ``normalize_embedding``: triplet distances on raw embeddings (PyTorch TripletMarginLoss,
  margin 1, p = 2: default) or on L2-normalized ones (FaceNet's convention; then use a
  margin below 2).
- Unannotated samples get no views and no triplet or JS term, only CE; the views are built
  and forwarded for the annotated samples only (cost ~3x ERM when all are annotated).
- ``invert_saliency``: H -> 1 - H, the paper's sanity check (guidance by inverted maps).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmark.contracts import Batch, ContractError, Cost, Guidance, HParam, Method, NetOutput, Network, TrainState
from benchmark.maps import gaussian_blur
from benchmark.phases import phase
from benchmark.registry import register_method

DEGRADATIONS = ("blur", "noise", "mean")


def blur(x: Tensor, sigma_fraction: float) -> Tensor:
    """Gaussian blur with sigma = fraction x side, as two separable 1-D passes (torchvision's
    ``gaussian_blur``, bit for bit, with its kernels cached: ``benchmark.maps.gaussian_blur``)."""
    out = x
    for axis, side in ((0, x.shape[-1]), (1, x.shape[-2])):
        sigma = max(sigma_fraction * side, 1e-3)
        size = min(2 * math.ceil(3 * sigma) + 1, 2 * side - 1)  # reflect padding needs size // 2 < side
        kernel = [size, 1] if axis == 0 else [1, size]
        out = gaussian_blur(out, kernel_size=kernel, sigma=[sigma, sigma])
    return out.to(x.dtype)  # under autocast the convolution gives bf16/fp16; the views blend in x's dtype


def degrade(x: Tensor, how: str, generator: torch.Generator, blur_sigma: float, noise_std: float) -> Tensor:
    """D(x): the degraded image, same shape as ``x`` (B,C,H,W)."""
    if how == "blur":
        return blur(x, blur_sigma)
    if how == "noise":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + noise_std * noise).clamp(0.0, 1.0)
    return x.mean(dim=(2, 3), keepdim=True).expand_as(x)


def saliency_views(x: Tensor, keep: Tensor, degraded: Tensor) -> tuple[Tensor, Tensor]:
    """(x+, x-): keep the salient (``keep`` = H) or the non-salient regions, degrade the rest."""
    return torch.lerp(degraded, x, keep), torch.lerp(x, degraded, keep)


def js_divergence(logits_p: Tensor, logits_q: Tensor, temperature: float) -> Tensor:
    """Per-sample Jensen-Shannon divergence (natural log) of softmax(z_p/T) and softmax(z_q/T), shape (B,)."""
    lp = F.log_softmax(logits_p / temperature, dim=1)
    lq = F.log_softmax(logits_q / temperature, dim=1)
    lm = torch.logaddexp(lp, lq) - math.log(2.0)
    return 0.5 * (lp.exp() * (lp - lm)).sum(dim=1) + 0.5 * (lq.exp() * (lq - lm)).sum(dim=1)


@register_method
class SAGE(Method):
    """Crum et al., arXiv 2511.12744 (reconstruction): CE + triplet(e(x), e(x+), e(x-)) + JS(p(x), p(x+))."""

    name = "sage"
    citation = (
        "Crum, Sweet, Czajka. SAGE: Saliency-Guided Contrastive Embeddings. arXiv 2511.12744 (2025); "
        "reconstruction, no public code"
    )
    url = "https://arxiv.org/abs/2511.12744"
    needs_annotations = True
    cost = Cost(forward=3, backward=3)  # x, x+ and x- through forward and backward
    guidance = Guidance(("triplet_weight", "js_weight"))  # both terms scaled together
    hparams = {
        "triplet_weight": HParam(1.0, "w_t, weight of the triplet term", low=0),
        "margin": HParam(1.0, "m, triplet margin (PyTorch TripletMarginLoss default)", low=0),
        "js_weight": HParam(1.0, "w_js, weight of the Jensen-Shannon term", low=0),
        "temperature": HParam(1.0, "T, softmax temperature of the JS term; > 0", low=0),
        "js_t2": HParam(False, "multiply the JS term by T^2 (distillation convention)"),
        "degradation": HParam("blur", "operator D that degrades a region", choices=DEGRADATIONS),
        "blur_sigma": HParam(0.1, "blur sigma as a fraction of the image side", low=0, high=1),
        "noise_std": HParam(0.3, "std of the additive noise (intensities in [0,1])", low=0),
        "invert_saliency": HParam(False, "use 1 - H (the paper's sanity check)"),
        "view_forward": HParam(
            "joint",
            "one forward of x, x+, x- concatenated (BatchNorm sees all views) or three forwards",
            choices=("joint", "separate"),
        ),
        "ce_on_positive": HParam(False, "add CE on the salient-preserving view x+"),
        "normalize_embedding": HParam(False, "L2-normalize embeddings before the triplet distances (FaceNet)"),
    }

    def __init__(self, **overrides) -> None:
        super().__init__(**overrides)
        if self.temperature <= 0:  # the declared range is inclusive; the logits are divided by T
            raise ContractError(
                f"method '{self.name}': hyperparameter 'temperature' must be > 0, got {self.temperature!r}"
            )

    def forward_views(
        self, net: Network, x: Tensor, pos: Tensor, neg: Tensor
    ) -> tuple[NetOutput, NetOutput, NetOutput]:
        if self.view_forward == "separate":
            return net(x), net(pos), net(neg)
        out = net(torch.cat([x, pos, neg]))
        sizes = [x.shape[0], pos.shape[0], neg.shape[0]]
        parts = [torch.split(t, sizes) for t in (out.logits, out.embedding, out.feature_map)]
        return tuple(NetOutput(*(p[i] for p in parts)) for i in range(3))  # type: ignore[return-value]

    def loss(self, net: Network, batch: Batch, state: TrainState) -> tuple[Tensor, dict[str, Tensor]]:
        # The annotated rows are chosen by the batch's device index and host count (no host-device sync).
        rows = batch.annotated_rows
        if batch.n_annotated == 0:
            ce = F.cross_entropy(net(batch.x).logits, batch.y)
            return ce, {"ce": ce.detach(), "triplet": torch.zeros_like(ce), "js": torch.zeros_like(ce)}
        x = rows(batch.x)  # the anchors: views exist for annotated samples only
        with phase("masking"):
            keep = 1 - rows(batch.saliency) if self.invert_saliency else rows(batch.saliency)
            pos, neg = saliency_views(
                x, keep, degrade(x, self.degradation, state.generator, self.blur_sigma, self.noise_std)
            )
        out, out_pos, out_neg = self.forward_views(net, batch.x, pos, neg)
        ce = F.cross_entropy(out.logits, batch.y)
        emb = [rows(out.embedding), out_pos.embedding, out_neg.embedding]
        if self.normalize_embedding:
            emb = [F.normalize(e, dim=1) for e in emb]
        triplet = F.triplet_margin_loss(*emb, margin=self.margin, p=2.0)
        js = js_divergence(rows(out.logits), out_pos.logits, self.temperature).mean()
        js = js * self.temperature**2 if self.js_t2 else js
        loss = ce + self.triplet_weight * triplet + self.js_weight * js
        if self.ce_on_positive:
            loss = loss + F.cross_entropy(out_pos.logits, rows(batch.y))
        return loss, {"ce": ce.detach(), "triplet": triplet.detach(), "js": js.detach()}

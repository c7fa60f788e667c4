"""Saliency maps of a trained network: CAM, Grad-CAM, gradient, input x gradient, integrated gradients.

Every method returns a non-negative *importance map* per image, the map all metrics and
saved probe arrays use:

- ``cam``: ReLU of the class activation map sum_k w[c,k] A_k (Zhou et al., CVPR 2016, Eq. 2),
  at the feature-map resolution, for networks whose head is GAP -> linear (``Network.exact_cam``).
- ``gradcam``: ReLU(sum_k alpha_k A_k) with alpha_k = mean_ij dy_c/dA_k (Selvaraju et al.,
  ICCV 2017, Eq. 1-2) on ``NetOutput.feature_map``, for the other networks. Captum's
  ``LayerGradCam`` needs the module that outputs the map, which not every architecture has
  (a max-pool or token reshape in ``forward``); the tests check this equals ``LayerGradCam``.
  For a GAP -> linear head Grad-CAM = CAM / (h w) (Selvaraju et al., Sec. 3.1), so after the
  per-map scaling of the saved maps the two are the same map: each network gets one of them,
  and the other is listed as skipped with the reason.
- ``gradient``: |dy_c/dx| (Simonyan et al. 2014), Captum ``Saliency(abs=True)``.
- ``input_x_gradient``: |x * dy_c/dx| (Shrikumar et al. 2016), Captum ``InputXGradient``.
- ``integrated_gradients``: |IG| (Sundararajan et al., ICML 2017, Eq. 1), Captum
  ``IntegratedGradients`` with a fixed baseline, Gauss-Legendre steps; the completeness
  gap delta = sum(IG) - (F(x) - F(x')) is returned per image.

Pixel methods are reduced over channels by the mean of absolute values (SGT's evaluation
ranks pixels by |channel-mean|; for one channel the two agree). All work is batched on the
network's device; Grad-CAM, gradient and input x gradient share one forward and one backward
pass (``gradient_maps``), bitwise the maps of three separate passes. On the CPU ``attribute``
runs a channels-last copy of the network (``cpu_channels_last``): the same maps up to float
rounding, in about 0.7 of the time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from captum.attr import IntegratedGradients
from torch import Tensor, nn

from ..contracts import Network
from ..maps import resize_maps
from ..models.layout import channels_last_gradients, channels_last_images, cpu_channels_last_copy


class Logits(nn.Module):
    """The forward function Captum expects: images -> logits."""

    def __init__(self, net: Network) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).logits


def quantize(maps: Tensor) -> Tensor:
    """The saved form of maps (N,h,w): each divided by its maximum (scale-free, in [0,1]), as float16."""
    peak = maps.flatten(1).amax(dim=1).view(-1, 1, 1)
    return torch.where(
        peak > 0, maps / torch.where(peak > 0, peak, torch.ones_like(peak)), torch.zeros_like(maps)
    ).half()


def at_size(stored: Tensor, size: tuple[int, int]) -> Tensor:
    """Saved float16 maps (N,h,w) as float32 at ``size`` (bilinear up, area down: ``maps.resize_maps``):
    the maps every metric is computed on, so a record's numbers can be recomputed from its arrays."""
    return resize_maps(stored.float(), size)


@dataclass
class Maps:
    """Importance maps (N,h,w) per method, at each method's native resolution, plus IG's deltas."""

    native: dict[str, Tensor] = field(default_factory=dict)
    ig_delta: Tensor | None = None  # (N,) convergence delta of integrated gradients
    ig_sum: Tensor | None = None  # (N,) sum of the signed IG attribution (= F(x) - F(x') + delta)

    def stored(self) -> dict[str, Tensor]:
        return {name: quantize(m) for name, m in self.native.items()}

    def at(self, size: tuple[int, int]) -> dict[str, Tensor]:
        """Every map in its saved form, resized to ``size``."""
        return {name: at_size(m, size) for name, m in self.stored().items()}


def cam(net: Network, x: Tensor, target: Tensor, **_: object) -> Tensor:
    with torch.no_grad():
        return net.cam(net(x), target).relu()


def _leaf(x: Tensor) -> Tensor:
    return x.detach().clone().requires_grad_(True)


GRADIENT_MAPS = ("gradcam", "gradient", "input_x_gradient")


def gradient_maps(net: Network, x: Tensor, target: Tensor, names: list[str] | tuple[str, ...]) -> dict[str, Tensor]:
    """The maps of ``names`` (a subset of ``GRADIENT_MAPS``) from one forward and one backward pass:
    Grad-CAM needs dy_c/dA (the feature map), gradient and input x gradient dy_c/dx, and both lie
    on the same backward pass. The values are those of separate passes (Captum ``Saliency`` and
    ``InputXGradient`` take the same gradient of the same gathered logit; tested bitwise). No name of
    ``GRADIENT_MAPS``: no pass at all (an attribution list of CAM and IG only)."""
    if not set(names) & set(GRADIENT_MAPS):
        return {}
    leaf = _leaf(x)
    with torch.enable_grad():
        out = net(leaf)
        score = out.logits.gather(1, target[:, None]).sum()
        wanted = ([leaf] if {"gradient", "input_x_gradient"} & set(names) else []) + (
            [out.feature_map] if "gradcam" in names else []
        )
        grads = list(torch.autograd.grad(score, wanted))
    maps = {}
    if "gradcam" in names:
        weights = grads.pop().mean(dim=(2, 3))
        maps["gradcam"] = torch.einsum("bkhw,bk->bhw", out.feature_map.detach(), weights).relu()
    if grads:
        grad = grads[0]
        if "gradient" in names:
            maps["gradient"] = grad.abs().mean(dim=1)
        if "input_x_gradient" in names:
            maps["input_x_gradient"] = (x * grad).abs().mean(dim=1)
    return maps


def grad_cam(net: Network, x: Tensor, target: Tensor, **_: object) -> Tensor:
    return gradient_maps(net, x, target, ["gradcam"])["gradcam"]


def gradient(net: Network, x: Tensor, target: Tensor, **_: object) -> Tensor:
    return gradient_maps(net, x, target, ["gradient"])["gradient"]


def input_x_gradient(net: Network, x: Tensor, target: Tensor, **_: object) -> Tensor:
    return gradient_maps(net, x, target, ["input_x_gradient"])["input_x_gradient"]


def ig_baseline(x: Tensor, kind: str) -> Tensor:
    """The fixed IG baseline: zeros (a black image) or each image's per-channel mean."""
    if kind == "zeros":
        return torch.zeros_like(x)
    return x.mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()


def integrated_gradients(
    net: Network, x: Tensor, target: Tensor, *, steps: int, baseline: str, batch_size: int
) -> tuple[Tensor, Tensor, Tensor]:
    """(|IG| channel-mean map, delta, sum of signed IG) per image."""
    attr, delta = IntegratedGradients(Logits(net)).attribute(
        _leaf(x),
        baselines=ig_baseline(x, baseline),
        target=target,
        n_steps=steps,
        method="gausslegendre",
        internal_batch_size=batch_size,
        return_convergence_delta=True,
    )
    attr = attr.detach()
    return attr.abs().mean(dim=1), delta.detach().float(), attr.flatten(1).sum(dim=1)


SIMPLE: dict[str, Callable[..., Tensor]] = {
    "cam": cam,
    "gradcam": grad_cam,
    "gradient": gradient,
    "input_x_gradient": input_x_gradient,
}


def applicable(net: Network, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """(methods that apply to ``net``, {skipped method: reason})."""
    skipped = {}
    if "cam" in names and not net.exact_cam:
        skipped["cam"] = f"{type(net).__name__} has no GAP->linear head: its class activation map is Grad-CAM (gradcam)"
    if "gradcam" in names and net.exact_cam:
        skipped["gradcam"] = f"{type(net).__name__} has a GAP->linear head: Grad-CAM = CAM / (h*w), the same map as cam"
    return [n for n in names if n not in skipped], skipped


@contextlib.contextmanager
def cpu_channels_last(net: Network) -> Iterator[Network]:
    """The network to explain with: on the CPU a channels-last copy in eval mode (``net`` itself
    is untouched), whose submodules' channels-last inputs get channels-last gradients while the
    context is open (a flatten's or dropout's backward hands back NCHW, which sends max-pool's
    and ReLU's backward down torch's slow mixed-layout path); elsewhere ``net`` itself.

    oneDNN's channels-last convolutions and max-pool are much faster on the CPU (simple_cnn, 64
    images: the attributions in about 0.7 of the time). The summation order inside them
    differs, so the maps move by float rounding: about 1e-6 of the map's maximum for the
    gradient maps, CAM and Grad-CAM; IG sums gradients along a path through nearly black
    images, where a ReLU or max-pool decision can flip, and moves up to 8e-4 of its maximum at a
    few pixels on the trained simple_cnn (up to 1e-2 on untrained networks). On the trained
    simple_cnn 0.1% of the stored float16 map values change and the metrics by at most 1.1e-5
    (IG's MPRT Spearman; every other metric 3e-6 or less). Bitwise reproducible for the same inputs."""
    fast = cpu_channels_last_copy(net)
    if fast is net:
        yield net
        return
    with channels_last_gradients(fast):
        yield fast


def attribute(
    net: Network, x: Tensor, target: Tensor, names: list[str], *, ig_steps: int, ig_baseline: str, batch_size: int
) -> Maps:
    """Importance maps of ``names`` for images ``x`` (N,C,H,W) and classes ``target`` (N,), in chunks.

    The network is put in eval mode for the call and restored afterwards; on the CPU the maps
    are computed by its channels-last copy (``cpu_channels_last``).
    """
    was_training = net.training
    net.eval()
    try:
        with cpu_channels_last(net) as model:
            fast = model is not net
            return _attribute(
                model,
                channels_last_images(x) if fast else x,
                target,
                names,
                ig_steps=ig_steps,
                ig_baseline=ig_baseline,
                batch_size=batch_size,
            )
    finally:
        net.train(was_training)


def _attribute(
    net: Network, x: Tensor, target: Tensor, names: list[str], *, ig_steps: int, ig_baseline: str, batch_size: int
) -> Maps:
    chunks: dict[str, list[Tensor]] = {name: [] for name in names}
    deltas, sums = [], []
    for start in range(0, x.shape[0], batch_size):
        xb, tb = x[start : start + batch_size], target[start : start + batch_size]
        computed = gradient_maps(net, xb, tb, [n for n in names if n in GRADIENT_MAPS])
        for name in names:
            if name == "integrated_gradients":
                m, delta, total = integrated_gradients(
                    net, xb, tb, steps=ig_steps, baseline=ig_baseline, batch_size=batch_size
                )
                deltas.append(delta)
                sums.append(total)
            else:
                m = computed[name] if name in computed else SIMPLE[name](net, xb, tb)
            chunks[name].append(m.float())
    maps = Maps(native={name: torch.cat(parts).contiguous() for name, parts in chunks.items()})
    if deltas:
        maps.ig_delta, maps.ig_sum = torch.cat(deltas), torch.cat(sums)
    return maps

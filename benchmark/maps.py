"""Small tensor operations on saliency maps shared by methods and metrics (batched, any device)."""

from __future__ import annotations

import contextlib
import functools

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-8


def minmax(maps: Tensor, per_sample: bool = True, eps: float = EPS) -> Tensor:
    """Min-max normalize maps (B,...) to [0,1], per sample or over the whole batch.

    A constant map has no range: it becomes all zeros instead of the NaN that the official
    CYBORG code produces (0/0).
    """
    dims = tuple(range(1, maps.ndim)) if per_sample else tuple(range(maps.ndim))
    low = maps.amin(dim=dims, keepdim=True)
    span = maps.amax(dim=dims, keepdim=True) - low
    return torch.where(span > eps, (maps - low) / span.clamp_min(eps), torch.zeros_like(maps))


def resize_maps(maps: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize (B,H,W) or (B,1,H,W) maps to (B,h,w) with area averaging when shrinking, bilinear otherwise."""
    if maps.ndim == 3:
        maps = maps[:, None]
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps[:, 0]
    shrinking = maps.shape[-2] >= size[0] and maps.shape[-1] >= size[1]
    mode = "area" if shrinking else "bilinear"
    kwargs = {} if shrinking else {"align_corners": False}
    return F.interpolate(maps, size=size, mode=mode, **kwargs)[:, 0]


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of per-sample ``values`` (B,) over the samples where ``mask`` (B,) is True; 0 when none is."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def batch_minmax(maps: Tensor, rows: Tensor, eps: float = EPS) -> Tensor:
    """Min-max normalize maps (B,...) with ONE range taken over the rows where ``rows`` (B,) is True.

    The other rows are normalized with that range too but do not set it (CYBORG's
    batch-global option, where unannotated samples must not influence annotated ones). No
    selected row, or a constant range, gives zeros (as ``minmax``).
    """
    pick = rows.view(-1, *([1] * (maps.ndim - 1)))
    low = torch.where(pick, maps, maps.detach().amax()).amin()
    high = torch.where(pick, maps, maps.detach().amin()).amax()
    span = high - low
    return torch.where(span > eps, (maps - low) / span.clamp_min(eps), torch.zeros_like(maps))


@functools.lru_cache(maxsize=64)
def gaussian_kernel(
    size: tuple[int, int], sigma: tuple[float, float], dtype: torch.dtype, device: torch.device
) -> Tensor:
    """The (ky, kx) Gaussian kernel of torchvision's ``gaussian_blur`` (the same operations, so the same
    bits), built once per size, sigma, dtype and device and reused: not rebuilt on every call."""
    # A plain float tensor whatever the caller's context: usable by autograd after an inference-mode
    # first call, and in ``dtype`` even when first built inside an autocast region.
    no_autocast = (
        torch.autocast(device.type, enabled=False)
        if torch.amp.is_autocast_available(device.type)
        else contextlib.nullcontext()
    )
    with torch.inference_mode(False), torch.no_grad(), no_autocast:
        axes = []
        for k, s in zip(size, sigma):
            half = (k - 1) * 0.5
            grid = torch.linspace(-half, half, steps=k, dtype=dtype, device=device)
            pdf = torch.exp(-0.5 * (grid / s).pow(2))
            axes.append(pdf / pdf.sum())
        return torch.mm(axes[1][:, None], axes[0][None, :])


def gaussian_blur(
    images: Tensor, kernel_size: tuple[int, int] | list[int], sigma: tuple[float, float] | list[float]
) -> Tensor:
    """``torchvision.transforms.functional.gaussian_blur`` of float images (B,C,H,W), bit for bit
    (reflect padding, one depthwise convolution), with the kernel cached (``gaussian_kernel``).
    ``kernel_size`` and ``sigma`` are (x, y), as torchvision's."""
    kx, ky = (int(k) for k in kernel_size)
    kernel = gaussian_kernel((kx, ky), (float(sigma[0]), float(sigma[1])), images.dtype, images.device)
    channels = images.shape[-3]
    padded = F.pad(images, [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
    return F.conv2d(padded, kernel.expand(channels, 1, ky, kx), groups=channels)

"""Small tensor operations on saliency maps shared by methods and metrics (batched, any device)."""
from __future__ import annotations

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

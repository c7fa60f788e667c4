"""A small CNN whose class activation map is exact: the CAM network of Zhou et al.
(CVPR 2016, Sec. 2) in miniature, for CPU-sized runs of the CAM-based methods.

Three stages of two 3x3 convolutions (``width``, 2x``width``, 4x``width`` channels, each
followed by batch norm and ReLU), 2x2 max-pool after the first two stages, then global
average pooling and one linear layer. The feature map keeps 1/4 of the input side (8x8
at 32 px), so CYBORG's and GRADIA's map losses act on the map that the logit is the mean
of (CAM, Eq. 2), unlike ``simple_cnn``'s MLP head where only Grad-CAM exists.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor, nn

from ..contracts import ContractError, HParam
from ..registry import register_arch
from .heads import GapHeadNetwork, GapLinearHead


def conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


@register_arch
class GapCNN(GapHeadNetwork):
    name = "gap_cnn"
    params: ClassVar[dict[str, HParam]] = {
        "width": HParam(32, "channels of the first stage (then 2x and 4x)", low=1),
    }

    def __init__(self, in_channels: int, num_classes: int, image_size: int, width: int = 32):
        super().__init__()
        self.num_classes = num_classes
        if image_size < 4:
            raise ContractError(
                f"arch '{self.name}' needs images of at least 4x4 pixels (two 2x2 pools), got {image_size}x{image_size}"
            )
        w = width
        self.features = nn.Sequential(
            *conv_block(in_channels, w),
            *conv_block(w, w),
            nn.MaxPool2d(2),
            *conv_block(w, 2 * w),
            *conv_block(2 * w, 2 * w),
            nn.MaxPool2d(2),
            *conv_block(2 * w, 4 * w),
            *conv_block(4 * w, 4 * w),
        )
        self.fc = GapLinearHead(4 * w, num_classes)

    def feature_map(self, x: Tensor) -> Tensor:
        return self.features(x)

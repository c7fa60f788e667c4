"""A small Vision Transformer from torchvision whose patch tokens form the feature map.

Built from ``torchvision.models.VisionTransformer`` (Dosovitskiy et al., ICLR 2021). The
head pools the patch tokens (global average, the paper's "GAP" classifier variant) into a
linear layer, so the token grid is a feature map with an exact CAM, and SAGE's embedding
is the pooled token. The class token is kept (attention can use it) but not classified.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from ..contracts import ContractError, HParam
from ..registry import register_arch
from .heads import GapHeadNetwork, GapLinearHead


def auto_patch_size(image_size: int) -> int:
    """Smallest common patch size dividing the image into at most 16 patches per side."""
    for patch in (4, 7, 8, 14, 16, 32):
        if image_size % patch == 0 and image_size // patch <= 16:
            return patch
    raise ContractError(f"arch 'vit_tiny': no patch size divides image size {image_size}; set patch_size")


@register_arch
class ViTTiny(GapHeadNetwork):
    name = "vit_tiny"
    params: ClassVar[dict[str, HParam]] = {
        "patch_size": HParam(0, "patch side in pixels; 0 = auto (4 for 28/32 px, 14 for 224 px)", low=0),
        "hidden_dim": HParam(128, "token width (a multiple of heads)", low=1),
        "layers": HParam(4, "transformer blocks", low=1),
        "heads": HParam(4, "attention heads", low=1),
        "mlp_dim": HParam(256, "MLP width inside each block", low=1),
    }

    @classmethod
    def check_params(cls, params: dict) -> None:
        """Relations between the parameters, checked when they are resolved (before any data or training)."""
        if params["hidden_dim"] % params["heads"]:
            raise ContractError(
                f"arch '{cls.name}': hidden_dim {params['hidden_dim']} must be a multiple of heads {params['heads']}"
            )

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: int,
        patch_size: int = 0,
        hidden_dim: int = 128,
        layers: int = 4,
        heads: int = 4,
        mlp_dim: int = 256,
    ):
        super().__init__()
        self.num_classes = num_classes
        patch = patch_size or auto_patch_size(image_size)
        if image_size % patch:
            raise ContractError(f"arch 'vit_tiny': patch_size {patch} does not divide image size {image_size}")
        from torchvision.models import VisionTransformer  # here: torchvision takes seconds to import

        self.vit = VisionTransformer(
            image_size=image_size,
            patch_size=patch,
            num_layers=layers,
            num_heads=heads,
            hidden_dim=hidden_dim,
            mlp_dim=mlp_dim,
            num_classes=num_classes,
        )
        self.vit.conv_proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch, stride=patch)
        self.vit.heads = nn.Identity()
        self.side = image_size // patch
        self.fc = GapLinearHead(hidden_dim, num_classes)

    def feature_map(self, x: Tensor) -> Tensor:
        """The patch tokens after the encoder, as a (B, hidden_dim, side, side) map."""
        tokens = self.vit._process_input(x)
        cls = self.vit.class_token.expand(tokens.shape[0], -1, -1)
        tokens = self.vit.encoder(torch.cat([cls, tokens], dim=1))[:, 1:]
        return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], self.side, self.side)

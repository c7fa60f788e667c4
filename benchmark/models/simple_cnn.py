"""The MNIST network of the official SGT code (ayaabdelsalam91/saliency_guided_training).

Two 3x3 convolutions (32, 64 channels), 2x2 max-pool, dropout 0.25, flatten, linear 128,
dropout 0.5, linear to the classes. The head flattens into an MLP, so its class
activation map is Grad-CAM on the pooled 64-channel map.
"""

from __future__ import annotations

from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import ContractError, HParam, NetOutput, Network
from ..registry import register_arch

MIN_SIDE = 6  # (side - 4) // 2 >= 1


@register_arch
class SimpleCNN(Network):
    name = "simple_cnn"
    exact_cam: ClassVar[bool] = False
    params: ClassVar[dict[str, HParam]] = {
        "hidden": HParam(128, "width of the hidden linear layer (SGT code: 128)", low=1),
        "dropout": HParam(True, "use the SGT code's dropout (0.25 after pooling, 0.5 after fc1)"),
    }

    def __init__(self, in_channels: int, num_classes: int, image_size: int, hidden: int = 128, dropout: bool = True):
        super().__init__()
        self.num_classes = num_classes
        if image_size < MIN_SIDE:
            raise ContractError(
                f"arch '{self.name}' needs images of at least {MIN_SIDE}x{MIN_SIDE} pixels "
                f"(two 3x3 convolutions and a 2x2 pool), got {image_size}x{image_size}"
            )
        self.conv1 = nn.Conv2d(in_channels, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.drop1 = nn.Dropout(0.25 if dropout else 0.0)
        side = (image_size - 4) // 2
        self.fc1 = nn.Linear(64 * side * side, hidden)
        self.drop2 = nn.Dropout(0.5 if dropout else 0.0)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> NetOutput:
        fmap = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        embedding = F.relu(self.fc1(self.drop1(fmap).flatten(1)))
        logits = self.fc2(self.drop2(embedding))
        return NetOutput(logits=logits, embedding=embedding, feature_map=fmap)

    @property
    def classifier_weight(self) -> Tensor:
        return self.fc2.weight

"""The global-average-pool -> linear head shared by every network with an exact CAM.

With this head the logit of class c is the spatial mean of the class activation map
sum_k w[c,k] A_k plus the bias (Zhou et al., CVPR 2016, Eq. 2), so ``Network.cam`` is exact.
``gap_cnn``, the torchvision CNNs and the ViT (whose patch tokens form the map) use it.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor, nn

from ..contracts import NetOutput, Network


class GapLinearHead(nn.Linear):
    """Pools a feature map (B,D,h,w) to the embedding (B,D) and maps it to logits (B,K)."""

    def forward(self, feature_map: Tensor) -> NetOutput:  # type: ignore[override]
        embedding = feature_map.mean(dim=(2, 3))
        return NetOutput(logits=super().forward(embedding), embedding=embedding, feature_map=feature_map)


class GapHeadNetwork(Network):
    """A network whose ``feature_map(x)`` feeds a ``GapLinearHead`` called ``fc``: exact CAM."""

    exact_cam: ClassVar[bool] = True
    fc: GapLinearHead

    def feature_map(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> NetOutput:
        return self.fc(self.feature_map(x))

    @property
    def classifier_weight(self) -> Tensor:
        return self.fc.weight

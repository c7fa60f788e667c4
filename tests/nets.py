"""Small networks shared by the tests: closed-form gradients, cheap to run."""

from __future__ import annotations

import torch
from torch import nn

from benchmark.contracts import NetOutput, Network


class LinearNet(Network):
    """Softmax regression on the flattened image, logits = W flatten(x) + b: its input gradient
    is W[c] (and d/dx sum_k log p_k = (1 - K p) W), in closed form. No spatial head: Grad-CAM."""

    exact_cam = False

    def __init__(self, pixels: int, classes: int = 2):
        super().__init__()
        self.num_classes = classes
        self.fc = nn.Linear(pixels, classes)

    @classmethod
    def from_weight(cls, weight: torch.Tensor, bias: torch.Tensor | None = None) -> LinearNet:
        """A net with the given weight (K, pixels) and bias (default zeros)."""
        net = cls(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            net.fc.weight.copy_(weight)
            net.fc.bias.copy_(torch.zeros(weight.shape[0]) if bias is None else bias)
        return net

    def forward(self, x: torch.Tensor) -> NetOutput:
        flat = x.flatten(1)
        return NetOutput(logits=self.fc(flat), embedding=flat, feature_map=x)

    @property
    def classifier_weight(self) -> torch.Tensor:
        return self.fc.weight

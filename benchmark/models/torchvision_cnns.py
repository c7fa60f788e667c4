"""torchvision ResNet-18/50 and DenseNet-121 wrapped to the ``NetOutput`` contract.

Heads are global-average-pool -> linear, so the class activation map is exact (Zhou et al.
2016). For small images (``stem='auto'`` and side <= 64) the ImageNet stem (7x7 stride-2
conv + max-pool) is replaced by a 3x3 stride-1 conv, the usual CIFAR adaptation.
``weights`` selects torchvision's pretrained weights for paper-scale runs (CYBORG trains
ImageNet-pretrained ResNet-50 / DenseNet-121 with a new head); downloading them needs
internet, and a missing download fails with a message naming the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import ContractError, HParam
from ..registry import register_arch
from .heads import GapHeadNetwork, GapLinearHead

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

CNN_PARAMS: dict[str, HParam] = {
    "weights": HParam("none", "torchvision weights name (e.g. IMAGENET1K_V1) or 'none' for random init"),
    "stem": HParam(
        "auto",
        "input stem: 'small' (3x3 stride 1, no max-pool), 'imagenet', or 'auto' (small when side <= 64)",
        choices=("auto", "small", "imagenet"),
    ),
}


def load_torchvision(factory_name: str, weights: str) -> nn.Module:
    """Build ``torchvision.models.FACTORY_NAME``, with pretrained weights when asked (needs internet or
    the torch hub cache). torchvision is imported here: it takes seconds, and listing needs none of it."""
    import torchvision

    factory: Callable[..., nn.Module] = getattr(torchvision.models, factory_name)
    if weights == "none":
        return factory(weights=None)
    try:
        return factory(weights=weights)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise ContractError(
            f"cannot load torchvision weights '{weights}' for {factory.__name__}: {exc}. Offline, place the "
            f"checkpoint in {torch.hub.get_dir()}/checkpoints or use weights=none"
        ) from exc


def adapt_conv(conv: nn.Conv2d, in_channels: int, small: bool) -> nn.Conv2d:
    """A stem conv for ``in_channels`` inputs; keeps pretrained weights where the shape allows."""
    if small:
        return nn.Conv2d(in_channels, conv.out_channels, 3, stride=1, padding=1, bias=False)
    if in_channels == conv.in_channels:
        return conv
    new = nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=False)
    with torch.no_grad():  # grayscale: the summed RGB filters respond to gray as the RGB net did
        new.weight.copy_(conv.weight.sum(dim=1, keepdim=True).repeat(1, in_channels, 1, 1) / in_channels)
    return new


class TorchvisionCNN(GapHeadNetwork):
    """Common wrapper: ``self.body`` gives the map (after the optional ImageNet normalization), ``self.fc`` the head."""

    params: ClassVar[dict[str, HParam]] = CNN_PARAMS

    def _setup_input(self, in_channels: int, image_size: int, weights: str, stem: str) -> bool:
        mean = torch.tensor(IMAGENET_MEAN if in_channels == 3 else [sum(IMAGENET_MEAN) / 3] * in_channels)
        std = torch.tensor(IMAGENET_STD if in_channels == 3 else [sum(IMAGENET_STD) / 3] * in_channels)
        self.normalize = weights != "none"
        self.register_buffer("mean", mean.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", std.view(1, -1, 1, 1), persistent=False)
        return stem == "small" or (stem == "auto" and image_size <= 64)

    def features(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def feature_map(self, x: Tensor) -> Tensor:
        return self.features((x - self.mean) / self.std if self.normalize else x)


class _ResNet(TorchvisionCNN):
    factory: ClassVar[str]  # a torchvision.models function name

    def __init__(self, in_channels: int, num_classes: int, image_size: int, weights: str = "none", stem: str = "auto"):
        super().__init__()
        self.num_classes = num_classes
        small = self._setup_input(in_channels, image_size, weights, stem)
        net = load_torchvision(type(self).factory, weights)
        net.conv1 = adapt_conv(net.conv1, in_channels, small)
        if small:
            net.maxpool = nn.Identity()
        self.body = nn.Sequential(
            net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4
        )
        self.fc = GapLinearHead(net.fc.in_features, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)


@register_arch
class ResNet18(_ResNet):
    name = "resnet18"
    factory = "resnet18"


@register_arch
class ResNet50(_ResNet):
    name = "resnet50"
    factory = "resnet50"


@register_arch
class DenseNet121(TorchvisionCNN):
    name = "densenet121"

    def __init__(self, in_channels: int, num_classes: int, image_size: int, weights: str = "none", stem: str = "auto"):
        super().__init__()
        self.num_classes = num_classes
        small = self._setup_input(in_channels, image_size, weights, stem)
        net = load_torchvision("densenet121", weights)
        net.features.conv0 = adapt_conv(net.features.conv0, in_channels, small)
        if small:
            net.features.pool0 = nn.Identity()
        self.body = net.features
        self.fc = GapLinearHead(net.classifier.in_features, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return F.relu(self.body(x))

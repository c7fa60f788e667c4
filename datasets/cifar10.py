"""CIFAR-10 (Krizhevsky 2009) through torchvision: 32x32 colour images, 10 classes, no saliency.

Needs internet once (or the archive placed by hand: ``data build cifar10`` says where).
Splits and parameters: ``benchmark/data/real_families.py`` (``ColourFamily``).
"""

from benchmark.data.real_families import ColourFamily
from benchmark.registry import register_dataset


@register_dataset
class CIFAR10(ColourFamily):
    name = "cifar10"
    source = "CIFAR10"
    description = "CIFAR-10 natural images via torchvision (3x32x32, 10 classes), no saliency"

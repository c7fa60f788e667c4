"""MNIST (LeCun et al. 1998) through torchvision, plain or with the RRR decoy / CDEP colour shortcut.

Needs internet once (or the four archives placed by hand: ``data build mnist`` says where).
Splits and parameters: ``benchmark/data/real_families.py`` (``GreyFamily``).
"""

from benchmark.data.real_families import GreyFamily
from benchmark.registry import register_dataset


@register_dataset
class MNIST(GreyFamily):
    name = "mnist"
    source = "MNIST"
    description = "MNIST handwritten digits via torchvision (28x28, 10 classes); construction plain | decoy | color"

"""Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) through torchvision, plain or with the RRR decoy /
CDEP colour shortcut. Needs internet once (or the archives placed by hand: ``data build`` says where).
Splits and parameters: ``benchmark/data/real_families.py`` (``GreyFamily``).
"""

from benchmark.data.real_families import GreyFamily
from benchmark.registry import register_dataset


@register_dataset
class FashionMNIST(GreyFamily):
    name = "fashion_mnist"
    source = "FashionMNIST"
    description = (
        "Fashion-MNIST clothing images via torchvision (28x28, 10 classes); construction plain | decoy | color"
    )

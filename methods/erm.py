"""ERM: plain cross-entropy on the clean batch, the baseline every method is compared to."""

from __future__ import annotations

import torch.nn.functional as F

from benchmark.contracts import Batch, Cost, Method, Network, TrainState
from benchmark.registry import register_method


@register_method
class ERM(Method):
    """Empirical risk minimization (Vapnik 1992): the mean cross-entropy of the logits over the batch,

    L = (1/B) * sum_i CE(f(x_i), y_i)
    """

    name = "erm"
    citation = "Vapnik. Principles of Risk Minimization for Learning Theory. NeurIPS 1992"
    url = "https://proceedings.neurips.cc/paper/1991/hash/ff4d5fbbafdf976cfdc032e3bde78de5-Abstract.html"
    cost = Cost(forward=1, backward=1)
    hparams = {}

    def loss(self, net: Network, batch: Batch, state: TrainState):
        ce = F.cross_entropy(net(batch.x).logits, batch.y)
        return ce, {"ce": ce.detach()}

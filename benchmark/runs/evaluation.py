"""Evaluation of a trained network on a split: accuracy, loss, and ROC AUC for binary tasks."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from ..contracts import Network
from .device_data import DeviceSplit


@torch.no_grad()
def predict(net: Network, split: DeviceSplit, batch_size: int) -> torch.Tensor:
    """Logits of the whole split (eval mode), on the split's device."""
    was_training = net.training
    net.eval()
    logits = torch.cat([net(batch.x).logits for batch in split.batches(batch_size)])
    net.train(was_training)
    return logits


UNDEFINED = {"auc": "ROC AUC is undefined: the split holds one class only"}  # why a metric may be None


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float | None]:
    """accuracy and mean cross-entropy; on binary tasks the ROC AUC of class 1 (None when the
    split holds one class only: ``UNDEFINED['auc']``)."""
    metrics: dict[str, float | None] = {
        "accuracy": float((logits.argmax(1) == labels).float().mean()),
        "loss": float(F.cross_entropy(logits.float(), labels)),
    }
    y = labels.cpu().numpy()
    if logits.shape[1] == 2 and len(np.unique(y)) < 2:
        metrics["auc"] = None
    elif logits.shape[1] == 2:
        score = torch.softmax(logits.float(), 1)[:, 1].cpu().numpy()
        metrics["auc"] = float(roc_auc_score(y, score))
    return metrics


def evaluate(net: Network, split: DeviceSplit, batch_size: int) -> dict[str, float | None]:
    return classification_metrics(predict(net, split, batch_size), split.y)

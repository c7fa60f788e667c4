"""Splits resident on the run's device, cut into ``Batch`` es by index (no DataLoader).

Images stay uint8 on the device (4x less memory than float) and become float in [0,1]
one batch at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor

from ..contracts import Batch, Split


@dataclass
class DeviceSplit:
    x: Tensor  # uint8 (N,C,H,W)
    y: Tensor  # int64 (N,)
    saliency: Tensor | None  # float16 (N,1,H,W)
    annotated: Tensor | None  # bool (N,)

    @classmethod
    def from_split(cls, split: Split, device: torch.device) -> "DeviceSplit":
        sal = None if split.saliency is None else torch.from_numpy(split.saliency).to(device, torch.float16)
        ann = None if split.annotated is None else torch.from_numpy(split.annotated).to(device)
        return cls(
            x=torch.from_numpy(split.x).to(device),
            y=torch.from_numpy(split.y).to(device, torch.int64),
            saliency=sal,
            annotated=ann,
        )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def batch(self, index: Tensor) -> Batch:
        return Batch(
            x=self.x[index].float().div_(255.0),
            y=self.y[index],
            saliency=None if self.saliency is None else self.saliency[index].float(),
            annotated=None if self.annotated is None else self.annotated[index],
        )

    def steps_per_epoch(self, batch_size: int) -> int:
        """Training batches per epoch (the last incomplete batch is dropped when there is a full one)."""
        n = len(self)
        return n // batch_size if n > batch_size else 1

    def batches(self, batch_size: int, order: Tensor | None = None, drop_last: bool = False) -> Iterator[Batch]:
        """Batches in ``order`` (a permutation on the CPU) or in storage order."""
        n = len(self)
        order = torch.arange(n) if order is None else order
        stop = n - n % batch_size if drop_last and n > batch_size else n
        device = self.y.device
        for start in range(0, stop, batch_size):
            yield self.batch(order[start:start + batch_size].to(device))

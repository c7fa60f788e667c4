"""Splits resident on the run's device, cut into ``Batch`` es by index (no DataLoader).

Images stay uint8 on the device (4x less memory than float) and become float in [0,1]
one batch at a time. Cutting batches never waits for the device (``DeviceSplit.batches``).
A split's wrong-reason mask (``wrong_reason_key``) is on the device only when asked for
(``from_split(..., wrong_reason=KEY)``: a method that declares ``needs_wrong_reason``).
``DeviceSplit.for_training`` is the train split as the training loop hands it to a method: its
annotations only for a method that declares ``needs_annotations``, its wrong-reason mask only for
one that declares ``needs_wrong_reason``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..contracts import Batch, ContractError, Split


def wrong_reason_key(split: Split, keys: Sequence[str]) -> str | None:
    """The first of ``keys`` that ``split`` carries as an extra, or None: the saliency evaluation's rule
    (its setting ``wrong_reason_keys``, default decoy digits' ``decoy`` then toy faces' ``cue_mask``)."""
    return next((key for key in keys if key in split.extras), None)


def wrong_reason_mask(split: Split, key: str) -> np.ndarray:
    """The extra ``key`` of ``split`` as a bool pixel mask (N,1,H,W) (nonzero = must not matter), or a
    ``ContractError`` when it is not one (the saliency evaluation reads it the same way)."""
    arr, (n, _, h, w) = np.asarray(split.extras[key]), split.x.shape
    if arr.size != n * h * w:
        raise ContractError(f"extra '{key}' has shape {arr.shape}, not a pixel mask (N,1,{h},{w})")
    return arr.reshape(n, 1, h, w) != 0


@dataclass
class DeviceSplit:
    x: Tensor  # uint8 (N,C,H,W)
    y: Tensor  # int64 (N,)
    saliency: Tensor | None  # float16 (N,1,H,W)
    annotated: Tensor | None  # bool (N,)
    annotated_host: np.ndarray | None = None  # bool (N,): the same flags on the host (default: copied once)
    wrong_reason: Tensor | None = None  # bool (N,1,H,W): the wrong-reason mask, only when a method needs it

    def __post_init__(self) -> None:
        if self.annotated is not None and self.annotated_host is None:
            self.annotated_host = self.annotated.cpu().numpy().astype(bool)

    @classmethod
    def from_split(cls, split: Split, device: torch.device, wrong_reason: str | None = None) -> DeviceSplit:
        """``split`` on ``device``; with ``wrong_reason`` (an extra's key), its wrong-reason mask too."""
        dense = split.dense_saliency()
        sal = None if dense is None else torch.from_numpy(dense).to(device, torch.float16)
        ann = None if split.annotated is None else torch.from_numpy(split.annotated).to(device)
        wrong = None if wrong_reason is None else torch.from_numpy(wrong_reason_mask(split, wrong_reason)).to(device)
        return cls(
            x=torch.from_numpy(split.x).to(device),
            y=torch.from_numpy(split.y).to(device, torch.int64),
            saliency=sal,
            annotated=ann,
            annotated_host=None if split.annotated is None else np.array(split.annotated, dtype=bool),
            wrong_reason=wrong,
        )

    def for_training(self, source: Split, annotations: bool, wrong_reason: str | None = None) -> DeviceSplit:
        """This split as the training loop hands it to a method: the same images and labels (shared, not
        copied); its annotations (``saliency``, ``annotated``) only with ``annotations`` (the method
        declares ``needs_annotations``), else none, so its batches carry no ``saliency``; the wrong-reason
        mask of ``source`` (this split on the host) only with ``wrong_reason`` (its key), else none."""
        device = self.y.device
        wrong = None if wrong_reason is None else torch.from_numpy(wrong_reason_mask(source, wrong_reason)).to(device)
        if annotations:
            return dataclasses.replace(self, wrong_reason=wrong)
        return dataclasses.replace(self, saliency=None, annotated=None, annotated_host=None, wrong_reason=wrong)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def batch(self, index: Tensor, annotated_index: Tensor | None = None, n_annotated: int | None = None) -> Batch:
        """The rows ``index`` (on the device) as a ``Batch``; ``annotated_index``/``n_annotated``: the
        positions of the annotated rows within it and their count (else ``Batch`` derives them)."""
        return Batch(
            x=self.x[index].float().div_(255.0),
            y=self.y[index],
            saliency=None if self.saliency is None else self.saliency[index].float(),
            annotated=None if self.annotated is None else self.annotated[index],
            annotated_index=annotated_index,
            n_annotated=n_annotated,
            wrong_reason=None if self.wrong_reason is None else self.wrong_reason[index].float(),
        )

    def steps_per_epoch(self, batch_size: int) -> int:
        """Training batches per epoch (the last incomplete batch is dropped when there is a full one)."""
        n = len(self)
        return n // batch_size if n > batch_size else 1

    def batches(self, batch_size: int, order: Tensor | None = None, drop_last: bool = False) -> Iterator[Batch]:
        """Batches in ``order`` (a permutation on the CPU) or in storage order.

        No host-device synchronization per batch: here, before the first batch, the positions of
        each batch's annotated rows are computed on the host from the CPU order and the split's
        host flags, and go to the device with the order in one copy; the batches are then cut
        from device tensors by host offsets (``Batch.annotated_index``, ``Batch.n_annotated``).
        """
        n = len(self)
        host_order = np.arange(n) if order is None else order.cpu().numpy()
        stop = n - n % batch_size if drop_last and n > batch_size else n
        starts = range(0, stop, batch_size)
        flags = np.zeros(n, dtype=bool) if self.annotated_host is None else self.annotated_host[host_order]
        positions = [np.flatnonzero(flags[start : start + batch_size]) for start in starts]
        both = torch.from_numpy(np.concatenate([host_order[:stop], *positions]).astype(np.int64))
        both = both.to(self.y.device)  # the one copy to the device
        return self._cut(both[:stop], both[stop:], batch_size, starts, [len(p) for p in positions])

    def _cut(
        self, order: Tensor, positions: Tensor, batch_size: int, starts: range, counts: list[int]
    ) -> Iterator[Batch]:
        offset = 0
        for start, count in zip(starts, counts):
            yield self.batch(
                order[start : start + batch_size], annotated_index=positions[offset : offset + count], n_annotated=count
            )
            offset += count

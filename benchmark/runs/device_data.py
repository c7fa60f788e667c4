"""Splits on the run's device, cut into ``Batch`` es by index (no DataLoader).

Images stay uint8 on the device (4x less memory than float) and become float in [0,1]
one batch at a time. Cutting batches never waits for the device (``DeviceSplit.batches``).
A split's wrong-reason mask (``wrong_reason_key``) is on the device only when asked for
(``from_split(..., wrong_reason=KEY)``: a method that declares ``needs_wrong_reason``).
``DeviceSplit.for_training`` is the train split as the training loop hands it to a method: its
annotations only for a method that declares ``needs_annotations``, its wrong-reason mask only for
one that declares ``needs_wrong_reason``.

Human maps are moved only for the annotated rows (issue 25 item 1): ``saliency`` holds a zero map then
the A maps of the annotated rows (float16 (A+1,1,H,W)) and ``map_index`` per row 0 (no map) or k+1 (the
k-th map), so a batch's maps are one gather ``saliency[map_index[rows]]``; a split whose maps no
consumer reads is copied without them (``from_split(..., maps=False)``: ``runs.run.prepare``).
Images are resident on the device or streamed from the host (``runs.placement``: same batches).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..contracts import Batch, ContractError, Split
from .placement import host_rows, streamed_rows, to_device


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
    x: Tensor | np.ndarray  # uint8 (N,C,H,W): on the device (resident), or a host array / memmap (streamed)
    y: Tensor  # int64 (N,)
    saliency: Tensor | None  # float16 (A+1,1,H,W): a zero map, then the annotated rows' maps in row order
    annotated: Tensor | None  # bool (N,)
    annotated_host: np.ndarray | None = None  # bool (N,): the same flags on the host (default: copied once)
    wrong_reason: Tensor | None = None  # bool (N,1,H,W): the wrong-reason mask, only when a method needs it
    map_index: Tensor | None = None  # int64 (N,): 0 for a row without a map, k+1 for the k-th map

    def __post_init__(self) -> None:
        if self.annotated is not None and self.annotated_host is None:
            self.annotated_host = self.annotated.cpu().numpy().astype(bool)
        if self.saliency is not None and self.map_index is None:  # one map per row given (built by hand)
            self.saliency = torch.cat([torch.zeros_like(self.saliency[:1]), self.saliency])
            self.map_index = torch.arange(1, len(self) + 1, device=self.y.device)

    @property
    def streamed(self) -> bool:
        """The images stay on the host and reach the device batch by batch (``runs.placement``)."""
        return not isinstance(self.x, Tensor)

    @classmethod
    def from_split(
        cls,
        split: Split,
        device: torch.device,
        wrong_reason: str | None = None,
        maps: bool = True,
        stream: bool = False,
    ) -> DeviceSplit:
        """``split`` on ``device``; with ``wrong_reason`` (an extra's key), its wrong-reason mask too; its
        annotated rows' maps and flags only with ``maps``; its images left on the host (streamed) with ``stream``."""
        saliency = index = None
        if maps and split.saliency is not None:
            compact = torch.from_numpy(np.ascontiguousarray(split.saliency)).to(torch.float16)
            saliency = torch.cat([torch.zeros_like(compact[:1]), compact]).to(device)
            index = torch.from_numpy(split.map_index() + 1).to(device)
        flags = None if saliency is None else np.array(split.annotated, dtype=bool)  # no maps, no flags
        ann = None if flags is None else torch.from_numpy(flags).to(device)
        wrong = None if wrong_reason is None else torch.from_numpy(wrong_reason_mask(split, wrong_reason)).to(device)
        return cls(
            x=split.x if stream else to_device(split.x, device),
            y=torch.from_numpy(split.y).to(device, torch.int64),
            saliency=saliency,
            annotated=ann,
            annotated_host=flags,
            wrong_reason=wrong,
            map_index=index,
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
        return dataclasses.replace(
            self, saliency=None, map_index=None, annotated=None, annotated_host=None, wrong_reason=wrong
        )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def images(self, index: Tensor | np.ndarray) -> Tensor:
        """The uint8 images of rows ``index`` on the device (streamed: gathered from the host, and an
        ``index`` on the device is read back first: for the evaluation's probe, not in a training step)."""
        if isinstance(self.x, Tensor):
            return self.x[torch.as_tensor(index, device=self.x.device)]
        rows = index.cpu().numpy() if isinstance(index, Tensor) else np.asarray(index)
        return host_rows(self.x, rows.astype(np.int64), self.y.device)

    def batch(
        self,
        index: Tensor,
        annotated_index: Tensor | None = None,
        n_annotated: int | None = None,
        images: Tensor | None = None,
    ) -> Batch:
        """The rows ``index`` (on the device) as a ``Batch``; ``annotated_index``/``n_annotated``: the
        positions of the annotated rows within it and their count (else ``Batch`` derives them);
        ``images``: their uint8 images when already on the device (else ``self.images(index)``)."""
        x = self.images(index) if images is None else images
        maps = None if self.saliency is None or self.map_index is None else self.saliency[self.map_index[index]]
        return Batch(
            x=x.float().div_(255.0),
            y=self.y[index],
            saliency=None if maps is None else maps.float(),
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
        A streamed split's images come from ``placement.streamed_rows`` (the same rows in the same order).
        """
        n = len(self)
        host_order = np.arange(n) if order is None else order.cpu().numpy()
        stop = n - n % batch_size if drop_last and n > batch_size else n
        starts = range(0, stop, batch_size)
        flags = np.zeros(n, dtype=bool) if self.annotated_host is None else self.annotated_host[host_order]
        positions = [np.flatnonzero(flags[start : start + batch_size]) for start in starts]
        both = torch.from_numpy(np.concatenate([host_order[:stop], *positions]).astype(np.int64))
        both = both.to(self.y.device)  # the one copy to the device
        rows = [host_order[start : start + batch_size] for start in starts]
        images = None if isinstance(self.x, Tensor) else streamed_rows(self.x, rows, self.y.device)
        return self._cut(both[:stop], both[stop:], batch_size, starts, [len(p) for p in positions], images)

    def _cut(
        self,
        order: Tensor,
        positions: Tensor,
        batch_size: int,
        starts: range,
        counts: list[int],
        images: Iterator[Tensor] | None,
    ) -> Iterator[Batch]:
        offset = 0
        for start, count in zip(starts, counts):
            yield self.batch(
                order[start : start + batch_size],
                annotated_index=positions[offset : offset + count],
                n_annotated=count,
                images=None if images is None else next(images),
            )
            offset += count

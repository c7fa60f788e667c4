"""Where a run's images live: resident on the device, or streamed to it batch by batch (issue 25 item 2).

Resident (the fast path): a split's uint8 images are one tensor on the device and a batch is one gather.
Streamed: the images stay a host array (an ``np.memmap`` of the data store's file, read only where a batch
needs it); each batch's rows are gathered on the host into a fresh pinned buffer by a background thread
one batch ahead, and copied to the device ``non_blocking`` on a side CUDA stream, so that the copy of
batch k+1 overlaps the step of batch k (PyTorch's pinned-memory caching allocator does not reuse a buffer
before its copy has finished; the compute stream waits for the copy on the device, not on the host). Both
paths hand the training loop the same ``Batch`` es: same rows, same order, same values.

The profile key ``data_placement`` (``auto`` | ``resident`` | ``stream``) chooses; it is an execution
setting, not part of the run identity (the records are bitwise the same either way). ``auto``
(``choose``): the splits, train first, then val, then the rest, are resident while their images fit in
``RESIDENT_FRACTION`` of the device's free memory (``torch.cuda.mem_get_info``; on the CPU, the host's
available memory: there, an array already in RAM costs nothing to keep and stays resident, and only a
memory-mapped one is weighed), less what stays resident in any case (labels, the annotated rows' maps,
wrong-reason masks); a split that does not fit is streamed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..contracts import ContractError

PLACEMENTS = ("auto", "resident", "stream")
# Half of the free memory for the data: the other half is left to the network, its gradients, the
# optimizer state, the activations (twice for SGT/RRR/GRADIA, whose losses take gradients) and the
# saliency evaluation's attribution batches. On a 16 GB card that is 8 GB of images: ~53k RGB images at
# 224 px as uint8, four times the CYBORG 7x set (12.7k images, 1.9 GB), while ResNet-50 / DenseNet-121
# training at batch 20 in the other half needs a few GB. Several runs sharing a GPU (``runs_per_gpu``)
# each see the memory the others left free when they load; ``data_placement: stream`` forces the safe path.
RESIDENT_FRACTION = 0.5
HOST_CHUNK_BYTES = 256 << 20  # a resident copy from a memory map goes to the device in pieces of this size


def check_placement(value: object) -> str:
    if value not in PLACEMENTS:
        raise ContractError(f"profile data_placement: must be one of {list(PLACEMENTS)}, got {value!r}")
    return str(value)


def in_ram(array: np.ndarray) -> bool:
    """True for an ordinary host array; False for a memory map (or a read-only view of a file)."""
    return not isinstance(array, np.memmap) and array.flags.writeable and not isinstance(array.base, np.memmap)


def free_memory(device: torch.device) -> int | None:
    """Bytes free for data on ``device``: CUDA's free memory, the host's available memory for the CPU
    (``MemAvailable`` of /proc/meminfo, else the free pages), None when unknown (MPS)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def choose(
    images: Mapping[str, np.ndarray], fixed_bytes: int, device: torch.device, setting: str = "auto"
) -> dict[str, bool]:
    """Per split name, True when its images are streamed (``setting``, or the ``auto`` rule of the module
    docstring on ``images``, the splits' host image arrays, with ``fixed_bytes`` always resident)."""
    check_placement(setting)
    if setting != "auto":
        return {name: setting == "stream" for name in images}
    free = free_memory(device)
    if free is None:
        return {name: False for name in images}
    budget = RESIDENT_FRACTION * free - fixed_bytes
    order = sorted(images, key=lambda name: (name != "train", name != "val"))
    streamed = {}
    for name in order:
        cost = 0 if device.type == "cpu" and in_ram(images[name]) else int(images[name].nbytes)
        streamed[name] = cost > budget
        budget -= 0 if streamed[name] else cost
    return {name: streamed[name] for name in images}


def to_device(array: np.ndarray, device: torch.device) -> Tensor:
    """A host array as a tensor on ``device`` (resident). On the CPU an array in RAM is shared, a memory map
    read into RAM; for another device a memory map is copied in ``HOST_CHUNK_BYTES`` pieces (no whole
    host copy)."""
    if in_ram(array):
        return torch.from_numpy(array).to(device)
    if device.type == "cpu":
        return torch.from_numpy(np.array(array))
    out = torch.empty(array.shape, dtype=torch.from_numpy(np.empty(0, array.dtype)).dtype, device=device)
    step = max(1, HOST_CHUNK_BYTES // max(1, array[:1].nbytes))
    for start in range(0, len(array), step):
        out[start : start + step].copy_(torch.from_numpy(np.array(array[start : start + step])))
    return out


def gather(array: np.ndarray, rows: np.ndarray, pin: bool) -> Tensor:
    """The rows ``rows`` of a host array as a new host tensor (pinned with ``pin``)."""
    out = torch.empty((len(rows), *array.shape[1:]), dtype=torch.uint8, pin_memory=pin)
    np.take(array, rows, axis=0, out=out.numpy())
    return out


def copied(host: Tensor, device: torch.device, side: torch.cuda.Stream | None) -> Tensor:
    """``host`` on ``device``: on CUDA a ``non_blocking`` copy on the ``side`` stream that the current stream
    waits for on the device (no host wait); elsewhere a plain copy (none on the CPU)."""
    if side is None:
        return host.to(device)
    current = torch.cuda.current_stream(device)
    with torch.cuda.stream(side):
        out = host.to(device, non_blocking=True)
    current.wait_stream(side)
    out.record_stream(current)  # allocated on the side stream, used on the current one
    return out


def host_rows(array: np.ndarray, rows: np.ndarray, device: torch.device) -> Tensor:
    """The uint8 images ``rows`` of a host array on ``device``, gathered and copied at once (no prefetch)."""
    return gather(array, rows, device.type == "cuda").to(device)


def streamed_rows(array: np.ndarray, rows: Sequence[np.ndarray], device: torch.device) -> Iterator[Tensor]:
    """The uint8 images of each entry of ``rows`` in turn, on ``device``: gathered on the host one batch
    ahead by a background thread (into pinned memory on CUDA), copied on a side stream (module docstring)."""
    cuda = device.type == "cuda"
    side = torch.cuda.Stream(device) if cuda else None
    with ThreadPoolExecutor(1, thread_name_prefix="batch-prefetch") as pool:
        pending = pool.submit(gather, array, rows[0], cuda) if len(rows) else None
        for k in range(len(rows)):
            host = pending.result()  # type: ignore[union-attr]  # set whenever rows remain
            if k + 1 < len(rows):
                pending = pool.submit(gather, array, rows[k + 1], cuda)
            yield copied(host, device, side)

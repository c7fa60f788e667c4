"""Numeric precision of the training step: ``fp32`` (default), or ``bf16``/``fp16`` autocast.

Autocast (``torch.autocast``) wraps the method's loss only: the forward passes, the
saliency maps and the loss run in the low-precision dtype where torch's autocast op lists
say it is safe (convolutions, matmuls); reductions, softmax and the losses stay in float32.
Backward runs outside the region, as torch recommends, and the weights and the optimizer
state stay float32. Evaluation and the saliency evaluation always run in float32.

``fp16`` on CUDA scales the loss (``torch.amp.GradScaler``) so that small gradients do not
underflow; bf16 has float32's exponent range and needs no scaling. CPU autocast supports
bfloat16 and float16 (torch >= 2.2; torch's ``autocast`` lists both for the CPU); fp16 on the
CPU runs without a scaler (torch's CPU scaler exists but the reference recipes scale on CUDA
only), so bf16 is the CPU choice. A device whose autocast torch lacks, or a CUDA device
without native bfloat16 (``bf16_native``: compute capability 8.0 or newer, Ampere on; torch
emulates bf16 on older cards, slower than fp32), is refused with a ``ContractError`` before any
compute, in one line saying to set ``precision: fp32`` (the ``paper`` profile's bf16 default
is not switched silently: the precision is part of the run id, which must not depend on the card).
"""

from __future__ import annotations

import contextlib
import functools

import torch

from ..contracts import ContractError

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(name: object) -> str:
    """``name`` if it is one of ``PRECISIONS``, else a ``ContractError`` naming it and the valid ones."""
    if not isinstance(name, str) or name not in PRECISIONS:
        raise ContractError(f"precision {name!r} unknown; valid precisions: {', '.join(PRECISIONS)}")
    return name


FP32_HINT = "set `precision: fp32` in the profile (or --precision fp32)"


def bf16_native(index: int) -> bool:
    """CUDA device ``index`` computes bfloat16 natively (``torch.cuda.is_bf16_supported(including_emulation=
    False)``: compute capability >= 8.0, or ROCm); torch's default also counts emulation."""
    with torch.cuda.device(index):
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))


@functools.cache
def _check_device(precision: str, device_type: str, index: int | None) -> None:
    if precision == "fp32":
        return
    if not torch.amp.is_autocast_available(device_type):
        raise ContractError(f"precision '{precision}': torch has no autocast for device '{device_type}'; {FP32_HINT}")
    if device_type == "cuda" and precision == "bf16":
        index = index if index is not None else torch.cuda.current_device()
        if not bf16_native(index):
            raise ContractError(
                f"precision 'bf16': CUDA device {index} ({torch.cuda.get_device_name(index)}) has no native "
                f"bfloat16 (compute capability 8.0 or newer); {FP32_HINT}"
            )


def check_precision_device(precision: str, device: torch.device | str) -> None:
    """``precision`` is valid and ``device`` can run it (else a ``ContractError`` saying what to change)."""
    check_precision(precision)
    device = torch.device(device)
    _check_device(precision, device.type, device.index)


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """The context in which a training step's loss is computed: ``torch.autocast`` with the
    precision's dtype, or a no-op for ``fp32``. Refuses a combination the device cannot run."""
    check_precision_device(precision, device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=DTYPES[precision])


def make_scaler(precision: str, device: torch.device | str) -> torch.amp.GradScaler | None:
    """A ``GradScaler`` for fp16 on CUDA (loss scaling against gradient underflow), else None."""
    check_precision_device(precision, device)
    device = torch.device(device)
    if precision == "fp16" and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None

"""Every random stream of a run is derived from one seed by hashing the stream's identity.

The initial weights depend on (seed, dataset, arch) and the data order on (seed, dataset,
epoch) but not on the method, so every method with the same seed starts from the same
weights and sees the same batches: comparisons between methods are paired.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from the SHA-256 of the JSON of ``parts``."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "little") & (2**63 - 1)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def seed_global(seed: int) -> None:
    """Seed the global streams (dropout, any library that draws from them)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def enable_determinism(deterministic: bool = True) -> None:
    """The run setting ``deterministic``. True (the default): deterministic kernels where torch has them
    (``torch.use_deterministic_algorithms(True, warn_only=True)``: bitwise on CPU; as far as CUDA allows on
    GPU) and cuDNN's autotuner off. False: ``torch.backends.cudnn.benchmark`` on (cuDNN times its algorithms
    for each new shape and keeps the fastest) and deterministic algorithms off: faster on a GPU, not bitwise
    from run to run. On the CPU both compute the same."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.benchmark = not deterministic


@contextlib.contextmanager
def determinism(deterministic: bool) -> Iterator[None]:
    """``enable_determinism(deterministic)`` inside; the previous switches restored after (the profiler's
    timing runs under a profile's setting without changing its caller's)."""
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    enable_determinism(deterministic)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[2]

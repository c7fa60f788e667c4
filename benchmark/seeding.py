"""Every random stream of a run is derived from one seed by hashing the stream's identity.

The initial weights depend on (seed, dataset, arch) and the data order on (seed, dataset,
epoch) but not on the method, so every method with the same seed starts from the same
weights and sees the same batches: comparisons between methods are paired.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
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


def enable_determinism() -> None:
    """Deterministic kernels where torch has them (bitwise on CPU; as far as CUDA allows on GPU)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False

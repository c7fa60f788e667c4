"""What a record says about where it came from: code fingerprints and the environment."""

from __future__ import annotations

import platform
import subprocess

import numpy as np
import torch

from ..code_closure import closure_digest
from ..numerics import in_effect
from ..paths import project_root
from ..registry import ARCHS, DATASETS, METHODS

CORE_MODULES = ("benchmark.runs.run",)  # training, evaluation and saliency evaluation: what computes a run


def core_fingerprint() -> str:
    """sha256 of the import closure of the run core (``benchmark.code_closure``): not the CLI,
    sweeps, records, statistics or reports, which cannot change a run's numbers."""
    return closure_digest(CORE_MODULES)


def code_fingerprint(method: str, dataset: str, arch: str) -> dict[str, str]:
    return {
        "method": METHODS.fingerprint(method),
        "dataset": DATASETS.fingerprint(dataset),
        "arch": ARCHS.fingerprint(arch),
        "core": core_fingerprint(),
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def environment(device: torch.device) -> dict[str, str | int | bool]:
    import torchvision  # here, not at import: the reporting commands import this module and never call this

    info: dict[str, str | int | bool] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "git_commit": git_commit(),
        **{f"numerics_{k}": v for k, v in in_effect().items()},
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
        info.update(gpu_numerics())
    else:
        info["device_name"] = platform.processor() or platform.machine()
    return info


def gpu_numerics() -> dict[str, str | bool]:
    """What decides a CUDA run's numbers besides the code and the card: the CUDA and cuDNN versions, TF32 in
    matmuls and convolutions, and the determinism switches (README, "What is bitwise reproducible where")."""
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "cuda": str(torch.version.cuda),
        "cudnn": str(cudnn),
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
    }

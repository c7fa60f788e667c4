"""What a record says about where it came from: code fingerprints and the environment."""
from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch
import torchvision

from ..registry import ARCHS, DATASETS, METHODS, project_root

CORE_PARTS = ("contracts.py", "runs", "models", "data", "saliency")  # code that changes what a run computes


def core_fingerprint() -> str:
    """sha256 over the package files that decide a run's numbers (not CLI, reports, stats)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for part in CORE_PARTS:
        target = package / part
        files = [target] if target.is_file() else sorted(target.rglob("*.py"))
        for path in files:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def code_fingerprint(method: str, dataset: str, arch: str) -> dict[str, str]:
    return {
        "method": METHODS.fingerprint(method),
        "dataset": DATASETS.fingerprint(dataset),
        "arch": ARCHS.fingerprint(arch),
        "core": core_fingerprint(),
    }


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def environment(device: torch.device) -> dict[str, str | int]:
    info: dict[str, str | int] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "git_commit": git_commit(),
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    else:
        info["device_name"] = platform.processor() or platform.machine()
    return info

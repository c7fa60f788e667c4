"""Check 1, the device facts: what torch, the project's numerics and (on CUDA) the GPUs are here.

Read from torch's own APIs (``torch.version``, ``torch.backends.*``, ``torch.cuda.*``), never from
``nvidia-smi``. ``host_facts`` always passes (its line is the record of where the checks ran);
``cuda_facts`` is SKIPped on a CPU device, saying why, and FAILs when CUDA is asked for and torch
cannot read the device it names.
"""

from __future__ import annotations

import os

import torch

from ..numerics import mode as numerics_mode
from ..records.provenance import gpu_numerics
from ..runs.precision import bf16_native
from .verdicts import Verdict

GIB = 1024**3


def visible_gpus() -> str:
    """``CUDA_VISIBLE_DEVICES`` as set (``unset``: every GPU of the machine is visible)."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    return "unset (all)" if value is None else repr(value)


def host_facts(device: torch.device) -> Verdict:
    """torch's version and build, the numerics mode (``benchmark.numerics.mode``), the CPU capability,
    the threads, whether CUDA is available and ``CUDA_VISIBLE_DEVICES``."""
    cuda = f"CUDA build {torch.version.cuda}" if torch.version.cuda else "CPU-only build"
    available = torch.cuda.is_available()
    detail = (
        f"device {device}; torch {torch.__version__} ({cuda}); numerics {numerics_mode()}; "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} thread(s); "
        f"CUDA available: {'yes, ' + str(torch.cuda.device_count()) + ' device(s)' if available else 'no'}; "
        f"CUDA_VISIBLE_DEVICES {visible_gpus()}"
    )
    return Verdict("PASS", "device facts", detail)


def gpu_line(index: int) -> str:
    """``0: NVIDIA A100 (79.2 GiB, 78.9 free, sm_80, bf16)``."""
    props = torch.cuda.get_device_properties(index)
    free, total = torch.cuda.mem_get_info(index)
    bf16 = "bf16" if bf16_native(index) else "no native bf16"
    return (
        f"{index}: {props.name} ({total / GIB:.1f} GiB, {free / GIB:.1f} free, sm_{props.major}{props.minor}, {bf16})"
    )


def cuda_facts(device: torch.device) -> Verdict:
    """CUDA and cuDNN versions, every visible GPU (name, memory, bf16), the TF32 and cuDNN flags."""
    name = "CUDA facts"
    if device.type != "cuda":
        why = "no CUDA device on this machine" if not torch.cuda.is_available() else "CUDA not asked for"
        return Verdict("SKIP", name, f"device {device}: {why} (run with --device cuda on a GPU machine)")
    facts = gpu_numerics()
    flags = ", ".join(f"{k} {v}" for k, v in facts.items() if k not in ("cuda", "cudnn"))
    gpus = "; ".join(gpu_line(i) for i in range(torch.cuda.device_count()))
    version = facts["cudnn"] if facts["cudnn"] != "None" else None
    detail = (
        f"CUDA {facts['cuda']}, cuDNN {version or 'absent'}; GPUs {gpus}; {flags} (float32 matmul precision "
        f"{torch.get_float32_matmul_precision()})"
    )
    return Verdict("PASS" if version else "FAIL", name, detail)

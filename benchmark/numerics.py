"""Portable CPU numerics: pin the kernel choices that differ between x86-64 CPUs (issue 23).

The same pinned torch wheel picks its CPU kernels at run time from the CPU it finds, in three
libraries; each choice changes float results (measured on this project's Intel Xeon with AVX-512:
each pin below alone changes a 2-epoch run's weights, docs/architecture.md "Portable numerics"):

- ATen's vectorised kernels: the best of DEFAULT/AVX2/AVX512 the CPU has (an AMD EPYC of Zen 2/3
  has no AVX-512, so it runs other code than an Intel Xeon). ``ATEN_CPU_CAPABILITY=avx2``
  (read at torch's start; read back by ``torch.backends.cpu.get_cpu_capability()``).
- oneDNN (convolutions, some matmuls): its ISA dispatch, capped by ``ONEDNN_MAX_CPU_ISA=AVX2``
  (read at oneDNN's first use; read back with ``ONEDNN_VERBOSE=1``).
- MKL (BLAS, FFT): its code branch by CPU vendor and model; Conditional Numerical Reproducibility
  ``MKL_CBWR=AVX2`` fixes it (Intel's MKL developer guide, "Obtaining Numerically Reproducible
  Results"; read back by ``mkl_serv_cbwr_get``), with ``MKL_DYNAMIC=FALSE`` (the guide's
  "Reproducibility Conditions": no run-time change of the thread count; the run fixes the count).

Every variable must be set before torch loads, so :func:`pin_environment` runs when the
``benchmark`` package is imported (``benchmark/__init__.py``), and worker processes inherit it.
A variable the user already set is left as set (and recorded); ``SALBENCH_NATIVE_NUMERICS=1``
keeps the libraries' own choice (fastest on the machine, not portable).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from .errors import ContractError

PINS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2", "MKL_DYNAMIC": "FALSE"}
PORTABLE, NATIVE_MODE = "portable", "native"
MODES = (PORTABLE, NATIVE_MODE)
IN_EFFECT = {"aten_cpu_capability": "AVX2", "mkl_cbwr": "AVX2", "onednn_max_cpu_isa": "AVX2"}
NATIVE = "SALBENCH_NATIVE_NUMERICS"
MKL_BRANCHES = {
    1: "OFF",
    2: "AUTO",
    3: "COMPATIBLE",
    4: "SSE2",
    6: "SSSE3",
    7: "SSE4_1",
    8: "SSE4_2",
    9: "AVX",
    10: "AVX2",
    11: "AVX512_MIC",
    12: "AVX512",
    13: "AVX512_MIC_E1",
    14: "AVX512_E1",
}


def opted_out(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` asks for native numerics (``SALBENCH_NATIVE_NUMERICS`` set, and not to 0)."""
    return environ.get(NATIVE, "") not in ("", "0")


def pin_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set every pin the environment does not already set (unless ``SALBENCH_NATIVE_NUMERICS=1``);
    returns the pinned variables' values now in ``environ``. Called before torch loads: once it has,
    ATen's choice is made (the other two libraries read theirs at first use)."""
    environ = os.environ if environ is None else environ
    if opted_out(environ):
        return {}
    for name, value in PINS.items():
        environ.setdefault(name, value)
    return {name: environ[name] for name in PINS}


def mkl_branch() -> str:
    """MKL's Conditional Numerical Reproducibility branch in this process (``mkl_serv_cbwr_get``), or
    'unknown' when torch's MKL does not export it."""
    import torch

    try:
        lib = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
        get = lib.mkl_serv_cbwr_get
    except (OSError, AttributeError):
        return "unknown"
    get.restype, get.argtypes = ctypes.c_int, [ctypes.c_int]
    return MKL_BRANCHES.get(int(get(1)), str(int(get(1))))  # 1 = MKL_CBWR_BRANCH


def in_effect() -> dict[str, str]:
    """What the libraries use in this process: ATen's capability and MKL's branch (read back), and the
    oneDNN cap as set (oneDNN reads it at first use; ``ONEDNN_VERBOSE=1`` prints the ISA it runs)."""
    import torch

    return {
        "aten_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "mkl_cbwr": mkl_branch(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "native"),
    }


def mode(environ: Mapping[str, str] | None = None) -> str:
    """The numerics this process was asked for: 'portable' when every pin holds its pinned value,
    else 'native' (the opt-out, or a user's own setting of a pinned variable). Part of a run's
    identity (``RunConfig.numerics``): a native run computes other numbers, so it is another run."""
    environ = os.environ if environ is None else environ
    if opted_out(environ):
        return NATIVE_MODE
    return PORTABLE if all(environ.get(k) == v for k, v in PINS.items()) else NATIVE_MODE


def require(expected: str) -> None:
    """Fail a run whose process does not compute with the numerics its identity names: a portable
    run in a process whose torch loaded before the pins (imported before ``benchmark``), or whose CPU
    has no AVX2. Read back from the libraries (:func:`in_effect`)."""
    if expected != mode():
        raise ContractError(
            f"numerics: the run asks for '{expected}' numerics, this process has '{mode()}' "
            f"({NATIVE}={os.environ.get(NATIVE, '')!r}, pins {[os.environ.get(k) for k in PINS]})"
        )
    if expected == PORTABLE and (found := in_effect()) != IN_EFFECT:
        raise ContractError(
            f"numerics: portable numerics are not in effect in this process ({found}): torch was imported "
            f"before the benchmark package, or this CPU has no AVX2; import benchmark first, or set {NATIVE}=1"
        )


def worker_env() -> dict[str, str]:
    """The variables a worker on another host needs to compute with this process's numerics."""
    names = (*PINS, NATIVE)
    return {k: os.environ[k] for k in names if k in os.environ}

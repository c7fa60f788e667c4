"""Portable numerics (issue 23 part 1): the pins are in effect in a fresh process that imports the
package, read back from the libraries themselves; a user's own setting and the opt-out are kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmark.contracts import ContractError
from benchmark.models.build import build_network
from benchmark.numerics import NATIVE, NATIVE_MODE, PINS, PORTABLE, mode, pin_environment, require

CPU_FLAGS = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []

PROBE = (
    "import json, benchmark, torch; from benchmark.numerics import in_effect; "
    "torch.nn.Conv2d(16, 32, 3)(torch.randn(8, 16, 32, 32)).sum().backward(); print(json.dumps(in_effect()))"
)


def _probe(**env: str) -> tuple[dict[str, str], str]:
    clean = {k: v for k, v in os.environ.items() if k not in PINS and k != NATIVE}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, "ONEDNN_VERBOSE": "1", **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


@pytest.mark.skipif("avx2" not in CPU_FLAGS, reason="the pins need an x86-64 CPU with AVX2")
def test_a_process_importing_the_package_runs_the_pinned_kernels():
    found, verbose = _probe()
    assert found["aten_cpu_capability"] == "AVX2", "ATen's dispatch, read back from torch"
    assert found["mkl_cbwr"] == "AVX2", "MKL's CNR branch, read back from mkl_serv_cbwr_get"
    assert "onednn_verbose,v1,info,cpu,isa:Intel AVX2\n" in verbose, "oneDNN's own report of the ISA it runs"


def test_a_users_setting_and_the_opt_out_are_respected():
    env = {"ATEN_CPU_CAPABILITY": "default"}
    assert pin_environment(env)["ATEN_CPU_CAPABILITY"] == "default" and env["MKL_CBWR"] == "AVX2"
    assert pin_environment({NATIVE: "1"}) == {}


def test_the_mode_a_run_names_in_its_identity():
    assert mode(dict(PINS)) == PORTABLE
    assert mode({**PINS, NATIVE: "1"}) == NATIVE_MODE
    assert mode({**PINS, "ATEN_CPU_CAPABILITY": "avx512"}) == NATIVE_MODE, "a user's own setting is not portable"
    assert mode({**PINS, NATIVE: "0"}) == PORTABLE


@pytest.mark.skipif("avx512f" not in CPU_FLAGS, reason="on a CPU without AVX-512 torch's own choice is the pin")
def test_a_run_fails_where_torch_loaded_before_the_pins():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import torch; torch.ones(9).sum(); import benchmark; benchmark.numerics.require('portable')",
        ],
        env={k: v for k, v in os.environ.items() if k not in PINS and k != NATIVE},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "torch was imported before the benchmark package" in done.stderr.splitlines()[-1]


def _misaligned(t: torch.Tensor) -> torch.Tensor:
    """A copy of ``t`` whose data starts 4 bytes past a 64-byte boundary (torch allocates 64-byte aligned)."""
    out = torch.empty(t.numel() + 1, dtype=t.dtype)[1:].view_as(t).copy_(t)
    assert out.data_ptr() % 64 == 4
    return out


def _step(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """What a saliency-guided step computes: an input gradient with its graph (double backward) and every
    parameter's gradient of the loss plus its norm."""
    torch.manual_seed(1)  # the same dropout masks
    x = x.clone().requires_grad_(True) if x.data_ptr() % 64 == 0 else x.requires_grad_(True)
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):  # twice differentiable
        loss = torch.nn.functional.cross_entropy(net(x).logits, y)
        (g,) = torch.autograd.grad(loss, x, create_graph=True)
    net.zero_grad()
    (loss + g.pow(2).sum()).backward()
    return [g.detach(), *(p.grad.clone() for p in net.parameters() if p.grad is not None)]


@pytest.mark.parametrize("arch", ["simple_cnn", "gap_cnn", "vit_tiny"])
def test_a_step_does_not_depend_on_where_its_buffers_start(arch):
    """MKL's reproducibility guide names data alignment as a source of varying results: a batch and weights
    4 bytes off the 64-byte boundary give the bitwise-equal gradients of aligned ones (pinned process)."""
    torch.manual_seed(0)
    net = build_network(arch, 1, 10, 28)
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    aligned = _step(net, x, y)
    for p in net.parameters():
        p.data = _misaligned(p.data)
    moved = _step(net, _misaligned(x), y)
    assert len(moved) == len(aligned) > 2
    assert all(torch.equal(a, b) for a, b in zip(aligned, moved))


def test_a_run_whose_numerics_differ_from_the_process_fails_naming_both():
    with pytest.raises(ContractError, match=r"the run asks for 'native' numerics, this process has 'portable'"):
        require(NATIVE_MODE)
    require(PORTABLE)

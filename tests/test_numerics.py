"""Portable numerics (issue 23 part 1): the pins are in effect in a fresh process that imports the
package, read back from the libraries themselves; a user's own setting and the opt-out are kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmark.numerics import NATIVE, PINS, pin_environment

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


def test_a_process_importing_the_package_runs_the_pinned_kernels():
    found, verbose = _probe()
    assert found["aten_cpu_capability"] == "AVX2", "ATen's dispatch, read back from torch"
    assert found["mkl_cbwr"] == "AVX2", "MKL's CNR branch, read back from mkl_serv_cbwr_get"
    assert "onednn_verbose,v1,info,cpu,isa:Intel AVX2\n" in verbose, "oneDNN's own report of the ISA it runs"


def test_a_users_setting_and_the_opt_out_are_respected():
    env = {"ATEN_CPU_CAPABILITY": "default"}
    assert pin_environment(env)["ATEN_CPU_CAPABILITY"] == "default" and env["MKL_CBWR"] == "AVX2"
    assert pin_environment({NATIVE: "1"}) == {}

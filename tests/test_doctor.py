"""``python -m benchmark doctor``: one PASS/FAIL/SKIP line per check and a summary line; exit 0 when nothing
failed, 1 when a check failed (the others still run), 2 for a bad argument (one line, before any compute)."""

from __future__ import annotations

import pytest
import torch

from benchmark.cli import main
from benchmark.contracts import Method
from benchmark.doctor import checks
from benchmark.registry import METHODS

SMALL = ["doctor", "--device", "cpu", "--archs", "gap_cnn", "--image-size", "32"]
BROKEN = "_doctor_test_broken"


class Broken(Method):
    """Test-only: a loss that raises; registered only inside the test that uses it (``broken_method``), so no other
    test of the worker sees it among the methods (they iterate over every registered method)."""

    name = BROKEN
    citation = "test"
    hparams = {}

    def loss(self, net, batch, state):
        raise RuntimeError("broken on purpose")


def verdicts(out: str) -> dict[str, tuple[str, str]]:
    """Check name -> (status, detail), from the verdict lines of the doctor's output."""
    found = {}
    for line in out.splitlines():
        status, _, rest = line.partition("  ")
        if status in ("PASS", "FAIL", "SKIP"):
            name, _, detail = rest.strip().partition("  ")
            found[name] = (status, detail.strip())
    return found


def test_the_cpu_doctor_passes_with_a_line_per_check_and_skips_the_cuda_checks_saying_why(capsys):
    code = main([*SMALL, "--methods", "erm", "rrr"])
    out = capsys.readouterr().out
    found = verdicts(out)
    steps = {f"step {m}/gap_cnn {p}" for m in ("erm", "rrr") for p in ("fp32", "bf16")}
    assert set(found) == {
        "device facts",
        "CUDA facts",
        *steps,
        "no-host-sync guard",
        "sweep --jobs auto",
        "checkpoint resume",
    }
    assert code == 0, out
    assert {name for name, (status, _) in found.items() if status == "SKIP"} == {"CUDA facts", "no-host-sync guard"}
    assert "no CUDA device" in found["CUDA facts"][1] or "not asked for" in found["CUDA facts"][1]
    assert "set_sync_debug_mode needs CUDA" in found["no-host-sync guard"][1]
    assert all("first step" in found[s][1] and "n.a. on CPU" in found[s][1] for s in steps)
    assert "numerics" in found["device facts"][1] and "CUDA_VISIBLE_DEVICES" in found["device facts"][1]
    assert "2 runs, 2 valid records" in found["sweep --jobs auto"][1]
    assert "bitwise equal" in found["checkpoint resume"][1]
    assert out.splitlines()[-1].startswith("doctor: 9 checks: 7 passed, 0 failed, 2 skipped in ")


@pytest.fixture
def broken_method(monkeypatch):
    METHODS.names()  # the plug-ins loaded first, so the registry's own loading cannot drop the test class
    monkeypatch.setitem(METHODS._items, BROKEN, Broken)


def test_a_method_whose_loss_raises_fails_by_name_and_the_other_checks_still_run(capsys, broken_method):
    code = main([*SMALL, "--methods", "erm", BROKEN, "--skip-sweep"])
    out = capsys.readouterr().out
    found = verdicts(out)
    assert code == 1
    failed = {name: detail for name, (status, detail) in found.items() if status == "FAIL"}
    assert set(failed) == {f"step {BROKEN}/gap_cnn fp32", f"step {BROKEN}/gap_cnn bf16"}
    assert all("RuntimeError: broken on purpose" in d and "test_doctor.py" in d for d in failed.values())
    assert found["step erm/gap_cnn fp32"][0] == found["checkpoint resume"][0] == "PASS"
    assert found["sweep --jobs auto"] == ("SKIP", "--skip-sweep")
    summary = out.splitlines()[-1]
    assert " 2 failed, " in summary and f"FAILED: step {BROKEN}/gap_cnn fp32, step {BROKEN}/gap_cnn bf16" in summary


BAD = [
    (["--device", "gpu"], "--device: device 'gpu' unknown"),
    (["--archs", "resnet5"], "unknown arch 'resnet5'; did you mean 'resnet50'?"),
    (["--archs", "vit_tiny", "--image-size", "30"], "--archs vit_tiny at --image-size 30"),
    (["--image-size", "0"], "--image-size must be an integer >= 1, got 0"),
    (["--batch-size", "-2"], "--batch-size must be an integer >= 1, got -2"),
    (["--methods", "sgtt"], "unknown method 'sgtt'; did you mean 'sgt'?"),
    (["--image-size", "big"], "--image-size: invalid int value: 'big'"),
]
if not torch.cuda.is_available():
    BAD.append((["--device", "cuda"], "--device cuda: device 'cuda': CUDA is not available on this machine"))


@pytest.mark.parametrize(("args", "message"), BAD)
def test_a_bad_argument_is_one_line_and_exit_2_before_any_compute(args, message, capsys, monkeypatch):
    def no_checks(*_args, **_kwargs):
        raise AssertionError("a check ran")

    monkeypatch.setattr(checks, "run_checks", no_checks)
    try:
        code = main(["doctor", *args])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err


def test_the_guard_verdict_names_the_cuda_steps_that_waited_for_the_device():
    """On CUDA (only the device's type is read here), the guard line sums up the step lines: a FAIL naming the
    steps whose detail says they synchronized, else a PASS counting the guarded steps; SKIPped steps not counted."""
    from benchmark.doctor.steps import SYNCED, guard_verdict
    from benchmark.doctor.verdicts import Verdict

    cuda = torch.device("cuda")
    steps = [
        Verdict("PASS", "step erm/resnet50 fp32", "first step 0.10 s"),
        Verdict("FAIL", "step rrr/resnet50 fp32", f"the step {SYNCED}: RuntimeError: ... (methods/rrr.py:90 in loss)"),
        Verdict("SKIP", "step erm/resnet50 bf16", "no bfloat16"),
    ]
    failed = guard_verdict(cuda, steps)
    assert failed.status == "FAIL" and failed.detail.endswith("1 of 2 step(s) waited for the device: rrr/resnet50 fp32")
    passed = guard_verdict(cuda, [steps[0], steps[2]])
    assert passed.status == "PASS" and passed.detail.startswith("1 step(s) ran under torch.cuda.set_sync_debug_mode")

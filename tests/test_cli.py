"""The command line: listing, a real run, clean failures, and a dropped-in method file."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env=None, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


# 12x12 digits (the default 28x28): a run of one epoch in about a second, for tests that read what a run writes
SMALL_DIGITS = ["--data", "image_size=12", "--data", "digit_size=8", "--data", "patch_size=3"]


def test_list_shows_every_kind(capsys):
    """In process (``benchmark.cli.main``); ``list methods`` through ``python -m benchmark`` is in the tests of
    a dropped-in method file below."""
    from benchmark.cli import main as cli_main

    def listed(kind: str) -> str:
        assert cli_main(["list", kind]) == 0
        return capsys.readouterr().out

    assert "erm" in listed("methods")
    assert "decoy_digits" in listed("datasets")
    out = listed("archs")
    assert all(name in out for name in ("simple_cnn", "resnet18", "resnet50", "densenet121", "vit_tiny"))


BAD_INPUT = pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "nope"], "unknown method 'nope'; known: "),
        (["--method", "erm", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["--method", "erm", "--arch", "nope"], "unknown arch 'nope'; known: densenet121, gap_cnn, resnet18"),
        (["--method", "erm", "--set", "lam=1"], "method 'erm': unknown hyperparameter(s) ['lam']"),
        (["--method", "erm", "--data", "noise=loud"], "hyperparameter 'noise' expects float, got 'loud'"),
        (["--method", "erm", "--epochs", "0"], "'epochs' must be a positive integer"),
    ],
)


def bad_run(args, out):
    """``run`` with the defaults dataset decoy_digits and arch simple_cnn, ``args`` overriding them."""
    base = {"--dataset": "decoy_digits", "--arch": "simple_cnn"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    return ["run", *[item for pair in base.items() for item in pair], "--out", str(out), "--quiet"]


@BAD_INPUT
def test_bad_input_fails_with_one_clear_line_and_no_record(tmp_path, capsys, args, message):
    """In process (``benchmark.cli.main``, what ``python -m benchmark`` calls); the same table through the real
    process is the slow test below, and refusals' real exit path (exit status 2, one stderr line, nothing
    written) runs by default in tests/test_input_validation_cli.py::test_subprocess_exit_path."""
    from benchmark.cli import main as cli_main

    code = cli_main(bad_run(args, tmp_path))
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and message in err, err
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
@BAD_INPUT
def test_bad_input_through_python_dash_m_fails_with_one_clear_line_and_no_record(tmp_path, args, message):
    """The table above, each case in its own ``python -m benchmark`` (about 5 s of CPU apiece): slow, since the
    in-process test asserts the same lines and tests/test_input_validation_cli.py the subprocess exit path."""
    result = cli(*bad_run(args, tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr
    assert not any(tmp_path.iterdir())


def test_run_writes_record_and_variant_resolves(tmp_path):
    result = cli(
        "run",
        "--method",
        "erm",
        "--dataset",
        "clean_digits",
        *SMALL_DIGITS,
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
        "--quiet",
        "--no-saliency",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    record = json.loads(Path(summary["record"]).read_text())
    assert record["config"]["dataset"] == "decoy_digits" and record["config"]["dataset_params"]["decoy"] is False
    assert set(record["metrics"]) == {"train", "val", "test"}


def project_with_methods(tmp_path, files):
    """A copy of the plug-in folders with more method files (name -> source); the env that points runs at it."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "methods", root / "methods")
    shutil.copytree(ROOT / "datasets", root / "datasets")
    for file_name, source in files.items():
        (root / "methods" / file_name).write_text(source)
    return {"SALBENCH_ROOT": str(root), "SALBENCH_PARAMS": str(ROOT / "params.yaml")}


def readme_method_snippet():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Adding a method") :]
    start = section.index("\n", section.index("```python")) + 1  # the fence may carry file=PATH
    return section[start : section.index("\n```", start)] + "\n"


# A method that touches no other file, beside the README's (its own name: both are in one project)
DROPPED_METHOD = (
    '"""Label smoothing (Szegedy et al. 2016): a method that touches no other file."""\n'
    "import torch.nn.functional as F\n"
    "from benchmark.contracts import Cost, HParam, Method\n"
    "from benchmark.registry import register_method\n\n"
    "@register_method\n"
    "class DroppedSmoothing(Method):\n"
    "    name = 'dropped_smoothing'\n"
    "    citation = 'Szegedy et al. CVPR 2016'\n"
    "    cost = Cost(forward=1, backward=1)\n"
    "    hparams = {'eps': HParam(0.1, 'smoothing')}\n\n"
    "    def loss(self, net, batch, state):\n"
    "        loss = F.cross_entropy(net(batch.x).logits, batch.y, label_smoothing=self.eps)\n"
    "        return loss, {}\n"
)


def test_readme_snippet_and_a_dropped_method_file_are_listed_and_runnable(tmp_path):
    """The README's snippet runs as printed, and a file dropped into methods/ is found: one project, one listing
    (a ``python -m benchmark`` is about 5 s of CPU)."""
    env = project_with_methods(
        tmp_path, {"label_smoothing.py": readme_method_snippet(), "dropped_smoothing.py": DROPPED_METHOD}
    )
    listed = cli("list", "methods", env=env).stdout
    assert "label_smoothing" in listed and "dropped_smoothing" in listed, listed

    def run(method, *extra):
        args = ["--dataset", "decoy_digits", *SMALL_DIGITS, *extra, "--epochs", "1", "--out", str(tmp_path / method)]
        result = cli("run", "--method", method, *args, "--quiet", "--no-saliency", env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(Path(json.loads(result.stdout)["record"]).read_text())

    run("label_smoothing")
    assert run("dropped_smoothing", "--set", "eps=0.2")["config"]["method_params"] == {"eps": 0.2}


def test_list_methods_shows_boolean_defaults_as_declared(capsys):
    """tabulate's column wrapping once turned the text 'False' into True (a bool cast of a string)."""
    from benchmark.cli import main as cli_main

    assert cli_main(["list", "methods"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| relu ", "| invert_saliency "))]
    assert rows and all(line.split("|")[2].strip() == "False" for line in rows)


def test_a_diverging_run_says_which_epoch_terms_and_lr_in_one_line_and_keeps_its_failure_record(tmp_path, capsys):
    """Issue 27: `run --lr 1e12` ended in a NonFiniteLoss traceback; now one line and a failure record."""
    from benchmark.cli import main as cli_main

    argv = ["run", "--method", "erm", "--dataset", "clean_digits", *SMALL_DIGITS, "--epochs", "2", "--lr", "1e12"]
    code = cli_main([*argv, "--out", str(tmp_path), "--quiet", "--no-saliency"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert "epoch 1: the training diverged: non-finite train_loss, ce (lr 1e+12; try a smaller learning rate" in err[0]
    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["status"] == "failed" and record["error"]["type"] == "NonFiniteLoss" and str(path) in err[0]

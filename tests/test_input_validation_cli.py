"""Malformed inputs to the command line: each one exits 2 with one line naming the culprit, no
traceback, and leaves the output and data trees as they were (issue 12, the run/CLI half).

Most cases run in-process through ``benchmark.cli.main`` with ``SALBENCH_PARAMS`` pointing at a
tiny params.yaml (``sweep_helpers.tiny_params`` + one edit); a few run ``python -m benchmark`` as
a subprocess, for the real exit path. Plug-in cases point ``SALBENCH_ROOT`` at a copy of
``methods/`` and ``datasets/`` with one broken file, and give the method registry a fresh state.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from sweep_helpers import tiny_params, write_params

import benchmark.registry as registry_module
from benchmark.cli import main
from benchmark.registry import METHODS

ROOT = Path(__file__).resolve().parent.parent
NO_CUDA = not torch.cuda.is_available()
PAPER = {
    "epochs": 1,
    "batch_size": 20,
    "optimizer": {"name": "sgd", "lr": 0.005, "momentum": 0.9},
    "schedule": {"name": "step", "step_size": 12, "gamma": 0.1},
    "device": "cuda",
    "evaluation": {"enabled": False},
}
TINY_RUN = ["--dataset", "tiny_digits", "--arch-param", "hidden=16", "--epochs", "1", "--no-saliency", "--quiet"]


def listing(root: Path) -> list[tuple[str, int, int]]:
    """Every file and folder under ``root``: (relative path, size, mtime in ns) - 'nothing written'."""
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


def base_params() -> dict[str, Any]:
    params = tiny_params(seeds=1)
    params["profiles"]["paper"] = copy.deepcopy(PAPER)
    return params


@pytest.fixture
def place(tmp_path, monkeypatch):
    """tmp_path holds params.yaml, out/ (records), data/ (SALBENCH_DATA), a file and the cwd."""
    write_params(tmp_path / "params.yaml", base_params())
    (tmp_path / "out").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "a_file").write_text("not a folder\n")
    monkeypatch.setenv("SALBENCH_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def call(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code: int, err: str, fragments: tuple[str, ...], before, after, lines: int | None = 1) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    assert all(fragment in err for fragment in fragments), err
    if lines is not None:
        assert len(err.strip().splitlines()) == lines, err
    assert before == after


# --------------------------------------------------------------------------- the table
def edit(path: str, value: Any) -> Callable[[dict], None]:
    """An edit of params.yaml: ``path`` a dotted key (created as needed), ``value`` its new value."""

    def apply(params: dict) -> None:
        *parents, last = path.split(".")
        node = params
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return apply


def replace(key: str, value: Any) -> Callable[[dict], None]:
    def apply(params: dict) -> None:
        params[key] = value(params) if callable(value) else value

    return apply


RUN = ["run", "--method", "erm", *TINY_RUN, "--out", "out"]
SWEEP = ["sweep", "tiny", "--out", "out", "--quiet"]
CASES: list[tuple[str, Callable[[dict], None] | None, list[str], tuple[str, ...]]] = [
    # run flags
    ("lr-nan", None, [*RUN, "--lr", "nan"], ("--lr", "optimizer.lr", "nan")),
    ("lr-negative", None, [*RUN, "--lr", "-1"], ("--lr", "-1")),
    ("lr-inf", None, [*RUN, "--lr", "inf"], ("--lr", "inf")),
    ("lr-zero", None, [*RUN, "--lr", "0"], ("--lr", "> 0")),
    ("lr-not-a-number", None, [*RUN, "--lr", "fast"], ("--lr", "'fast'")),
    ("momentum-nan", None, [*RUN, "--optimizer", "sgd", "--momentum", "nan"], ("--momentum", "optimizer.momentum")),
    ("momentum-one", None, [*RUN, "--optimizer", "sgd", "--momentum", "1"], ("--momentum", "< 1")),
    ("weight-decay-negative", None, [*RUN, "--weight-decay", "-1"], ("--weight-decay", "optimizer.weight_decay")),
    ("device-tpu", None, [*RUN, "--device", "tpu"], ("'tpu'", "auto, cpu, cuda")),
    ("out-is-a-file", None, [*RUN, "--out", "a_file"], ("--out", "a_file", "is a file")),
    ("out-under-a-file", None, [*RUN, "--out", "a_file/runs"], ("--out", "a_file", "file")),
    ("epochs-zero", None, [*RUN, "--epochs", "0"], ("'epochs'",)),
    ("batch-size-zero", None, [*RUN, "--batch-size", "0"], ("'batch_size'",)),
    (
        "method-typo",
        None,
        ["run", "--method", "sgtt", *TINY_RUN, "--out", "out"],
        ("unknown method 'sgtt'", "did you mean 'sgt'"),
    ),
    ("arch-typo", None, [*RUN, "--arch", "resnt18"], ("unknown arch 'resnt18'", "did you mean 'resnet18'")),
    (
        "sgt-fraction-7.5",
        None,
        ["run", "--method", "sgt", "--set", "fraction=7.5", *TINY_RUN, "--out", "out"],
        ("method 'sgt'", "'fraction'", "[0, 1]", "7.5"),
    ),
    (
        "sgt-kl-weight-negative",
        None,
        ["run", "--method", "sgt", "--set", "kl_weight=-1", *TINY_RUN, "--out", "out"],
        ("'kl_weight'",),
    ),
    (
        "smoot-bounds",
        None,
        ["run", "--method", "smoot", "--set", "min_fraction=0.7", *TINY_RUN, "--out", "out"],
        ("method 'smoot'", "min_fraction"),
    ),
    (
        "sage-temperature-zero",
        None,
        ["run", "--method", "sage", "--set", "temperature=0", *TINY_RUN, "--out", "out"],
        ("method 'sage'", "'temperature'"),
    ),
    (
        "sage-blur-sigma",
        None,
        ["run", "--method", "sage", "--set", "blur_sigma=3", *TINY_RUN, "--out", "out"],
        ("'blur_sigma'",),
    ),
    (
        "rrr-lam-negative",
        None,
        ["run", "--method", "rrr", "--set", "lam=-5", *TINY_RUN, "--out", "out"],
        ("method 'rrr'", "'lam'"),
    ),
    (
        "cyborg-alpha",
        None,
        ["run", "--method", "cyborg", "--set", "alpha=1.5", *TINY_RUN, "--out", "out"],
        ("'alpha'",),
    ),
    ("set-without-value", None, [*RUN, "--set", "fraction"], ("--set expects key=value", "'fraction'")),
    (
        "arch-width-zero",
        None,
        ["run", "--method", "erm", "--dataset", "tiny_digits", "--arch-param", "hidden=0", "--out", "out"],
        ("arch 'simple_cnn'", "'hidden'"),
    ),
    ("arch-param-twice", None, [*RUN, "--arch-param", "hidden=8"], ("--arch-param", "'hidden'", "twice")),
    (
        "vit-heads",
        None,
        [
            "run",
            "--method",
            "erm",
            "--dataset",
            "tiny_digits",
            "--arch",
            "vit_tiny",
            "--arch-param",
            "heads=3",
            "--out",
            "out",
            "--quiet",
        ],
        ("arch 'vit_tiny'", "heads"),
    ),
    ("eval-probe-size-zero", None, [*RUN, "--eval", "probe_size=0"], ("'probe_size'",)),
    ("eval-threshold-zero", None, [*RUN, "--eval", "annotation_threshold=0"], ("'annotation_threshold'",)),
    ("profile-typo", None, [*RUN, "--profile", "papr"], ("unknown profile 'papr'", "did you mean 'paper'")),
    # profile values
    ("profile-lr-nan", edit("profiles.quick.optimizer.lr", float("nan")), RUN, ("profiles.quick", "optimizer.lr")),
    (
        "profile-lr-string",
        edit("profiles.quick.optimizer.lr", "1e-3"),
        RUN,
        ("profiles.quick", "optimizer.lr", "'1e-3'"),
    ),
    (
        "profile-weight-decay",
        edit("profiles.quick.optimizer.weight_decay", -1.0),
        SWEEP,
        ("profiles.quick", "optimizer.weight_decay"),
    ),
    (
        "profile-momentum-nan",
        edit("profiles.quick.optimizer", {"name": "sgd", "lr": 0.1, "momentum": float("nan")}),
        RUN,
        ("profiles.quick", "optimizer.momentum"),
    ),
    (
        "profile-step-size",
        edit("profiles.paper.schedule.step_size", -3),
        [*SWEEP, "--profile", "paper", "--dry-run"],
        ("profiles.paper", "schedule.step_size"),
    ),
    (
        "profile-gamma",
        edit("profiles.paper.schedule.gamma", -0.1),
        [*RUN, "--profile", "paper", "--device", "cpu"],
        ("profiles.paper", "schedule.gamma"),
    ),
    (
        "profile-schedule-typo",
        edit("profiles.quick.schedule", {"name": "constant", "step_size": 3}),
        RUN,
        ("profiles.quick", "schedule 'constant'", "step_size"),
    ),
    ("profile-device-tpu", edit("profiles.quick.device", "tpu"), SWEEP, ("profiles.quick", "'tpu'", "auto, cpu, cuda")),
    (
        "profiles-as-list",
        replace("profiles", lambda p: [p["profiles"]]),
        RUN,
        ("params.yaml: profiles: must be a mapping of names",),
    ),
    # studies
    (
        "studies-as-list",
        replace("studies", lambda p: [p["studies"]]),
        SWEEP,
        ("params.yaml: studies: must be a mapping of names",),
    ),
    ("study-entry-a-list", edit("studies.tiny", ["erm"]), SWEEP, ("studies.tiny: must be a mapping", "['erm']")),
    ("study-typo", None, ["sweep", "tinyy", "--out", "out"], ("unknown study 'tinyy'", "did you mean 'tiny'")),
    (
        "study-sgt-fraction",
        edit("studies.tiny.methods", [{"name": "sgt", "params": {"fraction": 7.5}}]),
        SWEEP,
        ("studies.tiny", "'fraction'", "7.5"),
    ),
    (
        "study-smoot-bounds",
        edit("studies.tiny.methods", [{"name": "smoot", "params": {"max_fraction": 0.2}}]),
        SWEEP,
        ("studies.tiny", "max_fraction"),
    ),
    ("sweep-out-is-a-file", None, ["sweep", "tiny", "--out", "a_file"], ("--out", "a_file")),
    ("sweep-jobs-zero", None, [*SWEEP, "--jobs", "0"], ("--jobs", "'0'")),
    (
        "sweep-log-dir-is-a-file",
        None,
        [*SWEEP, "--executor", "slurm", "--cluster", "debug", "--log-dir", "a_file/logs"],
        ("--log-dir", "a_file"),
    ),
    ("seed-negative", None, [*RUN, "--seed", "-1"], ("'seed'", "-1")),
    ("eval-unknown-attribution", None, [*RUN, "--eval", "attributions=saliency"], ("'attributions'", "'saliency'")),
    ("runs-study-typo", None, ["runs", "tinyy", "--out", "out"], ("unknown study 'tinyy'", "did you mean 'tiny'")),
    # show and list
    ("list-typo", None, ["list", "method"], ("invalid choice", "'method'")),
]
if NO_CUDA:
    CASES += [
        ("device-cuda-absent", None, [*RUN, "--device", "cuda"], ("CUDA is not available", "--device cpu")),
        (
            "profile-cuda-absent",
            None,
            [*RUN, "--profile", "paper"],
            ("CUDA is not available", "--device cpu", "profile 'paper'"),
        ),
        ("sweep-cuda-absent", None, [*SWEEP, "--profile", "paper"], ("profile 'paper'", "CUDA is not available")),
    ]


@pytest.mark.parametrize("name, change, argv, fragments", CASES, ids=[case[0] for case in CASES])
def test_malformed_input_is_refused_in_one_line_writing_nothing(place, capsys, name, change, argv, fragments):
    if change is not None:
        params = base_params()
        change(params)
        write_params(place / "params.yaml", params)
    before = listing(place)
    code, out, err = call(argv, capsys)
    assert_refused(code, err, fragments, before, listing(place))
    assert not out or argv[0] == "sweep"


def test_dry_run_lists_every_invalid_value_and_exits_2(place, capsys):
    params = base_params()
    params["studies"]["tiny"]["methods"] = [
        "erm",
        {"name": "sgt", "grid": {"fraction": [0.5, 7.5]}},
        {"name": "sage", "params": {"temperature": 0.0}},
    ]
    write_params(place / "params.yaml", params)
    before = listing(place)
    code, out, err = call([*SWEEP, "--dry-run"], capsys)
    assert_refused(code, err, ("'fraction'", "7.5", "'temperature'"), before, listing(place), lines=2)
    assert "erm/simple_cnn" in out and "sgt[fraction=0.5]" in out  # the valid runs are listed


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
def test_dry_run_of_a_gpu_profile_warns_about_cuda_and_exits_0(place, capsys):
    before = listing(place)
    code, out, err = call([*SWEEP, "--profile", "paper", "--dry-run"], capsys)
    assert code == 0 and "Traceback" not in err
    assert err.startswith("WARNING: profile 'paper'") and "CUDA is not available" in err
    assert "erm/simple_cnn" in out and listing(place) == before


def test_slurm_without_sbatch_refuses_unless_local_mode_is_named(place, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    before = listing(place)
    code, _, err = call([*SWEEP, "--executor", "slurm", "--log-dir", "logs"], capsys)
    assert_refused(code, err, ("--executor slurm", "sbatch", "--cluster local"), before, listing(place))
    pytest.importorskip("submitit")
    write_params(
        place / "params.yaml",
        {
            **base_params(),
            "profiles": {"quick": {**base_params()["profiles"]["quick"], "slurm": {"runs_per_job": "many"}}},
        },
    )
    before = listing(place)
    code, _, err = call([*SWEEP, "--executor", "slurm", "--cluster", "local", "--log-dir", "logs"], capsys)
    assert_refused(code, err, ("profiles.quick.slurm.runs_per_job", "'many'"), before, listing(place))


# --------------------------------------------------------------------------- show
@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("list.json", "[1, 2]\n", "not a JSON object"),
        ("binary.json", b"\xc0\xff\x00\x17" * 16, "not a readable JSON record"),
        ("fields.json", json.dumps({"run_id": "x"}), "fields.json"),
        ("notes.txt", "hello\n", "not a run record"),
        ("a_folder", None, "a folder, not a run record"),
        ("no_such_run", "missing", "no record 'no_such_run'"),
        ("../elsewhere.json", "missing", "no such record file"),
    ],
    ids=["json-list", "binary", "missing-fields", "not-json", "folder", "unknown-id", "missing-path"],
)
def test_show_of_something_that_is_not_a_record(place, capsys, name, content, fragment):
    path = place / "out" / name
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content != "missing":
        path.write_text(content)
    before = listing(place)
    target = name if content == "missing" else str(path)
    code, out, err = call(["show", target, "--runs", "out"], capsys)
    assert_refused(code, err, (fragment,), before, listing(place))
    assert not out


# --------------------------------------------------------------------------- plug-ins
BROKEN = {
    "syntax-error": ("def broken(:\n", "SyntaxError"),
    "import-error": ("import nonexistent_module_for_the_test\n", "ModuleNotFoundError"),
    "raises-at-import": ("raise RuntimeError('boom at import')\n", "boom at import"),
    "system-exit": ("raise SystemExit(0)\n", "SystemExit(0)"),
}


@pytest.fixture
def fresh_methods(monkeypatch):
    """The method registry as if nothing had been loaded yet (restored afterwards)."""
    METHODS.load()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in the listed tree
    monkeypatch.setattr(METHODS, "_items", dict(METHODS._items))
    monkeypatch.setattr(METHODS, "_errors", {})
    monkeypatch.setattr(METHODS, "_failed_names", {})
    monkeypatch.setattr(METHODS, "_loaded", False)
    namespace = sys.modules["salbench_plugins.methods"]
    monkeypatch.setattr(namespace, "__path__", list(namespace.__path__))
    yield METHODS
    sys.modules.pop("salbench_plugins.methods.broken", None)


def project_with(tmp_path: Path, source: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "methods", root / "methods", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "datasets", root / "datasets", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "methods" / "broken.py").write_text(source)
    return root


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_method_file_is_named_by_the_command_that_needs_it(place, capsys, monkeypatch, fresh_methods, kind):
    source, error = BROKEN[kind]
    monkeypatch.setenv("SALBENCH_ROOT", str(project_with(place, source)))
    before = listing(place)
    code, out, err = call(["run", "--method", "broken", *TINY_RUN, "--out", "out"], capsys)
    assert_refused(code, err, ("method 'broken'", "broken.py", error), before, listing(place))
    code, out, err = call(["list", "methods"], capsys)
    assert code == 0 and "| sgt " in out and "| erm " in out and "broken" not in out
    assert err.count("\n") == 1 and err.startswith("warning: plug-in ") and "broken.py" in err and error in err


def test_run_erm_works_while_a_method_file_is_broken(place, capsys, monkeypatch, fresh_methods):
    monkeypatch.setenv("SALBENCH_ROOT", str(project_with(place, BROKEN["syntax-error"][0])))
    code, out, err = call(["run", "--method", "erm", *TINY_RUN, "--out", "out"], capsys)
    assert code == 0, err
    assert Path(json.loads(out)["record"]).is_file()


def test_a_broken_entry_point_plugin_is_named_and_skipped(place, capsys, monkeypatch, fresh_methods):
    group = "saliency_benchmark.methods"
    broken = importlib.metadata.EntryPoint("brokenep", "nonexistent_plugin_for_the_test", group)
    monkeypatch.setattr(
        registry_module, "entry_points", lambda group: [broken] if group == "saliency_benchmark.methods" else []
    )
    code, out, err = call(["list", "methods"], capsys)
    assert code == 0 and "| erm " in out and "entry point 'brokenep'" in err and "Traceback" not in err
    before = listing(place)
    code, _, err = call(["run", "--method", "brokenep", *TINY_RUN, "--out", "out"], capsys)
    assert_refused(
        code, err, ("method 'brokenep'", "entry point 'brokenep'", "ModuleNotFoundError"), before, listing(place)
    )
    code, _, err = call(["run", "--method", "ermm", *TINY_RUN, "--out", "out"], capsys)
    assert_refused(code, err, ("did you mean 'erm'", "not loaded: entry point 'brokenep'"), before, listing(place))


# --------------------------------------------------------------------------- stats (issue 11's command)
@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """One done ERM run of the tiny study, for the stats cases that need records."""
    from sweep_helpers import sweep

    folder = tmp_path_factory.mktemp("stats") / "tiny"
    assert sweep(base_params(), folder).ok == 1
    return folder


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["stats", "tinyy"], ("unknown study 'tinyy'", "did you mean 'tiny'")),
        (["stats", "tiny", "--baseline", "ermm"], ("unknown baseline 'ermm'",)),
        (["stats", "tiny", "--metric", "test/accuracyy"], ("unknown metric(s)", "test/accuracyy")),
        (["stats", "tiny", "--alpha", "2"], ("--alpha", "2")),
    ],
    ids=["unknown-study", "unknown-baseline", "unknown-metric", "alpha"],
)
def test_stats_refuses_unknown_names(place, capsys, swept, argv, fragments):
    if not (ROOT / "benchmark" / "cli" / "stats_cmd.py").is_file():
        pytest.skip("no stats command")
    before, records = listing(place), listing(swept)
    code, out, err = call([*argv, "--out", str(swept), "--dest", "boards"], capsys)
    assert_refused(code, err, fragments, before, listing(place))
    assert listing(swept) == records and not out


# --------------------------------------------------------------------------- the real exit path
def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        capture_output=True,
        text=True,
        cwd=env["HOME_DIR"],
        env={**os.environ, **env},
        timeout=300,
    )


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["run", "--method", "sgt", "--set", "fraction=7.5", *TINY_RUN, "--out", "out"], ("'fraction'", "7.5")),
        (["run", "--method", "erm", *TINY_RUN, "--lr", "nan", "--out", "out"], ("--lr", "nan")),
        (["sweep", "tiny", "--out", "a_file"], ("--out", "a_file")),
        (["run", "--method", "broken", *TINY_RUN, "--out", "out"], ("broken.py", "SystemExit(0)")),
    ],
    ids=["sgt-fraction", "lr-nan", "sweep-out-file", "plugin-system-exit"],
)
def test_subprocess_exit_path(tmp_path, argv, fragments):
    write_params(tmp_path / "params.yaml", base_params())
    (tmp_path / "out").mkdir()
    (tmp_path / "a_file").write_text("x\n")
    env = {
        "SALBENCH_PARAMS": str(tmp_path / "params.yaml"),
        "SALBENCH_DATA": str(tmp_path / "data"),
        "SALBENCH_ROOT": str(project_with(tmp_path, BROKEN["system-exit"][0])),
        "HOME_DIR": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    before = listing(tmp_path)
    result = cli(*argv, env=env)
    assert_refused(result.returncode, result.stderr, fragments, before, listing(tmp_path))
    assert result.stdout == ""


# --------------------------------------------------------------------------- what `list` promises
def test_list_prints_help_texts_ranges_and_the_params_variants(place, capsys):
    code, out, err = call(["list", "methods"], capsys)
    assert code == 0 and not err
    assert "share of features masked" in out and "[0, 1]" in out  # SGT's fraction: its help and its range
    code, out, _ = call(["list", "datasets"], capsys)
    assert code == 0 and "variants in params.yaml" in out and "tiny_digits" in out and "image_size=12" in out
    code, out, _ = call(["list", "archs"], capsys)
    assert code == 0 and "token width" in out


def test_help_starts_without_torch():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from benchmark.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.stdout.strip().endswith("False") and "run " in result.stdout and "stats" in result.stdout

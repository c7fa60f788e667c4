"""The submission checks 1-4 (``benchmark.submission``, issue 15): a good method passes, each broken one
gets exactly its failure line; and the training loop's honesty by construction (train rows only, no
annotations for a method that does not declare them), spied through ``execute``.

The methods under test are files in a temporary project's ``methods/`` (``SALBENCH_ROOT``; the project's
own methods, datasets and params.yaml linked beside them) and an installed package's entry points (a
``*.dist-info`` with ``entry_points.txt`` on ``PYTHONPATH``). The registry loads once per process, so
every check runs in ONE subprocess (``SCRIPT``) whose JSON answer the tests read (module fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRAIN = dict(
    epochs=1,
    batch_size=64,
    optimizer={"name": "adam", "lr": 0.001, "weight_decay": 0.0},
    schedule={"name": "constant"},
    evaluation={"enabled": False},
)
DIGITS = dict(dataset="decoy_digits", arch="simple_cnn", dataset_params={"test_fraction": 0.8, "val_fraction": 0.1})
FACES = dict(dataset="toy_faces", arch="gap_cnn", dataset_params={"train_size": 96, "val_size": 64, "test_size": 96})
UNANNOTATED = dict(FACES, dataset_params={**FACES["dataset_params"], "annotated_fraction": 0.0})


def method_file(
    name: str,
    loss: str,
    *,
    url: str = "https://arxiv.org/abs/2401.00001",
    head: str = "",
    hparams: str = '{"noise": HParam(0.1, "std of the input noise", low=0.0, high=1.0)}',
    declare: str = "",
    cost: str = "Cost(forward=1, backward=1)",
    doc: str = "A test method: cross-entropy on a noisy input,\n\n    L = CE(f(x + noise), y)\n",
) -> str:
    """A method file: a class ``name`` with the given docstring, url, hyperparameters, class body and loss body."""
    body = textwrap.indent(textwrap.dedent(loss), " " * 8)
    return (
        f'"""{doc}"""\n'
        f"import numpy as np\nimport torch\nimport torch.nn.functional as F\n"
        f"from benchmark.contracts import Cost, HParam, Method\nfrom benchmark.registry import register_method\n"
        f"{head}\n\n\n"
        f"@register_method\nclass M(Method):\n"
        f"    name = {name!r}\n    citation = 'Nobody. A method. Nowhere 2024'\n    url = {url!r}\n"
        f"    cost = {cost}\n    hparams = {hparams}\n    {declare}\n\n"
        f"    def loss(self, net, batch, state):\n{body}"
        f"        return ce, {{'ce': ce.detach()}}\n"
    )


NOISY = """\
    x = batch.x + self.noise * torch.randn(batch.x.shape, generator=state.generator, device=batch.x.device)
    ce = F.cross_entropy(net(x).logits, batch.y)
"""
PLAIN = "ce = F.cross_entropy(net(batch.x).logits, batch.y)\n"
METHODS = {
    "good": method_file("good", NOISY),
    "nourl": method_file("nourl", PLAIN, url=""),
    "norange": method_file("norange", PLAIN, hparams='{"weight": HParam(0.5, "weight of the term")}'),
    "nanloss": method_file("nanloss", "ce = F.cross_entropy(net(batch.x).logits, batch.y) * float('nan')\n"),
    "detached": method_file(
        "detached", "logits = net(batch.x).logits.detach().requires_grad_()\nce = F.cross_entropy(logits, batch.y)\n"
    ),
    "raises": method_file(
        "raises", "ce = F.cross_entropy(net(batch.x).logits, batch.y) * self.weights[0]\n", declare="weights = []"
    ),
    "globalrand": method_file(
        "globalrand", "x = batch.x + 0.1 * torch.rand(batch.x.shape)\nce = F.cross_entropy(net(x).logits, batch.y)\n"
    ),
    "unseeded": method_file(
        "unseeded",
        "noise = np.random.default_rng().random(batch.x.shape, dtype=np.float32)\n"
        "x = batch.x + 0.1 * torch.from_numpy(noise)\n"
        "ce = F.cross_entropy(net(x).logits, batch.y)\n",
    ),
    "needsann": method_file(
        "needsann",
        "ce = F.cross_entropy(net(batch.x).logits, batch.y) + 0 * batch.saliency.sum()\n",
        declare="needs_annotations = True",
    ),
    "undeclared": method_file(
        "undeclared", "ce = F.cross_entropy(net(batch.x).logits, batch.y) + 0 * (batch.saliency > 0.5).sum()\n"
    ),
    "underdeclared": method_file(
        "underdeclared", "ce = sum(F.cross_entropy(net(batch.x).logits, batch.y) for _ in range(4))\n"
    ),
    "importerror": method_file("importerror", PLAIN, head="import not_a_module_anywhere"),
    "noequation": method_file("noequation", PLAIN, doc="A method; the loss is described in words only."),
}
ENTRY_POINTS = {  # module of package ep_methods -> file text; entry point name -> value
    "modules": {
        "good_ep": method_file("epgood", NOISY),
        "broken_ep": method_file("epbroken", PLAIN, url="see the paper"),
    },
    "entry_points": {"epgood": "ep_methods.good_ep", "epbroken": "ep_methods.broken_ep:M"},
}

SCRIPT = r"""
import json, sys
from benchmark.contracts import RunConfig
from benchmark.submission.checks import run_checks
from benchmark.submission.contract import contract_failures
from benchmark.submission.cost import CostSettings, cost_report
from benchmark.submission.determinism import determinism_failures
from benchmark.submission.honesty import compatibility_failures
from benchmark.submission.smoke import smoke_failures

spec = json.loads(sys.argv[1])
cells = spec["cells"]
def configs(name, *which):
    return [RunConfig(method=name, **cells[w], **spec["train"]) for w in which]
def lines(failures):
    return [f.line() for f in failures]
cheap = CostSettings(batch_size=16, rounds=3, max_rounds=3, max_half_width=float("inf"), min_run_time=0.01, warmup=1, unit_rounds=2)
out = {"contract": {}}
for name in ["good", "nourl", "norange", "importerror", "nosuchmethod", "epgood", "epbroken", "noequation"]:
    cls, source, failures = contract_failures(name)
    out["contract"][name] = {"source": source, "lines": lines(failures), "loaded": cls is not None}
report = run_checks("good", configs("good", "digits", "faces"), device="cpu", cost_settings=cheap)
out["good"] = {"passed": report.passed, "lines": report.lines(), "failures": lines(report.failures)}
partial = run_checks("needsann", configs("needsann", "digits", "unannotated"), device="cpu", cost_settings=cheap)
out["needsann"] = {"passed": partial.passed, "lines": partial.lines(), "failures": lines(partial.failures)}
out["smoke"] = {name: lines(smoke_failures(name, configs(name, "digits"), device="cpu"))
                for name in ["nanloss", "detached", "raises", "epgood", "undeclared"]}
out["determinism"] = {name: lines(determinism_failures(name, configs(name, "digits")[0], device="cpu"))
                      for name in ["good", "globalrand", "unseeded"]}
out["compatibility"] = {name: lines(compatibility_failures(name, configs(name, "faces", "unannotated")))
                        for name in ["needsann", "good"]}
rows, warnings = cost_report("underdeclared", configs("underdeclared", "digits"), device="cpu", settings=cheap)
out["cost"] = {"rows": rows, "warnings": lines(warnings)}
print(json.dumps(out))
"""


def make_project(tmp: Path) -> tuple[Path, Path]:
    """A project at ``tmp/project`` (the repository's files linked, the test methods written) and an
    installed package at ``tmp/site`` (module files and a dist-info declaring the entry points)."""
    project = tmp / "project"
    (project / "methods").mkdir(parents=True)
    for name in ("datasets", "params.yaml", "claims"):
        (project / name).symlink_to(ROOT / name)
    for path in (ROOT / "methods").glob("*.py"):
        (project / "methods" / path.name).symlink_to(path)
    for name, text in METHODS.items():
        (project / "methods" / f"{name}.py").write_text(text)
    site = tmp / "site"
    package = site / "ep_methods"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for module, text in ENTRY_POINTS["modules"].items():
        (package / f"{module}.py").write_text(text)
    info = site / "salbench_test_methods-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: salbench-test-methods\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[saliency_benchmark.methods]\n"
        + "".join(f"{name} = {value}\n" for name, value in ENTRY_POINTS["entry_points"].items())
    )
    return project, site


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    """The subprocess's answer, and the temporary project it ran in."""
    project, site = make_project(tmp_path_factory.mktemp("submission"))
    spec = {"train": TRAIN, "cells": {"digits": DIGITS, "faces": FACES, "unannotated": UNANNOTATED}}
    env = {**os.environ, "SALBENCH_ROOT": str(project), "PYTHONPATH": str(site)}
    env.pop("SALBENCH_DATA", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(spec)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), project


def line_of(name: str, text: str) -> int:
    """The line number of ``text`` in the test method file ``name``."""
    return next(i for i, line in enumerate(METHODS[name].splitlines(), 1) if text in line)


# ---------------------------------------------------------------- check 1: contract
def test_a_good_method_passes_every_check(found):
    answer, _ = found
    good = answer["good"]
    assert good["passed"] and not good["failures"], good["lines"]
    heads = [line for line in good["lines"] if line.startswith("check ")]
    assert heads[:3] == [
        "check 1/4 contract: ok (methods/good.py)",
        "check 2/4 smoke: ok (simple_cnn x decoy_digits, gap_cnn x toy_faces)",
        "check 3/4 determinism: ok (simple_cnn x decoy_digits, 3 steps twice)",
    ]
    assert heads[3].startswith("check 4/4 honesty: ok")  # a cost warning, if timing says so, is no failure
    assert [line.split(" (")[0] for line in good["lines"] if line.startswith("  cost ")] == [
        "  cost simple_cnn",
        "  cost gap_cnn",
    ]
    assert answer["determinism"]["good"] == []
    assert answer["compatibility"]["good"] == []


def test_contract_names_the_missing_url(found):
    assert found[0]["contract"]["nourl"]["lines"] == [
        "check 'contract' failed: `url` is missing: the leaderboard links each method to its paper; fix: add "
        '`url = "https://arxiv.org/abs/..."` beside `citation` (or the paper\'s DOI, e.g. '
        '`url = "10.1109/WACV56688.2023.00123"`)'
    ]


def test_contract_wants_the_papers_equation_in_the_docstring(found):
    """Issue 27: the guide's rule "the docstring names the paper's equation" is checked, not only asked."""
    assert found[0]["contract"]["noequation"]["lines"] == [
        "check 'contract' failed: the docstring shows no equation: the method cannot be held against its paper; "
        "fix: write the paper's loss as an indented line of the class or module docstring (e.g. `    L = CE(f(x), "
        "y) + lam * R(x)`) or cite its number (`Eq. (3)`), and say what you changed"
    ]
    assert found[0]["contract"]["good"]["lines"] == []


def test_contract_wants_a_range_on_every_numeric_hyperparameter(found):
    assert found[0]["contract"]["norange"]["lines"] == [
        "check 'contract' failed: hyperparameter `weight` (float) declares no range; fix: give `weight` its valid "
        'range, e.g. `HParam(0.5, "...", low=0, high=1)` (either bound may be left out), or `choices=(...)`'
    ]


def test_contract_names_the_file_that_fails_to_import(found):
    answer, project = found
    entry = answer["contract"]["importerror"]
    assert not entry["loaded"] and entry["source"] == "methods/importerror.py"
    assert entry["lines"] == [
        f"check 'contract' failed: method 'importerror': plug-in {project / 'methods' / 'importerror.py'} failed "
        f"to load: ModuleNotFoundError: No module named 'not_a_module_anywhere'; fix: make the file import: the "
        f"error above is raised when it is imported"
    ]


def test_contract_suggests_the_closest_name(found):
    entry = found[0]["contract"]["nosuchmethod"]
    assert not entry["loaded"] and len(entry["lines"]) == 1
    assert entry["lines"][0].startswith("check 'contract' failed: unknown method 'nosuchmethod'; known: ")


def test_methods_from_an_entry_point_pass_the_same_checks(found):
    contract = found[0]["contract"]
    assert contract["epgood"] == {"source": "entry point 'epgood' (ep_methods.good_ep)", "lines": [], "loaded": True}
    assert contract["epbroken"]["source"] == "entry point 'epbroken' (ep_methods.broken_ep:M)"
    assert contract["epbroken"]["lines"] == [
        "check 'contract' failed: `url` 'see the paper' is neither an http(s) address nor a DOI; fix: add "
        '`url = "https://arxiv.org/abs/..."` beside `citation` (or the paper\'s DOI, e.g. '
        '`url = "10.1109/WACV56688.2023.00123"`)'
    ]
    assert found[0]["smoke"]["epgood"] == []


# ---------------------------------------------------------------- check 2: smoke
WHERE = "on arch simple_cnn, dataset decoy_digits"


def test_smoke_catches_a_nan_loss(found):
    assert found[0]["smoke"]["nanloss"] == [
        f"check 'smoke' failed {WHERE}: the loss is nan after one step; fix: keep every term finite: clamp "
        f"logarithms and divisions (e.g. x.clamp_min(1e-8)), and check the terms on a batch without annotated rows"
    ]


def test_smoke_catches_a_loss_that_moves_no_parameter(found):
    assert found[0]["smoke"]["detached"] == [
        f"check 'smoke' failed {WHERE}: no parameter changed after one step: the loss does not depend on the "
        f"network's parameters (detached?); fix: compute the loss from net(batch.x) without .detach(), "
        f"torch.no_grad() or .item() on the path to the parameters"
    ]


def test_smoke_names_the_exception_and_its_line(found):
    line = line_of("raises", "self.weights[0]")
    assert found[0]["smoke"]["raises"] == [
        f"check 'smoke' failed {WHERE}: the training step raised IndexError: list index out of range "
        f"(methods/raises.py:{line} in loss); fix: fix the loss at that line (run it on one batch: python -m "
        f"benchmark run --method raises --dataset decoy_digits --arch simple_cnn --epochs 1)"
    ]


def test_smoke_says_a_loss_read_saliency_it_did_not_declare(found):
    """Issue 27: a loss reading batch.saliency without needs_annotations failed with `TypeError: '>' not
    supported between instances of 'NoneType' and 'float'`, never naming the cause."""
    line = line_of("undeclared", "batch.saliency > 0.5")
    assert found[0]["smoke"]["undeclared"] == [
        f"check 'smoke' failed {WHERE}: the loss read batch.saliency, which is None because the method does not "
        f"declare needs_annotations = True: TypeError: '>' not supported between instances of 'NoneType' and "
        f"'float' (methods/undeclared.py:{line} in loss); fix: declare needs_annotations = True on the class (the "
        f"training loop then hands it the annotations), or read batch.saliency only when it is not None"
    ]


# ---------------------------------------------------------------- check 3: determinism
DETERMINISM_FIX = (
    "fix: draw every random number from `state.generator` (e.g. torch.rand(shape, "
    "generator=state.generator, device=x.device)), never from torch's global stream, numpy's or "
    "Python's `random`, the clock or an unseeded generator"
)


def test_determinism_catches_the_global_random_stream(found):
    line = line_of("globalrand", "torch.rand(")
    assert found[0]["determinism"]["globalrand"] == [
        f"check 'determinism' failed {WHERE}: the loss draws from torch's global random stream (torch.rand at "
        f"methods/globalrand.py:{line}, without generator=): its draws shift the dropout masks the loop draws for "
        f"the network and depend on whatever else draws from that stream; {DETERMINISM_FIX}"
    ]


def test_determinism_names_the_first_differing_parameter(found):
    assert found[0]["determinism"]["unseeded"] == [
        f"check 'determinism' failed {WHERE}: two identical trainings of 3 steps (same seed) end with different "
        f"weights, first at parameter 'conv1.weight'; {DETERMINISM_FIX}"
    ]


# ---------------------------------------------------------------- check 4: honesty and cost
def test_a_method_that_needs_annotations_on_a_dataset_without_them(found):
    assert found[0]["compatibility"]["needsann"] == [
        "check 'honesty' failed on arch gap_cnn, dataset toy_faces: method 'needsann' needs human/ground-truth "
        "saliency annotations, and dataset 'toy_faces' has none in its train split; fix: the protocol trains every "
        "method on 'toy_faces': make the method train without annotations (needs_annotations = False; use "
        "batch.saliency only when it is not None)"
    ]


def test_checks_run_on_the_configs_that_have_what_the_method_needs(found):
    """A dataset without annotations fails check 4 for a method that needs them; the other configs are checked."""
    answer = found[0]
    report = answer["needsann"]
    assert not report["passed"] and report["failures"] == answer["compatibility"]["needsann"]
    heads = [line for line in report["lines"] if line.startswith("check ")]
    assert heads[1:3] == [
        "check 2/4 smoke: ok (simple_cnn x decoy_digits)",
        "check 3/4 determinism: ok (simple_cnn x decoy_digits, 3 steps twice)",
    ]
    assert heads[3].startswith("check 4/4 honesty: 1 failure")
    assert [line.split(" (")[0] for line in report["lines"] if line.startswith("  cost ")] == ["  cost simple_cnn"]


def test_a_method_that_fails_its_contract_gets_no_compute(found):
    """Checks 2-4 are skipped (the subprocess ran run_checks only for good and needsann; here, in process)."""
    from benchmark.submission.checks import run_checks

    report = run_checks("nosuchmethod", [], device="cpu")
    assert not report.passed and report.cost_rows == []
    assert report.lines()[2:] == [
        f"check {n}/4 {title}: skipped (the contract failed)"
        for n, title in ((2, "smoke"), (3, "determinism"), (4, "honesty"))
    ]


def test_an_underdeclared_cost_is_a_warning(found):
    cost = found[0]["cost"]
    (row,) = cost["rows"]
    assert row["ratio"] > 2, cost  # four forward and backward passes declared as one
    assert {key: row[key] for key in ("arch", "dataset", "image", "batch_size", "declared")} == {
        "arch": "simple_cnn",
        "dataset": "decoy_digits",
        "image": "1x28x28",
        "batch_size": 16,
        "declared": 1.0,
    }
    assert row["ratio"] == pytest.approx(row["measured"] / row["declared"])
    (warning,) = cost["warnings"]
    assert warning.startswith("check 'cost' warning on arch simple_cnn, dataset decoy_digits: one step takes "), warning
    assert "its declared cost predicts (more than 1.2x); fix: count the passes of one step in `cost`" in warning


# ---------------------------------------------------------------- honesty by construction, through execute
@pytest.fixture
def spied(monkeypatch):
    """Attach a ``Seen`` recorder to a registered method's loss (this process's registry)."""
    from benchmark.registry import METHODS
    from benchmark.submission.honesty import Seen

    def attach(name: str) -> Seen:
        seen, cls = Seen(), METHODS.get(name)
        real = cls.loss

        def loss(self, net, batch, state):
            seen.record(batch)
            return real(self, net, batch, state)

        monkeypatch.setattr(cls, "loss", loss)
        return seen

    return attach


def run_faces(method: str):
    from benchmark.contracts import RunConfig
    from benchmark.runs.run import execute

    return execute(RunConfig(method=method, **FACES, **TRAIN), device="cpu", progress=False)


@pytest.mark.parametrize("method,annotations", [("erm", False), ("cyborg", True)])
def test_training_hands_a_method_train_rows_only_and_annotations_only_when_declared(method, annotations, spied):
    from benchmark.submission.honesty import row_digest

    seen = spied(method)
    output = run_faces(method)
    splits = {name: {row_digest(image) for image in split.x} for name, split in output.bundle.splits.items()}
    test_only = set().union(*(rows for name, rows in splits.items() if name.startswith("test"))) - splits["train"]
    assert len(test_only) > 100 and len(seen.rows) >= 64
    assert seen.rows <= splits["train"] and not seen.rows & test_only
    assert seen.saliency is annotations and not seen.wrong_reason
    # the train split's maps reach the device only for a method that reads them (issue 25 item 1)
    assert (output.splits["train"].saliency is not None) is annotations


def test_the_honesty_check_catches_a_loop_that_leaks(monkeypatch):
    """What ``split_failures`` says if the loop handed a test split, or annotations to ERM."""
    from benchmark.contracts import RunConfig
    from benchmark.runs import run as run_module
    from benchmark.runs.device_data import DeviceSplit
    from benchmark.submission.honesty import split_failures

    config = RunConfig(method="erm", **FACES, **TRAIN)
    monkeypatch.setattr(
        run_module,
        "training_split",
        lambda method, bundle, train, config: DeviceSplit.from_split(
            bundle.splits["test_open"], train.y.device
        ).for_training(bundle.splits["test_open"], annotations=False),
    )
    (leak,) = split_failures("erm", config, device="cpu")
    assert leak.line().startswith(
        "check 'honesty' failed on arch gap_cnn, dataset toy_faces: the method was handed "
        "24 row(s) that are not rows of the train split (rows of: test_open); fix: the "
        "training loop must hand a method only"
    ), leak.line()
    monkeypatch.setattr(  # the train split with its maps, as if the loop copied and handed them to ERM
        run_module,
        "training_split",
        lambda method, bundle, train, config: DeviceSplit.from_split(bundle.splits["train"], train.y.device),
    )
    (annotations,) = split_failures("erm", config, device="cpu", steps=1)
    assert annotations.problem == (
        "the method was handed annotations (batch.saliency) though it does not declare needs_annotations"
    )


def test_existing_methods_without_annotations_do_not_read_them():
    """erm, sgt and smoot read neither batch.saliency nor the annotation flags (the loop no longer hands them)."""
    for name in ("erm", "sgt", "smoot"):
        text = (ROOT / "methods" / f"{name}.py").read_text()
        assert "batch.saliency" not in text and "batch.annotated" not in text, name


@pytest.mark.parametrize("name", ["erm", "sgt", "smoot", "cyborg", "sage", "rrr", "gradia"])
def test_every_seed_method_passes_the_contract_it_asks_of_a_submission(name):
    """The seed methods meet the rules a submission meets (the docstring's equation included)."""
    from benchmark.submission.contract import contract_failures

    assert [f.line() for f in contract_failures(name)[2]] == []

"""params.yaml has one schema (benchmark/params_schema/): every block of the file is checked when it is
loaded, whether or not the command uses it, and a problem is one line naming the file, the key's path
and the value (exit 2 before any compute); the JSON Schema editors read is generated from the same
models (``python -m benchmark schema``, committed as docs/params.schema.json); the ranges the run layer
checks for itself (optimizers, schedules, precision, evaluation, SLURM) are the schema's."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from sweep_helpers import tiny_params, write_params

from benchmark.cli import main
from benchmark.config import load_params
from benchmark.contracts import ContractError
from benchmark.params_schema import (
    ATTRIBUTION_NAMES,
    OPTIMIZERS,
    PRECISIONS,
    SEED_MAX,
    SLURM_KEYS,
    Adam,
    Constant,
    Cosine,
    Evaluation,
    Step,
    check_params_file,
    leaderboard_studies,
)
from benchmark.params_schema import SGD as SGDModel
from benchmark.sweeps.study import expand

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "docs" / "params.schema.json"
PAPER = {
    "epochs": 2,
    "batch_size": 20,
    "optimizer": {"name": "sgd", "lr": 0.005, "momentum": 0.9},
    "schedule": {"name": "step", "step_size": 12, "gamma": 0.1},
    "device": "cuda",
    "checkpoint": True,
}


def document() -> dict[str, Any]:
    """tiny_params with a `paper` profile, a paper variant, a study block, a search and the leaderboard key."""
    params = copy.deepcopy(tiny_params(seeds=1))  # (its evaluation block is a shared dict)
    params["profiles"]["paper"] = copy.deepcopy(PAPER)
    params["paper_datasets"] = {"mnist_paper": {"family": "mnist", "params": {"construction": "decoy"}}}
    params["studies"]["tiny"]["at_profile"] = {
        "paper": {"seeds": 2, "replace": {"datasets": {"tiny_digits": "mnist_paper"}}}
    }
    params["searches"] = {
        "tiny": {
            "methods": ["erm", "sgt"],
            "archs": ["simple_cnn"],
            "datasets": ["tiny_digits"],
            "seeds": [0],
            "draws": 2,
            "shared": {"optimizer.lr": {"log_uniform": [0.0003, 0.003]}},
            "space": {"sgt": {"fraction": {"uniform": [0.1, 0.9]}}},
            "select": {"split": "val", "metric": "accuracy"},
            "oracle": {"split": "test", "metric": "accuracy"},
        }
    }
    params["leaderboard"] = ["tiny"]
    return params


def at(params: dict[str, Any], path: str) -> dict[str, Any]:
    """The mapping at a dotted path (created as needed)."""
    node = params
    for key in path.split(".") if path else []:
        node = node.setdefault(key, {})
    return node


def refused(params: dict[str, Any], tmp_path: Path) -> str:
    """The one line load_params refuses ``params`` with (written to tmp_path/params.yaml)."""
    with pytest.raises(ContractError) as caught:
        load_params(write_params(tmp_path / "params.yaml", params))
    line = str(caught.value)
    assert "\n" not in line and line.startswith("params.yaml: "), line
    return line


def test_the_committed_params_yaml_and_the_test_document_are_valid(tmp_path):
    assert load_params(ROOT / "params.yaml")["leaderboard"] == ["decoy", "faces"]
    assert load_params(write_params(tmp_path / "params.yaml", document()))["searches"]["tiny"]["draws"] == 2


# --------------------------------------------------------------------------- one test per kind of check
UNKNOWN_KEYS = [
    ("", "studeis", "params.yaml: unknown key 'studeis'; did you mean 'studies'?; known: ['datasets', "),
    ("profiles.quick", "epoch", "params.yaml: profiles.quick: unknown key 'epoch'; did you mean 'epochs'?"),
    ("profiles.quick.optimizer", "lrate", "profiles.quick.optimizer: unknown key 'lrate' (optimizer 'adam')"),
    ("profiles.paper.optimizer", "betas", "profiles.paper.optimizer: unknown key 'betas' (optimizer 'sgd')"),
    ("profiles.paper.schedule", "step", "profiles.paper.schedule: unknown key 'step' (schedule 'step')"),
    ("profiles.paper.slurm", "partiton", "profiles.paper.slurm: unknown key 'partiton'; did you mean 'partition'?"),
    ("profiles.paper.ray", "gpus", "profiles.paper.ray: unknown key 'gpus'; did you mean 'num_gpus'?"),
    ("profiles.quick.evaluation", "probe", "profiles.quick.evaluation: unknown key 'probe'"),
    ("studies.tiny", "metods", "studies.tiny: unknown key 'metods'; did you mean 'methods'?"),
    ("studies.tiny.at_profile.paper", "archz", "studies.tiny.at_profile.paper: unknown key 'archz'"),
    ("studies.tiny.at_profile.paper.replace", "optimizer", "at_profile.paper.replace: unknown axis 'optimizer'"),
    ("datasets.tiny_digits", "parms", "datasets.tiny_digits: unknown key 'parms'; did you mean 'params'?"),
    ("paper_datasets.mnist_paper", "familly", "paper_datasets.mnist_paper: unknown key 'familly'"),
    ("searches.tiny", "seed", "searches.tiny: unknown key 'seed'; did you mean 'seeds'?"),
    ("searches.tiny.select", "metrc", "searches.tiny.select: unknown key 'metrc'; did you mean 'metric'?"),
    ("searches.tiny.space.sgt.fraction", "normal", "searches.tiny.space.sgt.fraction: expected one of"),
]


@pytest.mark.parametrize("place, key, message", UNKNOWN_KEYS, ids=[f"{p or 'top'}.{k}" for p, k, _ in UNKNOWN_KEYS])
def test_an_unknown_key_anywhere_is_refused_naming_its_path(tmp_path, place, key, message):
    params = document()
    at(params, place)[key] = 1
    assert message in refused(params, tmp_path)


def test_an_unknown_key_in_an_item_of_a_grid_names_the_item(tmp_path):
    params = document()
    params["studies"]["tiny"]["grids"] = [{}, {"methods": ["erm", {"name": "sgt", "parms": {"fraction": 0.2}}]}]
    assert "params.yaml: studies.tiny.grids[1].methods[1]: unknown key 'parms'; did you mean 'params'?" in refused(
        params, tmp_path
    )
    params["studies"]["tiny"]["grids"][1]["methods"][1] = {"name": "sgt", "tuned": "tiny", "draw": 1}
    assert "studies.tiny.grids[1].methods[1]: unknown key 'draw'" in refused(params, tmp_path)


OUT_OF_RANGE = [
    ("profiles.quick", "epochs", 0, "profiles.quick.epochs: must be an integer >= 1, got 0"),
    ("profiles.quick", "batch_size", -4, "profiles.quick.batch_size: must be an integer >= 1, got -4"),
    ("profiles.quick", "threads", 0, "profiles.quick.threads: must be an integer >= 1, got 0"),
    ("profiles.paper", "runs_per_gpu", 0, "profiles.paper.runs_per_gpu: must be an integer >= 1, got 0"),
    ("profiles.paper.ray", "max_retries", -1, "profiles.paper.ray.max_retries: must be an integer >= 0, got -1"),
    ("profiles.quick.optimizer", "lr", 0, "profiles.quick.optimizer.lr: must be a finite number > 0, got 0"),
    ("profiles.quick.optimizer", "lr", math.inf, "profiles.quick.optimizer.lr: must be a finite number > 0, got inf"),
    ("profiles.quick.optimizer", "lr", "1e-3", "optimizer.lr: must be a finite number > 0, got '1e-3' (YAML reads"),
    ("profiles.paper.optimizer", "momentum", 1.0, "profiles.paper.optimizer.momentum: must be a finite number >= 0"),
    ("profiles.paper.schedule", "gamma", 0, "profiles.paper.schedule.gamma: must be a finite number > 0, got 0"),
    (
        "profiles.quick",
        "precision",
        "fp8",
        "profiles.quick.precision: precision 'fp8' unknown; valid precisions: fp32, bf16, fp16",
    ),
    ("profiles.quick", "device", "tpu", "profiles.quick.device: device 'tpu' unknown; valid devices: auto, cpu"),
    ("profiles.quick", "checkpoint", "yes", "profiles.quick.checkpoint: must be true or false, got str 'yes'"),
    (
        "profiles.paper",
        "data_placement",
        "gpu",
        "profiles.paper.data_placement: expected one of ['auto', 'resident', 'stream'], got 'gpu'",
    ),
    ("profiles.quick", "val_curve", "yes", "profiles.quick.val_curve: must be true or false, got str 'yes'"),
    ("studies.tiny", "val_curve", 1, "studies.tiny.val_curve: must be true or false, got int 1"),
    ("searches.tiny", "val_curve", None, "searches.tiny.val_curve: must be true or false, got NoneType None"),
    ("profiles.quick.evaluation", "annotation_threshold", 1.5, "evaluation.annotation_threshold: must be a finite"),
    ("profiles.quick.evaluation", "annotation_threshold", 0, "must be a finite number > 0 and <= 1, got 0"),
    ("profiles.quick.evaluation", "attributions", ["cam", "saliency"], "attributions[1]: expected one of ['cam'"),
    ("studies.tiny", "seeds", 0, "studies.tiny.seeds: must be a count (N -> 0..N-1) or a list of non-negative"),
    ("studies.tiny", "batch_size", 0, "studies.tiny.batch_size: must be an integer >= 1, got 0"),
    ("searches.tiny", "draws", 0, "searches.tiny.draws: expected the number of draws per method, 1..1000, got 0"),
    ("searches.tiny.select", "split", "test_iid", "searches.tiny.select.split: model selection never reads a test"),
    ("searches.tiny.space.sgt", "fraction", {"uniform": [0.9, 0.1]}, "fraction.uniform: expected [low, high] with"),
]


@pytest.mark.parametrize(
    "place, key, value, message", OUT_OF_RANGE, ids=[f"{p}.{k}={v!r}" for p, k, v, _ in OUT_OF_RANGE]
)
def test_an_out_of_range_value_is_refused_naming_the_key_and_the_value(tmp_path, place, key, value, message):
    params = document()
    at(params, place)[key] = value
    assert message in refused(params, tmp_path)


def test_an_unused_profile_block_is_validated_even_when_the_study_overrides_it(tmp_path, monkeypatch, capsys):
    params = document()
    params["studies"]["tiny"]["epochs"] = 1  # the study sets epochs: the paper profile's are never used here
    params["profiles"]["paper"]["epochs"] = -1
    line = "params.yaml: profiles.paper.epochs: must be an integer >= 1, got -1"
    assert refused(params, tmp_path) == line
    with pytest.raises(ContractError, match="^" + line.replace(".", r"\.") + "$"):
        expand("tiny", "quick", params=params)  # a document handed over is checked whole too
    monkeypatch.setenv("SALBENCH_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["sweep", "tiny", "--dry-run", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"error: {line}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_an_unused_at_profile_block_and_an_unused_search_are_validated(tmp_path):
    params = document()
    params["studies"]["tiny"]["at_profile"]["paper"]["seeds"] = -1
    assert "studies.tiny.at_profile.paper.seeds: must be a count" in refused(params, tmp_path)
    params = document()
    params["searches"]["tiny"]["oracle"] = {"split": "test", "metric": "f1"}
    assert "searches.tiny.oracle.metric: expected one of ['accuracy', 'auc', 'loss'], got 'f1'" in refused(
        params, tmp_path
    )


@pytest.mark.parametrize(
    "seeds, message",
    [
        ([0, SEED_MAX], None),
        ([0, SEED_MAX + 1], "studies.tiny.seeds[1]: seed 18446744073709551616 is beyond torch.manual_seed's range"),
        ([3, -1], "studies.tiny.seeds: must be a count (N -> 0..N-1) or a list of non-negative integers, got [3, -1]"),
        (10**9, "studies.tiny.seeds: count 1000000000 exceeds 10000 runs per grid cell (a typo?)"),
        (True, "studies.tiny.seeds: must be a count"),
    ],
)
def test_seeds_within_torch_manual_seed_s_range(tmp_path, seeds, message):
    import torch

    params = document()
    params["studies"]["tiny"]["seeds"] = seeds
    if message is None:
        load_params(write_params(tmp_path / "params.yaml", params))
        torch.manual_seed(SEED_MAX)  # the largest seed the schema accepts is one torch accepts
        with pytest.raises((RuntimeError, ValueError)):  # torch's own range check
            torch.manual_seed(SEED_MAX + 1)
        return
    assert message in refused(params, tmp_path)
    params = document()
    params["profiles"]["quick"]["evaluation"] = {"sanity_seed": SEED_MAX + 1}
    assert "evaluation.sanity_seed: must be an integer in [0, 2**64 - 1]" in refused(params, tmp_path)


def test_a_step_schedule_needs_step_size_and_the_schedule_name_is_known(tmp_path):
    params = document()
    params["profiles"]["paper"]["schedule"] = {"name": "step", "gamma": 0.1}
    assert refused(params, tmp_path) == "params.yaml: profiles.paper.schedule: missing 'step_size' (schedule 'step')"
    params["profiles"]["paper"]["schedule"] = {"name": "step", "step_size": 2.5}
    assert "profiles.paper.schedule.step_size: must be an integer >= 1, got 2.5" in refused(params, tmp_path)
    params["profiles"]["paper"]["schedule"] = {"name": "linear"}
    assert refused(params, tmp_path) == (
        "params.yaml: profiles.paper.schedule.name: unknown schedule 'linear'; known: ['constant', 'step', 'cosine']"
    )
    params["profiles"]["paper"]["schedule"] = {"name": "constant", "step_size": 3}
    assert "profiles.paper.schedule: unknown key 'step_size' (schedule 'constant'); known: ['name']" in refused(
        params, tmp_path
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda p: p["studies"]["tiny"].update(profile="papr"),
            "params.yaml: studies.tiny.profile: unknown profile 'papr'; did you mean 'paper'?; profiles in "
            "params.yaml: ['paper', 'quick']",
        ),
        (
            lambda p: p["studies"]["tiny"]["at_profile"].update(gpu={}),
            "params.yaml: studies.tiny.at_profile: unknown profile 'gpu'",
        ),
        (lambda p: p["searches"]["tiny"].update(profile="slow"), "params.yaml: searches.tiny.profile: unknown profile"),
        (
            lambda p: p.update(leaderboard=["tiny", "nope"]),
            "params.yaml: leaderboard: 'nope' is not a study (known: ['tiny']); got ['tiny', 'nope']",
        ),
        (
            lambda p: p.update(leaderboard="tiny"),
            "params.yaml: leaderboard: expected a list of study names, got 'tiny'",
        ),
    ],
    ids=["study-profile", "at-profile", "search-profile", "leaderboard-study", "leaderboard-type"],
)
def test_names_one_section_takes_from_another_are_checked(tmp_path, edit, message):
    params = document()
    edit(params)
    assert message in refused(params, tmp_path)


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "expected a list of study names, got None"),
        ("alpha", "expected a list of study names, got 'alpha'"),
        (["alpha", "gamma"], "'gamma' is not a study (known: ['alpha', 'beta']); got ['alpha', 'gamma']"),
        (["alpha", "alpha"], "a study is listed twice: ['alpha', 'alpha']"),
    ],
)
def test_the_leaderboard_reader_returns_the_studies_or_one_line(value, message):
    studies = {"alpha": {}, "beta": {}}
    with pytest.raises(ContractError) as caught:
        leaderboard_studies({"leaderboard": value, "studies": studies})
    assert str(caught.value) == f"params.yaml: leaderboard: {message}"
    assert leaderboard_studies({"leaderboard": ["beta", "alpha"], "studies": studies}) == ["beta", "alpha"]
    assert leaderboard_studies(load_params(ROOT / "params.yaml")) == ["decoy", "faces"]


def test_several_problems_are_one_line_the_first_named_and_the_others_counted(tmp_path):
    params = document()
    params["profiles"]["quick"]["epochs"] = 0
    params["profiles"]["paper"]["batch_size"] = 0
    params["studies"]["tiny"]["seeds"] = 0
    assert refused(params, tmp_path) == (
        "params.yaml: profiles.quick.epochs: must be an integer >= 1, got 0 (and 2 more problems)"
    )


# --------------------------------------------------------------------------- the JSON Schema
def test_the_committed_json_schema_is_the_command_s_output(capsys, tmp_path):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "docs/params.schema.json is stale: python -m benchmark schema --out docs/params.schema.json"
    )
    assert main(["schema", "--out", str(tmp_path / "schema.json")]) == 0
    assert (tmp_path / "schema.json").read_text(encoding="utf-8") == printed


def test_params_yaml_names_its_schema_for_editors_and_the_schema_validates_it():
    first = (ROOT / "params.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=docs/params.schema.json"
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    assert not list(validator.iter_errors(params))
    params["profiles"]["paper"]["epochs"] = -1  # what an editor flags as it is typed
    params["studies"]["sgt"]["metods"] = ["erm"]

    def places(errors) -> set[tuple]:  # every error's place, the alternatives of an anyOf included
        return {p for e in errors for p in {tuple(e.absolute_path)} | places(e.context or [])}

    flagged = places(validator.iter_errors(params))
    assert ("profiles", "paper", "epochs") in flagged and ("studies", "sgt") in flagged


# --------------------------------------------------------------------------- the run layer's own checks agree
def _bounds(schema: dict[str, Any]) -> tuple:
    return (
        schema.get("minimum", schema.get("exclusiveMinimum")),
        schema.get("maximum", schema.get("exclusiveMaximum")),
        tuple(sorted(k for k in ("exclusiveMinimum", "exclusiveMaximum") if k in schema)),
        schema.get("type") == "integer",
    )


def _rule(rule: tuple) -> tuple:
    low, high, excluded, integer = rule
    return (
        low,
        high,
        tuple(sorted({"low": "exclusiveMinimum", "high": "exclusiveMaximum"}[e] for e in excluded)),
        integer,
    )


def test_optimizers_and_schedules_have_the_run_layer_s_names_keys_and_ranges():
    from benchmark.runs import training

    assert OPTIMIZERS == training.OPTIMIZERS
    for model in (Adam, SGDModel):
        props = model.model_json_schema()["properties"]
        for key, rule in training.OPTIMIZER_RANGES.items():
            if key in props:
                assert _bounds(props[key]) == _rule(rule), (model.__name__, key)
    assert set(training.OPTIMIZER_RANGES) <= set(Adam.model_fields) | set(SGDModel.model_fields)
    schedules = {"constant": Constant, "step": Step, "cosine": Cosine}
    assert set(schedules) == set(training.SCHEDULE_RANGES)
    for name, model in schedules.items():
        assert set(model.model_fields) - {"name"} == set(training.SCHEDULE_RANGES[name])
        props = model.model_json_schema()["properties"]
        for key, rule in training.SCHEDULE_RANGES[name].items():
            assert _bounds(props[key]) == _rule(rule), (name, key)


def test_precisions_devices_evaluation_and_slurm_keys_are_the_run_layer_s():
    from benchmark.contracts import HParam
    from benchmark.runs.precision import PRECISIONS as RUN_PRECISIONS
    from benchmark.runs.training import check_device
    from benchmark.saliency.settings import ATTRIBUTION_NAMES as RUN_ATTRIBUTIONS
    from benchmark.saliency.settings import EVALUATION_PARAMS
    from benchmark.sweeps.executors import SLURM_OWN, SLURM_PARAMETERS
    from benchmark.sweeps.search import METRICS

    assert PRECISIONS == RUN_PRECISIONS and ATTRIBUTION_NAMES == RUN_ATTRIBUTIONS
    assert set(SLURM_KEYS) == set(SLURM_PARAMETERS) | SLURM_OWN
    from benchmark.params_schema import METRICS as SCHEMA_METRICS

    assert SCHEMA_METRICS == tuple(METRICS)
    base = tiny_params()
    for device in ("auto", "cpu", "cuda", "cuda:1", "mps", "tpu", "cuda:x", "CPU"):
        params = copy.deepcopy(base)
        params["profiles"]["quick"]["device"] = device
        try:
            check_params_file(params)
            schema_ok = True
        except ContractError:
            schema_ok = False
        try:
            check_device(device)
            run_ok = True
        except ContractError as exc:
            run_ok = type(exc).__name__ == "DeviceUnavailable"  # valid, absent here
        assert schema_ok == run_ok, device
    props = Evaluation.model_json_schema()["properties"]
    assert set(props) == set(EVALUATION_PARAMS)
    for key, hp in EVALUATION_PARAMS.items():
        assert isinstance(hp, HParam)
        if hp.low is not None or hp.high is not None:
            low = props[key].get("minimum", props[key].get("exclusiveMinimum"))
            high = SEED_MAX if key == "sanity_seed" else hp.high  # a seed: torch.manual_seed's range
            assert (low, props[key].get("maximum")) == (hp.low, high), key
        if hp.choices is not None:
            assert tuple(props[key]["enum"]) == hp.choices, key


def test_editing_the_schema_stales_no_run_record():
    """The schema sits beside config.py, outside every run's import closure: editing it changes no
    code fingerprint (records stay current; docs/records.md)."""
    from benchmark.code_closure import module_closure
    from benchmark.registry import ARCHS, DATASETS, METHODS

    modules = ["benchmark.runs.run"] + [
        registry.get(name).__module__
        for registry in (METHODS, DATASETS, ARCHS)
        for name in registry.names()
        if registry.get(name).__module__.startswith(("benchmark.", "salbench_plugins."))
    ]
    closure = module_closure(modules)
    names = {p.name for p in closure}
    assert not names & {"claims_schema.py", "config.py"}
    assert not any(p.parent.name == "params_schema" for p in closure)

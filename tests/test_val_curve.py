"""``val_curve``: the per-epoch validation pass is opt-in. Off (the default) a run scores val once, after
training, and its curves have no ``val_accuracy``; on, one value per epoch. The pass never changes the
training; the setting flows from a profile, a study, a grid or a search into the run config and its id."""

from __future__ import annotations

from typing import Any

import pytest
from sweep_helpers import TINY_DATA, tiny_params, write_params
from tqdm.auto import tqdm

from benchmark.cli import main
from benchmark.contracts import ContractError, RunConfig
from benchmark.records.identity import identity, run_id
from benchmark.records.recorder import record_run
from benchmark.runs import training
from benchmark.runs.run import resolve_config
from benchmark.sweeps.search import load_search
from benchmark.sweeps.search_runs import plan
from benchmark.sweeps.study import expand


def test_the_val_curve_is_opt_in_and_never_changes_the_training(tiny_config, tmp_path, monkeypatch):
    postfixes: list[set[str]] = []

    def recording_bar(*args: Any, **kwargs: Any) -> tqdm:
        bar = tqdm(*args, **kwargs)
        bar.set_postfix = lambda shown=None, **more: postfixes.append(set(dict(shown or {}, **more)))
        return bar

    monkeypatch.setattr(training, "tqdm", recording_bar)
    off = record_run(tiny_config(dataset_params=TINY_DATA), tmp_path, device="cpu", progress=False).record
    on = record_run(tiny_config(dataset_params=TINY_DATA, val_curve=True), tmp_path, device="cpu", progress=False)
    on = on.record
    assert off.status == on.status == "ok"
    assert "val_accuracy" not in off.curves
    assert len(on.curves["val_accuracy"]) == 2 and all(0 <= v <= 1 for v in on.curves["val_accuracy"])
    assert {len(values) for record in (off, on) for values in record.curves.values()} == {2}, "one value per epoch"
    assert off.extra["weights_sha256"] == on.extra["weights_sha256"], "validation never changes the training"
    assert off.metrics == on.metrics
    assert off.curves == {k: v for k, v in on.curves.items() if k != "val_accuracy"}
    assert postfixes == [{"loss"}, {"loss"}, {"loss", "val_acc"}, {"loss", "val_acc"}]
    assert off.config["val_curve"] is False and "val_curve" not in off.identity
    assert on.config["val_curve"] is True and on.identity["val_curve"] is True
    assert off.run_id != on.run_id


def test_false_keeps_the_run_ids_and_a_non_bool_is_refused(tiny_config):
    config = resolve_config(tiny_config())
    assert config.val_curve is False and "val_curve" not in identity(config)
    without_field = {k: v for k, v in config.to_dict().items() if k != "val_curve"}
    assert run_id(RunConfig.from_dict(without_field)) == run_id(config), "a record without it reads as false"
    with pytest.raises(ContractError, match="field 'val_curve' must be bool, got 'yes'"):
        RunConfig.from_dict({**config.to_dict(), "val_curve": "yes"})
    with pytest.raises(ContractError, match="run config: 'val_curve' must be true or false, got 1"):
        resolve_config(tiny_config(val_curve=1))


def curves_on(params: dict[str, Any]) -> dict[int, bool]:
    """Seed -> val_curve of the runs of study ``tiny``."""
    return {spec.seed: spec.config.val_curve for spec in expand("tiny", params=params).runs}


def test_a_profile_a_study_and_a_grid_set_it_the_most_specific_winning():
    assert curves_on(tiny_params(seeds=1)) == {0: False}
    params = tiny_params(seeds=1)
    params["profiles"]["quick"]["val_curve"] = True
    assert curves_on(params) == {0: True}
    params["studies"]["tiny"]["val_curve"] = False
    assert curves_on(params) == {0: False}
    params["studies"]["tiny"]["grids"] = [{"seeds": [1]}, {"seeds": [2], "val_curve": True}]
    del params["studies"]["tiny"]["seeds"]
    assert curves_on(params) == {1: False, 2: True}


def test_a_search_sets_it_for_every_draw():
    params = tiny_params(seeds=1)
    params["searches"] = {
        "tiny": {
            "methods": ["erm", "sgt"],
            "archs": ["simple_cnn"],
            "datasets": ["tiny_digits"],
            "seeds": [0],
            "draws": 2,
            "space": {"sgt": {"fraction": {"uniform": [0.1, 0.9]}}},
            "select": {"split": "val", "metric": "accuracy"},
            "oracle": {"split": "test", "metric": "accuracy"},
            "val_curve": True,
        }
    }
    runs = plan(load_search("tiny", params), params).study.runs
    assert runs and all(spec.config.val_curve for spec in runs)


def test_run_takes_it_from_its_profile(tmp_path, monkeypatch):
    params = tiny_params()
    params["profiles"]["paper"] = {**params["profiles"]["quick"], "val_curve": True}
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    seen: list[RunConfig] = []

    class Stop(Exception):
        pass

    def capture(config: RunConfig, *args: Any, **kwargs: Any) -> None:
        seen.append(config)
        raise Stop

    monkeypatch.setattr("benchmark.records.recorder.record_run", capture)
    for profile in ("quick", "paper"):
        with pytest.raises(Stop):
            main(["run", "--method", "erm", "--dataset", "tiny_digits", "--profile", profile, "--out", str(tmp_path)])
    assert [config.val_curve for config in seen] == [False, True]

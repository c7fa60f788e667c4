"""Run settings of issue 25 item 4: ``steps_per_epoch`` (a cap on the training batches of every epoch).

A capped epoch trains on the first N batches of the uncapped epoch's order; the step counter counts
the steps taken, also after a resume; a capped run resumed from its checkpoint is the uninterrupted one.
The default (null) leaves run ids as they were; the setting flows from a profile, a study and a grid."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from sweep_helpers import TINY_DATA, tiny_params

from benchmark.contracts import ContractError, RunConfig
from benchmark.records.identity import identity, run_id
from benchmark.records.recorder import record_run
from benchmark.runs import training
from benchmark.runs.run import resolve_config
from benchmark.sweeps.study import expand


class Killed(Exception):
    pass


def kill_after(epoch: int):
    def on_epoch(done: int) -> None:
        if done == epoch:
            raise Killed

    return on_epoch


def recorded_steps(monkeypatch) -> list[tuple[int, int, list[int]]]:
    """(epoch, state.step, labels of the batch) of every training step the loop takes from now on."""
    seen: list[tuple[int, int, list[int]]] = []
    real = training.train_step

    def spy(net, method, batch, state, *args: Any, **kwargs: Any):
        seen.append((state.epoch, state.step, batch.y.tolist()))
        return real(net, method, batch, state, *args, **kwargs)

    monkeypatch.setattr(training, "train_step", spy)
    return seen


def test_a_capped_epoch_trains_on_the_first_n_batches_of_its_order(tiny_config, tmp_path, monkeypatch):
    seen = recorded_steps(monkeypatch)
    full = record_run(tiny_config(dataset_params=TINY_DATA, batch_size=16), tmp_path, device="cpu", progress=False)
    uncapped = list(seen)
    seen.clear()
    capped = record_run(
        tiny_config(dataset_params=TINY_DATA, batch_size=16, steps_per_epoch=3), tmp_path, device="cpu", progress=False
    )
    per_epoch = len(uncapped) // 2
    assert per_epoch > 3, "the cap must bite"
    first = [row for row in uncapped if row[1] % per_epoch < 3]  # the first 3 steps of each epoch
    assert [(epoch, labels) for epoch, _, labels in seen] == [(epoch, labels) for epoch, _, labels in first]
    assert [step for _, step, _ in seen] == [0, 1, 2, 3, 4, 5], "the step counter counts the steps taken"
    assert capped.record.run_id != full.record.run_id
    assert capped.record.identity["steps_per_epoch"] == 3 and "steps_per_epoch" not in full.record.identity
    assert len(capped.record.curves["train_loss"]) == 2


def test_a_capped_run_resumed_from_its_checkpoint_is_the_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    """Fails on the old code: the resumed run's step counter restarted at 2 x every batch of the epoch."""
    config = tiny_config(epochs=3, dataset_params=TINY_DATA, batch_size=16, steps_per_epoch=2)
    seen = recorded_steps(monkeypatch)
    whole = record_run(config, tmp_path / "whole", device="cpu", progress=False)
    uninterrupted = list(seen)
    seen.clear()
    with pytest.raises(Killed):
        record_run(config, tmp_path / "resumed", device="cpu", progress=False, checkpoint=True, on_epoch=kill_after(2))
    seen.clear()
    resumed = record_run(config, tmp_path / "resumed", device="cpu", progress=False, checkpoint=True)
    assert resumed.record.timing["resumed_from_epoch"] == 2
    assert seen == uninterrupted[4:], "the same batches at the same step counts"
    assert resumed.record.extra["weights_sha256"] == whole.record.extra["weights_sha256"]
    assert resumed.record.curves == whole.record.curves and resumed.record.metrics == whole.record.metrics


def test_null_keeps_the_run_ids_and_a_bad_cap_is_refused_in_one_line(tiny_config):
    config = resolve_config(tiny_config())
    assert config.steps_per_epoch is None and "steps_per_epoch" not in identity(config)
    without_field = {k: v for k, v in config.to_dict().items() if k != "steps_per_epoch"}
    assert run_id(RunConfig.from_dict(without_field)) == run_id(config), "a record without it reads as null"
    assert RunConfig.from_dict({**config.to_dict(), "steps_per_epoch": None}) == config
    with pytest.raises(ContractError, match=r"field 'steps_per_epoch' must be int or null, got '3'"):
        RunConfig.from_dict({**config.to_dict(), "steps_per_epoch": "3"})
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ContractError, match=r"run config: 'steps_per_epoch' must be null \(every batch\) or an"):
            resolve_config(tiny_config(steps_per_epoch=bad))


def caps_on(params: dict[str, Any]) -> dict[int, int | None]:
    """Seed -> steps_per_epoch of the runs of study ``tiny``."""
    return {spec.seed: spec.config.steps_per_epoch for spec in expand("tiny", params=params).runs}


def test_a_profile_a_study_and_a_grid_set_it_the_most_specific_winning():
    assert caps_on(tiny_params(seeds=1)) == {0: None}
    params = tiny_params(seeds=1)
    params["profiles"]["quick"]["steps_per_epoch"] = 5
    assert caps_on(params) == {0: 5}
    params["studies"]["tiny"]["steps_per_epoch"] = None
    assert caps_on(params) == {0: None}
    params["studies"]["tiny"]["grids"] = [{"seeds": [1]}, {"seeds": [2], "steps_per_epoch": 2}]
    del params["studies"]["tiny"]["seeds"]
    assert caps_on(params) == {1: None, 2: 2}
    params["studies"]["tiny"]["steps_per_epoch"] = 0
    with pytest.raises(ContractError, match=r"studies.tiny.steps_per_epoch: must be an integer >= 1, got 0"):
        expand("tiny", params=params)


def test_epoch_steps_is_the_cap_or_every_batch():
    class Split:
        def steps_per_epoch(self, batch_size: int) -> int:
            return 7

    def config(cap: int | None) -> Any:
        return type("C", (), {"batch_size": 4, "steps_per_epoch": cap})()

    assert [training.epoch_steps(Split(), config(c)) for c in (None, 1, 7, 50)] == [7, 1, 7, 7]  # type: ignore[arg-type]
    closed = []

    def source():
        try:
            yield from (torch.tensor(i) for i in range(5))
        finally:
            closed.append(True)

    assert [int(b) for b in training.first_batches(source(), 2)] == [0, 1] and closed == [True]

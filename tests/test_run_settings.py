"""Run and execution settings of issue 25 item 4: ``steps_per_epoch`` (a cap on the training batches of
every epoch) and the checkpoint cadence (``checkpoint_every_epochs`` / ``checkpoint_every_minutes``).

A capped epoch trains on the first N batches of the uncapped epoch's order; the step counter counts
the steps taken, also after a resume; a capped run resumed from its checkpoint is the uninterrupted one.
The default (null) leaves run ids as they were; the setting flows from a profile, a study and a grid.
The cadence is not part of a run's identity: a run killed and resumed under any cadence is bitwise the
uninterrupted one; no checkpoint is saved after the last epoch (the record is written then)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from sweep_helpers import SMALL_TRAIN, tiny_params

from benchmark.contracts import ContractError, RunConfig
from benchmark.records.identity import identity, run_id
from benchmark.records.recorder import record_run
from benchmark.runs import training
from benchmark.runs.run import resolve_config
from benchmark.sweeps import worker
from benchmark.sweeps.study import expand, load_profile


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
    full = record_run(tiny_config(dataset_params=SMALL_TRAIN, batch_size=16), tmp_path, device="cpu", progress=False)
    uncapped = list(seen)
    seen.clear()
    capped = record_run(
        tiny_config(dataset_params=SMALL_TRAIN, batch_size=16, steps_per_epoch=3),
        tmp_path,
        device="cpu",
        progress=False,
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
    config = tiny_config(epochs=3, dataset_params=SMALL_TRAIN, batch_size=16, steps_per_epoch=2)
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


def saved_epochs(monkeypatch) -> list[int]:
    """The epoch of every checkpoint the loop saves from now on."""
    saved: list[int] = []
    real = training.atomic_save

    def spy(path, write):
        real(path, write)
        saved.append(int(torch.load(path, weights_only=True)["epoch"]))

    monkeypatch.setattr(training, "atomic_save", spy)
    return saved


def test_a_run_killed_and_resumed_under_cadence_2_is_bitwise_the_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    """Fails on the old code: it saved after every epoch, the last included (1..5), whatever the profile said."""
    config = tiny_config(epochs=5, dataset_params=SMALL_TRAIN, batch_size=32)
    every_two = training.Cadence(every_epochs=2)
    saved = saved_epochs(monkeypatch)
    whole = record_run(config, tmp_path / "whole", device="cpu", progress=False, checkpoint=True, cadence=every_two)
    assert saved == [2, 4], "every second epoch, not after the last"
    saved.clear()
    with pytest.raises(Killed):
        record_run(
            config,
            tmp_path / "resumed",
            device="cpu",
            progress=False,
            checkpoint=True,
            on_epoch=kill_after(3),
            cadence=every_two,
        )
    assert saved == [2]
    resumed = record_run(config, tmp_path / "resumed", device="cpu", progress=False, checkpoint=True, cadence=every_two)
    assert resumed.record.timing["resumed_from_epoch"] == 2 and saved == [2, 4]
    assert resumed.record.run_id == whole.record.run_id
    assert resumed.record.extra["weights_sha256"] == whole.record.extra["weights_sha256"]
    assert resumed.record.curves == whole.record.curves and resumed.record.metrics == whole.record.metrics
    assert not list((tmp_path / "resumed").glob("*.ckpt"))


def test_the_cadence_is_due_by_epochs_or_by_minutes_whichever_first():
    assert [training.Cadence().due(e, 0.0) for e in (1, 2, 3)] == [True, True, True]
    assert [training.Cadence(3).due(e, 0.0) for e in (1, 2, 3, 6)] == [False, False, True, True]
    by_time = training.Cadence(every_epochs=None, every_minutes=10)
    assert [by_time.due(7, s) for s in (0.0, 599.0, 600.0)] == [False, False, True]
    both = training.Cadence(every_epochs=4, every_minutes=0.5)
    assert [both.due(e, s) for e, s in ((1, 10.0), (1, 30.0), (4, 0.0))] == [False, True, True]


def test_the_profile_cadence_reaches_the_run_and_never_its_id(monkeypatch, tmp_path):
    params = tiny_params(seeds=1)
    plain = expand("tiny", params=params)
    assert (plain.profile.checkpoint_every_epochs, plain.profile.checkpoint_every_minutes) == (1, None)
    params["profiles"]["quick"].update(checkpoint=True, checkpoint_every_epochs=None, checkpoint_every_minutes=2.5)
    study = expand("tiny", params=params)
    assert [s.run_id for s in study.runs] == [s.run_id for s in plain.runs], "not part of the run id"
    task = worker.make_task(study.runs[0], study.profile, tmp_path)
    seen: list[training.Cadence] = []

    class Stop(Exception):
        pass

    def capture(*args: Any, cadence: training.Cadence, **kwargs: Any) -> None:
        seen.append(cadence)
        raise Stop

    monkeypatch.setattr(worker, "record_run", capture)
    worker.run_task(task)
    assert seen == [training.Cadence(every_epochs=None, every_minutes=2.5)]
    params["profiles"]["quick"]["checkpoint_every_minutes"] = None
    with pytest.raises(
        ContractError, match=r"profiles.quick: checkpoint_every_epochs and checkpoint_every_minutes are both null"
    ):
        load_profile("quick", params)
    params["profiles"]["quick"]["checkpoint_every_minutes"] = 0
    with pytest.raises(
        ContractError, match=r"profiles.quick.checkpoint_every_minutes: must be a finite number > 0, got 0"
    ):
        expand("tiny", params=params)
    from benchmark.config import load_params

    paper = load_profile("paper", load_params())
    assert (paper.checkpoint, paper.checkpoint_every_epochs, paper.checkpoint_every_minutes) == (True, None, 10)

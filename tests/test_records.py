"""Records are valid and current or reported: schema checks, null metrics with reasons, stable
run ids, the read API, corrupt checkpoints, the sweep's lock and leftover cleanup."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat

import numpy as np
import pytest
from quick import QUICK_TRAINING
from sweep_helpers import TINY_DATA, sweep, tiny_params

from benchmark.contracts import ContractError, HParam, RunConfig
from benchmark.records.identity import identity, run_id
from benchmark.records.record_store import read_record, write_record
from benchmark.records.recorder import checkpoint_path, record_run
from benchmark.records.run_states import folder_status
from benchmark.records.schema import OutdatedRecord, RecordError, RunRecord
from benchmark.records.table import load_records
from benchmark.registry import METHODS
from benchmark.runs.run import NonFiniteMetric, resolve_config, split_metrics
from benchmark.saliency.evaluate import Scores
from benchmark.sweeps.lock import study_lock
from benchmark.sweeps.study import expand

PARAMS = tiny_params(seeds=2)


def make_record(**fields) -> RunRecord:
    config = resolve_config(RunConfig(method="erm", dataset="decoy_digits", arch="simple_cnn", **QUICK_TRAINING))
    base = dict(
        run_id=run_id(config),
        identity=identity(config),
        config=config.to_dict(),
        metrics={"test": {"accuracy": 0.5, "auc": None}},
    )
    return RunRecord(**{**base, **fields})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records") / "tiny"
    assert sweep(PARAMS, folder).ok == 2
    return folder


def test_record_roundtrip_with_null_metrics_and_the_umask_mode(tmp_path):
    record = make_record()
    old = os.umask(0o022)
    try:
        path = write_record(record, tmp_path)
    finally:
        os.umask(old)
    assert read_record(path) == record
    assert stat.S_IMODE(path.stat().st_mode) == 0o644, "records get the user's umask, not mkstemp's 0600"


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d.update(metrics="oops"), "field 'metrics' has type str"),
        (lambda d: d["metrics"]["test"].update(accuracy="high"), "field 'metrics.test.accuracy' is 'high'"),
        (lambda d: d["metrics"].update(test=[0.5]), "field 'metrics.test' is not a mapping"),
        (lambda d: d.update(curves={"loss": 3}), "field 'curves.loss' is not a list"),
        (lambda d: d["config"].update(epochs="ten"), "field 'config': run config: field 'epochs' must be int"),
        (lambda d: d["config"].pop("optimizer"), "field 'config': run config: missing field(s) ['optimizer']"),
        (lambda d: d.update(status="done"), "field 'status' is 'done'"),
        (lambda d: d.update(extra=None), "field 'extra' has type NoneType"),
        (lambda d: d.pop("identity"), "missing field 'identity'"),
        (lambda d: d.update(bonus=1), "unknown field 'bonus'"),
    ],
)
def test_a_record_that_breaks_the_schema_names_the_file_and_field(tmp_path, edit, field):
    path = write_record(make_record(), tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as info:
        read_record(path)
    assert str(path) in str(info.value) and field in str(info.value)
    assert folder_status(tmp_path).runs[path.stem].state == "corrupt"


def test_nan_in_a_record_file_is_corrupt_and_never_written(tmp_path):
    path = write_record(make_record(), tmp_path)
    path.write_text(path.read_text().replace('"accuracy": 0.5', '"accuracy": NaN'))
    with pytest.raises(RecordError, match=r"field 'metrics.test.accuracy' is nan, not a finite number or null"):
        read_record(path)
    with pytest.raises(RecordError, match=r"metrics.test.loss"):
        write_record(make_record(metrics={"test": {"loss": math.inf}}), tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_name_identity_and_config_must_agree_and_older_schemas_are_stale(tmp_path):
    path = write_record(make_record(), tmp_path)
    data = json.loads(path.read_text())
    data["config"]["seed"] = 3  # the config no longer matches the identity it claims
    data["identity"]["seed"] = 3
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="does not hash to the run id"):
        read_record(path)
    data["schema"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(OutdatedRecord):
        read_record(path)
    state = folder_status(tmp_path).runs[path.stem]
    assert state.state == "stale" and "schema 1" in state.problem


def test_non_finite_metrics_fail_on_train_and_become_null_with_a_reason_elsewhere():
    with pytest.raises(NonFiniteMetric, match="split 'train': metric 'loss' is nan"):
        split_metrics({"train": {"accuracy": 0.5, "loss": float("nan")}})
    metrics = {"train": {"accuracy": 1.0, "auc": None}, "test": {"accuracy": 0.5, "loss": float("inf")}}
    reasons = split_metrics(metrics)
    assert metrics["test"]["loss"] is None and reasons["test/loss"] == "not finite (inf)"
    assert metrics["train"]["auc"] is None and "one class" in reasons["train/auc"]
    scores = Scores()
    scores.put("gradient", "auroc", float("nan"))
    scores.put("gradient", "pointing_game", None, "no annotated probe image")
    assert scores.values == {"saliency/gradient/auroc": None, "saliency/gradient/pointing_game": None}
    assert scores.undefined["saliency/gradient/auroc"] == "not finite (nan)"


def test_run_ids_leave_defaults_out_so_an_added_hyperparameter_keeps_them(monkeypatch):
    config = RunConfig(
        method="cyborg", dataset="toy_faces", arch="gap_cnn", **QUICK_TRAINING, method_params={"alpha": 0.1}
    )
    before = run_id(resolve_config(config))
    assert identity(resolve_config(config))["method_params"] == {"alpha": 0.1}
    monkeypatch.setitem(
        METHODS.get("cyborg").hparams, "future_option", HParam(1.0, "added later, default = old behaviour")
    )
    resolved = resolve_config(config)
    assert resolved.method_params["future_option"] == 1.0
    assert run_id(resolved) == before
    assert (
        run_id(resolve_config(dataclasses.replace(config, method_params={"alpha": 0.1, "future_option": 2.0})))
        != before
    )
    assert run_id(resolve_config(dataclasses.replace(config, method_params={"alpha": 0.5}))) == run_id(
        resolve_config(dataclasses.replace(config, method_params={}))
    ), "a default set explicitly is the default"


def test_the_read_api_gives_tidy_frames_with_states_and_labels(finished, tmp_path):
    study = expand("tiny", params=tiny_params(seeds=3))
    records = load_records(finished, [spec.config for spec in study.runs], variants=PARAMS["datasets"])
    assert list(records.runs["state"]) == ["done", "done", "missing"]
    assert list(records.runs["seed"]) == [0, 1, 2]
    assert set(records.runs["method"]) == {"erm"} and set(records.runs["arch"]) == {"simple_cnn[hidden=16]"}
    assert set(records.runs["dataset"]) == {"tiny_digits"}, "labelled by the params.yaml variant"
    scores = records.done()
    assert set(scores.columns) >= {"run_id", "method", "arch", "dataset", "seed", "split", "metric", "value", "path"}
    one = scores[(scores["seed"] == 1) & (scores["split"] == "test") & (scores["metric"] == "accuracy")]
    record = read_record(one["path"].iloc[0])
    assert one["value"].iloc[0] == record.metrics["test"]["accuracy"]
    assert len(scores) == sum(len(m) for rid in records.records for m in records.record(rid).metrics.values())


def test_a_corrupt_checkpoint_is_discarded_with_a_warning_and_the_run_restarts(tiny_config, tmp_path):
    config = tiny_config(epochs=1, dataset_params=TINY_DATA)  # 12x12 digits: the same code, a ninth of the time
    clean = record_run(config, tmp_path / "clean", device="cpu", progress=False)
    ckpt = checkpoint_path(tmp_path / "poisoned", clean.record.run_id)
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match=f"checkpoint {ckpt} cannot be loaded"):
        again = record_run(config, tmp_path / "poisoned", device="cpu", progress=False, checkpoint=True)
    assert again.record.timing["resumed_from_epoch"] == 0 and not ckpt.exists()
    assert again.record.extra["weights_sha256"] == clean.record.extra["weights_sha256"]


def test_a_second_sweep_on_a_locked_folder_refuses_naming_the_holder(finished, tmp_path):
    with study_lock(finished):
        with pytest.raises(ContractError, match=rf"{finished}.*pid {os.getpid()}"):
            sweep(PARAMS, finished)


def test_the_sweep_removes_what_killed_writers_left_and_runs_lists_it(finished, tmp_path, monkeypatch, capsys):
    import shutil

    from sweep_helpers import write_params

    from benchmark.cli import main

    folder = tmp_path / "tiny"
    shutil.copytree(finished, folder)
    rid = next(folder.glob("*.json")).stem
    litter = [
        folder / f".{rid}.json.ab12cd34.tmp",
        folder / f".{rid}.ckpt.code.x9y8z7w6.tmp",
        folder / f".{rid}.saliency.q1w2e3r4.tmp",
    ]
    litter[0].write_text("{")
    litter[1].write_text("")
    litter[2].mkdir()
    (litter[2] / "test").mkdir()
    mine = folder / "notes.tmp"
    mine.write_text("a user's file")
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", PARAMS)))
    assert main(["runs", "tiny", "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    assert all(str(path) in out for path in litter) and "notes.tmp" not in out
    assert sweep(PARAMS, folder).skipped == 2
    assert not any(path.exists() for path in litter) and mine.read_text() == "a user's file"
    assert np.isfinite(read_record(folder / f"{rid}.json").metrics["test"]["accuracy"])


def test_atomic_folders_get_the_umask_mode_and_leave_nothing_on_failure(tmp_path):
    from benchmark.atomic import atomic_folder

    old = os.umask(0o022)
    try:
        with atomic_folder(tmp_path / "out") as folder:
            (folder / "a.txt").write_text("a")
        with pytest.raises(RuntimeError):
            with atomic_folder(tmp_path / "out") as folder:
                (folder / "b.txt").write_text("b")
                raise RuntimeError("a writer fails midway")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (tmp_path / "out" / "a.txt").exists()


def test_a_cuda_record_would_store_the_gpu_numerics_and_a_cpu_record_does_not(monkeypatch):
    """Issue 25 item 5: the CUDA/cuDNN versions, TF32 and the determinism switches, read from torch (a CUDA
    record's environment gets them; they decide a GPU run's bits as the pins decide a CPU run's)."""
    import torch

    from benchmark.records.provenance import environment, gpu_numerics

    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    facts = gpu_numerics()
    assert facts["cudnn_deterministic"] is True and facts["cudnn_benchmark"] is False
    assert facts["cuda"] == str(torch.version.cuda) and facts["tf32_cudnn"] == torch.backends.cudnn.allow_tf32
    assert facts["deterministic_algorithms"] == torch.are_deterministic_algorithms_enabled()
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    assert gpu_numerics()["cudnn_deterministic"] is False
    assert not set(facts) & set(environment(torch.device("cpu"))), "a CPU record has no GPU facts"

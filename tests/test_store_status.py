"""The results store seen by a study: done / failed / stale / missing / corrupt, and the runs command."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from sweep_helpers import records, sweep, tiny_params, write_params

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.records.record_store import iter_records, read_record
from benchmark.records.run_states import classify
from benchmark.sweeps.study import expand
from benchmark.sweeps.study_states import study_status

PARAMS = tiny_params(seeds=4)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A folder holding the four records of the tiny study (made once for this module)."""
    folder = tmp_path_factory.mktemp("store") / "tiny"
    assert sweep(PARAMS, folder).ok == 4
    return folder


@pytest.fixture
def store(finished, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(finished, folder)
    return folder


def damage(folder):
    """seed 0 kept; seed 1 deleted; seed 2 truncated; seed 3 written by 'other code' (stale)."""
    runs = expand("tiny", params=PARAMS).runs
    paths = [folder / f"{run.run_id}.json" for run in runs]
    paths[1].unlink()
    paths[2].write_text(paths[2].read_text()[:200])
    data = json.loads(paths[3].read_text())
    data["fingerprint"]["method"] = "0" * 64
    paths[3].write_text(json.dumps(data))
    return paths


def test_status_classifies_every_run_and_names_bad_files(store):
    paths = damage(store)
    status = study_status(expand("tiny", params=PARAMS), store)
    assert [run.state for run in status.runs] == ["done", "missing", "corrupt", "stale"]
    assert status.counts() == {"done": 1, "failed": 0, "stale": 1, "missing": 1, "corrupt": 1}
    corrupt, stale = status.runs[2], status.runs[3]
    assert str(paths[2]) in corrupt.problem and "not a readable JSON record" in corrupt.problem
    assert stale.problem == "code changed: method"
    assert [run.spec.seed for run in status.todo()] == [1, 2, 3]
    assert status.runs[0].record == read_record(paths[0])


def test_failed_record_is_failed_and_rerun_only_on_request(store):
    study = expand("tiny", params=PARAMS)
    done = study_status(study, store).runs[0]
    failed = read_record(done.path)
    failed.status, failed.error = "failed", {"type": "NonFiniteLoss", "message": "epoch 1: nan", "traceback": "..."}
    state = classify(done.spec.run_id, done.path, failed, lambda *key: failed.fingerprint)
    assert (state.state, state.problem) == ("failed", "NonFiniteLoss: epoch 1: nan")


def test_sweep_reports_bad_files_by_name_reruns_them_and_ends_with_the_same_records(store):
    before = records(store)
    paths = damage(store)
    (store / "notes.json").write_text('{"hello": 1}')
    stream = io.StringIO()
    summary = sweep(PARAMS, store, stream=stream)
    assert (summary.ok, summary.skipped, summary.failed) == (3, 1, 0)
    warnings = stream.getvalue()
    assert f"corrupt record {paths[2]}" in warnings and "rerunning" in warnings
    assert f"unreadable file {store / 'notes.json'}" in warnings and "missing field 'run_id'" in warnings
    after = records(store)
    assert after.pop("notes.json") == {"hello": 1}, "a foreign file is reported, never deleted"
    assert after == before
    problems = {path.name: str(item) for path, item in iter_records(store) if isinstance(item, ContractError)}
    assert list(problems) == ["notes.json"]


def test_records_of_other_configs_are_orphans_not_runs(store):
    study = expand("tiny", params=tiny_params(seeds=[0, 1]))
    status = study_status(study, store)
    assert status.counts()["done"] == 2 and len(status.orphans) == 2 and not status.unreadable


def test_runs_command_prints_the_table(store, tmp_path, monkeypatch, capsys):
    damage(store)
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", PARAMS)))
    assert main(["runs", "tiny", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    header, _, row = out.splitlines()[:3]
    cells = [c.strip() for c in row.split("|")[1:-1]]
    names = [c.strip() for c in header.split("|")[1:-1]]
    assert dict(zip(names, cells)) == {
        "method": "erm",
        "arch": "simple_cnn[hidden=16]",
        "dataset": "tiny_digits",
        "done": "1",
        "failed": "0",
        "stale": "1",
        "missing": "1",
        "corrupt": "1",
        "runs": "4",
    }
    assert "4 runs in" in out and "1 done, 0 failed, 1 stale, 1 missing, 1 corrupt" in out
    assert main(["runs", "tiny", "--out", str(store), "--detail"]) == 0
    detail = capsys.readouterr().out
    assert "| corrupt " in detail and "not a readable JSON record" in detail and "test acc" in detail

"""A sweep copies the current records of the same runs from the studies named in ``reuse_from``
(benchmark/records/reuse.py) instead of retraining them, and retrains what is not there or not current."""

from __future__ import annotations

import json

import pytest
from sweep_helpers import sweep, tiny_params

from benchmark.contracts import ContractError
from benchmark.sweeps.study import expand


def reusing(seeds: int) -> dict:
    """Study ``tiny`` reusing study ``base`` (the same grid, swept into results' sibling folder ``base``)."""
    params = tiny_params(["erm"], seeds=seeds, reuse_from=["base"])
    params["studies"]["base"] = tiny_params(["erm"], seeds=1)["studies"]["tiny"]
    return params


def test_a_sweep_copies_the_named_study_s_current_records_and_trains_the_rest(tmp_path):
    runs = tmp_path / "runs"
    first = sweep(tiny_params(["erm"], seeds=1), runs / "base")
    assert first.ok == 1
    params = reusing(seeds=2)
    second = sweep(params, runs / "tiny")
    assert (second.reused, second.ok, second.skipped) == (1, 1, 0)
    assert "1 copied from other studies" in second.line()
    (rid,) = [p.stem for p in (runs / "base").glob("*.json")]
    assert (runs / "tiny" / f"{rid}.json").read_bytes() == (runs / "base" / f"{rid}.json").read_bytes()
    again = sweep(params, runs / "tiny")
    assert (again.reused, again.ok, again.skipped) == (0, 0, 2)


def test_a_stale_record_is_not_copied_and_a_study_without_reuse_from_copies_nothing(tmp_path):
    runs = tmp_path / "runs"
    sweep(tiny_params(["erm"], seeds=1), runs / "base")
    assert sweep(tiny_params(["erm"], seeds=1), runs / "tiny").reused == 0  # not opted in: trained
    (path,) = (runs / "base").glob("*.json")
    record = json.loads(path.read_text())
    record["fingerprint"]["core"] = "0" * 64  # written by other code: stale
    path.write_text(json.dumps(record))
    summary = sweep(reusing(seeds=1), runs / "other")
    assert (summary.reused, summary.ok) == (0, 1)


def test_reuse_from_must_name_another_study():
    with pytest.raises(ContractError, match=r"studies\.tiny\.reuse_from\[0\]: 'nope' is not another study"):
        expand("tiny", params=tiny_params(["erm"], seeds=1, reuse_from=["nope"]))

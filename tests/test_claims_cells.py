"""A claims-file entry is one claim with cells beneath it; cross-dataset cells are unpaired; identical runs say
whether the option was exercised (reports.claims.spec, reports.claims.identical)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from benchmark.records.schema import RunRecord
from benchmark.reports.claims.identical import differing, exercised
from benchmark.reports.claims.spec import Claim, Side, load_paper

CLAIMS = Path(__file__).resolve().parents[1] / "claims"


def test_cells_remember_their_entry_and_cross_dataset_cells_are_unpaired():
    cyborg = {c.id: c for c in load_paper(CLAIMS / "cyborg.yaml").claims}
    assert cyborg["CYB-1 · gap_cnn"].entry == "CYB-1" and cyborg["CYB-1 · gap_cnn"].cell == "gap_cnn"
    assert cyborg["CYB-4"].entry == "CYB-4" and cyborg["CYB-4"].cell == "", "a one-cell claim keeps its id"
    assert not cyborg["CYB-3 · test_closed/auc"].paired, "small toy faces vs 7x toy faces: Welch"
    assert cyborg["CYB-1 · gap_cnn"].paired
    decoy = {c.id: c for c in load_paper(CLAIMS / "decoy.yaml").claims}
    assert not decoy["RRR-2"].paired and not decoy["RRR-2-all"].paired, "decoy vs clean digits"


def record(rid: str, seed: int, gap: float, accuracy: float, weights: str) -> RunRecord:
    return RunRecord(
        run_id=rid,
        identity={},
        config={"method": "smoot", "method_params": {"max_loss_gap": gap, "fraction": 0.5}, "seed": seed},
        metrics={"test": {"accuracy": 0.9, "loss": accuracy}},
        curves={"mask_fraction": [0.5, 0.4]},
        extra={"weights_sha256": weights},
    )


class Records(SimpleNamespace):
    """What ``exercised`` reads of a ``RecordSet``: ``runs`` and ``record(run_id)``."""

    def record(self, rid: str) -> RunRecord:
        return self.by_id[rid]


def records(loss_b: float = 0.3, weights_b: str = "w", gap_b: float = 0.5) -> Records:
    made = [record(f"a{s}", s, 0.1, 0.3, "w") for s in range(3)] + [
        record(f"b{s}", s, gap_b, loss_b, weights_b) for s in range(3)
    ]
    runs = pd.DataFrame(
        [
            {"run_id": r.run_id, "method": "smoot" if r.run_id[0] == "a" else "smoot[max_loss_gap=0.5]"}
            | {"dataset": "d", "arch": "n", "seed": r.config["seed"], "state": "done"}
            for r in made
        ]
    )
    return Records(runs=runs, by_id={r.run_id: r for r in made})


CLAIM = Claim(
    "A1",
    "does the bound matter?",
    "",
    "sgt",
    "test/accuracy",
    "difference",
    0.01,
    "higher",
    Side("smoot[max_loss_gap=0.5]", "d", "n"),
    Side("smoot", "d", "n"),
    entry="A1",
)


def test_identical_runs_name_the_option_and_say_nothing_else_differed():
    said = exercised(CLAIM, records())
    assert said == (
        "the configs differ in method_params.max_loss_gap 0.5 vs 0.1, yet the 3 paired runs have identical "
        "weights, metrics and curves: the option changed nothing"
    )


def test_identical_metric_but_other_records_differ_and_same_configuration():
    said = exercised(CLAIM, records(loss_b=0.4, weights_b="v"))
    assert said.endswith("differ in weights; metrics (test.loss), though not in this claim's metrics")
    assert exercised(CLAIM, records(gap_b=0.1)).startswith("the two sides are the same configuration")
    assert differing({"a": {"b": 1, "c": [1]}}, {"a": {"b": 1, "c": [2]}}) == {"a.c": ([1], [2])}

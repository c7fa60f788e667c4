"""Hyperparameter random search (DomainBed's protocol): seeded draws, validation selection, tuned items.

Everything here is pure logic or hand-made records, except one tiny end-to-end search (2 runs of a
12x12 digit task, seconds)."""

from __future__ import annotations

import copy
import json
import re

import pandas as pd
import pytest
from sweep_helpers import tiny_params, write_params

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.records import selections
from benchmark.records.identity import run_id
from benchmark.records.table import relabel
from benchmark.registry import METHODS
from benchmark.reports.study.summary import wide_frame
from benchmark.sweeps.search import draw, draws, load_search, select
from benchmark.sweeps.search_runs import Cell, draw_rows, publication
from benchmark.sweeps.study import expand

SPACE = {
    "sgt": {"fraction": {"uniform": [0.1, 0.9]}, "kl_weight": {"log_uniform": [0.1, 10.0]}},
    "cyborg": {"alpha": {"uniform": [0.05, 0.95]}, "cam_class": {"choice": ["true", "predicted"]}},
}


def search_params(methods=("erm", "sgt", "cyborg"), draws_=4, **entry) -> dict:
    """tiny_params (variant tiny_digits, profile quick, study tiny) plus the search ``tiny``."""
    params = tiny_params(epochs=1)
    params["searches"] = {
        "tiny": {
            "methods": list(methods),
            "archs": [{"name": "simple_cnn", "params": {"hidden": 16}}],
            "datasets": ["tiny_digits"],
            "seeds": [0, 1],
            "draws": draws_,
            "shared": {"optimizer.lr": {"log_uniform": [0.0003, 0.003]}},
            "space": copy.deepcopy({m: s for m, s in SPACE.items() if m in methods}),
            "select": {"split": "val", "metric": "accuracy"},
            "oracle": {"split": "test", "metric": "accuracy"},
            **entry,
        }
    }
    return params


def test_draws_are_seeded_inside_their_ranges_equal_per_method_and_draw_zero_is_the_defaults():
    params = search_params()
    search = load_search("tiny", params)
    every = draws(search)
    assert every == draws(load_search("tiny", copy.deepcopy(params))), "a pure function of (search, method, i)"
    assert [d.method for d in every].count("erm") == [d.method for d in every].count("sgt") == 4
    for d in every:
        declared = METHODS.get(d.method).hparams
        if d.index == 0:  # DomainBed's hparams_seed 0: the paper defaults, and the profile's lr
            assert d.params == {k: declared[k].default for k in SPACE.get(d.method, {})}
            assert d.settings == {"optimizer.lr": 0.001}
            continue
        assert 0.0003 <= d.settings["optimizer.lr"] <= 0.003
        if d.method == "sgt":
            assert 0.1 <= d.params["fraction"] <= 0.9 and 0.1 <= d.params["kl_weight"] <= 10.0
        if d.method == "cyborg":
            assert 0.05 <= d.params["alpha"] <= 0.95 and d.params["cam_class"] in ("true", "predicted")
    assert len({d.settings["optimizer.lr"] for d in every if d.method == "erm"}) == 4, "ERM is tuned too"
    other = load_search("tiny", {**params, "searches": {"tiny": {**params["searches"]["tiny"], "draws": 6}}})
    assert draws(other)[:4] == every[:4], "more draws keep the first ones"


def test_a_value_s_draws_do_not_move_when_another_hyperparameter_joins_the_space():
    params = search_params(methods=("sgt",))
    before = draws(load_search("tiny", params))
    params["searches"]["tiny"]["space"]["sgt"]["fill"] = {"choice": ["random", "mean"]}
    after = draws(load_search("tiny", params))
    assert [(d.params["fraction"], d.params["kl_weight"], d.settings) for d in before] == [
        (d.params["fraction"], d.params["kl_weight"], d.settings) for d in after
    ]
    assert after[0].params["fill"] == "random" and {d.params["fill"] for d in after} <= {"random", "mean"}


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda s: s["space"]["sgt"].update(fractoin={"uniform": [0.1, 0.2]}),
            "space.sgt.fractoin: method 'sgt' declares no hyperparameter 'fractoin'; did you mean 'fraction'?",
        ),
        (
            lambda s: s["space"]["sgt"].update(fraction={"uniform": [0.1, 1.5]}),
            "space.sgt.fraction: hyperparameter 'fraction' must be in [0, 1], got 1.5",
        ),
        (
            lambda s: s["space"]["cyborg"].update(cam_class={"uniform": [0.0, 1.0]}),
            "space.cyborg.cam_class: uniform draws floats; the hyperparameter is str",
        ),
        (
            lambda s: s["space"]["cyborg"].update(cam_class={"choice": ["true", "guessed"]}),
            "must be one of ['true', 'predicted'], got 'guessed'",
        ),
        (
            lambda s: s["space"]["sgt"].update(kl_weight={"log_uniform": [0.0, 1.0]}),
            "space.sgt.kl_weight.log_uniform: bounds must be > 0",
        ),
        (lambda s: s["space"]["sgt"].update(kl_weight={"uniform": [2.0, 1.0]}), "expected [low, high] with low < high"),
        (
            lambda s: s["space"].update(rrr={"lam": {"uniform": [1.0, 2.0]}}),
            "space.rrr: not one of the search's methods",
        ),
        (lambda s: s.update(methods=["erm", "sgtt"]), "unknown method 'sgtt'; did you mean 'sgt'?"),
        (lambda s: s.update(draws=0), "searches.tiny.draws: expected the number of draws per method"),
        (
            lambda s: s.update(select={"split": "test", "metric": "accuracy"}),
            "model selection never reads a test split ('test')",
        ),
        (lambda s: s.update(select={"split": "val", "metric": "f1"}), "select.metric: expected one of"),
        (
            lambda s: s.update(shared={"lr": {"log_uniform": [0.001, 0.01]}}),
            "shared.lr: a searched run setting is optimizer.KEY",
        ),
        (lambda s: s.update(shared={"optimizer.lr": {"uniform": [-1.0, 0.01]}}), "shared.optimizer.lr: optimizer.lr"),
        (lambda s: s.update(seed=[0]), "searches.tiny: unknown key 'seed'; did you mean 'seeds'?"),
    ],
)
def test_a_bad_search_is_refused_in_one_line_naming_the_field(edit, message):
    params = search_params()
    edit(params["searches"]["tiny"])
    with pytest.raises(ContractError, match=None) as caught:
        load_search("tiny", params)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_command_refuses_before_any_compute_with_exit_2(tmp_path, monkeypatch, capsys):
    params = search_params()
    params["searches"]["tiny"]["space"]["sgt"]["fraction"] = {"uniform": [0.1, 2.0]}
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    assert main(["search", "tiny", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "searches.tiny.space.sgt.fraction" in err
    assert not (tmp_path / "out").exists()
    assert main(["search", "tinyy", "--out", str(tmp_path / "out")]) == 2
    assert "unknown search 'tinyy'; did you mean 'tiny'?" in capsys.readouterr().err


class Records:
    """Hand-made records: ``runs`` (run_id, state) and ``done()`` (run_id, split, metric, value)."""

    def __init__(self, values: dict[tuple[str, str], float], states: dict[str, str]):
        rows = [
            {"run_id": rid, "split": col.split("/")[0], "metric": col.split("/")[1], "value": v}
            for (rid, col), v in values.items()
            if states[rid] == "done"
        ]
        self._done = pd.DataFrame(rows, columns=["run_id", "split", "metric", "value"])
        self.runs = pd.DataFrame({"run_id": list(states), "state": list(states.values())})

    def done(self) -> pd.DataFrame:
        return self._done


def hand_made(search):
    """Draws of sgt on two seeds: val favours draw 2, the test split draw 1; draw 3 has the best val
    on one seed but its other run failed; draw 0 ties with draw 4."""
    val = {0: (0.90, 0.92), 1: (0.80, 0.82), 2: (0.95, 0.93), 3: (0.99, None), 4: (0.92, 0.90)}
    test = {0: (0.5, 0.5), 1: (0.9, 0.9), 2: (0.6, 0.6), 3: (0.99, 0.99), 4: (0.5, 0.5)}
    cells, values, states = [], {}, {}
    for i in range(5):
        rids = (f"r{i}a", f"r{i}b")
        cells.append(Cell(draw(search, "sgt", i), rids))
        for k, rid in enumerate(rids):
            states[rid] = "failed" if val[i][k] is None else "done"
            if val[i][k] is not None:
                values[(rid, "val/accuracy")], values[(rid, "test/accuracy")] = val[i][k], test[i][k]
                values[(rid, "test_iid/accuracy")] = 1.0 - val[i][k]  # a test split a peek would prefer
    return tuple(cells), Records(values, states)


def test_selection_is_the_argmax_of_the_mean_validation_score_and_the_oracle_is_apart():
    search = load_search("tiny", search_params(methods=("sgt",), draws_=5))
    cells, records = hand_made(search)
    rows = draw_rows(search, cells, records)
    assert [r["val"] for r in rows] == [0.91, 0.81, 0.94, None, 0.91]  # mean over seeds; draw 3 incomplete
    assert rows[3]["n"] == 1 and rows[3]["states"] == {"done": 1, "failed": 1} and rows[3]["oracle"] is None
    assert select({r["draw"]: r["val"] for r in rows}, True) == 2
    assert select({0: 0.91, 4: 0.91}, True) == 0, "ties: the lower draw (the defaults first)"
    assert select({0: 0.3, 1: 0.2}, False) == 1, "loss: lower is better"
    assert select({0: None}, True) is None

    plan = type("Plan", (), {"cells": cells, "study": expand("tiny", params=tiny_params())})()
    pub = publication(search, plan, records, "hash")
    chosen = pub["methods"]["sgt"]
    assert chosen["selected"]["draw"] == 2 and chosen["selected"]["params"] == cells[2].draw.params
    assert chosen["oracle_selected"]["draw"] == 1, "the oracle peeks at the shifted split, reported apart"
    assert "oracle" in pub["oracle"]["label"] and "not a model selection" in pub["oracle"]["label"]
    assert "seeds" in pub["varies"]


def test_validation_never_reads_a_test_split():
    search = load_search("tiny", search_params(methods=("sgt",), draws_=5))
    cells, records = hand_made(search)
    records._done = records._done[~records._done["split"].str.startswith("test")]  # no test score at all
    rows = draw_rows(search, cells, records)
    assert select({r["draw"]: r["val"] for r in rows}, True) == 2, "the same selection without any test split"
    assert all(r["oracle"] is None for r in rows)


def publish(folder, params, name="tiny", method="sgt", chosen=None):
    """A publication of search ``name`` for today's definition, selecting ``chosen`` for ``method``."""
    chosen = chosen or {"draw": 2, "params": {"fraction": 0.3, "kl_weight": 2.0}, "settings": {"optimizer.lr": 0.002}}
    data = {
        "schema": selections.SCHEMA,
        "search": name,
        "definition": selections.definition_hash(name, params),
        "methods": {method: {"selected": {**chosen, "val": 0.9, "oracle": 0.5, "n": 2}, "oracle_selected": None}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(data))


def tuned_params() -> dict:
    params = search_params()
    params["studies"]["tiny"]["methods"] = ["sgt", {"name": "sgt", "tuned": "tiny"}]
    return params


def test_a_tuned_item_trains_the_published_selection_under_a_stable_label(tmp_path, monkeypatch):
    monkeypatch.setattr(selections, "search_folder", lambda: tmp_path)
    params = tuned_params()
    publish(tmp_path, params)
    study = expand("tiny", params=params)
    default, tuned = study.runs[0], study.runs[1]
    assert (default.method, tuned.method, tuned.tuned) == ("sgt", "sgt[tuned]", "tiny")
    assert tuned.label == "sgt[tuned]/simple_cnn[hidden=16]/tiny_digits/seed=0"
    assert tuned.config.method_params["fraction"] == 0.3 and tuned.config.method_params["kl_weight"] == 2.0
    assert tuned.config.optimizer["lr"] == 0.002 and default.config.optimizer["lr"] == 0.001, "this item only"
    explicit = copy.deepcopy(params)
    explicit["studies"]["tiny"]["methods"] = [{"name": "sgt", "params": {"fraction": 0.3, "kl_weight": 2.0}}]
    explicit["studies"]["tiny"]["optimizer"] = {"name": "adam", "lr": 0.002}
    assert tuned.run_id == expand("tiny", params=explicit).runs[0].run_id == run_id(tuned.config), (
        "the run's identity holds the real values"
    )
    assert study.method_labels() == {spec.run_id: ("sgt[tuned]",) for spec in study.runs if spec.tuned}

    publish(
        tmp_path,
        params,
        chosen={"draw": 3, "params": {"fraction": 0.7, "kl_weight": 1.0}, "settings": {"optimizer.lr": 0.001}},
    )
    moved = expand("tiny", params=params)
    assert moved.runs[1].method == "sgt[tuned]" and moved.runs[1].run_id != tuned.run_id, "new selection, same label"

    frame = pd.DataFrame(
        {"run_id": [default.run_id, tuned.run_id], "method": ["sgt", "sgt[fraction=0.3,kl_weight=2.0]"]}
    )
    assert list(relabel(frame, study.method_labels())["method"]) == ["sgt", "sgt[tuned]"]


def test_a_selection_equal_to_the_defaults_is_one_run_shown_under_both_labels(tmp_path, monkeypatch):
    monkeypatch.setattr(selections, "search_folder", lambda: tmp_path)
    params = tuned_params()
    publish(
        tmp_path,
        params,
        chosen={"draw": 0, "params": {"fraction": 0.5, "kl_weight": 1.0}, "settings": {"optimizer.lr": 0.001}},
    )
    study = expand("tiny", params=params)
    assert [spec.method for spec in study.runs] == ["sgt", "sgt"], "one run per seed: nothing is trained twice"
    assert [spec.method for spec in study.aliases] == ["sgt[tuned]", "sgt[tuned]"]
    labels = study.method_labels()
    assert labels == {spec.run_id: (None, "sgt[tuned]") for spec in study.runs}
    scores = pd.DataFrame(
        {
            "run_id": [s.run_id for s in study.runs],
            "method": "sgt",
            "arch": "simple_cnn",
            "dataset": "tiny_digits",
            "seed": [0, 1],
            "split": "test",
            "metric": "accuracy",
            "value": [0.5, 0.7],
        }
    )
    shown = wide_frame(relabel(scores, labels))
    assert list(zip(shown["method"], shown["seed"], shown["test/accuracy"])) == [
        ("sgt", 0, 0.5),
        ("sgt[tuned]", 0, 0.5),
        ("sgt", 1, 0.7),
        ("sgt[tuned]", 1, 0.7),
    ]


def test_a_missing_or_stale_selection_is_one_line_naming_the_file_and_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(selections, "search_folder", lambda: tmp_path)
    params = tuned_params()
    with pytest.raises(
        ContractError,
        match=r"studies.tiny.methods\[1\]: .*tiny.json: no published selection of search "
        r"'tiny'; run `python -m benchmark search tiny`",
    ):
        expand("tiny", params=params)
    publish(tmp_path, params)
    params["searches"]["tiny"]["draws"] = 5  # the definition changed since it was published
    with pytest.raises(ContractError, match=r"tiny.json is stale: .*run `python -m benchmark search tiny`"):
        expand("tiny", params=params)
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    assert main(["sweep", "tiny", "--dry-run", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is stale" in err
    publish(tmp_path, params, method="cyborg")
    with pytest.raises(ContractError, match=r"did not tune method 'sgt'; it tuned \['cyborg'\]"):
        expand("tiny", params=params)


def test_a_tiny_search_runs_publishes_and_republishes_byte_identically(tmp_path, monkeypatch, capsys):
    params = search_params(methods=("erm",), draws_=2, seeds=[0], evaluation={"enabled": False})
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    out = tmp_path / "search"
    assert main(["search", "tiny", "--out", str(out), "--quiet"]) == 0
    first = (out / "tiny.json").read_bytes(), (out / "tiny.md").read_bytes()
    assert len(list((out / "runs" / "tiny").glob("*.json"))) == 2
    assert main(["search", "tiny", "--out", str(out), "--quiet"]) == 0
    assert "0 done now, 2 skipped" in capsys.readouterr().out
    assert ((out / "tiny.json").read_bytes(), (out / "tiny.md").read_bytes()) == first
    pub = json.loads(first[0])
    assert pub["definition"] == selections.definition_hash("tiny", params)
    assert [(r["method"], r["draw"], r["n"]) for r in pub["draws"]] == [("erm", 0, 1), ("erm", 1, 1)]
    assert pub["methods"]["erm"]["selected"]["draw"] in (0, 1)
    page = first[1].decode()
    assert "What varies inside intervals" in page and "## Oracle: selected on test/accuracy" in page

    monkeypatch.setattr(selections, "search_folder", lambda: out)  # a study trains the selection
    params["studies"]["tiny"].update(methods=[{"name": "erm", "tuned": "tiny"}], seeds=[0])
    write_params(tmp_path / "params.yaml", params)
    assert main(["sweep", "tiny", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    assert main(["summary", "tiny", "--out", str(tmp_path / "runs")]) == 0
    assert re.search(r"^\| erm\[tuned\] +\| simple_cnn", capsys.readouterr().out, re.M), (
        "the stable label in the report"
    )

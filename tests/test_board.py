"""The across-cell leaderboard end to end on hand-made records (issue 24 items 2-3): tidy runs and scores frames
through ``reports.board.inputs`` and ``analysis`` to the files ``writer`` writes; ``board.tables.json``'s round
trip and its malformed fields; and ``python -m benchmark board``'s refusals (exit 2, one line, nothing written)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import TINY_DATA, tiny_params, write_params

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.reports.board.analysis import analyse
from benchmark.reports.board.inputs import GridCell, arrays
from benchmark.reports.board.tables_file import BoardTables
from benchmark.reports.board.writer import write_board

CELLS = [GridCell("s", f"d{i}", "a" if i < 3 else "b", "test/accuracy", f"clean{i}", f"cue {i}") for i in range(6)]
GAPS = np.linspace(0.1, 0.3, 6)
CLOSES = {
    "erm": np.zeros(6),
    "steady": np.full(6, 0.6),
    "lucky": np.array([2.5, 0.4, 0.4, 0.4, 0.4, 0.4]),
    "sage": np.full(6, 0.2),
}


def records(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, scores) of a study "s": 6 cells x 5 seeds, ERM at 0.5, the reference at 0.5 + gap; `sage[tuned]`
    names sage's runs (its search selected the defaults); an ablation trained in one cell; one run missing."""
    rng = np.random.default_rng(seed)
    runs, scores = [], []

    def add(label: str, dataset: str, arch: str, s: int, value: float, run_id: str, state: str = "done") -> None:
        base = {"run_id": run_id, "method": label, "arch": arch, "dataset": dataset, "seed": s, "study": "s"}
        runs.append({**base, "state": state, "problem": ""})
        if state == "done":
            scores.append({**base, "state": state, "split": "test", "metric": "accuracy", "value": value})

    for c, cell in enumerate(CELLS):
        for s in range(5):
            noise = 0.005 * rng.standard_normal(len(CLOSES) + 2)
            for k, (label, close) in enumerate(CLOSES.items()):
                rid = f"{label}-{c}-{s}"
                add(label, cell.dataset, cell.arch, s, 0.5 + close[c] * GAPS[c] + noise[k], rid)
                if label == "sage":
                    add("sage[tuned]", cell.dataset, cell.arch, s, 0.5 + close[c] * GAPS[c] + noise[k], rid)
            add("erm", cell.reference, cell.arch, s, 0.5 + GAPS[c] + noise[-1], f"ref-{cell.arch}-{c}-{s}")
            if c == 0:
                add("sage[x=1]", cell.dataset, cell.arch, s, 0.6 + noise[-2], f"abl-{s}")
    add("steady", CELLS[0].dataset, "a", 5, np.nan, "late", state="missing")
    return pd.DataFrame(runs), pd.DataFrame(scores)


def tables(reps: int = 400) -> BoardTables:
    runs, scores = records()
    return analyse(CELLS, arrays(CELLS, runs, scores, "erm"), "erm", reps=reps, not_done=["s: steady: missing"])


def test_the_board_ranks_by_the_across_cell_score_and_merges_tuned_defaults(tmp_path):
    """The "Done when" of issue 24 on the real path: `lucky` wins cell d0 by far (its per-cell board's winner),
    `steady` leads in the other five; the board ranks `steady` first, on the score and on the mean rank."""
    t = tables()
    raw = t.raw[t.raw["cell"] == "d0/a"].set_index("method")["mean"]
    assert raw.drop("erm").idxmax() == "lucky"
    ranked = t.rows[t.rows["method"] != "erm"]
    assert list(ranked["method"]) == ["steady", "lucky", "sage"]
    assert list(ranked["place"]) == [1, 2, 3] and set(ranked["of"]) == {3}
    steady = ranked.iloc[0]
    assert steady["mean_rank"] < ranked.iloc[1]["mean_rank"]
    assert steady["gap_closed"] == pytest.approx(0.6, abs=0.03) and steady["marker"] == "▲"
    assert steady["n_cells"] == 6 and steady["seeds"] == "5"
    assert ranked.set_index("method").loc["sage", "note"] == "tuned = defaults"
    assert "sage[tuned]" not in set(t.rows["method"]), "one row per distinct set of runs"
    assert list(t.apart["method"]) == ["sage[x=1]"], "the ablation is listed apart, not ranked"
    assert t.friedman["status"] == "ok" and t.gates["cd_diagram"] == "" and t.gates["mean_rank"] == ""
    assert len(t.pairwise) == 6 and t.pairwise["p_holm"].notna().all(), "every pair of the 4 rows tested"
    written = write_board(t, tmp_path)
    text = (tmp_path / "board.md").read_text()
    assert "| 1/3 " in text and "sage (tuned = defaults)" in text and "s: steady: missing" in text
    assert "Agarwal et al. 2021" in text and "Demšar 2006" in text and "Bonferroni" in text
    assert {p.name for p in (tmp_path / "board").iterdir()} == {"cd_diagram.png", "gap_closed.png"}
    metrics = json.loads((tmp_path / "board.json").read_text())["metrics"]
    assert metrics["rows"]["steady"]["gap_closed"] == pytest.approx(steady["gap_closed"], rel=1e-5)
    first = {p: p.read_bytes() for p in written if p.is_file()}
    write_board(tables(), tmp_path)
    assert first == {p: p.read_bytes() for p in first}, "byte-identical on rerun"


def test_the_tables_file_round_trips_and_names_a_malformed_field(tmp_path):
    t = tables(reps=200)
    path = tmp_path / "board.tables.json"
    path.write_text(t.to_text())
    back = BoardTables.read(path)
    assert back.to_text() == t.to_text()
    assert back.tests["gap_closed"].text() == t.tests["gap_closed"].text()
    data = json.loads(path.read_text())
    del data["rows"][0]["gap_closed"]
    with pytest.raises(ContractError, match=r"board\.tables\.json: rows: malformed .*'gap_closed'"):
        BoardTables.from_json(data)
    data = json.loads(path.read_text())
    data["cells"] = "six"
    with pytest.raises(ContractError, match="cells: malformed"):
        BoardTables.from_json(data)


def grid_params() -> dict:
    params = tiny_params(methods=["erm", "rrr"], seeds=2)
    params["datasets"]["tiny_clean"] = {"family": "decoy_digits", "params": {**TINY_DATA, "decoy": False}}
    params["studies"]["tiny"]["grids"] = [
        {"methods": ["erm", "rrr"], "datasets": ["tiny_digits"]},
        {"methods": ["erm"], "datasets": ["tiny_clean"]},
    ]
    del params["studies"]["tiny"]["methods"], params["studies"]["tiny"]["datasets"]
    params["leaderboard"] = ["tiny"]
    cell = {"study": "tiny", "dataset": "tiny_digits", "arch": "simple_cnn[hidden=16]", "metric": "test/accuracy"}
    params["leaderboard_grid"] = {"cells": [{**cell, "reference": "tiny_clean", "shortcut": "decoy"}]}
    return params


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("study", "other", "leaderboard_grid.cells[0].study: 'other' is not a study of leaderboard"),
        ("dataset", "tiny_clean2", "cells[0].dataset/arch: study tiny does not train tiny_clean2 on simple_cnn[h"),
        ("dataset", "tiny_clean", "cells[0].reference: the same dataset as the cell's (tiny_clean)"),
        ("arch", "gap_cnn", "cells[0].dataset/arch: study tiny does not train tiny_digits on gap_cnn"),
        ("reference", "tiny_clean2", "cells[0].reference: study tiny has no erm runs on tiny_clean2"),
        ("reference", "nowhere", "cells[0].reference: unknown dataset variant 'nowhere'"),
        ("metric", "test/nonsense", "cells[0].metric: 'test/nonsense'"),
        ("metric", "accuracy", "cells[0].metric: 'accuracy'"),
    ],
)
def test_a_bad_grid_cell_is_refused_before_any_compute(tmp_path, monkeypatch, capsys, field, value, fragment):
    params = grid_params()
    params["datasets"]["tiny_clean2"] = copy.deepcopy(params["datasets"]["tiny_clean"])
    params["leaderboard_grid"]["cells"][0][field] = value
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", params)))
    dest = tmp_path / "dest"
    code = main(["board", "--out", str(tmp_path / "runs"), "--dest", str(dest), "--reps", "100"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert fragment in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not dest.exists(), "nothing written"

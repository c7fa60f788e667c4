"""A study's pages show one row per distinct set of runs (issue 24 item 3): ``sage[tuned]`` naming sage's runs
(a search that selected the defaults) is folded into ``sage`` with a note, never ranked twice."""

from __future__ import annotations

import pandas as pd

from benchmark.records.table import RecordSet
from benchmark.reports.study.board import footer
from benchmark.reports.study.labels import merged_labels, merged_text, one_label_per_run_set


def record_set(labels: dict[str, list[str]]) -> RecordSet:
    """Runs and scores of label -> run ids (one cell, seeds in order)."""
    runs, scores = [], []
    for label, ids in labels.items():
        for seed, rid in enumerate(ids):
            row = {"run_id": rid, "method": label, "arch": "a", "dataset": "d", "seed": seed, "state": "done"}
            runs.append({**row, "problem": "", "path": "", "current": True})
            scores.append({**row, "split": "test", "metric": "accuracy", "value": 0.5, "path": ""})
    return RecordSet(status=None, runs=pd.DataFrame(runs), scores=pd.DataFrame(scores), undefined=pd.DataFrame())


def test_a_tuned_label_with_the_default_runs_is_one_row_and_the_page_says_so():
    records = record_set(
        {
            "erm": ["e0", "e1"],
            "sage[tuned]": ["s0", "s1"],  # listed first: the default label is still the one shown
            "sage": ["s0", "s1"],
            "erm[tuned]": ["t0", "t1"],  # other runs: its own row
            "sgt": ["g0", "g1"],
            "sgt[fraction=0.5]": ["g0", "g1"],  # an explicit label of the defaults: same runs
        }
    )
    folded, merged = one_label_per_run_set(records, keep="erm")
    assert merged == {"sage": ["sage[tuned]"], "sgt": ["sgt[fraction=0.5]"]}
    assert set(folded.runs["method"]) == {"erm", "sage", "erm[tuned]", "sgt"}
    assert set(folded.scores["method"]) == set(folded.runs["method"])
    assert len(folded.runs) == 8 and len(records.runs) == 12  # the input is left as it was
    text = merged_text(merged)
    assert "`sage` also stands for `sage[tuned]` (tuned = defaults)" in text
    assert "`sgt` also stands for `sgt[fraction=0.5]`" in text and "sgt[fraction=0.5]` (tuned" not in text


def test_the_baseline_is_the_label_kept_and_nothing_changes_without_shared_runs():
    records = record_set({"erm": ["e0"], "erm[tuned]": ["e0"], "sage": ["s0"]})
    assert merged_labels(records, keep="erm[tuned]") == {"erm[tuned]": ["erm"]}
    same, none = one_label_per_run_set(record_set({"erm": ["e0"], "sage": ["s0"]}), keep="erm")
    assert none == {} and list(same.runs["method"]) == ["erm", "sage"]


def test_the_methods_section_prints_the_merge():
    """``footer`` (the Markdown and HTML pages' Methods section) carries the line, from the report's field."""
    from types import SimpleNamespace

    completeness = SimpleNamespace(runs=pd.DataFrame({"seed": [0, 1]}))
    rep = SimpleNamespace(
        completeness=completeness,
        alpha=0.05,
        families=[],
        sources="",
        bayes_samples=10,
        seed=0,
        scale="rope",
        reps=100,
        versions={"scipy": "1"},
        overhead_note="",
        merged={"sage": ["sage[tuned]"]},
    )
    lines = footer(rep)
    assert any(line.startswith("- **One row per set of runs.**") and "sage[tuned]" in line for line in lines)
    assert lines[-1].startswith("- **Packages.**")


def test_the_tables_file_keeps_the_merge_and_omits_it_when_empty():
    """``STUDY.tables.json`` round-trips ``merged`` (a study page is rebuilt from it) and a file without a merge
    is written as before (no key)."""
    import dataclasses
    import json
    from pathlib import Path

    from benchmark.reports.study.tables_file import StudyTables

    path = Path(__file__).resolve().parents[1] / "results" / "leaderboards" / "sgt.tables.json"
    data = json.loads(path.read_text())
    data.pop("merged", None)
    tables = StudyTables.from_json(data)
    assert tables.merged == {} and "merged" not in json.loads(tables.to_text())
    tables = dataclasses.replace(tables, merged={"sage": ["sage[tuned]"]})
    back = StudyTables.from_json(json.loads(tables.to_text()))
    assert back.merged == {"sage": ["sage[tuned]"]} and back.to_text() == tables.to_text()

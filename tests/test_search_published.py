"""The committed search publications (results/search/NAME.json) against today's definitions, and the
optional DVC stage that writes them (outside the default pipeline; deps = the command's closure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_fingerprints import _covered

from benchmark.code_closure import module_closure
from benchmark.config import load_params
from benchmark.records.selections import definition_hash, tuned_draw
from benchmark.registry import ARCHS, DATASETS, METHODS
from benchmark.sweeps.search import draws, load_search, select

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "results" / "search"
SEARCHES = sorted(load_params(ROOT / "params.yaml").get("searches") or {})


@pytest.mark.parametrize("name", SEARCHES)
def test_the_published_selection_matches_the_current_search_definition(name):
    path = PUBLISHED / f"{name}.json"
    assert path.is_file(), f"{path} is missing: run `python -m benchmark search {name}` and commit it"
    params = load_params(ROOT / "params.yaml")
    pub = json.loads(path.read_text())
    assert pub["definition"] == definition_hash(name, params), (
        f"{path} is stale (searches.{name} or what it reads changed): run `python -m benchmark search {name}`"
    )
    search = load_search(name, params)
    assert [(r["method"], r["draw"], r["params"], r["settings"]) for r in pub["draws"]] == [
        (d.method, d.index, d.params, d.settings) for d in draws(search)
    ], "the table holds today's draws"
    for method in search.methods:
        rows = {r["draw"]: r for r in pub["draws"] if r["method"] == method}
        assert len(rows) == search.draws == pub["draws_per_method"], "the same budget for every method"
        for key, chosen, criterion in (
            ("val", "selected", search.select),
            ("oracle", "oracle_selected", search.oracle),
        ):
            best = select({i: r[key] for i, r in rows.items()}, criterion.higher_is_better)
            published = pub["methods"][method][chosen]
            assert (published or {}).get("draw") == best, f"{method}: {chosen} is the argmax of the table's {key}"
            if best is not None:
                assert {k: published[k] for k in ("params", "settings", "val", "oracle")} == {
                    k: rows[best][k] for k in ("params", "settings", "val", "oracle")
                }
        if pub["methods"][method]["selected"] is not None:
            assert tuned_draw(name, method, params).draw == pub["methods"][method]["selected"]["draw"]
    assert (PUBLISHED / f"{name}.md").is_file()


@pytest.mark.parametrize("name", SEARCHES)
def test_every_draw_of_the_project_s_searches_plans_against_the_real_params_file(name):
    """The search's own document (its study alone) must not carry the file's studies' dependants: an optional
    study extending a default one broke every search once, found only when the stage ran."""
    from benchmark.sweeps.search_runs import plan

    params = load_params(ROOT / "params.yaml")
    search = load_search(name, params)
    planned = plan(search, params)
    assert len(planned.cells) == len(search.methods) * search.draws


def test_the_search_stage_is_optional_and_its_deps_cover_the_command_s_closure():
    stage = yaml.safe_load((ROOT / "optional" / "dvc.yaml").read_text())["stages"]["search"]
    assert stage["foreach"] == "${searches}" and stage["do"]["wdir"] == ".."
    root = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "search" not in root, "a bare `dvc repro` must not run a search"
    for name, entry in [("optional search", stage), *root.items()]:
        outs = [next(iter(o)) if isinstance(o, dict) else o for o in entry.get("do", entry).get("outs", [])]
        assert not [o for o in outs if o.startswith("results/search/") and o.endswith(".json")], (
            f"{name}: results/search/NAME.json is a committed source of the studies, no stage's out"
        )
    modules = [
        "benchmark.__main__",
        "benchmark.cli.search_cmd",
        "benchmark.runs.run",
        "benchmark.sweeps.worker",
        "benchmark.sweeps.executors",
    ]
    modules += [
        registry.get(name).__module__
        for registry in (METHODS, DATASETS, ARCHS)
        for name in registry.names()
        if registry.get(name).__module__.startswith(("benchmark.", "salbench_plugins."))
    ]
    uncovered = [p for p in module_closure(modules) if not _covered(p, stage["do"]["deps"])]
    assert not uncovered, f"optional/dvc.yaml search deps miss {uncovered}"

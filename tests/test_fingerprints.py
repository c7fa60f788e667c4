"""Code fingerprints are the import closure: editing a file stales exactly the runs that import it.

Each test edits files in a copy of the project (the package, the plug-in folders) and compares
the fingerprints computed from the copy before and after the edit. The DVC stages' deps and the
package's layering are checked against the same import graph.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from benchmark import code_closure
from benchmark.code_closure import PACKAGE_DIR, _imported_names, module_closure
from benchmark.data import dataset_store as store
from benchmark.records.provenance import code_fingerprint
from benchmark.registry import ARCHS, DATASETS, METHODS

ROOT = Path(__file__).resolve().parent.parent
METHOD_NAMES = ("erm", "sgt", "smoot", "cyborg", "gradia", "rrr", "sage")
CELLS = [(m, d, "simple_cnn") for m in METHOD_NAMES for d in ("decoy_digits", "toy_faces")]


@pytest.fixture
def copy(tmp_path, monkeypatch):
    """A copy of the project whose files the fingerprints read; returns an edit(path) helper."""
    for part in ("benchmark", "methods", "datasets"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("SALBENCH_ROOT", str(tmp_path))
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", tmp_path / "benchmark")

    def edit(relative: str) -> None:
        path = tmp_path / relative
        path.write_text(path.read_text() + "\n# an edit\n")

    return edit


def fingerprints() -> dict[tuple[str, str, str], dict[str, str]]:
    return {cell: code_fingerprint(*cell) for cell in CELLS}


def changed(before: dict, after: dict) -> dict[tuple[str, str, str], list[str]]:
    """Cell -> the parts whose fingerprint changed (cells with no change left out)."""
    out = {}
    for cell in before:
        parts = sorted(p for p in before[cell] if before[cell][p] != after[cell][p])
        if parts:
            out[cell] = parts
    return out


def test_editing_maps_stales_every_run_and_the_methods_that_import_it(copy):
    before = fingerprints()
    copy("benchmark/maps.py")
    diff = changed(before, fingerprints())
    assert set(diff) == set(CELLS), "the saliency evaluation of every run imports maps.py"
    assert {cell[0] for cell, parts in diff.items() if "method" in parts} == {
        "cyborg",
        "gradia",
        "rrr",
        "sage",
    }  # sage: its cached blur
    assert all("core" in parts and "dataset" not in parts and "arch" not in parts for parts in diff.values())


@pytest.mark.parametrize(
    "relative",
    [
        "benchmark/reports/study/summary.py",
        "benchmark/cli/run_cmd.py",
        "benchmark/sweeps/sweep.py",
        "benchmark/records/table.py",
        "benchmark/statistics/__init__.py",
        "benchmark/profiling/measure.py",
    ],
)
def test_editing_code_no_run_imports_stales_nothing(copy, relative):
    before = fingerprints()
    copy(relative)
    assert changed(before, fingerprints()) == {}


def test_editing_a_method_stales_only_its_runs_and_its_subclasses(copy):
    before = fingerprints()
    copy("methods/rrr.py")
    assert changed(before, fingerprints()) == {c: ["method"] for c in CELLS if c[0] == "rrr"}
    copy("methods/sgt.py")
    assert {c[0] for c in changed(before, fingerprints())} == {"rrr", "sgt", "smoot"}, "SMOOT imports SGT"


def test_editing_face_drawing_stales_toy_faces_builds_and_runs_not_digits(copy, tmp_path):
    params = DATASETS.get("toy_faces")().resolve({})
    built = tmp_path / "data" / "toy_faces"
    built.mkdir(parents=True)
    (built / store.MANIFEST).write_text(
        json.dumps({"family": "toy_faces", "params": params, "code_sha256": DATASETS.fingerprint("toy_faces")})
    )
    assert store.find("toy_faces", params, tmp_path / "data") == built
    before, digits = fingerprints(), DATASETS.fingerprint("decoy_digits")
    copy("benchmark/data/faces_drawing.py")
    assert store.find("toy_faces", params, tmp_path / "data") is None, "a stale build is never served"
    assert DATASETS.fingerprint("decoy_digits") == digits
    assert changed(before, fingerprints()) == {c: ["dataset"] for c in CELLS if c[1] == "toy_faces"}


def test_imports_inside_functions_count_and_type_checking_imports_do_not(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from benchmark import cli\n"
        "def f():\n    from .sibling import thing\n    import benchmark.maps\n"
    )
    names = _imported_names(path, (0, 1), "benchmark.runs")
    assert "benchmark.runs.sibling" in names and "benchmark.maps" in names and "benchmark.cli" not in names


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == dep or rel.startswith(dep.rstrip("/") + "/") for dep in deps)


def test_dvc_deps_cover_the_code_closures():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    sweep_deps = stages["sweep"]["do"]["deps"]
    modules = ["benchmark.runs.run", "benchmark.sweeps.worker", "benchmark.sweeps.executors"]
    modules += [
        registry.get(name).__module__
        for registry in (METHODS, DATASETS, ARCHS)
        for name in registry.names()
        if registry.get(name).__module__.startswith(("benchmark.", "salbench_plugins."))
    ]  # not test-only plug-ins
    uncovered = [p for p in module_closure(modules) if not _covered(p, sweep_deps)]
    assert not uncovered, f"sweep stage deps miss {uncovered}"
    variants = yaml.safe_load((ROOT / "params.yaml").read_text())["datasets"]
    for variant, entry in variants.items():
        deps = [d.replace("${item.family}", entry["family"]) for d in stages["data"]["do"]["deps"]]
        missing = [p for p in module_closure([DATASETS.get(entry["family"]).__module__]) if not _covered(p, deps)]
        assert not missing, f"data stage of {variant} misses {missing}"


def test_dvc_profile_deps_cover_the_commands_closure():
    stage = "profile"
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]["do"]["deps"]
    modules = [
        "benchmark.__main__",
        "benchmark.cli.profile_cmd",
        "benchmark.profiling.measure",
        "benchmark.profiling.outputs",
    ]
    modules += [
        registry.get(name).__module__
        for registry in (METHODS, ARCHS)
        for name in registry.names()
        if registry.get(name).__module__.startswith(("benchmark.", "salbench_plugins."))
    ]
    uncovered = [p for p in module_closure(modules) if not _covered(p, deps)]
    assert not uncovered, f"{stage} stage deps miss {uncovered}"


def test_dvc_settle_deps_cover_the_commands_closure():
    """The settle stage trains runs and judges claims: its deps cover both closures."""
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["settle"]["deps"]
    modules = ["benchmark.__main__", "benchmark.cli.settle_cmd", "benchmark.cli.claims_cmd"]
    modules += ["benchmark.runs.run", "benchmark.sweeps.worker", "benchmark.sweeps.executors"]
    modules += [
        registry.get(name).__module__
        for registry in (METHODS, DATASETS, ARCHS)
        for name in registry.names()
        if registry.get(name).__module__.startswith(("benchmark.", "salbench_plugins."))
    ]
    uncovered = [p for p in module_closure(modules) if not _covered(p, deps)]
    assert not uncovered, f"settle stage deps miss {uncovered}"


def test_dvc_board_deps_cover_the_commands_closure():
    """The across-cell leaderboard reads records through the study expansion: its deps cover that closure, the
    grid studies' records and the params it reads."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["board"]
    modules = ["benchmark.__main__", "benchmark.cli.board_cmd", "benchmark.cli.sweep_cmd", "benchmark.records.table"]
    modules += ["benchmark.reports.board.analysis", "benchmark.reports.board.inputs", "benchmark.reports.board.writer"]
    modules += ["benchmark.sweeps.study", "benchmark.config"]
    uncovered = [p for p in module_closure(modules) if not _covered(p, stage["deps"])]
    assert not uncovered, f"board stage deps miss {uncovered}"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    studies = {cell["study"] for cell in params["leaderboard_grid"]["cells"]}
    assert {f"results/runs/{s}" for s in studies} <= set(stage["deps"])
    assert {"leaderboard_grid", "leaderboard", "studies"} <= set(stage["params"])


LAYERS = (
    "base",
    "data",
    "models",
    "saliency",
    "runs",
    "records",
    "statistics",
    "reports",
    "sweeps",
    "profiling",
    "submission",
    "doctor",
    "cli",
)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "base"


def test_each_layer_imports_only_the_layers_before_it_and_no_module_cycle():
    """data -> runs -> records -> statistics -> reports: saliency never imports runs, reports never
    sweeps; no two modules of the package import each other, directly or through others."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts).removesuffix(".__init__")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        stat = path.stat()
        parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}  # `from . import x`
        imported = {
            n
            for n in _imported_names(path, (stat.st_mtime_ns, stat.st_size), package)
            if n.startswith("benchmark") and n not in parents
        }
        graph[name] = {
            n for n in imported if n in graph or (PACKAGE_DIR.parent / n.replace(".", "/")).with_suffix(".py").exists()
        }
    upward = [
        (m, n)
        for m, deps in graph.items()
        for n in deps
        if m != "benchmark.__main__" and LAYERS.index(_layer(n)) > LAYERS.index(_layer(m))
    ]
    assert not upward, upward
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join(trail + [node, nxt])}"
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_status_cache_gives_the_fingerprint_a_record_is_written_with():
    from benchmark.records.run_states import Fingerprints

    cached = Fingerprints()
    assert all(cached(*cell) == code_fingerprint(*cell) for cell in CELLS)


def test_stages_reading_built_data_depend_on_each_default_dataset_not_on_the_data_folder():
    """A stage that reads built datasets lists data/NAME for every `datasets:` variant, never the whole data/
    folder: a paper build there (`data build cyborg_faces`, the rehearsal's) must not stale the default pipeline."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    wanted = {f"data/{name}" for name in params["datasets"]}
    for path in (ROOT / "dvc.yaml", ROOT / "optional" / "dvc.yaml"):
        for name, stage in yaml.safe_load(path.read_text())["stages"].items():
            deps = set((stage.get("do") or stage).get("deps") or [])
            assert "data" not in deps, f"{path.name}: stage {name} depends on the whole data/ folder"
            if deps & wanted:
                assert wanted <= deps, f"{path.name}: stage {name} misses {sorted(wanted - deps)}"

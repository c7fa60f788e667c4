"""params.yaml's paper-table studies at ``--profile paper`` (issue 14, "Budgets").

- Every study of params.yaml that has an ``at_profile: {paper: ...}`` block expands at paper and
  its ``sweep --dry-run`` exits 0 with no error, offline, whatever data this machine lacks (each
  absent dataset is a warning line) and writing nothing.
- Each of the paper-table studies (``sgt``, ``faces``, ``decoy``) of params.yaml expands at paper with
  the papers' architectures, image sizes, epochs and seeds.
- The default ``dvc repro`` stays offline: no ``datasets:`` variant needs internet or a user's folder.
"""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

from benchmark.cli import main
from benchmark.config import load_params
from benchmark.data.paper_variants import paper_variants
from benchmark.data.real_families import TorchvisionFamily
from benchmark.registry import DATASETS
from benchmark.sweeps.study import Study, expand, extensions

ROOT = Path(__file__).resolve().parent.parent
PARAMS = load_params()  # params.yaml (or SALBENCH_PARAMS)
WITH_BLOCK = sorted(
    name
    for name, entry in (PARAMS.get("studies") or {}).items()
    if isinstance(entry, dict) and "paper" in (entry.get("at_profile") or {})
)


@pytest.fixture
def offline_place(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path


def test_the_default_pipeline_builds_no_variant_that_needs_internet_or_a_users_folder():
    for name, entry in (PARAMS.get("datasets") or {}).items():
        cls = DATASETS.get(entry["family"])
        assert not issubclass(cls, TorchvisionFamily), f"datasets.{name} needs internet: put it under paper_datasets"
        assert entry["family"] != "annotated_folder", (
            f"datasets.{name} needs a user's folder: put it under paper_datasets"
        )
    paper_variants(PARAMS)  # a paper_datasets section, when there is one, is well formed


@pytest.mark.parametrize(
    "name",
    WITH_BLOCK
    or [pytest.param("-", marks=pytest.mark.skip(reason="no study of params.yaml has an at_profile.paper block yet"))],
)
def test_each_paper_block_of_params_yaml_expands_and_its_dry_run_passes_offline(name, offline_place, capsys):
    study = expand(name, "paper", params=PARAMS)
    assert study.runs and study.profile.name == "paper"
    out = offline_place / "out"
    assert main(["sweep", name, "--profile", "paper", "--dry-run", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"study {name} at profile paper: device {study.profile.device}" in captured.out
    assert "error:" not in captured.err
    assert all(line.startswith("WARNING: ") for line in captured.err.splitlines())
    assert not out.exists() and not (offline_place / "data").exists()


# The papers' protocols (docs/methods.md, paper-scale settings; ayaabdelsalam91/saliency_guided_training
# train_MNIST.py; CVRL/CYBORG; dtak/rrr multilayer_perceptron.py): arch, dataset, epochs, batch, seeds.
PAPER_TABLES = {
    "sgt": {"archs": {"simple_cnn", "gap_cnn"}, "datasets": {"mnist"}, "epochs": 100, "batch_size": 512, "seeds": 5},
    "faces": {
        "archs": {"resnet50[weights=IMAGENET1K_V1]", "densenet121[weights=IMAGENET1K_V1]", "vit_tiny"},
        "datasets": {"cyborg_faces", "cyborg_faces_7x"},
        "epochs": 50,
        "batch_size": 20,
        "seeds": 10,
    },
    "decoy": {
        "archs": {"simple_cnn"},
        "datasets": {
            "decoy_mnist",
            "decoy_fashion_mnist",
            "color_mnist",
            "color_fashion_mnist",
            "mnist",
            "fashion_mnist",
        },
        "epochs": 64,
        "batch_size": 256,
        "seeds": 5,
    },
}


def with_extensions(name: str, profile: str | None, params) -> Study:
    """Study ``name`` with the runs and labels of the optional studies extending it, as one study."""
    studies = [expand(n, profile, params=params) for n in [name, *extensions(name, params)]]
    return dataclasses.replace(
        studies[0],
        runs=tuple(r for s in studies for r in s.runs),
        aliases=tuple(a for s in studies for a in s.aliases),
    )


@pytest.mark.parametrize("name", sorted(PAPER_TABLES))
def test_each_paper_table_study_gets_the_papers_protocol(name, offline_place):
    params = PARAMS
    want = PAPER_TABLES[name]
    # the paper table is the study and the optional studies that extend it (params.yaml `extends:`)
    quick = with_extensions(name, None, params)
    study = with_extensions(name, "paper", params)
    assert {s.arch for s in study.runs} == want["archs"]
    assert {s.dataset for s in study.runs} == want["datasets"]
    assert {s.config.epochs for s in study.runs} == {want["epochs"]}
    assert {s.config.batch_size for s in study.runs} == {want["batch_size"]}
    assert {s.seed for s in study.runs} == set(range(want["seeds"]))
    assert study.profile.device == "cuda"
    # the same comparisons as the default study: every quick method is there at paper (by its labels: a tuned
    # item whose selection equals the defaults is one run under two labels, at quick, not at paper's optimizer)
    labels = lambda s: {label for labels in s.method_labels().values() for label in labels if label}  # noqa: E731
    untuned = {label for label in labels(quick) | {s.method for s in quick.runs} if not label.endswith("[tuned]")}
    # the leaderboard grid (params.yaml leaderboard_grid) is CPU-sized toy cells, not carried to the paper scale:
    # a method at its defaults that trains only in those cells (sgt, smoot, rrr in faces) is not a paper comparison
    board = {(c["dataset"], c["arch"]) for c in params["leaderboard_grid"]["cells"] if c["study"] == name}
    board |= {(c["reference"], c["arch"]) for c in params["leaderboard_grid"]["cells"] if c["study"] == name}
    outside = {s.method for s in quick.runs if (s.dataset, s.arch) not in board}
    board_only = {s.method for s in quick.runs if "[" not in s.method and s.method not in outside}
    assert untuned - board_only <= labels(study) | {s.method for s in study.runs}
    assert not [s for s in study.runs if s.tuned], "the quick search's selection is not carried to the paper scale"
    for spec in study.runs:
        if spec.config.dataset == "annotated_folder":
            assert spec.config.dataset_params["image_size"] == 224
    if name == "faces":  # CYBORG's protocol (the paper profile's): SGD 0.005, StepLR(12, 0.1)
        assert {(s.config.optimizer["name"], s.config.optimizer["lr"]) for s in study.runs} == {("sgd", 0.005)}
        assert {s.config.schedule["step_size"] for s in study.runs} == {12}
        assert {s.method for s in study.runs if s.dataset == "cyborg_faces_7x"} == {"erm"}

"""The `paper` profile of a study (issue 14, "Budgets"): the per-profile block ``at_profile``, the
``paper_datasets:`` section, and the lines naming each absent dataset or pretrained weights
(``sweep --dry-run`` warns, ``sweep`` refuses with exit 2 and writes nothing).

All on test-local params (``sweep_helpers.tiny_params``), data roots in tmp folders and the
network cut off: nothing here downloads. params.yaml's own studies: ``test_paper_profile_params.py``.
"""

from __future__ import annotations

import copy
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from sweep_helpers import NO_SALIENCY_EVALUATION, tiny_params, write_params
from test_annotated_folder import make_folder

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.data.availability import source_problem
from benchmark.data.paper_variants import all_variants, resolve_variant
from benchmark.registry import DATASETS
from benchmark.sweeps.prerequisites import absent_lines, weights_problem
from benchmark.sweeps.study import expand

PAPER_CPU = {
    "epochs": 2,
    "batch_size": 20,
    "optimizer": {"name": "sgd", "lr": 0.005, "momentum": 0.9},
    "schedule": {"name": "step", "step_size": 12, "gamma": 0.1},
    "device": "cpu",
    "threads": 1,
    "checkpoint": True,
    **NO_SALIENCY_EVALUATION,
}
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def paper_params(block: dict | None = None, faces_root: str = "/nonexistent/faces", **study) -> dict:
    """tiny_params plus a CPU `paper` profile, two paper variants (decoy MNIST through torchvision, an
    annotated folder) and the study `tiny` with ``at_profile: {paper: block}``."""
    params = tiny_params(seeds=2, **study)
    params["profiles"]["paper"] = copy.deepcopy(PAPER_CPU)
    params["paper_datasets"] = {
        "mnist_paper": {"family": "mnist", "params": {"construction": "decoy"}},
        "faces_paper": {
            "family": "annotated_folder",
            "params": {"root": faces_root, "classes": "fake,real", "image_size": 16},
        },
    }
    if block is not None:
        params["studies"]["tiny"]["at_profile"] = {"paper": block}
    return params


def cells(study) -> set[tuple]:
    return {(s.method, s.arch, s.dataset, s.seed, s.config.epochs, s.config.batch_size) for s in study.runs}


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def place(tmp_path, monkeypatch, offline):
    """tmp_path: params.yaml (SALBENCH_PARAMS), data/ (SALBENCH_DATA), the cwd; torch hub in hub/."""
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("SALBENCH_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def listing(root: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if "__pycache__" not in p.parts
    )


def call(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- at_profile
def test_block_keys_replace_the_study_and_its_grids_at_that_profile_only():
    params = paper_params({"seeds": 3, "epochs": 4, "datasets": ["mnist_paper"]})
    params["studies"]["tiny"].pop("methods")
    params["studies"]["tiny"]["grids"] = [{"methods": ["erm"], "epochs": 1}, {"methods": ["sgt"], "seeds": [0]}]
    quick = expand("tiny", params=params)
    assert cells(quick) == {("erm", "simple_cnn[hidden=16]", "tiny_digits", s, 1, 64) for s in (0, 1)} | {
        ("sgt", "simple_cnn[hidden=16]", "tiny_digits", 0, 1, 64)
    }
    paper = expand("tiny", "paper", params=params)
    assert paper.profile.name == "paper"
    assert cells(paper) == {
        (m, "simple_cnn[hidden=16]", "mnist_paper", s, 4, 20) for m in ("erm", "sgt") for s in range(3)
    }
    config = paper.runs[0].config
    assert config.dataset == "mnist" and config.dataset_params["construction"] == "decoy"
    assert config.optimizer["name"] == "sgd" and config.schedule == {"name": "step", "step_size": 12, "gamma": 0.1}


def test_a_study_whose_profile_is_paper_takes_its_block_without_the_flag():
    params = paper_params({"seeds": 1, "datasets": ["mnist_paper"]}, profile="paper")
    assert {s.dataset for s in expand("tiny", params=params).runs} == {"mnist_paper"}
    assert {s.dataset for s in expand("tiny", "quick", params=params).runs} == {"tiny_digits"}


def test_block_grids_replace_the_study_grids():
    params = paper_params(
        {
            "seeds": 1,
            "grids": [
                {"methods": ["erm"], "datasets": ["mnist_paper"]},
                {"methods": ["sgt"], "datasets": ["tiny_digits"], "epochs": 3},
            ],
        }
    )
    params["studies"]["tiny"]["grids"] = [{"methods": ["rrr"]}]
    params["studies"]["tiny"].pop("methods")
    assert cells(expand("tiny", "paper", params=params)) == {
        ("erm", "simple_cnn[hidden=16]", "mnist_paper", 0, 2, 20),
        ("sgt", "simple_cnn[hidden=16]", "tiny_digits", 0, 3, 20),
    }


def test_replace_swaps_every_named_item_in_the_study_and_its_grids():
    block = {
        "seeds": 1,
        "replace": {
            "archs": {"simple_cnn": [{"name": "resnet18"}, {"name": "gap_cnn", "params": {"width": 8}}]},
            "datasets": {"tiny_digits": "mnist_paper"},
            "methods": {"sgt": {"name": "sgt", "params": {"fraction": 0.3}}},
        },
    }
    params = paper_params(block)
    study = params["studies"]["tiny"]
    study.pop("methods")
    study["grids"] = [
        {"methods": ["erm", "sgt"]},
        {"methods": ["erm"], "archs": [{"name": "gap_cnn", "params": {"width": 4}}]},
    ]
    quick = {(s.method, s.arch, s.dataset) for s in expand("tiny", params=params).runs}
    assert quick == {
        ("erm", "simple_cnn[hidden=16]", "tiny_digits"),
        ("sgt", "simple_cnn[hidden=16]", "tiny_digits"),
        ("erm", "gap_cnn[width=4]", "tiny_digits"),
    }
    paper = {(s.method, s.arch, s.dataset) for s in expand("tiny", "paper", params=params).runs}
    assert paper == {
        (m, a, "mnist_paper") for m in ("erm", "sgt[fraction=0.3]") for a in ("resnet18", "gap_cnn[width=8]")
    } | {("erm", "gap_cnn[width=4]", "mnist_paper")}


def test_a_replacement_that_names_no_item_is_refused():
    params = paper_params({"replace": {"datasets": {"tiny_digit": "mnist_paper"}}})
    with pytest.raises(
        ContractError,
        match=r"studies\.tiny\.at_profile\.paper\.replace\.datasets: 'tiny_digit' names no "
        r"item of the study's datasets; did you mean 'tiny_digits'\?",
    ):
        expand("tiny", "paper", params=params)


@pytest.mark.parametrize(
    "blocks, fragment",
    [
        (
            {"paper": {"archz": ["resnet50"]}},
            "studies.tiny.at_profile.paper: unknown key 'archz'; did you mean 'archs'?",
        ),
        ({"papr": {"seeds": 10}}, "studies.tiny.at_profile: unknown profile 'papr'; did you mean 'paper'?"),
        ({"paper": {"profile": "quick"}}, "studies.tiny.at_profile.paper: unknown key 'profile'"),
        ({"paper": {"at_profile": {}}}, "studies.tiny.at_profile.paper: unknown key 'at_profile'"),
        ({"paper": ["seeds"]}, "studies.tiny.at_profile.paper: must be a mapping of study keys"),
        ([{"paper": {}}], "studies.tiny.at_profile: must be a mapping PROFILE -> {study keys}"),
        ({"paper": {"replace": {"optimizer": {"adam": "sgd"}}}}, "at_profile.paper.replace: unknown axis 'optimizer'"),
        (
            {"paper": {"replace": {"archs": {"simple_cnn": []}}}},
            "at_profile.paper.replace.archs.simple_cnn: must be an item",
        ),
        ({"paper": {"replace": {"archs": []}}}, "at_profile.paper.replace.archs: must be a non-empty mapping"),
    ],
    ids=[
        "key",
        "profile",
        "profile-key",
        "nested",
        "block-list",
        "blocks-list",
        "replace-axis",
        "replace-empty",
        "replace-list",
    ],
)
def test_a_malformed_block_is_refused_at_every_profile(blocks, fragment):
    params = paper_params()
    params["studies"]["tiny"]["at_profile"] = blocks
    for profile in ("quick", "paper"):
        with pytest.raises(ContractError) as caught:
            expand("tiny", profile, params=params)
        assert str(caught.value).startswith("params.yaml: ") and fragment in str(caught.value)
        assert "\n" not in str(caught.value)


def test_an_invalid_value_of_the_block_names_the_block(place):
    params = paper_params({"seeds": "ten"})
    with pytest.raises(ContractError, match=r"studies\.tiny\.at_profile\.paper\.seeds: must be a count .*, got 'ten'"):
        expand("tiny", "paper", params=params)
    params = paper_params({"grids": [{"methods": ["erm"], "seeds": -1}]})
    with pytest.raises(ContractError, match=r"studies\.tiny\.at_profile\.paper\.grids\[0\]\.seeds: must be a count"):
        expand("tiny", "paper", params=params)


def test_the_cli_refuses_a_malformed_block_in_one_line_and_writes_nothing(place, capsys):
    write_params(place / "params.yaml", paper_params({"archz": ["resnet50"]}))
    before = listing(place)
    for argv in (["sweep", "tiny", "--dry-run"], ["sweep", "tiny", "--profile", "paper"]):
        code, _, err = call(argv, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith(
            "error: params.yaml: studies.tiny.at_profile.paper: unknown key 'archz'; did you mean "
            "'archs'?; known: ['annotations', 'archs', 'batch_size', 'datasets', 'description', "
        )
        assert "'grids'" in lines[0] and "'replace'" in lines[0]
    assert listing(place) == before


# --------------------------------------------------------------------------- paper_datasets
def test_paper_variants_resolve_like_variants_and_unknown_names_list_both_sections():
    params = paper_params()
    assert resolve_variant("mnist_paper", params) == ("mnist", {"construction": "decoy"})
    assert resolve_variant("tiny_digits", params)[0] == "decoy_digits"
    assert resolve_variant("fashion_mnist", params) == ("fashion_mnist", {})
    with pytest.raises(
        ContractError,
        match=r"unknown dataset 'mnist_papr'; did you mean 'mnist_paper'\?; variants in "
        r"params.yaml: datasets \['tiny_digits'\], paper_datasets \['faces_paper', 'mnist_paper'\]",
    ):
        resolve_variant("mnist_papr", params)
    params["paper_datasets"]["broken"] = {"family": "mnits"}
    with pytest.raises(
        ContractError,
        match=r"params.yaml: paper_datasets.broken.family: unknown dataset family 'mnits'; did you mean 'mnist'",
    ):
        resolve_variant("broken", params)
    params["paper_datasets"]["broken"] = {"family": "mnist", "parms": {}}
    with pytest.raises(ContractError, match=r"params.yaml: paper_datasets.broken: unknown key 'parms'"):
        resolve_variant("mnist_paper", params)


def test_a_name_in_both_sections_must_name_the_same_variant():
    params = paper_params()
    params["datasets"]["mnist_paper"] = {"family": "mnist", "params": {"construction": "decoy"}}
    assert resolve_variant("mnist_paper", params) == ("mnist", {"construction": "decoy"})
    params["datasets"]["mnist_paper"] = {"family": "mnist", "params": {}}
    with pytest.raises(
        ContractError, match=r"paper_datasets.mnist_paper: also under 'datasets:' in params.yaml with another"
    ):
        resolve_variant("tiny_digits", params)


def test_records_of_paper_variants_are_labelled_with_them(place):
    from benchmark.records.identity import identity
    from benchmark.records.table import dataset_label, load_records

    params = paper_params(
        {"seeds": 1, "datasets": ["mnist_paper", {"name": "faces_paper", "params": {"csv": "other.csv"}}]}
    )
    write_params(place / "params.yaml", params)
    study = expand("tiny", "paper", params=params)
    assert sorted(s.dataset for s in study.runs) == ["faces_paper[csv=other.csv]", "mnist_paper"]
    runs = load_records(place / "out", [s.config for s in study.runs]).runs
    assert sorted(runs["dataset"]) == ["faces_paper[csv=other.csv]", "mnist_paper"]
    ident = identity(study.runs[0].config)  # labels come from a run's non-default values
    assert dataset_label(ident["dataset"], ident.get("dataset_params", {}), all_variants(params)) == "mnist_paper"


# --------------------------------------------------------------------------- absent sources
def resolved(family: str, **params) -> dict:
    return DATASETS.get(family)().resolve(params)


def test_torchvision_data_is_absent_until_its_files_or_archives_are_there(place):
    raw = place / "data" / "downloads" / "MNIST" / "raw"
    line = source_problem("mnist_paper", "mnist", resolved("mnist", construction="decoy"), "paper_datasets.mnist_paper")
    assert line.startswith(
        f"dataset 'mnist_paper' (mnist through torchvision) is absent: torchvision's MNIST files are not under {raw}"
    )
    assert (
        "python -c \"import torchvision as tv; [tv.datasets.MNIST('"
        + str(place / "data" / "downloads")
        + "', train=t, download=True) for t in (True, False)]\""
    ) in line
    assert "train-images-idx3-ubyte.gz" in line and "\n" not in line
    assert listing(place) == [("data", -1, (place / "data").stat().st_mtime_ns)]  # nothing created
    raw.mkdir(parents=True)
    for name in MNIST_FILES[:3]:
        (raw / name).write_bytes(b"")
    assert source_problem("mnist_paper", "mnist", resolved("mnist"), None) is not None  # incomplete
    (raw / MNIST_FILES[3]).write_bytes(b"")
    assert source_problem("mnist_paper", "mnist", resolved("mnist"), None) is None  # extracted
    for name in MNIST_FILES:
        (raw / name).unlink()
        (raw / f"{name}.gz").write_bytes(b"")
    assert source_problem("mnist_paper", "mnist", resolved("mnist"), None) is None  # archives, extracted offline
    own = place / "elsewhere"
    assert f"not under {own}/MNIST/raw" in source_problem("m", "mnist", resolved("mnist", root=str(own)), None)
    assert source_problem("d", "decoy_digits", resolved("decoy_digits"), None) is None  # built offline


def test_an_annotated_folder_is_absent_until_its_root_holds_the_csv_and_its_files(tmp_path):
    key = "paper_datasets.faces"
    params = {"root": str(tmp_path / "faces"), "csv": "labels.csv"}
    where = f"set {key}.params.root in params.yaml"

    def line() -> str:
        return source_problem("faces", "annotated_folder", params, key)

    assert line() == (
        f"dataset 'faces' (annotated_folder) is absent: its root {tmp_path / 'faces'} does not exist; put your "
        f"copy there (labels.csv beside images/ and annotations/, docs/datasets.md 'Paper-scale data') or "
        f"{where} to the folder that holds it"
    )
    (tmp_path / "faces").write_text("a file")
    assert "is not a folder" in line()
    (tmp_path / "faces").unlink()
    (tmp_path / "faces").mkdir()
    assert "is empty" in line() and where in line()
    rows = make_folder(tmp_path / "faces")
    assert line() is None
    (tmp_path / "faces" / rows[1]["annotation"]).unlink()
    (tmp_path / "faces" / rows[4]["image"]).unlink()
    assert (
        f"2 of the 11 files labels.csv names are missing under {tmp_path / 'faces'} (first: line 3, annotations/1.png)"
        in line()
    )
    (tmp_path / "faces" / "labels.csv").unlink()
    assert f"{tmp_path / 'faces'} holds no labels.csv" in line()
    (tmp_path / "faces" / "labels.csv").write_text("picture,label\n")
    assert "missing column(s) ['image', 'split']" in line()
    assert "its root is not set" in source_problem("faces", "annotated_folder", {**params, "root": ""}, key)
    assert all(
        "\n" not in source_problem("faces", "annotated_folder", p, key) for p in ({**params, "root": ""}, params)
    )


def test_pretrained_weights_are_absent_until_in_the_torch_hub_cache(place):
    assert weights_problem("resnet50", {"weights": "none"}) is None
    line = weights_problem("resnet50", {"weights": "IMAGENET1K_V1", "stem": "auto"})
    checkpoint = place / "hub" / "checkpoints" / "resnet50-0676ba61.pth"
    assert line == (
        f"arch 'resnet50' weights 'IMAGENET1K_V1' are absent: no {checkpoint}; download them once (internet) "
        f"with: python -c \"import torchvision; torchvision.models.resnet50(weights='IMAGENET1K_V1')\"  - or "
        f"offline, place https://download.pytorch.org/models/resnet50-0676ba61.pth there"
    )
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"")
    assert weights_problem("resnet50", {"weights": "IMAGENET1K_V1"}) is None
    assert "unknown torchvision weights 'IMAGENET9K'" in weights_problem("densenet121", {"weights": "IMAGENET9K"})
    assert not (place / "data" / "downloads").exists()


# --------------------------------------------------------------------------- the command
def absent_study_params(place: Path) -> dict:
    params = paper_params(
        {
            "seeds": 2,
            "datasets": ["mnist_paper", "faces_paper"],
            "archs": [{"name": "resnet18", "params": {"weights": "IMAGENET1K_V1"}}],
        },
        faces_root=str(place / "faces"),
    )
    write_params(place / "params.yaml", params)
    return params


def test_dry_run_prints_the_expansion_and_one_warning_per_absent_thing(place, capsys):
    absent_study_params(place)
    before = listing(place)
    code, out, err = call(["sweep", "tiny", "--profile", "paper", "--dry-run"], capsys)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("WARNING: ") for line in lines), err
    assert lines[0].startswith("WARNING: dataset 'mnist_paper' (mnist through torchvision) is absent")
    assert lines[1].startswith("WARNING: arch 'resnet18' weights 'IMAGENET1K_V1' are absent")
    assert (
        lines[2].startswith(
            f"WARNING: dataset 'faces_paper' (annotated_folder) is absent: its root {place / 'faces'} does not exist"
        )
        and "paper_datasets.faces_paper.params.root" in lines[2]
    )
    assert out.startswith("study tiny at profile paper: device cpu, checkpoint every epoch, 1 CPU thread(s) per run\n")
    row = next(r for r in out.splitlines() if r.startswith("| erm ") and "faces_paper" in r)
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "erm",
        "resnet18[weights=IMAGENET1K_V1]",
        "faces_paper",
        "16",
        "2 (0, 1)",
        "2",
        "2",
        "20",
        "sgd lr=0.005 momentum=0.9",
        "step step_size=12 gamma=0.1",
        "fp32",
    ]
    assert "erm/resnet18[weights=IMAGENET1K_V1]/mnist_paper/seed=1" in out and "4 valid runs, 4 would run" in out
    needs = {
        tuple(c.strip() for c in r.strip("|").split("|"))
        for r in out.splitlines()
        if r.startswith("| dataset ") or r.startswith("| weights ")
    }
    assert needs == {
        ("dataset", "mnist_paper", "absent (see the warning below)"),
        ("dataset", "faces_paper", "absent (see the warning below)"),
        ("weights", "resnet18[weights=IMAGENET1K_V1]", "absent (see the warning below)"),
    }
    assert listing(place) == before


def test_a_sweep_with_absent_data_refuses_before_anything_with_the_same_lines(place, capsys):
    absent_study_params(place)
    _, _, warned = call(["sweep", "tiny", "--profile", "paper", "--dry-run"], capsys)
    before = listing(place)
    code, out, err = call(["sweep", "tiny", "--profile", "paper", "--jobs", "2"], capsys)
    assert code == 2 and not out
    assert err.replace("error: ", "WARNING: ") == warned
    assert listing(place) == before and not (place / "results").exists()


def test_a_present_annotated_folder_passes_the_check_and_trains(place, capsys):
    make_folder(place / "faces")
    params = paper_params({"seeds": 1, "epochs": 1, "datasets": ["faces_paper"]}, faces_root=str(place / "faces"))
    write_params(place / "params.yaml", params)
    unbuilt = (
        "dataset 'faces_paper' (annotated_folder) is not built: build it once with `python -m benchmark data build "
        "faces_paper`; runs only load a built folder"
    )
    assert absent_lines(expand("tiny", "paper", params=params), params) == [unbuilt]
    code, out, err = call(["sweep", "tiny", "--profile", "paper", "--out", "out", "--quiet"], capsys)
    assert code == 2 and err == f"error: {unbuilt}\n" and not (place / "out").exists()
    assert call(["data", "build", "faces_paper"], capsys)[0] == 0
    assert absent_lines(expand("tiny", "paper", params=params), params) == []
    code, out, err = call(["sweep", "tiny", "--profile", "paper", "--dry-run", "--out", "out"], capsys)
    assert code == 0 and err == "" and "erm/simple_cnn[hidden=16]/faces_paper/seed=0" in out
    row = next(r for r in out.splitlines() if r.startswith("| dataset "))
    assert "| faces_paper " in row and f"built: {place / 'data' / 'faces_paper'}" in row
    assert any(
        r.startswith("| weights ") and "| simple_cnn " in r and "none (random init)" in r for r in out.splitlines()
    )
    code, out, err = call(["sweep", "tiny", "--profile", "paper", "--out", "out", "--quiet"], capsys)
    assert code == 0, err
    assert len(list((place / "out").glob("*.json"))) == 1


def test_run_names_a_paper_variant(place, capsys):
    make_folder(place / "faces")
    params = paper_params({"seeds": 1}, faces_root=str(place / "faces"))
    params["profiles"]["paper"]["eval_batch_size"] = 7  # the profile's run settings reach a single run
    write_params(place / "params.yaml", params)
    argv = ["run", "--method", "erm", "--dataset", "faces_paper", "--arch", "simple_cnn", "--profile", "paper"]
    code, out, err = call([*argv, "--epochs", "1", "--out", "out", "--no-saliency", "--quiet"], capsys)
    assert code == 0, err
    (record,) = (place / "out").glob("*.json")
    assert (
        '"root": "' + str(place / "faces") + '"' in record.read_text() and '"eval_batch_size": 7' in record.read_text()
    )

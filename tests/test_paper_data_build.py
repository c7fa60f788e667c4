"""`data build NAME` of a `paper_datasets:` variant (issue 25 item 1): built once into the store and
found by runs; an absent source is one line and exit 2; the optional DVC stage `paper-data`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from face_folder import generate_folder

from benchmark.cli import main
from benchmark.config import load_params
from benchmark.data import dataset_store as store
from benchmark.registry import DATASETS

ROOT = Path(__file__).resolve().parent.parent
FACES = {"classes": "real,synthetic", "image_size": 16, "colour": "rgb"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A params.yaml with one face variant in `paper_datasets:` whose root is tmp_path/faces."""
    params = {
        "paper_datasets": {
            "faces": {"family": "annotated_folder", "params": {"root": str(tmp_path / "faces"), **FACES}}
        }
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("SALBENCH_PARAMS", str(tmp_path / "params.yaml"))
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path / "data"))
    return tmp_path


def test_a_paper_variant_is_built_into_the_store_and_runs_load_it(project, capsys, monkeypatch):
    generate_folder(project / "faces", images=12, side=20)
    assert main(["data", "build", "faces"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert re.fullmatch(r"built faces: 12 images 16x16 RGB, arrays 0 MB, peak RSS \d+ MB\n", err), err
    assert summary["family"] == "annotated_folder" and summary["sizes"] == {"train": 9, "val": 2, "test": 1}
    folder = project / "data" / "faces"
    assert store.read_manifest(folder)["params"]["root"] == str(project / "faces")
    params = {"root": str(project / "faces"), **FACES}
    monkeypatch.setattr(store, "build", lambda *a, **k: pytest.fail("a run rebuilt a built dataset"))
    assert store.find("annotated_folder", DATASETS.get("annotated_folder")().resolve(params)) == folder
    assert store.find("annotated_folder", params) == folder  # the variant's own parameters, as params.yaml has them
    assert store.get("annotated_folder", params).splits["train"].x.shape == (9, 3, 16, 16)


def test_an_absent_source_is_one_line_naming_the_entry_and_exit_2(project, capsys):
    assert main(["data", "build", "faces"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"its root {project / 'faces'} does not exist" in err and "paper_datasets.faces.params.root" in err
    assert not (project / "data").exists()


def test_the_paper_data_stage_is_optional_builds_each_face_variant_and_has_no_out_under_data():
    stage = yaml.safe_load((ROOT / "optional" / "dvc.yaml").read_text())["stages"]["paper-data"]
    paper = load_params(ROOT / "params.yaml")["paper_datasets"]
    assert stage["foreach"] == ["cyborg_faces", "cyborg_faces_7x"]  # your copy (the rehearsal builds its own)
    assert all(paper[name]["family"] == "annotated_folder" for name in stage["foreach"])
    assert stage["do"]["cmd"] == "python -m benchmark data build ${item}"
    # an out under data/ would make the stage an upstream of the default sweeps (deps: data)
    assert "outs" not in stage["do"] and stage["do"]["always_changed"] is True
    assert "paper-data" not in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def test_a_current_build_is_kept_and_force_or_an_edited_source_rebuilds_it(project, capsys, monkeypatch):
    generate_folder(project / "faces", images=12, side=20)
    assert main(["data", "build", "faces"]) == 0
    capsys.readouterr()
    real = store.build_into
    monkeypatch.setattr(store, "build_into", lambda *a: pytest.fail("rebuilt a current build"))
    assert main(["data", "build", "faces"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["current"] is True and "is current" in err
    calls = []
    monkeypatch.setattr(store, "build_into", lambda *a: calls.append(a) or real(*a))
    assert main(["data", "build", "faces", "--force"]) == 0
    (project / "faces" / "images" / "00004.jpg").write_bytes((project / "faces" / "images" / "00005.jpg").read_bytes())
    assert main(["data", "build", "faces"]) == 0 and len(calls) == 2

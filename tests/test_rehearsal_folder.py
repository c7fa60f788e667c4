"""``rehearsal-folder``: a generated folder in the CYBORG release layout that ``annotated_folder`` reads
(issue 25's rehearsal data): the two CSVs' rows, the 7x file's added rows unannotated, the maps' exact pixels,
and a destination it did not write left alone.

The command runs in this process (``benchmark.cli.main``, the function ``python -m benchmark`` calls; the
subprocess exit path is tests/test_input_validation_cli.py's), and the folder is generated once for the module."""

import csv

import numpy as np
import pytest
from PIL import Image

from benchmark.cli import main
from benchmark.data.dataset_store import build

SETTINGS = ["--train", "4", "--val", "2", "--test", "2", "--copies", "3", "--size", "32"]


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def generate(dest):
    """``rehearsal-folder DEST`` with SETTINGS: its exit code."""
    return main(["rehearsal-folder", str(dest), *SETTINGS])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder whose ``data/faces`` the command generated (read, never modified, by the tests)."""
    root = tmp_path_factory.mktemp("rehearsal") / "project"
    assert generate(root / "data" / "faces") == 0
    return root


def test_folder_layout_and_what_annotated_folder_reads(project):
    dest = project / "data" / "faces"
    base, seven = rows(dest / "labels.csv"), rows(dest / "labels_7x.csv")
    assert [r["split"] for r in base].count("train") == 4 and len(base) == 4 + 2 + 2 + 2
    assert [r["split"] for r in seven].count("train") == 12 and len(seven) == 12 + 6
    assert all(r["annotation"] for r in base) and sum(not r["annotation"] for r in seven) == 8
    assert [r for r in seven if r["split"] != "train"] == [r for r in base if r["split"] != "train"]
    faces = build("toy_faces", {"image_size": 32, "annotators": 5, "train_size": 4, "val_size": 2, "test_size": 2})
    maps = faces.splits["train"].saliency[:, 0]
    written = [np.asarray(Image.open(dest / r["annotation"])) for r in base if r["split"] == "train"]
    assert np.array_equal(np.stack(written), np.round(np.clip(maps, 0, 1) * 255).astype(np.uint8))
    params = {"root": str(dest), "csv": "labels_7x.csv", "classes": "real,synthetic", "colour": "rgb"}
    train = build("annotated_folder", params).splits["train"]
    assert len(train) == 12 and train.annotated.tolist() == [True] * 4 + [False] * 8
    assert train.y[:4].tolist() == faces.splits["train"].y.tolist()


def test_a_folder_it_did_not_write_is_refused(tmp_path, capsys):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    assert generate(dest) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "not a folder written by rehearsal-folder" in err
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_a_relative_root_is_relative_to_the_project_not_the_working_directory(project, tmp_path, monkeypatch):
    import benchmark.data.folder_source as folder_source

    monkeypatch.setattr(folder_source, "project_root", lambda: project)
    monkeypatch.chdir(tmp_path)  # where data/faces does not exist
    params = {"root": "data/faces", "classes": "real,synthetic", "colour": "rgb"}
    assert folder_source.folder_root("data/faces") == project / "data" / "faces"
    assert len(build("annotated_folder", params).splits["train"]) == 4

"""The annotated-folder format: a clean folder loads exactly; every malformed case is reported
(all at once), the CLI exits non-zero and writes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.data import dataset_store as store

SIZE = 8


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def make_folder(root, rows_extra=(), classes=("fake", "real")):
    """6 RGB images (2 per split), grey PNG heat maps on all but the last; CSV rows as dicts."""
    rng = np.random.default_rng(0)
    rows = []
    for i, split in enumerate(["train", "train", "val", "val", "test", "test"]):
        image = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        write_png(root / "images" / f"{i}.png", image)
        row = {"image": f"images/{i}.png", "label": classes[i % 2], "split": split, "annotation": ""}
        if i < 5:
            heat = np.zeros((SIZE, SIZE), np.uint8)
            heat[i : i + 3, 2:5] = 255
            heat[0, 0] = 51
            write_png(root / "annotations" / f"{i}.png", heat)
            row["annotation"] = f"annotations/{i}.png"
        rows.append(row)
    rows += list(rows_extra)
    write_csv(root, rows)
    return rows


def write_csv(root, rows):
    lines = ["image,label,split,annotation"] + [
        f"{r['image']},{r['label']},{r['split']},{r['annotation']}" for r in rows
    ]
    (root / "labels.csv").write_text("\n".join(lines) + "\n")


def build(root, **params):
    return store.build("annotated_folder", {"root": str(root), "classes": "fake,real", **params})


def test_clean_folder_loads_exactly(tmp_path):
    make_folder(tmp_path)
    bundle = build(tmp_path)
    assert set(bundle.splits) == {"train", "val", "test"} and bundle.classes == ["fake", "real"]
    train = bundle.splits["train"]
    assert train.x.shape == (2, 3, SIZE, SIZE) and train.x.dtype == np.uint8
    assert np.array_equal(train.x[1].transpose(1, 2, 0), np.asarray(Image.open(tmp_path / "images" / "1.png")))
    assert train.y.tolist() == [0, 1]
    heat = np.asarray(Image.open(tmp_path / "annotations" / "1.png"), dtype=np.float32) / 255
    assert np.array_equal(train.saliency[1, 0], heat) and train.saliency[1, 0, 0, 0] == pytest.approx(0.2)
    test = bundle.splits["test"]
    assert test.annotated.tolist() == [True, False] and test.dense_saliency()[1].max() == 0
    assert test.extras["csv_line"].tolist() == [6, 7]


def test_resize_and_grey(tmp_path):
    make_folder(tmp_path)
    bundle = build(tmp_path, image_size=12, colour="grey")  # at least MIN_SIDE (8)
    split = bundle.splits["val"]
    assert split.x.shape == (2, 1, 12, 12) and split.saliency.shape == (2, 1, 12, 12)
    assert 0 <= split.saliency.min() and split.saliency.max() <= 1


def fresh_image(root, name):
    write_png(root / "images" / name, np.zeros((SIZE, SIZE, 3), np.uint8))
    return f"images/{name}"


def bad_map(root, name, array):
    if name.endswith(".npy"):
        np.save(root / "annotations" / name, array)
    else:
        write_png(root / "annotations" / name, array)
    return f"annotations/{name}"


# case -> (row overrides given the folder root, the message expected for that row)
MALFORMED = {
    "missing file": (lambda root: {"image": "images/none.png"}, "image images/none.png not found"),
    "unreadable image": (
        lambda root: (root / "images" / "bad.png").write_bytes(b"not a png") and {"image": "images/bad.png"},
        "image images/bad.png unreadable",
    ),
    "size mismatch": (
        lambda root: {"annotation": bad_map(root, "small.png", np.zeros((4, 4), np.uint8))},
        "annotation annotations/small.png is 4x4 but image",
    ),
    "nan map": (
        lambda root: {"annotation": bad_map(root, "nan.npy", np.full((SIZE, SIZE), np.nan, np.float32))},
        "annotation annotations/nan.npy has NaN or infinite values",
    ),
    "out of range map": (
        lambda root: {"annotation": bad_map(root, "big.npy", np.full((SIZE, SIZE), 1.5, np.float32))},
        "outside [0, 1]",
    ),
    "unknown label": (lambda root: {"label": "cat"}, "label 'cat' not in the class list ['fake', 'real']"),
    "duplicate": (lambda root: {"image": "images/0.png"}, "duplicate of line 2"),
    "escaping path": (lambda root: {"image": "../outside.png"}, "escapes the root"),
}


def malformed_row(root, case):
    """A row that is valid except for ``case`` (its own fresh image, so cases do not collide)."""
    change, message = MALFORMED[case]
    row = {
        "image": fresh_image(root, f"{case.replace(' ', '_')}.png"),
        "label": "real",
        "split": "train",
        "annotation": "",
    }
    row.update(change(root))
    return row, message


def run_cli(tmp_path, monkeypatch, root):
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps(
            {
                "datasets": {
                    "mine": {"family": "annotated_folder", "params": {"root": str(root), "classes": "fake,real"}}
                }
            }
        )
    )
    monkeypatch.setenv("SALBENCH_PARAMS", str(params))
    return main(["data", "build", "mine", "--root", str(tmp_path / "out")])


@pytest.mark.parametrize("case", list(MALFORMED))
def test_each_malformed_case_fails_cleanly(tmp_path, monkeypatch, capsys, case):
    root = tmp_path / "folder"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    write_png(tmp_path / "outside.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    rows = make_folder(root)
    bad, message = malformed_row(root, case)
    write_csv(root, rows + [bad])
    assert run_cli(tmp_path, monkeypatch, root) == 2
    err = capsys.readouterr().err
    assert "line 8:" in err and message in err, err
    assert "1 problem(s)" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_every_problem_reported_at_once(tmp_path):
    root = tmp_path / "folder"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    write_png(tmp_path / "outside.png", np.zeros((SIZE, SIZE, 3), np.uint8))
    rows = make_folder(root)
    bad = [malformed_row(root, case)[0] for case in MALFORMED]
    write_csv(root, rows + bad)
    with pytest.raises(ContractError) as info:
        build(root)
    text = str(info.value)
    assert f"{len(MALFORMED)} problem(s)" in text
    for line, case in enumerate(MALFORMED, start=8):
        assert f"line {line}: " in text and MALFORMED[case][1] in text, case


def test_two_image_sizes_need_image_size(tmp_path):
    rows = make_folder(tmp_path)
    write_png(tmp_path / "images" / "big.png", np.zeros((SIZE * 2, SIZE * 2, 3), np.uint8))
    write_csv(tmp_path, rows + [{"image": "images/big.png", "label": "real", "split": "train", "annotation": ""}])
    with pytest.raises(ContractError, match=r"line 8: image images/big.png is 16x16, most images are 8x8"):
        build(tmp_path)
    assert build(tmp_path, image_size=SIZE).splits["train"].x.shape == (3, 3, SIZE, SIZE)


def test_missing_columns_and_root(tmp_path):
    (tmp_path / "labels.csv").write_text("path,label\n")
    with pytest.raises(ContractError, match=r"missing column\(s\) \['image', 'split'\]"):
        build(tmp_path)
    with pytest.raises(ContractError, match="set the dataset parameter 'root'"):
        store.build("annotated_folder", {})


def test_classes_must_be_declared_so_a_typo_in_a_label_is_never_a_class(tmp_path, monkeypatch, capsys):
    """A stranger's labels.csv with 'synthetic' mislabelled 'fake' once: without declared classes the build
    stops naming the CSV's labels; with them, the typo is refused with the closest class."""
    rows = make_folder(tmp_path, classes=("real", "synthetic"))
    rows[0]["label"] = "fake"
    write_csv(tmp_path, rows)
    with pytest.raises(ContractError, match=r"set the dataset parameter 'classes' .* \['fake', 'real', 'synthetic'\]"):
        store.build("annotated_folder", {"root": str(tmp_path)})
    with pytest.raises(ContractError, match=r"label 'fake' not in the class list \['real', 'synthetic'\]"):
        build(tmp_path, classes="real,synthetic")

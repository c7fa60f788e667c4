"""``data build`` / ``data show``: manifest printed, one PNG grid per split, clear errors."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from benchmark.cli import main
from benchmark.data import dataset_store as store
from benchmark.data.show import caption, pick_examples


def test_show_prints_manifest_and_writes_a_grid_per_split(tmp_path, capsys):
    bundle = store.build("toy_faces", {"train_size": 16, "val_size": 8, "test_size": 8})
    store.save(bundle, tmp_path / "faces")
    assert main(["data", "show", "faces", "--root", str(tmp_path), "--out", str(tmp_path / "png"), "--count", "4"]) == 0
    out = capsys.readouterr().out
    manifest = json.loads(out[: out.index("\nwrote ") + 1])
    assert manifest["family"] == "toy_faces" and manifest["splits"]["train"]["size"] == 16
    for split in ("train", "val", "test_closed", "test_open"):
        png = tmp_path / "png" / f"{split}.png"
        assert f"wrote {png}" in out
        with Image.open(png) as im:
            assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 300
            pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
        reddish = (pixels[:, 0] - pixels[:, 2] > 80).mean()
        assert reddish > 0.005, "the jet overlay shows on the saliency"


def test_pick_examples_alternates_classes_and_captions_name_generators():
    bundle = store.build("toy_faces", {"train_size": 16, "val_size": 8, "test_size": 8})
    split = bundle.splits["test_open"]
    index = pick_examples(split, 6)
    assert split.y[index].tolist() == [0, 1, 0, 1, 0, 1] and len(set(index.tolist())) == 6
    synthetic = index[1]
    name = bundle.manifest["generators"][int(split.extras["generator"][synthetic])]["name"]
    assert f"generator={name}" in caption(split, synthetic, bundle) and caption(split, synthetic, bundle).startswith(
        "synthetic"
    )


def test_show_unbuilt_dataset_fails_with_the_build_command(tmp_path, capsys):
    assert main(["data", "show", "nothing", "--root", str(tmp_path)]) == 2
    assert "python -m benchmark data build nothing" in capsys.readouterr().err


def test_build_writes_folder_with_manifest(tmp_path, capsys):
    assert main(["data", "build", "color_digits", "--root", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sizes"]["test"] == 539 and (tmp_path / "color_digits" / "manifest.json").exists()
    loaded = store.load(tmp_path / "color_digits")
    assert loaded.splits["train"].x.shape[1:] == (3, 28, 28)

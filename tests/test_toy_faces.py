"""toy_faces construction rules: each generator's artifact lies inside its declared regions and its
annotation; held-out generators never reach training; the cue codes the label in train only;
splits are disjoint and builds byte-identical."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from benchmark.contracts import ContractError
from benchmark.data import dataset_store as store
from benchmark.data import faces_drawing as fd
from benchmark.data import faces_regions as fr
from benchmark.data.annotators import annotate, sample_styles
from benchmark.registry import DATASETS

NAMES = list(fd.GENERATORS)
SMALL = {"train_size": 300, "val_size": 60, "test_size": 120}


def inside_any(regions: np.ndarray, valid: np.ndarray, size: int) -> np.ndarray:
    """(n,S,S): pixel centres inside at least one valid ellipse (exact inequality, independent of the renderer)."""
    u, v, _ = fd.grid(size)
    cx, cy, rx, ry = (regions[..., k][:, :, None, None] for k in range(4))
    hit = ((u[:, None] - cx) / rx) ** 2 + ((v[:, None] - cy) / ry) ** 2 <= 1.0
    return (hit & valid[:, :, None, None]).any(1)


@pytest.mark.parametrize("size", [32, 64, 224])
def test_each_artifact_inside_its_regions_and_annotation(size):
    """At the calibrated default strength (1.5), every generator, at every supported size."""
    strength = DATASETS.get("toy_faces").params["artifact_strength"].default
    n = {32: 40, 64: 16, 224: 3}[size]
    rng = np.random.default_rng(size)
    g = fd.sample_geometry(rng, n)
    clean = fd.render(g, size, np.full(n, -1), NAMES)
    styles = sample_styles(rng, 5)
    for k, name in enumerate(NAMES):
        gen = np.full(n, k)
        footprint = (fd.render(g, size, gen, NAMES, strength) != clean).any(1)
        assert footprint.any((1, 2)).all(), f"{name}: every synthetic image shows its artifact"
        regions, valid = fr.revealing_regions(g, gen, NAMES, 2.0 / size)
        assert not (footprint & ~inside_any(regions, valid, size)).any(), f"{name}: artifact outside its regions"
        stray = fr.stack_regions(fr.spurious_regions(g, 2.0 / size))
        maps = annotate(regions, valid, rng.integers(0, 5, n), styles, stray, rng, size)[:, 0]
        assert maps.max() <= 1.0 and maps.min() >= 0.0
        assert maps[footprint].min() >= 0.5, f"{name}: annotation weak on the artifact ({maps[footprint].min():.2f})"


@pytest.fixture(scope="module")
def faces():
    return store.build("toy_faces", SMALL)


def test_generators_and_labels(faces):
    manifest = faces.manifest
    roles = {g["name"]: g["role"] for g in manifest["generators"]}
    train_ids = {g["id"] for g in manifest["generators"] if g["role"] == "train"}
    open_ids = {g["id"] for g in manifest["generators"] if g["role"] == "open"}
    assert roles["checker_cheeks"] == "train" and roles["iris_dark"] == "open" and not train_ids & open_ids
    for name, split in faces.splits.items():
        gen, y = split.extras["generator"], split.y
        assert np.array_equal(gen >= 0, y == 1), "synthetic iff a generator"
        assert abs(y.mean() - 0.5) <= 0.01
        allowed = open_ids if name == "test_open" else train_ids
        assert set(np.unique(gen[gen >= 0])) == allowed, name
        counts = np.bincount(gen[gen >= 0])[sorted(allowed)]
        assert counts.max() - counts.min() <= 1, "generators balanced"
        art = split.extras["artifact"].astype(bool)[:, 0]
        assert np.array_equal(art.any((1, 2)), y == 1), "an artifact exactly on synthetic images"
        ann = split.annotated
        assert split.dense_saliency()[ann][:, 0][art[ann]].min() >= 0.5, "artifact inside the annotation"


def test_cue_codes_label_in_train_only(faces):
    for name, split in faces.splits.items():
        cue, value, y = split.extras["cue"].astype(bool), split.extras["cue_value"], split.y
        assert cue.sum() == round(0.6 * len(cue)) and (value[~cue] == -1).all()
        agree = (value[cue] == y[cue]).mean()
        if name in ("train", "val"):
            assert agree == 1.0
        else:
            assert 0.3 < agree < 0.7, f"{name}: cue value independent of the label (1.0 in train)"


def test_tint_and_corner_pixels_exactly():
    params = {"train_size": 40, "val_size": 8, "test_size": 8}
    none = store.build("toy_faces", {**params, "cue": "none"}).splits["train"]
    tint = store.build("toy_faces", {**params, "cue": "tint"}).splits["train"]
    corner = store.build("toy_faces", {**params, "cue": "corner"}).splits["train"]
    assert (none.extras["cue"] == 0).all() and not none.extras["cue_mask"].any()
    diff = tint.x.astype(int) - none.x.astype(int)
    mask = tint.extras["cue_mask"][:, 0].astype(bool)
    assert not diff.transpose(1, 0, 2, 3)[:, ~mask].any(), "tint only on the background"
    sign = np.where(tint.y == 1, 1, -1)[:, None, None]  # warm (red up, blue down) codes synthetic
    assert (diff[:, 0] * sign >= 0).all() and (diff[:, 2] * sign <= 0).all() and not diff[:, 1].any()
    # pure background (away from the anti-aliased head edge), not clipped at 0 or 255: the full shift
    pure = binary_erosion(mask, structure=np.ones((1, 3, 3), bool))
    unclipped = pure & (none.x[:, 0] > 40) & (none.x[:, 0] < 215) & (none.x[:, 2] > 40) & (none.x[:, 2] < 215)
    expected = 0.12 * 255
    assert unclipped.sum() > 1000
    assert (np.abs(diff[:, 0] - sign * expected)[unclipped] <= 1).all()
    assert (np.abs(diff[:, 2] + sign * expected)[unclipped] <= 1).all()
    side = 4  # round(0.125 * 32)
    cmask = corner.extras["cue_mask"][:, 0].astype(bool)
    carriers = corner.extras["cue"].astype(bool)
    assert (cmask.sum((1, 2)) == np.where(carriers, side * side, 0)).all()
    patches = np.stack(
        [cmask[:, :side, :side], cmask[:, :side, -side:], cmask[:, -side:, :side], cmask[:, -side:, -side:]], 1
    )
    assert (patches.all((2, 3)).sum(1) == carriers).all(), "one whole corner square per carrier"
    shade = np.where(corner.y == 1, 255, 0)
    for c in range(3):
        assert (corner.x[:, c][cmask] == np.repeat(shade, cmask.sum((1, 2)))).all()


def test_annotated_fraction():
    split = store.build(
        "toy_faces", {"train_size": 100, "val_size": 8, "test_size": 8, "annotated_fraction": 0.3}
    ).splits["train"]
    assert split.annotated.sum() == 30
    assert (
        not split.dense_saliency()[~split.annotated].any() and (split.extras["annotator"][~split.annotated] == -1).all()
    )
    assert (split.dense_saliency()[split.annotated].max((1, 2, 3)) == 1.0).all()


def test_splits_disjoint_and_build_byte_identical(tmp_path, faces):
    seen = {}
    for name, split in faces.splits.items():
        for image in split.x:
            assert seen.setdefault(image.tobytes(), name) == name, "an image in two splits"
    a = store.save(faces, tmp_path / "a")
    b = store.save(store.build("toy_faces", SMALL), tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) > 20 and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_parameter_errors():
    with pytest.raises(ContractError, match="held-out generators .*'checker_cheeks'"):
        store.build("toy_faces", {"open_generators": "checker_cheeks"})
    with pytest.raises(ContractError, match="must list generators from"):
        store.build("toy_faces", {"train_generators": "stylegan"})


def test_manifest_publishes_the_calibration_file(faces):
    published = json.loads(sys.modules[DATASETS.get("toy_faces").__module__].CALIBRATION_FILE.read_text())
    assert faces.manifest["calibration"] == published
    assert published["study"] == "toy_faces_calibration" and published["cells"], "measured, not empty"

"""The Decoy-MNIST construction rules hold exactly on the built arrays."""

import numpy as np
import pytest

from benchmark.data import dataset_store as store

PATCH = 6


@pytest.fixture(scope="module")
def decoy():
    return store.build("decoy_digits", {})


def corner_patches(x: np.ndarray, size: int) -> np.ndarray:
    """(N,4,size,size) pixels of the four corners, TL TR BL BR."""
    s = x[:, 0]
    return np.stack([s[:, :size, :size], s[:, :size, -size:], s[:, -size:, :size], s[:, -size:, -size:]], 1)


def patch_shades(split) -> np.ndarray:
    """The decoy's grey level per image, read off the corner marked in extra.decoy (constant there)."""
    mask = split.extras["decoy"][:, 0].astype(bool)
    assert (mask.sum((1, 2)) == PATCH * PATCH).all()
    values = split.x[:, 0][mask].reshape(len(split), -1)
    assert (values == values[:, :1]).all(), "patch must be one flat shade"
    corners = corner_patches(split.extras["decoy"], PATCH).reshape(len(split), 4, -1).all(-1)
    assert (corners.sum(1) == 1).all(), "exactly one corner holds the patch"
    return values[:, 0]


def expected(codes):
    return np.round((255 - 25 * codes) / 255 * 255).astype(np.uint8)


def test_train_val_and_iid_patch_codes_the_label(decoy):
    for name in ("train", "val", "test_iid"):
        split = decoy.splits[name]
        assert (patch_shades(split) == expected(split.y)).all(), name


def test_test_patch_is_uninformative(decoy):
    split = decoy.splits["test"]
    shades = patch_shades(split)
    codes = split.extras["decoy_code"]
    assert (shades == expected(codes)).all()
    agreement = (codes == split.y).mean()
    assert 0.03 < agreement < 0.2, "codes are random digits: about 1 in 10 equals the label"
    assert np.array_equal(decoy.splits["test"].y, decoy.splits["test_iid"].y)


def test_splits_are_disjoint_and_stratified(decoy):
    sizes = {name: len(s) for name, s in decoy.splits.items()}
    assert sizes["train"] + sizes["val"] + sizes["test"] == 1797
    for name in ("train", "val", "test"):
        counts = np.bincount(decoy.splits[name].y, minlength=10)
        assert counts.min() > 0.8 * counts.mean()
    # the same image never appears in two of train/val/test (compare saliency = strokes, noise-free)
    keys = {
        name: {s.tobytes() + bytes([int(y)]) for s, y in zip(decoy.splits[name].saliency, decoy.splits[name].y)}
        for name in ("train", "val", "test")
    }
    overlap = len(keys["train"] & keys["test"]) + len(keys["train"] & keys["val"])
    assert overlap <= 5  # a handful of sklearn digits are exact duplicates of each other


def test_saliency_is_strokes_and_excludes_patch(decoy):
    split = decoy.splits["train"]
    assert set(np.unique(split.saliency)) == {0.0, 1.0}
    assert not (split.saliency.astype(bool) & split.extras["decoy"].astype(bool)).any()
    assert split.annotated.all()


def test_clean_variant_has_no_patch():
    clean = store.build("decoy_digits", {"decoy": False, "noise": 0.0})
    assert set(clean.splits) == {"train", "val", "test"}
    assert corner_patches(clean.splits["train"].x, PATCH).max() == 0


def test_build_is_byte_identical_and_roundtrips(tmp_path):
    a = store.save(store.build("decoy_digits", {}), tmp_path / "a")
    b = store.save(store.build("decoy_digits", {}), tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    loaded = store.load(a)
    assert np.array_equal(loaded.splits["test"].x, store.build("decoy_digits", {}).splits["test"].x)
    (a / "train" / "y.npy").write_bytes((a / "train" / "y.npy").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(Exception, match="checksum"):
        store.load(a)

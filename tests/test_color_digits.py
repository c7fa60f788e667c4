"""The CDEP ColorMNIST construction holds exactly: colour[label] in train, colour[9 - label] at test."""

import colorsys

import numpy as np
import pytest

from benchmark.data import dataset_store as store
from benchmark.data.constructions import cdep_colours


@pytest.fixture(scope="module")
def colour():
    return store.build("color_digits", {})


def test_cdep_colour_ramp():
    colours = cdep_colours()
    assert np.allclose(colours[0], [1, 0, 0]) and np.allclose(colours[9], [128 / 255, 0, 128 / 255], atol=1e-6)
    hues = [colorsys.rgb_to_hls(*c)[0] for c in colours]
    assert np.allclose(hues, np.arange(10) / 9 * (300 / 360), atol=1e-5), "hue ramps linearly red -> purple"


def colour_index(x: np.ndarray) -> np.ndarray:
    """The colour of each image, read off its brightest pixel: nearest CDEP colour by direction."""
    flat = x.reshape(len(x), 3, -1).astype(np.float64)
    brightest = flat[np.arange(len(x)), :, flat.sum(1).argmax(1)]
    unit = brightest / np.linalg.norm(brightest, axis=1, keepdims=True)
    ref = cdep_colours() / np.linalg.norm(cdep_colours(), axis=1, keepdims=True)
    return (unit @ ref.T).argmax(1)


def test_colour_codes_label_in_train_and_inverted_at_test(colour):
    for name in ("train", "val", "test_iid"):
        split = colour.splits[name]
        assert np.array_equal(colour_index(split.x), split.y), name
        assert np.array_equal(split.extras["colour"], split.y)
    test = colour.splits["test"]
    assert np.array_equal(colour_index(test.x), 9 - test.y)
    assert np.array_equal(test.y, colour.splits["test_iid"].y)


def test_exact_pixels_red_and_purple(colour):
    train, test = colour.splits["train"], colour.splits["test"]
    zeros = train.x[train.y == 0]
    assert zeros[:, 0].max() == 255 and not zeros[:, 1:].any(), "label 0 in train: pure red"
    purple = test.x[test.y == 0]
    assert not purple[:, 1].any() and np.array_equal(purple[:, 0], purple[:, 2]), (
        "label 0 at test: purple (R = B, no G)"
    )
    # the same grey digit under both colours: test_iid (colour[y]) vs test (colour[9 - y]) scale one intensity
    iid = colour.splits["test_iid"].x[test.y == 0].astype(int)
    assert np.all(np.abs(np.round(iid[:, 0] * 128 / 255) - purple[:, 0]) <= 1)


def test_saliency_is_strokes(colour):
    """Strokes = intensity > 0.25; the brightest channel is intensity * max(colour) * 255 (rounded)."""
    split = colour.splits["train"]
    assert set(np.unique(split.saliency)) == {0.0, 1.0} and split.annotated.all()
    bound = (0.25 * cdep_colours().max(1) * 255)[split.y][:, None, None]
    peak = split.x.max(1).astype(float)
    strokes = split.saliency[:, 0] == 1
    assert (peak >= np.floor(bound))[strokes].all() and (peak <= np.ceil(bound))[~strokes].all()


def test_splits_disjoint_and_byte_identical(tmp_path, colour):
    sizes = {name: len(s) for name, s in colour.splits.items()}
    assert sizes["train"] + sizes["val"] + sizes["test"] == 1797
    keys = {n: {m.tobytes() for m in colour.splits[n].saliency} for n in ("train", "val", "test")}
    assert (
        len(keys["train"] & keys["test"]) + len(keys["train"] & keys["val"]) <= 5
    )  # a few sklearn digits are duplicates
    a = store.save(colour, tmp_path / "a")
    b = store.save(store.build("color_digits", {}), tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*.npy"))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)

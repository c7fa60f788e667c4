"""The run setting ``annotations`` (issue 26 items 3 and 4): the train maps' budget and degradations
(benchmark.data.annotation_views, benchmark.data.map_degradation), on tiny hand-made masks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from scipy import ndimage
from sweep_helpers import TINY_DATA

from benchmark.contracts import ContractError, DatasetBundle, Split
from benchmark.data import map_degradation as md
from benchmark.data.annotation_views import (
    ANNOTATION_PARAMS,
    annotation_view,
    apply_annotations,
    resolve_annotations,
)
from benchmark.records.identity import identity, run_id
from benchmark.records.table import labels
from benchmark.runs.run import prepare, resolve_config

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_digits_root(tmp_path_factory):
    """One data root for the module's real runs: the tiny decoy digits are built once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALBENCH_DATA", str(tmp_path_factory.mktemp("data")))
        yield


def stack(*masks: np.ndarray) -> np.ndarray:
    return np.stack([m.astype(np.float32) for m in masks])[:, None]


def two_parts() -> np.ndarray:
    """A 9x10 mask with two parts: an L (rows 1-3, cols 1-3, with a diagonal pixel at (4,4)) and a bar."""
    mask = np.zeros((9, 10))
    mask[1:4, 1] = mask[3, 1:4] = 1
    mask[4, 4] = 0.5  # touches the L at a corner: 8-connected, the same part
    mask[6, 5:9] = 1
    return mask


def split_of(n: int, annotated_every: int = 1, side: int = 8) -> Split:
    """n rows, row i's image and map encode i (map: a (i % side) x 2 block), every k-th row annotated."""
    ids = np.arange(n)
    maps = np.zeros((n, 1, side, side), dtype=np.float32)
    for i in ids:
        maps[i, 0, : 1 + i % (side - 1), :2] = 1.0
    return Split(
        x=(ids % 256).astype(np.uint8)[:, None, None, None].repeat(side, 2).repeat(side, 3),
        y=(ids % 2).astype(np.int64),
        saliency=maps,
        annotated=ids % annotated_every == 0,
        extras={"row": ids},
    )


def test_boxes_are_exact_to_the_pixel_one_per_part():
    got = md.boxes(stack(two_parts(), np.zeros((9, 10))))
    want = np.zeros((9, 10))
    want[1:5, 1:5] = 1  # the L with its diagonal pixel: rows 1-4, cols 1-4
    want[6, 5:9] = 1
    assert np.array_equal(got[0, 0], want) and not got[1].any()
    labels, count, owner = md.parts(stack(two_parts(), two_parts()))
    assert count == 4 and owner.tolist() == [0, 0, 1, 1]  # parts do not connect across maps


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_dilate_and_erode_of_a_binary_mask_equal_scipys_binary_ops(radius):
    rng = np.random.default_rng(radius)
    masks = (rng.random((3, 1, 13, 11)) < 0.4).astype(np.float32)
    masks[0, 0, 3:10, 2:9] = 1  # a block that survives erosion at radius 3
    footprint = md.disc(radius)
    for mask, dilated, eroded in zip(masks[:, 0], md.dilate(masks, radius)[:, 0], md.erode(masks, radius)[:, 0]):
        assert np.array_equal(dilated, ndimage.binary_dilation(mask, footprint))
        assert np.array_equal(eroded, ndimage.binary_erosion(mask, footprint, border_value=1))
    assert md.disc(1).astype(int).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    grey = rng.random((2, 1, 9, 9)).astype(np.float32)  # grey maps: scipy's grey ops with the disc footprint
    assert np.array_equal(
        md.dilate(grey, 2), ndimage.grey_dilation(grey, footprint=md.disc(2)[None, None], mode="nearest")
    )
    assert np.array_equal(
        md.erode(grey, 2), ndimage.grey_erosion(grey, footprint=md.disc(2)[None, None], mode="nearest")
    )


def test_shift_is_exact_and_zero_filled():
    mask = np.zeros((5, 6))
    mask[0, 0], mask[2, 3], mask[4, 5] = 0.25, 1, 0.5
    got = md.shift_by(stack(mask, mask, mask), np.array([[1, 2], [-2, 0], [5, 0]]))
    want0 = np.zeros((5, 6))
    want0[1, 2], want0[3, 5] = 0.25, 1  # (4,5) moved out of the image
    want1 = np.zeros((5, 6))
    want1[0, 3], want1[2, 5] = 1, 0.5
    assert np.array_equal(got[0, 0], want0) and np.array_equal(got[1, 0], want1) and not got[2].any()
    offsets = md.shift_offsets(200, 3, np.random.default_rng(0))
    assert np.all(np.abs(np.hypot(*offsets.T) - 3) <= 0.71) and len({tuple(o) for o in offsets}) > 8


def test_drop_removes_the_rounded_share_of_parts_and_keeps_one():
    four = np.zeros((9, 10))
    four[0, 0] = four[0, 9] = four[8, 0] = four[8, 9] = 1  # four one-pixel parts
    maps = stack(four, two_parts(), np.eye(9, 10))  # 4 parts, 2 parts, 1 part
    for share, remaining in ((0.5, [2, 1, 1]), (0.25, [3, 1, 1]), (1.0, [1, 1, 1]), (0.1, [4, 2, 1])):
        out, removed = md.drop_parts(maps, share, np.random.default_rng(3))
        counts = np.bincount(md.parts(out)[2], minlength=3).tolist()
        assert counts == remaining and removed == 7 - sum(remaining)
        kept = out > 0
        assert np.array_equal(out[kept], maps[kept])  # the kept parts are untouched
    small, _ = md.drop_parts(maps, 0.25, np.random.default_rng(3))
    large, _ = md.drop_parts(maps, 0.5, np.random.default_rng(3))
    assert np.all(large <= small)  # a larger share removes a superset


def test_wrong_maps_are_all_another_rows_and_nested():
    for share, count in ((0.5, 10), (1.0, 7), (0.01, 5), (1.0, 2)):
        sources = md.wrong_sources(count, share, np.random.default_rng(count))
        replaced = sources != np.arange(count)
        assert replaced.sum() == max(1, int(np.floor(share * count + 0.5)))
        assert np.all(np.sort(sources[~replaced]) == np.flatnonzero(~replaced))  # the others keep their own
    low, high = (md.wrong_sources(10, s, np.random.default_rng(1)) != np.arange(10) for s in (0.3, 0.6))
    assert np.all(high[low])
    split = split_of(6)
    view = apply_annotations(split, resolve_annotations({"degradation": "wrong", "level": 1.0}), seed=4)
    own = [np.flatnonzero([np.array_equal(m, s) for s in split.saliency]) for m in view.saliency]
    assert all(len(o) == 1 for o in own) and sorted(int(o[0]) for o in own) == list(range(6))  # a permutation
    assert all(int(o[0]) != i for i, o in enumerate(own))  # every map is another row's


def test_budget_is_nested_across_levels_and_the_same_for_every_call_of_a_seed():
    split = split_of(40, annotated_every=2)  # 20 annotated rows
    kept = {}
    for budget in (0.05, 0.2, 0.5, 1.0):
        view = apply_annotations(split, resolve_annotations({"budget": budget}), seed=11)
        rows = np.flatnonzero(view.annotated)
        assert len(rows) == max(1, int(np.floor(budget * 20 + 0.5))) and np.all(split.annotated[rows])
        assert np.array_equal(view.saliency, split.saliency[rows // 2])  # each kept row keeps its own map
        assert np.array_equal(view.x, split.x) and np.array_equal(view.y, split.y)
        kept[budget] = set(rows)
    assert kept[0.05] < kept[0.2] < kept[0.5] < kept[1.0] and len(kept[0.05]) == 1
    again = apply_annotations(split, resolve_annotations({"budget": 0.2}), seed=11)
    assert set(np.flatnonzero(again.annotated)) == kept[0.2]
    other = apply_annotations(split, resolve_annotations({"budget": 0.2}), seed=12)
    assert set(np.flatnonzero(other.annotated)) != kept[0.2]


def test_defaults_leave_the_split_and_the_run_id_unchanged(tiny_config):
    split = split_of(5)
    assert apply_annotations(split, resolve_annotations({}), seed=0) is split
    assert annotation_view(split, resolve_annotations({"budget": 1, "degradation": "none"}), 0) == (split, {})
    plain = resolve_config(tiny_config())
    assert plain.annotations == {name: hp.default for name, hp in ANNOTATION_PARAMS.items()}
    assert "annotations" not in identity(plain)
    assert run_id(resolve_config(tiny_config(annotations={"budget": 1.0, "level": 0}))) == run_id(plain)
    boxed = resolve_config(tiny_config(annotations={"degradation": "box"}))
    assert identity(boxed)["annotations"] == {"degradation": "box"} and run_id(boxed) != run_id(plain)
    ident = identity(resolve_config(tiny_config(annotations={"budget": 0.2, "degradation": "shift", "level": 0.1})))
    assert labels(ident, {})["dataset"] == "decoy_digits [budget 0.2, shift 0.1]"
    assert labels(identity(boxed), {})["dataset"] == "decoy_digits [box]"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"budget": 0}, "'budget' must be in (0, 1], got 0.0"),
        ({"budget": 1.5}, "'budget' must be in [0.0, 1.0], got 1.5"),
        ({"degradation": "blur"}, "'degradation' must be one of ['none', 'box', 'dilate'"),
        ({"degradation": "box", "level": 0.1}, "degradation 'box' takes no level, got level=0.1"),
        ({"level": 0.2}, "degradation 'none' takes no level, got level=0.2"),
        ({"degradation": "dilate"}, "degradation 'dilate' needs a level in (0, 0.5] (disc radius"),
        ({"degradation": "shift", "level": 0.75}, "degradation 'shift' needs a level in (0, 0.5]"),
        ({"quality": 1}, "unknown hyperparameter(s) ['quality']"),
    ],
)
def test_bad_values_are_refused_in_one_line(settings, message):
    with pytest.raises(ContractError) as info:
        resolve_annotations(settings)
    assert message in str(info.value) and "run config 'annotations'" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_split_without_maps_is_refused():
    bare = Split(x=np.zeros((3, 1, 4, 4), dtype=np.uint8), y=np.zeros(3, dtype=np.int64))
    with pytest.raises(ContractError, match="budget 0.5 needs human maps in the train split, which has none"):
        apply_annotations(bare, resolve_annotations({"budget": 0.5}), seed=0)
    with pytest.raises(ContractError, match="'wrong' needs at least 2 kept train maps, got 1"):
        apply_annotations(split_of(4), resolve_annotations({"budget": 0.1, "degradation": "wrong", "level": 1}), 0)


def test_every_method_of_a_seed_sees_the_same_view_and_val_test_are_untouched(tiny_config, tiny_digits_root):
    annotations = {"budget": 0.5, "degradation": "dilate", "level": 0.1}

    def prepared(**overrides):
        return prepare(tiny_config(dataset_params=dict(TINY_DATA), **overrides), CPU)

    plain, erm, rrr = prepared(), prepared(annotations=annotations), prepared(method="rrr", annotations=annotations)
    built = plain.bundle.splits["train"]
    for ready in (erm, rrr):
        train = ready.bundle.splits["train"]
        assert train.annotated.sum() == np.floor(built.annotated.sum() / 2 + 0.5)
        for name in ("val", "test", "test_iid"):
            assert ready.bundle.splits[name] is not None
            assert np.array_equal(ready.bundle.splits[name].saliency, plain.bundle.splits[name].saliency)
    assert erm.annotation_view == rrr.annotation_view and erm.annotation_view["radius_pixels"] == 1
    assert np.array_equal(erm.bundle.splits["train"].saliency, rrr.bundle.splits["train"].saliency)
    kept = erm.bundle.splits["train"].annotated
    want = md.dilate(built.saliency[kept[built.annotated]], 1)
    assert np.array_equal(erm.bundle.splits["train"].saliency, want)


def test_a_dataset_without_train_maps_is_refused_before_training(tiny_config, monkeypatch):
    from benchmark.runs import run

    bare = Split(x=np.zeros((3, 1, 4, 4), dtype=np.uint8), y=np.zeros(3, dtype=np.int64))
    bundle = DatasetBundle(splits={"train": bare, "val": bare, "test": bare}, classes=["a"], manifest={})
    monkeypatch.setattr(run.dataset_store, "get", lambda *args, **kwargs: bundle)
    assert run.load_bundle(resolve_config(tiny_config()))[0] is bundle
    with pytest.raises(ContractError, match=r"^dataset 'decoy_digits': run config 'annotations': budget 0.5 needs"):
        run.load_bundle(resolve_config(tiny_config(annotations={"budget": 0.5})))


def test_a_tiny_run_with_half_the_budget_records_half_the_annotated_rows(tmp_path, tiny_digits_root):
    from benchmark.cli import main

    flags = ["run", "--method", "rrr", "--dataset", "decoy_digits", "--epochs", "1", "--batch-size", "512"]
    flags += ["--arch-param", "hidden=16", "--no-saliency", "--quiet"]
    flags += [f"--data={k}={v}" for k, v in TINY_DATA.items()] + ["--out", str(tmp_path / "runs")]
    assert main([*flags, "--annotations", "budget=0.5"]) == 0
    (path,) = (tmp_path / "runs").glob("*.json")
    record = json.loads(path.read_text())
    view = record["data"]["annotations"]
    assert view["train_annotated"] == np.floor(view["train_annotated_built"] / 2 + 0.5) and view["settings"] == {
        "budget": 0.5
    }
    assert record["identity"]["annotations"] == {"budget": 0.5} and record["config"]["annotations"]["budget"] == 0.5


@pytest.mark.parametrize(
    "flags, message",
    [
        (["budget=0"], "error: run config 'annotations': 'budget' must be in (0, 1], got 0.0"),
        (["degradation=erode"], "degradation 'erode' needs a level in (0, 0.5]"),
        (["budget"], "error: --annotations expects key=value, got 'budget'"),
    ],
)
def test_run_refuses_a_bad_view_in_one_line_before_any_compute(tmp_path, capsys, flags, message):
    from benchmark.cli import main

    argv = ["run", "--method", "rrr", "--dataset", "decoy_digits", "--out", str(tmp_path / "runs")]
    assert main([*argv, *(part for flag in flags for part in ("--annotations", flag))]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "runs").exists()


def test_a_method_that_reads_no_maps_trains_bitwise_the_same_under_any_view(tiny_config, tiny_digits_root):
    """What the study's annotation axis relies on to train ERM once (docs/datasets.md)."""
    from benchmark.runs.run import execute

    def weights(**annotations):
        config = tiny_config(dataset_params=dict(TINY_DATA), arch_params={"hidden": 16}, epochs=1, steps_per_epoch=3)
        return execute(dataclasses.replace(config, annotations=annotations), CPU, progress=False).weights_sha256

    assert weights() == weights(budget=0.2, degradation="wrong", level=1.0)

"""``Split`` keeps the maps of its annotated rows only (issue 25 item 1): construction compacts a dense
array, ``map_index``/``dense_saliency`` expand it, ``take``/``concat`` move each map with its row, and the
per-seed redraw and the device copy see exactly the maps the dense layout had."""

import numpy as np
import pytest
import torch

from benchmark.contracts import ContractError, Split
from benchmark.runs.device_data import DeviceSplit

ANNOTATED = np.array([True, False, True, False, False])


def dense_maps(n: int = 5) -> np.ndarray:
    """Row i's map is the constant i + 1 on the annotated rows, 0 elsewhere (hand-checkable)."""
    maps = np.zeros((n, 1, 2, 2), np.float32)
    for i in np.flatnonzero(ANNOTATED[:n]):
        maps[i] = i + 1
    return maps


def split() -> Split:
    x = np.arange(5, dtype=np.uint8).reshape(5, 1, 1, 1).repeat(2, 2).repeat(2, 3)
    return Split(
        x=x, y=np.arange(5) % 2, saliency=dense_maps(), annotated=ANNOTATED.copy(), extras={"id": np.arange(5)}
    )


def test_dense_maps_are_compacted_to_the_annotated_rows():
    s = split()
    assert s.saliency.shape == (2, 1, 2, 2) and s.saliency[:, 0, 0, 0].tolist() == [1.0, 3.0]
    assert s.map_index().tolist() == [0, -1, 1, -1, -1]
    assert np.array_equal(s.dense_saliency(), dense_maps())
    assert np.array_equal(s.dense_saliency(np.array([4, 2])), dense_maps()[[4, 2]])


def test_a_compact_array_is_taken_as_is_and_a_wrong_count_refused():
    s = split()
    again = Split(x=s.x, y=s.y, saliency=s.saliency, annotated=s.annotated)
    assert np.array_equal(again.dense_saliency(), dense_maps())
    with pytest.raises(ContractError, match=r"one map per annotated row"):
        Split(x=s.x, y=s.y, saliency=np.zeros((3, 1, 2, 2), np.float32), annotated=s.annotated)


def test_take_and_concat_move_each_map_with_its_row():
    s = split()
    rows = np.array([3, 2, 0])
    taken = s.take(rows)
    assert taken.annotated.tolist() == [False, True, True] and taken.extras["id"].tolist() == [3, 2, 0]
    assert np.array_equal(taken.dense_saliency(), dense_maps()[rows])
    joined = Split.concat(s.take(np.array([0, 1])), s.take(np.array([2, 3, 4])))
    assert np.array_equal(joined.dense_saliency(), dense_maps()) and joined.x.tolist() == s.x.tolist()


def test_the_device_copy_holds_the_dense_maps():
    on_device = DeviceSplit.from_split(split(), torch.device("cpu"))
    batch = on_device.batch(torch.tensor([1, 2]))
    assert torch.equal(batch.saliency, torch.from_numpy(dense_maps()[[1, 2]]))

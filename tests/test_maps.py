"""Shared map operations on hand-built cases."""
import torch

from benchmark.maps import masked_mean, minmax, resize_maps


def test_minmax_per_sample_and_constant_guard():
    maps = torch.tensor([[[1.0, 3.0], [2.0, 5.0]], [[7.0, 7.0], [7.0, 7.0]]])
    out = minmax(maps)
    torch.testing.assert_close(out[0], torch.tensor([[0.0, 0.5], [0.25, 1.0]]))
    assert torch.equal(out[1], torch.zeros(2, 2))  # constant map: zeros, not NaN


def test_minmax_batch_global():
    maps = torch.tensor([[[0.0, 2.0]], [[4.0, 8.0]]])
    torch.testing.assert_close(minmax(maps, per_sample=False), torch.tensor([[[0.0, 0.25]], [[0.5, 1.0]]]))


def test_resize_area_average():
    maps = torch.arange(16.0).reshape(1, 1, 4, 4)
    torch.testing.assert_close(resize_maps(maps, (2, 2)), torch.tensor([[[2.5, 4.5], [10.5, 12.5]]]))


def test_masked_mean_ignores_unannotated_and_handles_none():
    values = torch.tensor([1.0, 100.0, 3.0])
    assert masked_mean(values, torch.tensor([True, False, True])) == 2.0
    assert masked_mean(values, torch.tensor([False, False, False])) == 0.0

"""Shared map operations on hand-built cases."""

import pytest
import torch

from benchmark.maps import gaussian_blur, gaussian_kernel, masked_mean, minmax, resize_maps


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


@pytest.mark.parametrize(
    "shape,size,sigma",
    [
        ((4, 1, 28, 28), [7, 1], 2.8),
        ((4, 1, 28, 28), [1, 7], 2.8),
        ((3, 3, 32, 32), [9, 1], 3.2),
        ((5, 1, 7, 7), [3, 3], 0.8),
        ((2, 3, 16, 16), [31, 1], 5.0),
    ],
)
def test_gaussian_blur_is_torchvisions_bit_for_bit(shape, size, sigma):
    from torchvision.transforms.functional import gaussian_blur as torchvision_blur

    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    assert torch.equal(gaussian_blur(x, size, [sigma, sigma]), torchvision_blur(x, size, [sigma, sigma]))


def test_gaussian_kernel_is_built_once_and_stays_float32():
    """Cached per (size, sigma, dtype, device); a first call under inference mode or autocast still gives a
    float32 kernel that autograd can use."""
    gaussian_kernel.cache_clear()
    with torch.inference_mode():
        gaussian_blur(torch.rand(2, 1, 9, 9), [5, 3], [1.3, 1.3])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gaussian_blur(torch.rand(2, 1, 9, 9), [3, 5], [1.1, 1.1])
    x = torch.rand(2, 1, 9, 9, requires_grad=True)
    gaussian_blur(x, [5, 3], [1.3, 1.3]).sum().backward()
    gaussian_blur(torch.rand(2, 1, 9, 9), [3, 5], [1.1, 1.1])
    assert x.grad is not None and gaussian_kernel.cache_info().misses == 2
    assert gaussian_kernel((3, 5), (1.1, 1.1), torch.float32, torch.device("cpu")).dtype == torch.float32

"""Channels-last (NHWC) execution of a network on the CPU: the same values up to float rounding.

oneDNN's CPU convolutions and max-pooling are markedly faster on channels-last tensors than on
NCHW ones (simple_cnn at batch 64: max-pool 12 ms -> 1 ms, the second convolution 20 ms -> 9 ms),
and a network's activations follow its input's layout. Two pieces:

- ``channels_last_images``: a batch with channels-last strides (a free view for one channel);
- ``channels_last_gradients``: while open, every channels-last 4-D input of a submodule that
  requires grad gets its gradient made channels-last (a flatten's or dropout's backward hands
  back NCHW, which sends max-pool's and ReLU's backward down torch's slow mixed-layout path).

``cpu_channels_last(net)`` combines them for a training step: inputs of ``net`` are converted by
a forward pre-hook (so every forward a method makes, of the clean batch, a masked copy or
augmented views, runs channels-last) and activation gradients are kept channels-last. The
summation order inside the kernels differs from NCHW, so values move by float rounding, and
dropout draws its Bernoulli masks in memory order (other, equally distributed masks): runs stay
bitwise reproducible for the same seed.

On CUDA the training step runs channels-last too, the way torch recommends it for convolutions
(tensor cores under autocast; "Channels Last Memory Format in PyTorch"): the network's 4-D
parameters once (``channels_last_network``: ``net.to(memory_format=torch.channels_last)``) and its
4-D inputs by the same forward pre-hook, no gradient hooks (cuDNN handles mixed layouts). Not
measured here (no GPU): ``step_layout`` is the decision, unit-tested; nothing changes on other
devices, and the CPU path is exactly what it was.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import Tensor, nn


def channels_last_images(x: Tensor) -> Tensor:
    """``x`` (N,C,H,W) with channels-last strides, the same values; ``x`` itself when it has them."""
    n, c, h, w = x.shape
    strides = (h * w * c, 1, w * c, c)
    if x.stride() == strides:
        return x
    if c == 1 and x.is_contiguous():  # same memory order: only the channel stride changes
        return x.as_strided(x.shape, strides)
    return x.contiguous(memory_format=torch.channels_last)


def _channels_last_gradient(grad: Tensor) -> Tensor:
    return grad.contiguous(memory_format=torch.channels_last)


def _keep_gradient_channels_last(module: nn.Module, args: tuple) -> None:
    for t in args:
        if isinstance(t, Tensor) and t.dim() == 4 and t.requires_grad and t.shape[1] > 1 and t.stride(1) == 1:
            t.register_hook(_channels_last_gradient)


def _channels_last_input(module: nn.Module, args: tuple) -> tuple:
    return tuple(channels_last_images(t) if isinstance(t, Tensor) and t.dim() == 4 else t for t in args)


CPU_CHUNK = 64  # images per inference forward on the CPU (``inference_chunk``)


def inference_chunk(batch_size: int, device: torch.device) -> int:
    """Images per inference forward: ``batch_size`` on an accelerator; on the CPU at most ``CPU_CHUNK``.

    On the CPU large batches are slower per image, not faster: the activations of a batch of 512
    leave the cores' caches and the memory-bound ReLU and max-pool dominate (simple_cnn: 1.75x fewer
    CPU seconds per image at 64; gap_cnn at 32 px, channels-last: 1.03 ms per image at 64-128
    against 1.32 at 512 and 1.88 for NCHW at 512, 1 thread)."""
    return batch_size if device.type != "cpu" else max(1, min(batch_size, CPU_CHUNK))


def cpu_channels_last_copy(net: nn.Module) -> nn.Module:
    """On the CPU a channels-last copy of ``net`` in eval mode (``net`` itself is untouched), for
    evaluation passes; elsewhere (or without parameters) ``net`` itself."""
    first = next(net.parameters(), None)
    if first is None or first.device.type != "cpu":
        return net
    return copy.deepcopy(net).eval().to(memory_format=torch.channels_last)


@contextlib.contextmanager
def channels_last_gradients(net: nn.Module) -> Iterator[None]:
    """While open, channels-last activations of ``net``'s submodules get channels-last gradients.
    The tensor hooks stay with the graph (they run in the backward, after the context has closed);
    the module hooks are removed on exit."""
    handles = [m.register_forward_pre_hook(_keep_gradient_channels_last) for m in net.modules() if m is not net]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def cpu_channels_last(net: nn.Module, device: torch.device, double_backward: bool = False) -> Iterator[None]:
    """On the CPU: ``net``'s 4-D inputs converted to channels-last and its activation gradients kept
    channels-last while open; elsewhere nothing. Parameters keep their layout (the weights and the
    optimizer state are untouched).

    ``double_backward`` (a loss that back-propagates through an input gradient built with
    ``create_graph=True``, ``Cost.double_backward``): nothing either. The backward of a convolution's
    backward has no channels-last fast path on the CPU: an RRR step (gap_cnn, batch 32, 1 thread) takes
    510 ms channels-last and 340 ms NCHW, while an ERM step is 85 ms channels-last and 100 ms NCHW."""
    if device.type != "cpu" or double_backward:
        yield
        return
    handle = net.register_forward_pre_hook(_channels_last_input)
    try:
        with channels_last_gradients(net):
            yield
    finally:
        handle.remove()


CPU_LAYOUT, CUDA_LAYOUT, NCHW = "cpu_channels_last", "channels_last", "nchw"


def step_layout(device: torch.device, double_backward: bool = False) -> str:
    """The layout a training step runs in on ``device``: ``cpu_channels_last`` (inputs and activation
    gradients channels-last, parameters as they are: ``cpu_channels_last``), ``channels_last`` on CUDA
    (parameters and inputs: ``channels_last_network`` and ``training_layout``) or ``nchw``: on the CPU for
    a ``double_backward`` loss (its faster layout there), and on any other device (MPS: not measured)."""
    if device.type == "cpu":
        return NCHW if double_backward else CPU_LAYOUT
    return CUDA_LAYOUT if device.type == "cuda" else NCHW


def channels_last_network(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` with its 4-D parameters channels-last (``Module.to(memory_format=...)``, in place) when a
    training step on ``device`` runs channels-last parameters (CUDA, ``step_layout``); else untouched."""
    if step_layout(device) == CUDA_LAYOUT:
        net.to(memory_format=torch.channels_last)
    return net


@contextlib.contextmanager
def training_layout(net: nn.Module, device: torch.device, double_backward: bool = False) -> Iterator[None]:
    """The layout context of a training step (``step_layout``): the CPU's (``cpu_channels_last``), CUDA's
    (``net``'s 4-D inputs converted to channels-last by a forward pre-hook while open), or nothing."""
    layout = step_layout(device, double_backward)
    if layout == CPU_LAYOUT:
        with cpu_channels_last(net, device, double_backward):
            yield
        return
    if layout == NCHW:
        yield
        return
    handle = net.register_forward_pre_hook(_channels_last_input)
    try:
        yield
    finally:
        handle.remove()

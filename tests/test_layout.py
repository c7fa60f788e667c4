"""Channels-last execution on the CPU (``benchmark.models.layout``): same values, other strides, hooks removed."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch
import torch.nn.functional as F

from benchmark.contracts import Batch, TrainState
from benchmark.models import layout
from benchmark.models.build import build_network
from benchmark.registry import METHODS
from benchmark.runs.training import train_step
from benchmark.seeding import make_generator


@pytest.mark.parametrize("channels", [1, 3])
def test_channels_last_images_same_values_channels_last_strides(channels):
    x = torch.rand(2, channels, 5, 4)
    fast = layout.channels_last_images(x)
    assert torch.equal(fast, x) and fast.stride() == (20 * channels, 1, 4 * channels, channels)
    assert layout.channels_last_images(fast) is fast


def test_channels_last_gradients_change_the_layout_not_the_values(monkeypatch):
    converted = []
    convert = layout._channels_last_gradient
    monkeypatch.setattr(layout, "_channels_last_gradient", lambda g: converted.append(g.stride()) or convert(g))
    torch.manual_seed(0)
    net = build_network("simple_cnn", 1, 10, 28).eval()  # flatten of a channels-last map: the case it is for
    x, y = layout.channels_last_images(torch.rand(4, 1, 28, 28)), torch.tensor([3, 1, 4, 1])
    grads = []
    for hooked in (False, True):
        net.zero_grad()
        with layout.channels_last_gradients(net) if hooked else contextlib.nullcontext():
            loss = F.cross_entropy(net(x).logits, y)
        loss.backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*grads))
    assert (64 * 12 * 12, 144, 12, 1) in converted  # the NCHW gradient of the pooled map, from the flatten
    assert not any(m._forward_pre_hooks for m in net.modules())


@pytest.mark.parametrize("arch, channels", [("simple_cnn", 1), ("gap_cnn", 3)])
def test_the_cpu_step_runs_channels_last_for_every_method_with_the_same_values_to_rounding(arch, channels):
    """Every forward inside ``train_step`` sees channels-last inputs, but a double-backward method's
    (RRR), which runs NCHW; the loss and the updated weights equal an NCHW step to float rounding
    (dropout off, so both draw nothing)."""
    torch.manual_seed(0)
    template = build_network(arch, channels, 10, 28, {"dropout": False} if arch == "simple_cnn" else None)
    g = torch.Generator().manual_seed(0)
    saliency = torch.zeros(8, 1, 28, 28)
    saliency[..., 7:21, 7:21] = 1
    batch = Batch(
        x=torch.rand(8, channels, 28, 28, generator=g), y=torch.randint(0, 10, (8,), generator=g), saliency=saliency
    )
    seen = []
    for name in METHODS.names():
        results = []
        for fast in (True, False):
            net = copy.deepcopy(template).train()
            first_conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
            hook = first_conv.register_forward_pre_hook(
                lambda m, args, fast=fast, name=name: seen.append((name, fast, args[0].stride(1) == 1))
            )
            state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
            opt = torch.optim.SGD(net.parameters(), lr=0.1)
            if fast:
                loss, _ = train_step(net, METHODS.get(name)(), batch, state, opt)
            else:
                with unittest_mock_layout():
                    loss, _ = train_step(net, METHODS.get(name)(), batch, state, opt)
            hook.remove()
            results.append((loss.detach(), [p.detach().clone() for p in net.parameters()]))
            assert not any(m._forward_pre_hooks for m in net.modules()), "the step leaves no hook behind"
        (l1, w1), (l2, w2) = results
        assert torch.allclose(l1, l2, rtol=1e-4, atol=1e-5), name
        w0 = [p.detach() for p in template.parameters()]
        update = torch.cat([(a - o).flatten() for a, o in zip(w1, w0)])
        other = torch.cat([(b - o).flatten() for b, o in zip(w2, w0)])
        # batch norm and min-max normalized maps (CYBORG on gap_cnn: 2.4e-3) amplify rounding: compare the whole update
        assert (update - other).norm() <= 1e-2 * update.norm(), (name, float((update - other).norm() / update.norm()))
    double = {name for name in METHODS.names() if METHODS.get(name).cost.double_backward > 0}
    assert "rrr" in double
    assert {flag for name, fast, flag in seen if fast and name not in double} == {True}
    assert {flag for name, fast, flag in seen if not fast or name in double} == {False}


@contextlib.contextmanager
def unittest_mock_layout():
    """The NCHW reference: the step's layout context replaced by nothing."""
    from unittest import mock

    from benchmark.runs import training

    with mock.patch.object(
        training, "training_layout", lambda net, device, double_backward=False: contextlib.nullcontext()
    ):
        yield


def test_predict_scores_a_channels_last_copy_in_cpu_chunks_and_leaves_the_network_as_it_was():
    """``runs.evaluation.predict`` on the CPU: the same logits as one NCHW eval-mode pass to float
    rounding, channels-last forwards of at most ``CPU_CHUNK`` images, and ``net`` keeps its mode."""
    from benchmark.models.layout import CPU_CHUNK
    from benchmark.runs.device_data import DeviceSplit
    from benchmark.runs.evaluation import predict

    torch.manual_seed(0)
    net = build_network("gap_cnn", 3, 2, 16).train()
    x = torch.randint(0, 256, (150, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    split = DeviceSplit(x=x, y=torch.zeros(150, dtype=torch.long), saliency=None, annotated=None)
    first = []  # (images, channels-last) of every forward of the first convolution
    handle = torch.nn.modules.module.register_module_forward_pre_hook(
        lambda m, args: (
            first.append((args[0].shape[0], args[0].stride(1) == 1))
            if isinstance(m, torch.nn.Conv2d) and m.in_channels == 3
            else None
        )
    )
    try:
        logits = predict(net, split, batch_size=512)
    finally:
        handle.remove()
    assert net.training  # its mode is restored
    with torch.no_grad():
        reference = copy.deepcopy(net).eval()(split.batch(torch.arange(150)).x).logits
    assert torch.allclose(logits, reference, rtol=1e-4, atol=1e-5)
    assert [n for n, _ in first] == [CPU_CHUNK, CPU_CHUNK, 150 - 2 * CPU_CHUNK]
    assert all(channels_last for _, channels_last in first)


def test_the_training_step_layout_is_channels_last_on_cuda_and_the_cpu_path_is_unchanged():
    """``step_layout`` (issue 25 item 4): CUDA runs channels-last for every method (parameters converted once,
    inputs by a pre-hook, no gradient hooks); the CPU keeps its own rule (NCHW for a double backward); MPS NCHW.
    Fails on the old code: nothing was channels-last on CUDA."""
    from benchmark.models.layout import channels_last_network, step_layout, training_layout

    cpu, cuda, mps = torch.device("cpu"), torch.device("cuda:1"), torch.device("mps")
    assert [step_layout(cpu), step_layout(cpu, True)] == ["cpu_channels_last", "nchw"]
    assert [step_layout(cuda), step_layout(cuda, True), step_layout(mps)] == ["channels_last"] * 2 + ["nchw"]
    torch.manual_seed(0)
    net = build_network("gap_cnn", 3, 2, 16)
    weights = {n: p for n, p in net.named_parameters() if p.dim() == 4}
    assert channels_last_network(net, cpu) is net
    assert all(p.is_contiguous() for p in weights.values()), "the CPU leaves the parameters NCHW"
    seen: list[torch.Tensor] = []
    first_conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.rand(4, 3, 16, 16)
    before = net(x).logits
    channels_last_network(net, cuda)  # the conversion a CUDA run makes (CPU tensors here: same strides rule)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights.values())
    hooks = len(net._forward_pre_hooks)
    with training_layout(net, cuda):
        after = net(x).logits
        assert len(net._forward_pre_hooks) == hooks + 1
    assert len(net._forward_pre_hooks) == hooks, "the input hook is removed on exit"
    assert seen[-1].is_contiguous(memory_format=torch.channels_last) and not seen[0].is_contiguous(
        memory_format=torch.channels_last
    )
    assert torch.allclose(before, after, atol=1e-5), "the same network, another memory layout"
    with training_layout(net, cuda, double_backward=True):
        net(x)
    assert seen[-1].is_contiguous(memory_format=torch.channels_last), "RRR too on CUDA"

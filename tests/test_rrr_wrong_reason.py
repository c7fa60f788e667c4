"""RRR's ``annotation=wrong_reason`` (issue 14): A = the dataset's wrong-reason mask, the paper's
Decoy-MNIST experiment (dtak/rrr ``rrr/decoy_mnist.py``: A is the decoy patch alone).

The loss against a hand-written double back-propagation; the mask reaching the training batches
row by row, for this method only; the refusal of a dataset without a mask before training; one
epoch on the decoy digits; the default RRR's run id unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_cyborg import state
from torch import nn

from benchmark.contracts import Batch, ContractError, DatasetBundle, NetOutput, Network, Split
from benchmark.data import dataset_store as store
from benchmark.records.identity import run_id
from benchmark.records.recorder import record_run
from benchmark.registry import METHODS
from benchmark.runs import run as run_module
from benchmark.runs.device_data import DeviceSplit
from benchmark.runs.run import resolve_config, wrong_reason_source

WRONG = {"annotation": "wrong_reason"}
SMALL = {"test_fraction": 0.8, "val_fraction": 0.1}  # ~180 training images
NO_EVALUATION = {"enabled": False}
PROJECT_METHODS = [name for name in METHODS.names() if not name.startswith("_")]
# tiny_config(method="rrr") (2 epochs, evaluation off) and the same with the default evaluation,
# computed before RRR had the ``annotation`` hyperparameter (commit 364a3f1)
DEFAULT_RRR_RUN_IDS = {"off": "8a804e20c8fe48d6", "default": "3d514517d6992bc4"}


class TanhNet(Network):
    """logits = W2 tanh(W1 flatten(x) + b1) + b2: its input gradient in closed form."""

    exact_cam = False

    def __init__(self, pixels: int, hidden: int, classes: int):
        super().__init__()
        self.num_classes = classes
        self.hidden, self.out = nn.Linear(pixels, hidden), nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> NetOutput:
        h = torch.tanh(self.hidden(x.flatten(1)))
        return NetOutput(logits=self.out(h), embedding=h, feature_map=x)

    @property
    def classifier_weight(self) -> torch.Tensor:
        return self.out.weight


def hand_input_gradient(net: TanhNet, x: torch.Tensor) -> torch.Tensor:
    """d/dx sum_k log p_k by the chain rule written out (no autograd.grad): with z the logits,
    d/dz = 1 - K p, then through W2, tanh' = 1 - h^2 and W1. Differentiable in the parameters."""
    pre = net.hidden(x.flatten(1))
    h = torch.tanh(pre)
    p = net.out(h).softmax(dim=1)
    dz = 1 - net.num_classes * p  # (B, K)
    dh = dz @ net.out.weight  # (B, hidden)
    dpre = dh * (1 - h**2)
    return (dpre @ net.hidden.weight).view_as(x)


def test_loss_equals_a_hand_written_double_backprop_on_the_mask_pixels_only():
    torch.manual_seed(0)
    net = TanhNet(pixels=2 * 5 * 5, hidden=4, classes=3)
    x, y = torch.rand(3, 2, 5, 5), torch.tensor([0, 2, 1])
    wrong = torch.zeros(3, 1, 5, 5)
    wrong[0, 0, 0:2, 0:2] = 1  # sample 0: a 2x2 patch top-left
    wrong[1, 0, 3:5, 3:5] = 1  # sample 1: bottom-right
    wrong[2, 0, 4, 0] = 1  # sample 2: one pixel bottom-left
    saliency = torch.rand(3, 1, 5, 5)  # ignored with annotation=wrong_reason
    lam, scale = 3.0, 2.0
    method = METHODS.get("rrr")(lam=lam, pixel_scale=scale, **WRONG)
    assert method.needs_wrong_reason
    loss, scalars = method.loss(net, Batch(x, y, saliency, wrong_reason=wrong), state())
    loss.backward()
    got = [p.grad.clone() for p in net.parameters()]

    net.zero_grad()
    grad_x = hand_input_gradient(net, x) / scale
    pixels = [(0, slice(0, 2), slice(0, 2)), (1, slice(3, 5), slice(3, 5)), (2, slice(4, 5), slice(0, 1))]
    penalty = torch.stack([(grad_x[i, :, r, c] ** 2).sum() for i, r, c in pixels]).mean()  # both channels
    expected = F.cross_entropy(net(x).logits, y) + lam * penalty
    expected.backward()
    torch.testing.assert_close(scalars["right_reasons"], penalty.detach())
    torch.testing.assert_close(loss.detach(), expected.detach())
    for g, param in zip(got, net.parameters()):
        torch.testing.assert_close(g, param.grad)
    human, _ = METHODS.get("rrr")(lam=lam, pixel_scale=scale).loss(
        net, Batch(x, y, saliency, wrong_reason=wrong), state()
    )
    assert not torch.isclose(human, loss.detach())  # the default still penalizes 1 - H


def test_unannotated_samples_and_the_reductions_use_the_mask():
    torch.manual_seed(0)
    net = TanhNet(pixels=16, hidden=3, classes=2)
    x, y = torch.rand(2, 1, 4, 4), torch.tensor([0, 1])
    wrong = torch.zeros(2, 1, 4, 4)
    wrong[:, :, :2, :2] = 1  # 4 pixels each
    annotated = torch.tensor([True, False])
    own = (hand_input_gradient(net, x)[0, 0, :2, :2] ** 2).sum().detach()
    for reduction, value in {"batch": own / 2, "annotated": own, "entries": own / 4}.items():
        _, scalars = METHODS.get("rrr")(reduction=reduction, pixel_scale=1.0, **WRONG).loss(
            net, Batch(x, y, torch.zeros(2, 1, 4, 4), annotated, wrong_reason=wrong), state()
        )
        torch.testing.assert_close(scalars["right_reasons"], value)


def test_a_batch_without_the_mask_is_refused_by_name():
    net = TanhNet(pixels=16, hidden=3, classes=2)
    batch = Batch(torch.rand(2, 1, 4, 4), torch.tensor([0, 1]), torch.zeros(2, 1, 4, 4))
    with pytest.raises(ContractError, match="'rrr' with annotation=wrong_reason.*no wrong-reason mask"):
        METHODS.get("rrr")(**WRONG).loss(net, batch, state())


def test_only_rrr_with_wrong_reason_declares_the_mask():
    for name in PROJECT_METHODS:
        assert not METHODS.get(name)().needs_wrong_reason, name
    assert METHODS.get("rrr")(**WRONG).needs_wrong_reason
    with pytest.raises(ContractError, match="'annotation' must be one of"):
        METHODS.get("rrr")(annotation="decoy")


# ---------------------------------------------------------------- the mask on the device, batched
def decoy_bundle():
    return store.build("decoy_digits", SMALL)


def test_batches_carry_the_mask_rows_of_the_split_in_the_batch_order():
    train = decoy_bundle().splits["train"]
    split = DeviceSplit.from_split(train, torch.device("cpu"), wrong_reason="decoy")
    assert split.wrong_reason.dtype == torch.bool and split.wrong_reason.shape == (len(train), 1, 28, 28)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(5))
    rows = order.numpy()
    start = 0
    for batch in split.batches(16, order, drop_last=True):
        index = rows[start : start + batch.size]
        assert batch.wrong_reason.dtype == torch.float32
        assert np.array_equal(batch.wrong_reason.numpy(), train.extras["decoy"][index].astype(np.float32))
        assert np.array_equal((batch.x * 255).round().to(torch.uint8).numpy(), train.x[index])
        start += batch.size
    assert start == len(train) - len(train) % 16
    assert DeviceSplit.from_split(train, torch.device("cpu")).wrong_reason is None  # not asked for: not loaded
    assert next(DeviceSplit.from_split(train, torch.device("cpu")).batches(4)).wrong_reason is None


def config_for(tiny_config, method="rrr", params=None, **overrides):
    base = dict(
        method=method, method_params=dict(params or {}), dataset_params=SMALL, evaluation=NO_EVALUATION, epochs=1
    )
    return resolve_config(tiny_config(**{**base, **overrides}))


def test_the_run_hands_the_mask_to_the_method_that_declares_it_and_to_no_other(tiny_config):
    bundle = decoy_bundle()
    for name in PROJECT_METHODS:
        config = config_for(tiny_config, name)
        assert wrong_reason_source(METHODS.get(name)(**config.method_params), bundle, config) is None, name
    config = config_for(tiny_config, params=WRONG)
    assert wrong_reason_source(METHODS.get("rrr")(**WRONG), bundle, config) == "decoy"


@pytest.fixture
def spy(monkeypatch):
    """Records (image bytes, wrong_reason) of every training batch a method's loss sees."""
    seen = []

    def attach(name):
        cls = METHODS.get(name)
        real = cls.loss

        def loss(self, net, batch, st):
            seen.append(batch)
            return real(self, net, batch, st)

        monkeypatch.setattr(cls, "loss", loss)
        return seen

    return attach


def test_a_run_trains_rrr_on_the_masks_of_its_batches_rows(tiny_config, tmp_path, spy):
    seen = spy("rrr")
    result = record_run(
        tiny_config(method="rrr", method_params=WRONG, dataset_params=SMALL, evaluation=NO_EVALUATION, epochs=1),
        tmp_path,
        device="cpu",
        progress=False,
    )
    train = result.output.bundle.splits["train"]
    where = {hashlib.sha1(image.tobytes()).hexdigest(): i for i, image in enumerate(train.x)}
    assert len(where) == len(train)  # the images are distinct: a batch row names its split row
    assert seen and sum(b.size for b in seen) == len(train) - len(train) % 64
    for batch in seen:
        images = (batch.x * 255).round().to(torch.uint8).numpy()
        index = [where[hashlib.sha1(image.tobytes()).hexdigest()] for image in images]
        assert np.array_equal(batch.wrong_reason.numpy(), train.extras["decoy"][index].astype(np.float32))
    # only the training batches carry it: the evaluated splits do not (the evaluation reads the mask on the host)
    assert all(split.wrong_reason is None for split in result.output.splits.values())


@pytest.mark.parametrize("name,params", [("erm", {}), ("rrr", {})])
def test_methods_that_do_not_declare_it_see_no_mask(name, params, tiny_config, tmp_path, spy):
    seen = spy(name)
    result = record_run(
        tiny_config(method=name, method_params=params, dataset_params=SMALL, evaluation=NO_EVALUATION, epochs=1),
        tmp_path,
        device="cpu",
        progress=False,
    )
    assert seen and all(batch.wrong_reason is None for batch in seen)
    assert all(split.wrong_reason is None for split in result.output.splits.values())


# ---------------------------------------------------------------- datasets without a mask
def test_a_dataset_without_the_mask_is_refused_before_training(tiny_config, tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(run_module, "train", no_training)
    config = tiny_config(
        method="rrr", method_params=WRONG, dataset_params={**SMALL, "decoy": False}, evaluation=NO_EVALUATION, epochs=1
    )
    with pytest.raises(ContractError) as info:
        record_run(config, tmp_path, device="cpu", progress=False)
    message = str(info.value)
    assert "method 'rrr' (annotation=wrong_reason)" in message and "dataset 'decoy_digits' (decoy=False" in message
    assert "has none in its train split" in message and "'decoy'" in message and "'cue_mask'" in message
    assert not list(tmp_path.glob("*"))


def fake_bundle(extras):
    n = 4
    train = Split(
        x=np.zeros((n, 1, 4, 4), np.uint8),
        y=np.arange(n) % 2,
        saliency=np.ones((n, 1, 4, 4), np.float32),
        extras=extras,
    )
    return DatasetBundle(splits={"train": train}, classes=["a", "b"], manifest={})


@pytest.mark.parametrize(
    "extras,match",
    [
        ({"cue_mask": np.zeros((4, 1, 4, 4), np.uint8)}, "has an empty one: extra 'cue_mask' marks no pixel"),
        ({"decoy": np.ones((4, 3), np.uint8)}, "extra 'decoy' has shape \\(4, 3\\), not a pixel mask"),
        ({"generator": np.zeros(4, np.int64)}, "has none in its train split"),
    ],
)
def test_a_mask_that_is_empty_or_not_a_pixel_mask_is_refused(extras, match, tiny_config):
    config = config_for(tiny_config, params=WRONG)
    with pytest.raises(ContractError, match=match):
        wrong_reason_source(METHODS.get("rrr")(**WRONG), fake_bundle(extras), config)


def test_the_mask_is_the_evaluations_wrong_reason_keys(tiny_config):
    bundle = fake_bundle(
        {"cue_mask": np.ones((4, 1, 4, 4), np.uint8), "decoy": np.eye(4, dtype=np.uint8)[None, None].repeat(4, 0)}
    )
    method = METHODS.get("rrr")(**WRONG)
    assert wrong_reason_source(method, bundle, config_for(tiny_config, params=WRONG, evaluation={})) == "decoy"
    config = config_for(tiny_config, params=WRONG, evaluation={"wrong_reason_keys": ["cue_mask"]})
    assert wrong_reason_source(method, bundle, config) == "cue_mask"


# ---------------------------------------------------------------- a run, and the default's identity
def test_one_epoch_on_decoy_digits_penalizes_the_patch(tiny_config, tmp_path):
    """On SMALL's ~180 training images, as the runs above: the same code in a fraction of the time."""
    result = record_run(
        tiny_config(method="rrr", method_params=WRONG, dataset_params=SMALL, epochs=1),
        tmp_path,
        device="cpu",
        progress=False,
    )
    record = result.record
    assert record.config["method_params"]["annotation"] == "wrong_reason"
    assert record.identity["method_params"] == WRONG
    curves = result.output.curves
    assert (
        len(curves["right_reasons"]) == 1 and np.isfinite(curves["right_reasons"][0]) and curves["right_reasons"][0] > 0
    )
    assert all(np.isfinite(m["loss"]) for m in record.metrics.values())
    assert record.run_id != run_id(resolve_config(tiny_config(method="rrr", dataset_params=SMALL, epochs=1)))


def test_default_rrr_keeps_its_run_id(tiny_config):
    assert run_id(resolve_config(tiny_config(method="rrr"))) == DEFAULT_RRR_RUN_IDS["off"]
    assert run_id(resolve_config(tiny_config(method="rrr", evaluation={}))) == DEFAULT_RRR_RUN_IDS["default"]
    assert (
        run_id(resolve_config(tiny_config(method="rrr", method_params={"annotation": "human"})))
        == DEFAULT_RRR_RUN_IDS["off"]
    )

"""No host-device synchronization inside a training step (issue 13).

A GPU runs ahead of the Python thread; anything that needs a value computed on the device
(``.item()``, ``float(t)``, ``int(t)``, ``bool(t)``, ``if t.any()``), a shape that depends on
data (a boolean mask ``x[mask]`` is a ``nonzero``, ``masked_select``, ``unique``), or a host
tensor copied to the device (``torch.tensor(0.5).to(device)``, a blocking copy) stalls it
until the queue drains. On the CPU these cost nothing, so the guard below watches the
dispatched operators instead (``TorchDispatchMode``, on the CPU, where the tests run):

- ``aten._local_scalar_dense`` (what ``.item()``, ``float``, ``int`` and ``bool`` of a tensor
  call) and every operator torch tags ``data_dependent_output`` (``equal``, ...);
- ``aten.nonzero`` and every operator torch tags ``dynamic_output_shape`` (``masked_select``,
  ``unique``, ...); ``aten.index``/``index_put`` only with a boolean or byte index (an integer
  index is no sync);
- ``aten.lift_fresh``: a tensor made from Python data inside the step, which on a GPU run is a
  host tensor that the device must receive (the CYBORG alpha of old);
- a copy between devices (``_to_copy``/``copy_`` with another device: only on a GPU run).

Guarded: the whole of ``train_epoch`` (the batches cut from a ``DeviceSplit`` once
``DeviceSplit.batches`` has sent the epoch's order to the device in one copy, every method's
loss under ``train_step``, backward, the optimizer step and the loop's per-step sums), after
one warm-up step, over batches that are fully annotated, partly annotated and not annotated
at all, for every registered method (several hyperparameter settings each; RRR's
``annotation=wrong_reason`` with the batches' wrong-reason mask cut from the split) on a Grad-CAM
network (``simple_cnn``: MLP head) and an exact-CAM one (``gap_cnn``).

The optimizer step is inside the guarded region. torch's Adam and AdamW without
``capturable``/``fused`` keep each parameter's step counter on the CPU by design ("Deliberately
host `step` on CPU if both capturable and fused are off", torch/optim/adam.py) and read it
with ``.item()`` (``_get_value``, torch/optim/optimizer.py) for the bias corrections: that
reads host memory and does not wait for the device, even when the parameters are on a GPU.
The guard allows exactly those reads (``_local_scalar_dense`` of a tensor that is one of the
optimizer's ``state[p]["step"]`` tensors, on the CPU) and flags anything else the step does;
the warm-up step is outside because the optimizer creates its state (``torch.tensor(0.0)`` for
the counters, on the CPU) at its first step. SGD has no step counter. A ``GradScaler`` (fp16
on CUDA) does synchronize once a step by design (it reads whether the gradients were finite):
it is not used here.
"""

from __future__ import annotations

import dataclasses
import traceback
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmark.contracts import Batch, TrainState
from benchmark.models.build import build_network
from benchmark.registry import METHODS
from benchmark.runs.device_data import DeviceSplit
from benchmark.runs.training import make_optimizer, train_epoch, train_step
from benchmark.seeding import make_generator

ROOT = Path(__file__).resolve().parent.parent
A = torch.ops.aten
SCALAR_READS = {A._local_scalar_dense.default}
INDEXING = {A.index.Tensor, A.index_put.default, A.index_put_.default, A._index_put_impl_.default}
FROM_HOST_DATA = {A.lift_fresh.default, A.lift_fresh_copy.default}
COPIES = {A._to_copy.default, A.copy_.default}
PROJECT_METHODS = [name for name in METHODS.names() if not name.startswith("_")]  # "_..." are test plug-ins
VARIANTS = {  # hyperparameter settings whose code paths differ
    "cyborg": [
        {},
        {
            "normalization": "batch",
            "alpha_mode": "adaptive",
            "cam_class": "predicted",
            "human_resize": "bilinear_antialias",
        },
    ],
    "gradia": [{}, {"relu": True, "weight_gradient": "second_order", "blur_human": False}],
    "rrr": [
        {},
        {"reduction": "annotated"},
        {"reduction": "entries"},
        {"annotation": "wrong_reason"},
        {"annotation": "wrong_reason", "reduction": "entries"},
    ],
    "sage": [
        {},
        {
            "view_forward": "separate",
            "ce_on_positive": True,
            "invert_saliency": True,
            "normalize_embedding": True,
            "js_t2": True,
        },
        {"degradation": "noise"},
        {"degradation": "mean"},
    ],
}
CASES = [(name, params) for name in PROJECT_METHODS for params in VARIANTS.get(name, [{}])]


def _tensors(args, kwargs):
    for value in [*args, *kwargs.values()]:
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, torch.Tensor):
                yield item


class SyncGuard(TorchDispatchMode):
    """Records every operator that would make the host wait for the device (see the module docstring)."""

    def __init__(self, optimizer: torch.optim.Optimizer | None = None):
        super().__init__()
        self.allowed = set()  # data pointers of the optimizer's host-side step counters
        if optimizer is not None:
            self.allowed = {
                state["step"].data_ptr()
                for state in optimizer.state.values()
                if isinstance(state.get("step"), torch.Tensor) and state["step"].device.type == "cpu"
            }
        self.found: list[str] = []

    def why(self, func, args, kwargs) -> str | None:
        if func in SCALAR_READS:
            return None if args[0].device.type == "cpu" and args[0].data_ptr() in self.allowed else "reads a scalar"
        if func in INDEXING:
            indices = args[1] if len(args) > 1 else kwargs.get("indices", [])
            return (
                "boolean-mask indexing"
                if any(i is not None and i.dtype in (torch.bool, torch.uint8) for i in indices)
                else None
            )
        if torch.Tag.data_dependent_output in func.tags:
            return "data-dependent output"
        if torch.Tag.dynamic_output_shape in func.tags:
            return "data-dependent shape"
        if func in FROM_HOST_DATA:
            return "a tensor from host data"
        if func in COPIES:
            devices = {t.device for t in _tensors(args, kwargs)} | (
                {torch.device(kwargs["device"])} if kwargs.get("device") else set()
            )
            return "a copy between devices" if len(devices) > 1 else None
        return None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        reason = self.why(func, args, kwargs)
        if reason is not None:
            frames = [
                f
                for f in traceback.extract_stack()[:-1]
                if f.filename.startswith(str(ROOT)) and ".venv" not in f.filename and "test_host_sync" not in f.filename
            ]
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames[-3:]))
            self.found.append(f"{func} ({reason}) at {where or 'torch internals'}")
        return func(*args, **kwargs)


def make_split(n: int, side: int, annotated: torch.Tensor, wrong_reason: bool = False) -> DeviceSplit:
    """With ``wrong_reason``: a wrong-reason mask too (a corner patch per sample, as the decoy digits')."""
    g = torch.Generator().manual_seed(1)
    saliency = torch.zeros(n, 1, side, side, dtype=torch.float16)
    saliency[:, :, side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = 1.0
    saliency[~annotated] = 0.0  # contract: unannotated rows are zeros
    mask = None
    if wrong_reason:
        mask = torch.zeros(n, 1, side, side, dtype=torch.bool)
        mask[0::2, :, :4, :4] = True
        mask[1::2, :, -4:, -4:] = True
    return DeviceSplit(
        x=torch.randint(0, 256, (n, 1, side, side), dtype=torch.uint8, generator=g),
        y=torch.arange(n) % 3,
        saliency=saliency,
        annotated=annotated,
        wrong_reason=mask,
    )


PATTERNS = {  # 4 batches of 6: which samples are annotated
    "all": torch.ones(24, dtype=torch.bool),
    "partly": torch.arange(24) % 3 == 0,  # in random order: some batches with none, some with several
    "none in a batch": torch.arange(24) >= 6,  # storage order: the first batch has no annotated sample
}


def guarded_epoch(
    name: str, params: dict, arch: str, pattern: str, optimizer: dict, precision: str = "fp32", streamed: bool = False
) -> list[str]:
    torch.manual_seed(0)
    side = 16
    net = build_network(arch, 1, 3, side)
    net.train()
    method = METHODS.get(name)(**params)
    opt = make_optimizer(net.parameters(), optimizer)
    split = make_split(24, side, PATTERNS[pattern], wrong_reason=method.needs_wrong_reason)
    if streamed:  # the images stay a host array, gathered batch by batch (runs.placement)
        split = dataclasses.replace(split, x=split.x.numpy())
    state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
    train_step(net, method, next(split.batches(6)), state, opt, precision=precision)  # creates the optimizer state
    order = None if pattern == "none in a batch" else torch.randperm(24, generator=torch.Generator().manual_seed(2))
    batches = split.batches(6, order, drop_last=True)  # the epoch's one copy of the order to the device
    with SyncGuard(opt) as guard:
        sums, steps = train_epoch(net, method, batches, state, opt, precision=precision)
    assert steps == 4 and all(torch.isfinite(total) for total in sums.values()), sums
    return guard.found


@pytest.mark.parametrize("pattern", list(PATTERNS))
@pytest.mark.parametrize("arch", ["simple_cnn", "gap_cnn"])
@pytest.mark.parametrize("name,params", CASES, ids=[f"{n}{p or ''}" for n, p in CASES])
def test_no_host_sync_in_a_training_epoch(name, params, arch, pattern):
    found = guarded_epoch(name, params, arch, pattern, {"name": "adam", "lr": 1e-3})
    assert not found, "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize(
    "optimizer",
    [
        {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 1e-4},
        {"name": "adamw", "lr": 1e-3, "weight_decay": 0.01},
    ],
)
def test_no_host_sync_with_the_other_optimizers(optimizer):
    assert not guarded_epoch("erm", {}, "simple_cnn", "partly", optimizer)


@pytest.mark.parametrize("name", ["erm", "sage", "cyborg"])
def test_no_host_sync_under_bf16_autocast(name):
    assert not guarded_epoch(name, {}, "gap_cnn", "partly", {"name": "adam", "lr": 1e-3}, precision="bf16")


@pytest.mark.parametrize("name,params", [("erm", {}), ("cyborg", {}), ("rrr", {"annotation": "wrong_reason"})])
def test_no_host_sync_on_streamed_batches(name, params):
    """Images streamed from the host (issue 25 item 2): the prefetched batches add no sync to the epoch."""
    assert not guarded_epoch(name, params, "gap_cnn", "partly", {"name": "adam", "lr": 1e-3}, streamed=True)


def test_the_guard_catches_what_it_is_for():
    x, mask = torch.rand(6), torch.tensor([True, False] * 3)
    cases = {
        "item": lambda: x.sum().item(),
        "float": lambda: float(x.sum()),
        "bool": lambda: bool(x.sum() > 0),
        "int": lambda: int(x.argmax()),
        "mask": lambda: x[mask],
        "masked_select": lambda: x.masked_select(mask),
        "nonzero": lambda: mask.nonzero(),
        "host data": lambda: torch.as_tensor(0.5),
        "equal": lambda: torch.equal(x, x),
    }
    for label, run in cases.items():
        with SyncGuard() as guard:
            run()
        assert guard.found, label
    index = torch.tensor([0, 2])
    with SyncGuard() as guard:  # integer indexing, index_select, masks as arithmetic, device-side fills are fine
        x[index], x.index_select(0, index), x.masked_fill(mask, 0.0), torch.where(mask, x, 0.0)
        torch.full((2,), 0.5), x + 0.5, (x * mask).sum() / mask.sum().clamp_min(1)
    assert not guard.found, guard.found


def test_batch_positions_of_annotated_rows_match_the_mask():
    """``DeviceSplit.batches`` gives each batch its annotated positions and count, computed on the host,
    equal to what the mask says; a batch built by hand derives them."""
    annotated = torch.arange(24) % 3 == 0
    split = make_split(24, 8, annotated)
    order = torch.randperm(24, generator=torch.Generator().manual_seed(3))
    for batch in split.batches(5, order):
        assert torch.equal(batch.annotated_index, batch.annotated.nonzero().flatten())
        assert batch.n_annotated == int(batch.annotated.sum())
        assert batch.any_annotated == bool(batch.annotated.any())
    hand = Batch(
        x=torch.rand(3, 1, 4, 4),
        y=torch.zeros(3, dtype=torch.int64),
        saliency=torch.rand(3, 1, 4, 4),
        annotated=torch.tensor([False, True, True]),
    )
    assert hand.annotated_index.tolist() == [1, 2] and hand.n_annotated == 2
    full = Batch(x=torch.rand(3, 1, 4, 4), y=torch.zeros(3, dtype=torch.int64), saliency=torch.rand(3, 1, 4, 4))
    assert full.annotated_index.tolist() == [0, 1, 2] and full.all_annotated
    bare = Batch(x=torch.rand(3, 1, 4, 4), y=torch.zeros(3, dtype=torch.int64))
    assert bare.n_annotated == 0 and not bare.any_annotated and bare.annotated_index.numel() == 0

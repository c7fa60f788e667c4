"""SMOOT (methods/smoot.py): the online fraction controller, its epoch statistics and its checkpointed state."""

from __future__ import annotations

import pytest
import torch
from sweep_helpers import TINY_DATA
from test_sgt import two_class_net

from benchmark.contracts import Batch, ContractError, TrainState
from benchmark.records.recorder import record_run
from benchmark.registry import METHODS
from benchmark.seeding import make_generator

SMOOT = METHODS.get("smoot")
controller = SMOOT().controller  # defaults: bounds [0.1, 0.9], step 0.1, acc >= 0.9, drop <= 0.05, gap <= 0.1


def stats(acc, masked_acc, ce, masked_ce):
    return {"train_accuracy": acc, "masked_accuracy": masked_acc, "ce": ce, "masked_ce": masked_ce}


CONFIDENT_CLOSE = stats(0.95, 0.94, 0.20, 0.25)  # -> mask more
MASKED_DROPS = stats(0.95, 0.70, 0.20, 0.90)  # -> mask less
NOT_CONFIDENT = stats(0.60, 0.58, 1.20, 1.25)  # -> keep
CONFIDENT_FAR = stats(0.95, 0.93, 0.20, 0.60)  # loss gap too large -> keep


@pytest.mark.parametrize(
    "epoch_stats,expected",
    [
        (CONFIDENT_CLOSE, 0.6),
        (MASKED_DROPS, 0.4),
        (NOT_CONFIDENT, 0.5),
        (CONFIDENT_FAR, 0.5),
    ],
)
def test_controller_moves_the_fraction_in_the_documented_direction(epoch_stats, expected):
    assert controller.next(0.5, epoch_stats) == expected


def test_controller_stays_within_bounds_over_a_history():
    fraction, path = 0.5, []
    for epoch_stats in [CONFIDENT_CLOSE] * 6 + [MASKED_DROPS] * 12 + [NOT_CONFIDENT, CONFIDENT_CLOSE]:
        fraction = controller.next(fraction, epoch_stats)
        path.append(fraction)
    assert path[:6] == [0.6, 0.7, 0.8, 0.9, 0.9, 0.9]
    assert path[6:18] == [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1]
    assert path[18:] == [0.1, 0.2]


def ignoring_net():
    """Class 0's logit reads only the last five of ten pixels: masking the first five changes nothing."""
    return two_class_net(torch.tensor([[0.0] * 5 + [1.0, -2.0, 0.5, 3.0, 1.5]]).view(1, 2, 5))


def run_epoch(method, net, x, y):
    state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
    for _ in range(3):
        method.loss(net, Batch(x=x, y=y), state)
    return method.on_epoch_end(state)


def test_epoch_statistics_of_the_steps_drive_the_fraction():
    net = ignoring_net()
    x = torch.rand(6, 1, 2, 5, generator=torch.Generator().manual_seed(0))
    predicted = net(x).logits.argmax(1)
    method = SMOOT(fraction=0.5, fill="constant", fill_value=9.0)
    # Masked == clean and every prediction right: confident and close -> mask more.
    assert run_epoch(method, net, x, predicted) == {"mask_fraction": 0.5, "mask_fraction_next": 0.6}
    assert (method.masked_input(net, Batch(x=x, y=predicted), None) == 9.0).sum() == 6 * 6  # k = 0.6 * 10
    # Every prediction wrong (not confident), masked still agrees with clean -> keep.
    method.fraction = 0.5
    assert run_epoch(method, net, x, 1 - predicted) == {"mask_fraction": 0.5, "mask_fraction_next": 0.5}


def test_state_survives_state_dict_round_trip_and_bad_state_fails():
    method = SMOOT()
    method.fraction = 0.7
    fresh = SMOOT()
    fresh.load_state_dict(method.state_dict())
    assert fresh.fraction == 0.7
    with pytest.raises(ContractError, match="outside"):
        fresh.load_state_dict({"fraction": 0.95})
    with pytest.raises(ContractError, match="lacks 'fraction'"):
        fresh.load_state_dict({})
    with pytest.raises(ContractError, match="fraction <= max_fraction"):
        SMOOT(fraction=0.95)


def test_resumed_run_continues_with_the_fraction_it_had_reached(tiny_config, tmp_path):
    """On the 12x12 digits (TINY_DATA): the fraction, the curves and the weights do not depend on the image size
    (a ninth of the 28x28 run's time)."""
    always_more = dict(min_accuracy=0.0, max_accuracy_drop=1.0, max_loss_gap=100.0)
    config = tiny_config(
        method="smoot", epochs=2, method_params=always_more, dataset_params=TINY_DATA, evaluation={"enabled": False}
    )
    full = record_run(config, tmp_path / "full", device="cpu", progress=False)
    assert full.record.curves["mask_fraction"] == [0.5, 0.6]
    assert full.record.curves["mask_fraction_next"] == [0.6, 0.7]

    class Killed(Exception):
        pass

    def kill_after_one(epoch):
        if epoch == 1:
            raise Killed

    with pytest.raises(Killed):
        record_run(config, tmp_path / "resumed", device="cpu", progress=False, checkpoint=True, on_epoch=kill_after_one)
    resumed = record_run(config, tmp_path / "resumed", device="cpu", progress=False, checkpoint=True)
    assert resumed.record.timing["resumed_from_epoch"] == 1
    assert resumed.record.curves == full.record.curves
    assert resumed.record.extra["weights_sha256"] == full.record.extra["weights_sha256"]

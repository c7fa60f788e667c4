"""The run setting ``deterministic`` (issue 25 item 4): one switch for cuDNN's autotuner and torch's
deterministic algorithms. True (the default, run ids unchanged): deterministic kernels, autotuner off;
false: ``cudnn.benchmark`` on, deterministic algorithms off (faster on a GPU, not bitwise), another run id.
On the CPU both train the same weights. The setting flows from a profile, a study and a grid."""

from __future__ import annotations

import pytest
import torch
from sweep_helpers import SMALL_TRAIN, tiny_params

from benchmark.contracts import ContractError, RunConfig
from benchmark.records.identity import identity, run_id
from benchmark.records.recorder import record_run
from benchmark.runs.run import prepare, resolve_config
from benchmark.seeding import determinism
from benchmark.sweeps.study import expand


def switches() -> tuple[bool, bool, bool]:
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )


@pytest.fixture
def restored_switches():
    before = switches()
    yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.benchmark = before[2]


def test_a_run_sets_the_switches_its_config_names(tiny_config, restored_switches):
    prepare(tiny_config(dataset_params=SMALL_TRAIN, deterministic=False), torch.device("cpu"))
    assert switches()[0] is False and switches()[2] is True
    prepare(tiny_config(dataset_params=SMALL_TRAIN), torch.device("cpu"))
    assert switches() == (True, True, False), "today's enable_determinism: deterministic (warn only), no autotuner"


def test_off_is_another_run_with_the_same_weights_on_the_cpu(tiny_config, tmp_path, restored_switches):
    on = record_run(tiny_config(dataset_params=SMALL_TRAIN), tmp_path, device="cpu", progress=False).record
    off = record_run(
        tiny_config(dataset_params=SMALL_TRAIN, deterministic=False), tmp_path, device="cpu", progress=False
    )
    assert "deterministic" not in on.identity and off.record.identity["deterministic"] is False
    assert off.record.run_id != on.run_id
    assert off.record.extra["weights_sha256"] == on.extra["weights_sha256"]


def test_true_keeps_the_run_ids_and_a_non_bool_is_refused(tiny_config):
    config = resolve_config(tiny_config())
    assert config.deterministic is True and "deterministic" not in identity(config)
    without_field = {k: v for k, v in config.to_dict().items() if k != "deterministic"}
    assert run_id(RunConfig.from_dict(without_field)) == run_id(config), "a record without it reads as true"
    with pytest.raises(ContractError, match="field 'deterministic' must be bool, got 'no'"):
        RunConfig.from_dict({**config.to_dict(), "deterministic": "no"})
    with pytest.raises(ContractError, match="run config: 'deterministic' must be true or false, got 0"):
        resolve_config(tiny_config(deterministic=0))


def test_a_profile_a_study_and_a_grid_set_it_the_most_specific_winning():
    def switch_on(params) -> dict[int, bool]:
        return {spec.seed: spec.config.deterministic for spec in expand("tiny", params=params).runs}

    params = tiny_params(seeds=1)
    assert switch_on(params) == {0: True}
    params["profiles"]["quick"]["deterministic"] = False
    assert switch_on(params) == {0: False}
    params["studies"]["tiny"]["grids"] = [{"seeds": [1]}, {"seeds": [2], "deterministic": True}]
    del params["studies"]["tiny"]["seeds"]
    assert switch_on(params) == {1: False, 2: True}
    params["studies"]["tiny"]["deterministic"] = "yes"
    with pytest.raises(ContractError, match=r"studies.tiny.deterministic: must be true or false, got str 'yes'"):
        expand("tiny", params=params)


def test_the_context_restores_the_callers_switches(restored_switches):
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = False
    with determinism(False):
        assert switches()[0] is False and switches()[2] is True
    with determinism(True):
        assert switches() == (True, True, False)
    assert switches() == (False, False, False)

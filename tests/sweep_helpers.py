"""Shared by the sweep tests: a tiny study (seconds per run on a CPU) and record comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch.nn.functional as F
import yaml

from benchmark.contracts import HParam, Method
from benchmark.records.schema import TIMING_FIELDS
from benchmark.registry import METHODS
from benchmark.sweeps.executors import Executor, LocalExecutor
from benchmark.sweeps.study import HAS_EVALUATION, expand
from benchmark.sweeps.sweep import SweepSummary, run_sweep

TINY_DATA = {"image_size": 12, "digit_size": 8, "patch_size": 3}  # decoy digits on a 12x12 canvas
# the same digits with a fifth of them (~360) in train: for tests whose runs train several epochs to compare them
SMALL_TRAIN = {**TINY_DATA, "val_fraction": 0.2, "test_fraction": 0.6}
TINY_ARCH = {"name": "simple_cnn", "params": {"hidden": 16}}
NO_SALIENCY_EVALUATION = {"evaluation": {"enabled": False}} if HAS_EVALUATION else {}  # seconds per run saved


def tiny_params(
    methods: list | None = None, seeds: Any = 2, epochs: int = 1, checkpoint: bool = False, **study: Any
) -> dict[str, Any]:
    """A params.yaml document with the variant ``tiny_digits``, profile ``quick`` and study ``tiny``."""
    return {
        "datasets": {"tiny_digits": {"family": "decoy_digits", "params": dict(TINY_DATA)}},
        "profiles": {
            "quick": {
                "epochs": epochs,
                "batch_size": 64,
                "optimizer": {"name": "adam", "lr": 0.001},
                "schedule": {"name": "constant"},
                "device": "cpu",
                "threads": 1,
                "checkpoint": checkpoint,
                **NO_SALIENCY_EVALUATION,
            }
        },
        "studies": {
            "tiny": {
                "methods": methods or ["erm"],
                "archs": [TINY_ARCH],
                "datasets": ["tiny_digits"],
                "seeds": seeds,
                **study,
            }
        },
    }


def write_params(path: Path, params: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def sweep(params: dict[str, Any], folder: Path, executor: Executor | None = None, **options: Any) -> SweepSummary:
    return run_sweep(expand("tiny", params=params), folder, executor or LocalExecutor(1), progress=False, **options)


def records(folder: Path) -> dict[str, dict[str, Any]]:
    """File name -> record without the fields allowed to differ between reruns (timing, environment)."""
    out = {}
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text())
        for key in TIMING_FIELDS:
            data.pop(key, None)
        out[path.name] = data
    return out


@METHODS.register
class Flaky(Method):
    """Test-only: cross-entropy, or an exception, or a NaN loss, as its ``mode`` says."""

    name = "_sweep_test_flaky"
    citation = "test"
    hparams = {
        "mode": HParam("ok", "ok | raise | nan", ("ok", "raise", "nan")),
        "scale": HParam(1.0, "multiplies the loss"),
    }

    def loss(self, net, batch, state):
        if self.mode == "raise":
            raise RuntimeError("flaky method failed on purpose")
        ce = F.cross_entropy(net(batch.x).logits, batch.y) * self.scale
        return (ce * float("nan") if self.mode == "nan" else ce), {}

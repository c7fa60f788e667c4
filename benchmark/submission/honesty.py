"""Check 4, honesty: what the training loop hands a method.

- Train rows only. By construction the loop never holds a test split: ``execute`` hands ``train`` the
  train split and the val split (its accuracy curve, never a batch) and nothing else
  (``benchmark.runs.training.train``). ``split_failures`` verifies it for the submitted method: a short
  training (``harness.short_training``) records the digest of every row of every batch the method's loss
  is handed, and a row that is not a row of the train split fails, naming the split(s) it comes from.
- Annotations only to a method that declares them. The loop's train split carries ``saliency`` only for a
  method that declares ``needs_annotations`` and the wrong-reason mask only for one whose
  ``needs_wrong_reason`` is True (``runs.run.training_split``); the same short training records whether a
  batch carried either, and fails when a method that does not declare it was handed it.
  ``compatibility_failures`` turns the run's own refusal (``runs.run.check_compatible``) of a method that
  needs annotations (or a wrong-reason mask) on a protocol dataset without them into a failure naming the
  dataset, before anything is trained.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import torch

from ..contracts import Batch, ContractError, RunConfig
from ..data import dataset_store
from ..registry import METHODS
from ..runs.run import check_compatible, resolve_config
from .failures import CheckFailure
from .harness import STEPS, device_of, exception_line, of_method, short_training

CHECK = "honesty"
SUITE_BUG = (
    "the training loop must hand a method only what it declares, and train rows only: this is a bug of "
    "the suite (benchmark/runs/run.py, training_split; benchmark/runs/training.py, train), not of the "
    "method: report it"
)


def row_digest(image: np.ndarray) -> bytes:
    """The digest of one image (C,H,W), uint8."""
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).digest()


@dataclass
class Seen:
    """What the method's loss was handed: digests of its rows, and whether a batch carried annotations
    (``saliency``) or a wrong-reason mask."""

    rows: set[bytes] = field(default_factory=set)
    saliency: bool = False
    wrong_reason: bool = False

    def record(self, batch: Batch) -> None:
        images = (batch.x.detach() * 255).round().to(torch.uint8).cpu().numpy()  # the split's uint8 rows, exactly
        self.rows.update(row_digest(image) for image in images)
        self.saliency |= batch.saliency is not None
        self.wrong_reason |= batch.wrong_reason is not None


def compatibility_failure(name: str, config: RunConfig) -> CheckFailure | None:
    """The run's refusal (``check_compatible``) of method ``name`` on the dataset of ``config``, which lacks
    the annotations (or the wrong-reason mask) the method declares it needs, as a failure; else None."""
    config = resolve_config(config)
    method = METHODS.get(name)(**config.method_params)
    bundle = dataset_store.get(config.dataset, config.dataset_params)
    try:
        check_compatible(method, bundle, config)
    except ContractError as exc:
        if method.needs_annotations and not bundle.has_saliency:
            fix = (
                f"the protocol trains every method on '{config.dataset}': make the method train without "
                f"annotations (needs_annotations = False; use batch.saliency only when it is not None)"
            )
        else:
            fix = (
                f"the protocol trains every method on '{config.dataset}': make `needs_wrong_reason` False at "
                f"the default hyperparameters"
            )
        return CheckFailure(CHECK, str(exc), fix, arch=config.arch, dataset=config.dataset)
    return None


def compatibility_failures(name: str, configs: list[RunConfig]) -> list[CheckFailure]:
    """``compatibility_failure`` of every config."""
    return [f for f in (compatibility_failure(name, config) for config in of_method(name, configs)) if f is not None]


def split_failures(
    name: str, config: RunConfig, device: str | torch.device = "auto", steps: int = STEPS
) -> list[CheckFailure]:
    """A short training of ``config`` (method ``name``, which passed its contract) watched by ``Seen``: a row
    that is not a train row, or annotations or a mask handed to a method that does not declare it, fails."""

    def failure(problem: str, fix: str = SUITE_BUG) -> CheckFailure:
        return CheckFailure(CHECK, problem, fix, arch=config.arch, dataset=config.dataset)

    (config,) = of_method(name, [config])
    seen = Seen()
    try:
        ready = short_training(config, device_of(device), steps, record=seen.record)
    except Exception as exc:  # noqa: BLE001 - the method's exception is reported, not raised
        return [
            failure(f"a short training raised {exception_line(exc, METHODS.get(name))}", "fix the loss at that line")
        ]
    splits = {split: {row_digest(image) for image in arrays.x} for split, arrays in ready.bundle.splits.items()}
    out = []
    foreign = seen.rows - splits["train"]
    if foreign:
        where = sorted(split for split, rows in splits.items() if foreign & rows) or ["none of the dataset's splits"]
        out.append(
            failure(
                f"the method was handed {len(foreign)} row(s) that are not rows of the train split "
                f"(rows of: {', '.join(where)})"
            )
        )
    method = ready.method
    if seen.saliency and not method.needs_annotations:
        out.append(
            failure("the method was handed annotations (batch.saliency) though it does not declare needs_annotations")
        )
    if seen.wrong_reason and not method.needs_wrong_reason:
        out.append(
            failure(
                "the method was handed the wrong-reason mask (batch.wrong_reason) though it does not "
                "declare needs_wrong_reason"
            )
        )
    return out

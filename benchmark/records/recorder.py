"""Run a config and keep what it computed as a record: ``RUN_ID.json`` and ``RUN_ID.saliency/``.

The run core (``benchmark.runs.run.execute``) computes; this module names the run
(``identity.run_id``), places its checkpoint, writes the probe-map artifacts, assembles the
record with its code fingerprint and environment, validates it and writes it atomically,
and records a failed run as a failure record (``failure_record``).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..contracts import RunConfig
from ..runs.run import RunOutput, execute, resolve_config, select_device
from ..runs.training import EVERY_EPOCH, Cadence
from .artifacts import write_artifacts
from .identity import identity, run_id
from .provenance import code_fingerprint, environment
from .record_store import record_path, write_record
from .schema import RunRecord


@dataclass
class Recorded:
    record: RunRecord
    path: Path
    output: RunOutput


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def checkpoint_path(folder: Path, rid: str) -> Path:
    return record_path(folder, rid).with_suffix(".ckpt")


def assemble(output: RunOutput, rid: str, path: Path) -> RunRecord:
    """The record of a finished run; writes its saliency artifacts beside ``path`` first."""
    config = output.config
    metrics = {split: dict(values) for split, values in output.metrics.items()}
    undefined = dict(output.undefined)
    extra: dict[str, Any] = {"weights_sha256": output.weights_sha256}
    artifacts: dict[str, str] = {}
    if output.saliency is not None:
        for split, values in output.saliency.metrics.items():
            metrics.setdefault(split, {}).update(values)
        undefined.update(output.saliency.undefined)
        paths, digests = write_artifacts(path, output.saliency.arrays, output.saliency.tables)
        artifacts = {f"saliency/{name}": relative for name, relative in paths.items()}
        extra["saliency"] = {**output.saliency.summary, "sha256": digests}
    if undefined:
        extra["undefined_metrics"] = dict(sorted(undefined.items()))
    return RunRecord(
        run_id=rid,
        identity=identity(config),
        config=config.to_dict(),
        metrics=metrics,
        curves=output.curves,
        timing=dict(output.timing),
        memory=output.memory,
        environment=environment(output.device),
        fingerprint=code_fingerprint(config.method, config.dataset, config.arch),
        data=output.data_sha256,
        artifacts=artifacts,
        extra=extra,
        created=_now(),
    )


def record_run(
    config: RunConfig,
    out_dir: Path,
    device: str | torch.device = "auto",
    progress: bool = True,
    checkpoint: bool = False,
    data_root: Path | None = None,
    on_epoch: Callable[[int], None] | None = None,
    data_placement: str = "auto",
    cadence: Cadence = EVERY_EPOCH,
) -> Recorded:
    """Run ``config`` and write its record to ``out_dir/RUN_ID.json`` (only on success).

    With ``checkpoint``, ``RUN_ID.ckpt`` is saved when ``cadence`` is due (``runs.training.Cadence``:
    every epoch by default, never after the last), a killed run resumes from it, and it is removed
    once the record is written. ``data_placement``: resident or streamed images
    (``runs.placement``), an execution setting that never changes the record.
    """
    started = time.perf_counter()
    config = resolve_config(config)
    rid = run_id(config)
    out_dir = Path(out_dir)
    ckpt = checkpoint_path(out_dir, rid) if checkpoint else None  # created by its first save (benchmark.atomic)
    output = execute(
        config,
        device=device,
        progress=progress,
        checkpoint=ckpt,
        data_root=data_root,
        on_epoch=on_epoch,
        data_placement=data_placement,
        cadence=cadence,
    )
    path = record_path(out_dir, rid)
    record = assemble(output, rid, path)
    record.timing["total_seconds"] = time.perf_counter() - started
    write_record(record, out_dir)
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    if progress:
        print(f"record: {path}", file=sys.stderr)
    return Recorded(record=record, path=path, output=output)


def failure_record(config: Mapping[str, Any], exc: BaseException, seconds: float, device: str) -> RunRecord:
    """The record of a run that raised (NaN loss included): the exception and its traceback."""
    resolved = resolve_config(RunConfig.from_dict(config))
    try:
        env = environment(select_device(device))
    except Exception:  # noqa: BLE001 - the device may be the very problem
        env = environment(torch.device("cpu"))
    return RunRecord(
        run_id=run_id(resolved),
        identity=identity(resolved),
        config=resolved.to_dict(),
        status="failed",
        timing={"total_seconds": seconds},
        environment=env,
        fingerprint=code_fingerprint(resolved.method, resolved.dataset, resolved.arch),
        error={"type": type(exc).__name__, "message": str(exc), "traceback": "".join(traceback.format_exception(exc))},
        created=_now(),
    )

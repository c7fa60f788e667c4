"""The run record: one JSON document per run, and the checks that make it valid.

A record is either valid in every field or rejected with a message naming the file and the
field (``RecordError``); an older schema is ``OutdatedRecord``. Metrics are a mapping
``{split: {metric: finite number or null}}``: null marks a score that is undefined for the
run (AUC on a one-class split, alignment without annotated probe images, a non-finite
evaluation score), and ``extra["undefined_metrics"]["split/metric"]`` gives the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..contracts import ContractError, RunConfig

RECORD_SCHEMA = 2  # 2: identity without defaults, null metrics with reasons, validated types
TIMING_FIELDS = ("timing", "memory", "environment", "created")  # allowed to differ between reruns
STATUSES = ("ok", "failed")


class RecordError(ContractError):
    """A record file breaks the schema; the message names the file and the field."""


class OutdatedRecord(RecordError):
    """A valid JSON record of an older schema (written by an older version of the suite)."""


@dataclass
class RunRecord:
    """One run's result document (JSON, one file per run, named by ``run_id``).

    identity: the config values that name the run (``benchmark.records.identity``), hashed to
    ``run_id``; config: the fully resolved config; status: "ok" or "failed"; metrics:
    {split: {metric: value or None}}; curves: per-epoch lists; timing: seconds; memory: peak
    bytes and how measured; environment: python/torch/device/commit; fingerprint: sha256 of
    the code closure of the method, dataset, architecture and core; data: the dataset's array
    checksums; artifacts: paths relative to the record (probe maps, ...); extra: weights
    digest, saliency summary, undefined metrics; error: exception and traceback of a failed run.
    """

    run_id: str
    identity: dict[str, Any]
    config: dict[str, Any]
    status: str = "ok"
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)
    curves: dict[str, list] = field(default_factory=dict)
    timing: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None
    created: str = ""
    schema: int = RECORD_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "record") -> RunRecord:
        """Validate ``data`` field by field; ``RecordError`` names ``source`` and the field."""
        validate(data, source)
        return cls(**dict(data))

    def run_config(self) -> RunConfig:
        return RunConfig.from_dict(self.config)


FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "run_id": str,
    "identity": dict,
    "config": dict,
    "status": str,
    "metrics": dict,
    "curves": dict,
    "timing": dict,
    "memory": dict,
    "environment": dict,
    "fingerprint": dict,
    "data": dict,
    "artifacts": dict,
    "extra": dict,
    "error": (dict, type(None)),
    "created": str,
    "schema": int,
}
REQUIRED = ("run_id", "identity", "config", "status", "schema")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the schema, each naming the field (empty when valid)."""
    if not isinstance(data, Mapping):
        return [f"not a JSON object ({type(data).__name__})"]
    out = [f"missing field '{name}'" for name in REQUIRED if name not in data]
    out += [f"unknown field '{name}'" for name in sorted(set(data) - set(FIELD_TYPES))]
    for name, want in FIELD_TYPES.items():
        if name in data and (not isinstance(data[name], want) or (want is int and isinstance(data[name], bool))):
            out.append(f"field '{name}' has type {type(data[name]).__name__}")
    if out:
        return out
    if data["status"] not in STATUSES:
        out.append(f"field 'status' is {data['status']!r}, not one of {list(STATUSES)}")
    for split, values in data["metrics"].items():
        if not isinstance(values, Mapping):
            out.append(f"field 'metrics.{split}' is not a mapping")
            continue
        for metric, value in values.items():
            if value is not None and (not _is_number(value) or not math.isfinite(value)):
                out.append(f"field 'metrics.{split}.{metric}' is {value!r}, not a finite number or null")
    for name, values in data["curves"].items():
        if not isinstance(values, list):
            out.append(f"field 'curves.{name}' is not a list")
    for name, value in data["fingerprint"].items():
        if not isinstance(value, str):
            out.append(f"field 'fingerprint.{name}' is not a string")
    for name, value in data["artifacts"].items():
        if not isinstance(value, str):
            out.append(f"field 'artifacts.{name}' is not a string")
    if data["status"] == "failed" and not isinstance(data["error"], Mapping):
        out.append("field 'error' is missing on a failed record")
    try:
        RunConfig.from_dict(data["config"])
    except ContractError as exc:
        out.append(f"field 'config': {exc}")
    return out


def validate(data: Any, source: str = "record") -> None:
    """Raise ``OutdatedRecord`` for an older schema, ``RecordError`` for any defect."""
    if isinstance(data, Mapping) and isinstance(data.get("schema"), int) and data["schema"] < RECORD_SCHEMA:
        raise OutdatedRecord(
            f"{source}: record schema {data['schema']} (an older version of the suite); "
            f"this version writes schema {RECORD_SCHEMA}"
        )
    if isinstance(data, Mapping) and data.get("schema", RECORD_SCHEMA) != RECORD_SCHEMA:
        raise RecordError(f"{source}: field 'schema' is {data.get('schema')!r}, not {RECORD_SCHEMA}")
    found = problems(data)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise RecordError(f"{source}: {found[0]}{more}")

"""Run records on disk: one JSON document per run, named by its run id.

Writes are atomic (``benchmark.atomic``) and validated first, so a record that could not be
read back is never written; reads validate every field (``schema.py``) and the name: the
file is ``RUN_ID.json``, its identity hashes to ``RUN_ID``, and every identity value is the
config's. No pickle anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..contracts import ContractError
from .identity import hash_identity
from .schema import RecordError, RunRecord, validate


def record_path(folder: Path, rid: str) -> Path:
    return Path(folder) / f"{rid}.json"


def record_text(record: RunRecord, source: str = "record") -> str:
    """The JSON text of a record, after the same validation a reader applies."""
    data = record.to_dict()
    validate(data, source)
    return json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n"


def write_record(record: RunRecord, folder: Path) -> Path:
    path = record_path(folder, record.run_id)
    atomic_write_text(path, record_text(record, str(path)))
    return path


def _identity_matches(record: RunRecord) -> str:
    """'' when the record's name, identity and config agree, else what disagrees."""
    if hash_identity(record.identity) != record.run_id:
        return "field 'identity' does not hash to the run id"
    for name, value in record.identity.items():
        resolved = record.config.get(name)
        if isinstance(value, dict) and isinstance(resolved, dict):
            if any(resolved.get(k) != v or k not in resolved for k, v in value.items()):
                return f"field 'identity.{name}' disagrees with the config"
        elif resolved != value:
            return f"field 'identity.{name}' disagrees with the config"
    return ""


def read_record(path: Path) -> RunRecord:
    """Parse and validate one record; ``RecordError`` names the file and the field on any defect."""
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not a readable JSON record ({exc})") from exc
    record = RunRecord.from_dict(data, source=str(path))
    if record.run_id != path.stem:
        raise RecordError(f"{path}: field 'run_id' {record.run_id!r} is not the file name")
    problem = _identity_matches(record)
    if problem:
        raise RecordError(f"{path}: {problem}")
    return record


def iter_records(folder: Path) -> Iterator[tuple[Path, RunRecord | ContractError]]:
    """Every ``*.json`` in ``folder`` with its record, or the error that made it unreadable."""
    for path in sorted(Path(folder).glob("*.json")):
        try:
            yield path, read_record(path)
        except ContractError as exc:
            yield path, exc

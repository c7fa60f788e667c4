"""Run records on disk: one JSON document per run, named by the hash of its canonical config.

Writes are atomic (temp file in the same folder + ``os.replace``); reads validate the
document and name the file when it is truncated or foreign. No pickle anywhere.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..contracts import ContractError, RunRecord


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_id(config: Mapping[str, Any]) -> str:
    """First 16 hex digits of the sha256 of the canonical (resolved) config."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def record_path(folder: Path, rid: str) -> Path:
    return Path(folder) / f"{rid}.json"


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_record(record: RunRecord, folder: Path) -> Path:
    path = record_path(folder, record.run_id)
    atomic_write_text(path, json.dumps(record.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def read_record(path: Path) -> RunRecord:
    """Parse and validate one record; ``ContractError`` names the file on any defect."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"{path}: not a readable JSON record ({exc})") from exc
    record = RunRecord.from_dict(data, source=str(path))
    if record.run_id != path.stem or run_id(record.config) != record.run_id:
        raise ContractError(f"{path}: run_id does not match its file name or its config hash")
    return record


def iter_records(folder: Path) -> Iterator[tuple[Path, RunRecord | ContractError]]:
    """Every ``*.json`` in ``folder`` with its record, or the error that made it unreadable."""
    for path in sorted(Path(folder).glob("*.json")):
        try:
            yield path, read_record(path)
        except ContractError as exc:
            yield path, exc

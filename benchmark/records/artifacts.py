"""Files beside a run record: ``RUN_ID.saliency/`` with probe maps (.npy, no pickle) and curves (.json).

The folder is filled under a temporary name and renamed into place in one step
(``benchmark.atomic.atomic_folder``), so a crash never leaves a half-written folder under
the trusted name; the record, written after it, lists every file (paths relative to the
record) with its sha256, so a reader can verify a file before trusting it.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_folder
from ..contracts import ContractError
from ..data.dataset_store import npy_bytes

SUFFIX = ".saliency"


def folder_for(record_path: Path) -> Path:
    """``results/runs/ab12.json`` -> ``results/runs/ab12.saliency``."""
    record_path = Path(record_path)
    return record_path.with_name(record_path.stem + SUFFIX)


def write_artifacts(
    record_path: Path, arrays: dict[str, np.ndarray], tables: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Write ``NAME.npy`` per array and ``NAME.json`` per table into ``folder_for(record_path)``
    (NAME may hold a subfolder), replacing an older folder in one rename.

    Returns (NAME -> path relative to the record's folder, relative path -> sha256).
    """
    final = folder_for(record_path)
    files = {name: (f"{name}.npy", npy_bytes(array)) for name, array in arrays.items()}
    files.update(
        {
            name: (f"{name}.json", (json.dumps(table, indent=1, allow_nan=False) + "\n").encode())
            for name, table in tables.items()
        }
    )
    paths, digests = {}, {}
    with atomic_folder(final) as tmp:
        for name, (file_name, data) in files.items():
            target = tmp / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            paths[name] = f"{final.name}/{file_name}"
            digests[paths[name]] = hashlib.sha256(data).hexdigest()
    return paths, digests


def resolve(record_path: Path, relative: str) -> Path:
    """An artifact path from the record, refusing paths that leave the record's folder."""
    base = Path(record_path).resolve().parent
    path = (base / relative).resolve()
    if base not in path.parents:
        raise ContractError(f"{record_path}: artifact path {relative!r} escapes the record's folder")
    return path


def read_verified(record_path: Path, relative: str, sha256: str | None = None) -> bytes:
    """The bytes of one artifact, checked against its sha256 when the record gives one."""
    path = resolve(record_path, relative)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContractError(f"{record_path}: artifact {relative} is missing ({exc})") from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ContractError(f"{record_path}: artifact {relative} does not match its sha256 in the record")
    return data


def load_array(record_path: Path, relative: str, sha256: str | None = None) -> np.ndarray:
    """One ``.npy`` artifact, loaded without pickle."""
    return np.load(io.BytesIO(read_verified(record_path, relative, sha256)), allow_pickle=False)


def load_json(record_path: Path, relative: str, sha256: str | None = None) -> Any:
    return json.loads(read_verified(record_path, relative, sha256))

"""Files beside a run record: ``RUN_ID.saliency/`` with probe maps (.npy, no pickle) and curves (.json).

The folder is filled under a temporary name and renamed into place in one step, so a crash
never leaves a half-written folder under the trusted name; the record, written after it,
lists every file (paths relative to the record) with its sha256, so a reader can verify a
file before trusting it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts import ContractError

SUFFIX = ".saliency"


def folder_for(record_path: Path) -> Path:
    """``results/runs/ab12.json`` -> ``results/runs/ab12.saliency``."""
    record_path = Path(record_path)
    return record_path.with_name(record_path.stem + SUFFIX)


class ArtifactWriter:
    """Collects files in a temporary sibling folder; ``commit`` renames it to ``folder_for(record)``."""

    def __init__(self, record_path: Path) -> None:
        self.final = folder_for(record_path)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", suffix=".tmp", dir=self.final.parent))
        self.digests: dict[str, str] = {}

    def _write(self, name: str, data: bytes) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        relative = f"{self.final.name}/{name}"
        self.digests[relative] = hashlib.sha256(data).hexdigest()
        return relative

    def array(self, name: str, array: np.ndarray) -> str:
        """Save ``array`` as ``name.npy`` (``name`` may hold a subfolder); returns its path relative
        to the record's folder."""
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        return self._write(f"{name}.npy", buffer.getvalue())

    def json(self, name: str, data: Any) -> str:
        return self._write(f"{name}.json", (json.dumps(data, indent=1, allow_nan=False) + "\n").encode())

    def commit(self) -> Path:
        """Move the folder into place (replacing an older one), fsync'd files first."""
        for path in sorted(p for p in self.tmp.rglob("*") if p.is_file()):
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        if self.final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", suffix=".old", dir=self.final.parent))
            os.replace(self.final, old / "previous")
            os.replace(self.tmp, self.final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


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

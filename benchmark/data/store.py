"""Saving, finding and loading built datasets: ``.npy`` arrays (no pickle) plus a manifest.

Layout of one built dataset folder (``data/NAME/``)::

    manifest.json            family, parameters, code digest, split sizes, class balance,
                             annotation coverage, sha256 of every array file
    SPLIT/x.npy, SPLIT/y.npy, SPLIT/saliency.npy, SPLIT/annotated.npy, SPLIT/extra.KEY.npy

``np.save`` is byte-deterministic, so the same parameters give the same bytes. Writes go
to a temporary folder renamed into place: a failed build leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_folder
from ..contracts import ContractError, DatasetBundle, Split
from ..paths import project_root
from ..registry import DATASETS

MANIFEST = "manifest.json"


def default_data_root() -> Path:
    return Path(os.environ.get("SALBENCH_DATA", project_root() / "data"))


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def describe(bundle: DatasetBundle) -> dict[str, Any]:
    """Split sizes, class balance, annotation coverage and sha256 of every array file."""
    splits: dict[str, Any] = {}
    for name, split in bundle.splits.items():
        counts = np.bincount(split.y, minlength=bundle.num_classes)
        splits[name] = {
            "size": len(split),
            "class_counts": counts.tolist(),
            "annotated_fraction": float(split.annotated.mean()) if split.saliency is not None else 0.0,
            "shape": list(split.x.shape[1:]),
            "sha256": {key: hashlib.sha256(npy_bytes(arr)).hexdigest() for key, arr in split.arrays().items()},
        }
    return splits


def make_manifest(family: str, params: Mapping[str, Any], bundle: DatasetBundle) -> dict[str, Any]:
    manifest = {
        "family": family,
        "params": dict(params),
        "code_sha256": DATASETS.fingerprint(family),
        "classes": bundle.classes,
        "splits": describe(bundle),
    }
    manifest.update({k: v for k, v in bundle.manifest.items() if k not in manifest})
    return manifest


def build(family: str, overrides: Mapping[str, Any] | None = None) -> DatasetBundle:
    """Build dataset ``family`` in memory with its parameters resolved; attach the manifest."""
    dataset = DATASETS.get(family)()
    params = dataset.resolve(overrides or {})
    bundle = dataset.build(params)
    for required in ("train", "val"):
        if required not in bundle.splits:
            raise ContractError(f"dataset '{family}' built no '{required}' split")
    bundle.manifest = make_manifest(family, params, bundle)
    return bundle


def save(bundle: DatasetBundle, folder: Path) -> Path:
    """Write ``bundle`` to ``folder`` atomically (``benchmark.atomic.atomic_folder``)."""
    with atomic_folder(folder) as tmp:
        for name, split in bundle.splits.items():
            (tmp / name).mkdir()
            for key, arr in split.arrays().items():
                (tmp / name / f"{key}.npy").write_bytes(npy_bytes(arr))
        (tmp / MANIFEST).write_text(json.dumps(bundle.manifest, indent=2, sort_keys=True) + "\n")
    return Path(folder)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ContractError(f"{path}: unreadable manifest ({exc})") from exc


def load(folder: Path, verify: bool = True) -> DatasetBundle:
    """Load a built dataset folder; with ``verify``, every file's sha256 must match the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    splits = {}
    for name, info in manifest["splits"].items():
        arrays = {}
        for key, digest in info["sha256"].items():
            path = folder / name / f"{key}.npy"
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ContractError(f"{path}: missing array file; rebuild with `python -m benchmark data build`") from exc
            if verify and hashlib.sha256(raw).hexdigest() != digest:
                raise ContractError(f"{path}: checksum differs from {folder / MANIFEST}; rebuild the dataset")
            arrays[key] = np.load(io.BytesIO(raw), allow_pickle=False)
        splits[name] = Split.from_arrays(arrays)
    return DatasetBundle(splits=splits, classes=manifest["classes"], manifest=manifest)


def find(family: str, params: Mapping[str, Any], root: Path | None = None) -> Path | None:
    """A built folder under ``root`` whose manifest has this family, these parameters and current code."""
    root = Path(root or default_data_root())
    if not root.is_dir():
        return None
    code = DATASETS.fingerprint(family)
    wanted = json.loads(json.dumps(dict(params)))
    for manifest_path in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if manifest.get("family") == family and manifest.get("params") == wanted and manifest.get("code_sha256") == code:
            return manifest_path.parent
    return None


def get(family: str, overrides: Mapping[str, Any] | None = None, root: Path | None = None) -> DatasetBundle:
    """The dataset from the store if built with these parameters and current code, else built in memory."""
    params = DATASETS.get(family)().resolve(overrides or {})
    folder = find(family, params, root)
    if folder is not None:
        return load(folder)
    return build(family, params)

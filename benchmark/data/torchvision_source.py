"""Real data through torchvision's dataset classes: MNIST, Fashion-MNIST, CIFAR-10.

torchvision downloads the archives and verifies their md5 (``download=True``); the images
then come from its on-disk format under ``ROOT/<Class>/raw`` (MNIST family) or
``ROOT/cifar-10-batches-py`` (CIFAR-10). Offline, a missing file fails at once with a
``ContractError`` that lists the files to place and where; nothing is written.
The manifest records the sha256 of every source file read.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts import ContractError
from .dataset_store import default_data_root


def download_root(root: str) -> Path:
    """Where downloads live: ``root`` when given, else ``<data root>/downloads`` (git-ignored, not a DVC output)."""
    return Path(root) if root else default_data_root() / "downloads"


def expected_files(cls: type, root: Path) -> list[tuple[Path, str, str]]:
    """(where to place it, md5, url) of every archive the torchvision class ``cls`` downloads."""
    if hasattr(cls, "mirrors"):  # MNIST family
        folder = root / cls.__name__ / "raw"
        return [(folder / name, md5, cls.mirrors[0] + name) for name, md5 in cls.resources]
    return [(root / cls.filename, cls.tgz_md5, cls.url)]


def placement_help(name: str, cls: type, root: Path, reason: str) -> str:
    lines = [
        f"dataset '{name}': the source files are missing under {root} and cannot be downloaded ({reason}).",
        "Place these files (torchvision checks the md5 and extracts them), then rerun:",
    ]
    lines += [f"  {path}  (md5 {md5}; from {url})" for path, md5, url in expected_files(cls, root)]
    return "\n".join(lines)


def open_torchvision(name: str, cls: type, root: Path, download: bool, train: bool) -> Any:
    """``cls(root, train, download)``; a missing or undownloadable source raises ``ContractError``."""
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise ContractError(placement_help(name, cls, root, "download=false")) from None
    existed = root.exists()
    try:
        return cls(str(root), train=train, download=True)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)  # leave nothing behind
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ContractError(placement_help(name, cls, root, reason)) from None


def source_digests(cls: type, root: Path) -> dict[str, str]:
    """sha256 of the files the class reads (extracted MNIST idx files, CIFAR batches)."""
    if hasattr(cls, "mirrors"):
        folder = root / cls.__name__ / "raw"
        files = [folder / Path(name).stem for name, _ in cls.resources]
    else:
        folder = root / cls.base_folder
        files = [folder / f for f, _ in cls.train_list + cls.test_list] + [folder / cls.meta["filename"]]
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def load(name: str, class_name: str, root: str, download: bool) -> dict[str, Any]:
    """Train and test images uint8 (N,C,H,W), labels int64, class names and source digests."""
    import torchvision  # here, not at import: `list datasets` and the CLI start without it

    cls = getattr(torchvision.datasets, class_name)
    path = download_root(root)
    parts = {}
    for train in (True, False):
        ds = open_torchvision(name, cls, path, download, train)
        data = np.asarray(ds.data)
        images = data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)
        parts["train" if train else "test"] = (
            np.ascontiguousarray(images, dtype=np.uint8),
            np.asarray(ds.targets, dtype=np.int64),
        )
        classes = [str(c) for c in ds.classes]
    return {
        "train": parts["train"],
        "test": parts["test"],
        "classes": classes,
        "source": f"torchvision.datasets.{class_name}",
        "source_sha256": source_digests(cls, path),
    }

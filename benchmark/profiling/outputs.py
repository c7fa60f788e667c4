"""The files of a profile in ``--out``: ``LABEL.json``, ``LABEL.md``, ``LABEL.overhead.png`` and
``LABEL.phases.png``. Everything is rendered in memory first, then each file is written atomically
(``benchmark.atomic``): a failure while rendering writes nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes
from .plots import overhead_png, phases_png
from .report import markdown

SUFFIXES = (".json", ".md", ".overhead.png", ".phases.png")


def render(doc: Mapping[str, Any]) -> dict[str, bytes]:
    """Suffix -> file content."""
    return {
        ".json": (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode(),
        ".md": markdown(doc).encode(),
        ".overhead.png": overhead_png(doc),
        ".phases.png": phases_png(doc),
    }


def paths(folder: Path, label: str) -> list[Path]:
    """The files a profile labelled ``label`` writes into ``folder``."""
    return [Path(folder) / f"{label}{suffix}" for suffix in SUFFIXES]


def write(folder: Path, doc: Mapping[str, Any]) -> list[Path]:
    """Render ``doc`` and write its files into ``folder`` (created if needed); returns their paths."""
    files = render(doc)
    out = []
    for path, suffix in zip(paths(folder, doc["label"]), SUFFIXES):
        out.append(atomic_write_bytes(path, files[suffix]))
    return out

"""Where the project's own files are: the folder holding ``methods/``, ``datasets/`` and ``params.yaml``."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """$SALBENCH_ROOT, else this checkout (the folder above the package), else the working directory."""
    env = os.environ.get("SALBENCH_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "methods").is_dir():
        return here
    return Path.cwd().resolve()

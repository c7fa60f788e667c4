"""Names and paths that stay inside their roots.

A dataset variant name (a ``datasets:`` key of params.yaml, the NAME of ``data build`` /
``data show``) becomes a folder under the data root, so it must be an identifier: up to 100 letters,
digits, ``_``, ``.`` and ``-``, not starting with a dot (no ``/``, no ``..``, no hidden or
absolute path). Every path read or written is resolved (symlinks followed) and checked to
lie under its root before it is used.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..contracts import ContractError

# The same rule as benchmark.config.NAME_PATTERN (params.yaml keys; config sits below the data
# layer and is kept out of the datasets' code closure, so the pattern is written twice; tested equal).
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
NAME_RULE = "up to 100 letters, digits, '_', '.' and '-', not starting with a dot"


def check_name(name: object, what: str = "dataset name") -> str:
    """``name`` when it is an identifier (``NAME_PATTERN``), else a ``ContractError`` naming it."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ContractError(f"{what} {name!r} is not a valid name ({NAME_RULE})")
    return name


def under(root: Path, path: Path, what: str) -> Path:
    """``path`` resolved, when it lies under ``root`` resolved; else a ``ContractError`` naming both."""
    root_resolved = Path(root).resolve()
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ContractError(f"{what} {str(path)!r}: invalid path ({exc})") from None
    if resolved != root_resolved and not resolved.is_relative_to(root_resolved):
        raise ContractError(f"{what} {path} resolves to {resolved}, outside {root_resolved}")
    return resolved

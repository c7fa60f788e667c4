"""Published hyperparameter selections (``python -m benchmark search NAME``), read for the studies.

A search (``searches:`` in params.yaml, ``benchmark.sweeps.search``) publishes
``results/search/NAME.json`` (schema 1): per method the draw selected on the validation split
(and, apart, the oracle's), the whole draw table, and the hash of the definition it was computed
from. A study's method item ``{name: sgt, tuned: NAME}`` trains the selected draw: ``tuned_draw``
reads it and refuses, in one line naming the file and the command to run, a file that is missing,
unreadable or stale (published for another definition than today's).

A search's *definition* is what its draws and run configs are a function of: its params.yaml
entry (the description aside), the run settings of its profile (and of ``quick``, which other
profiles inherit), the dataset variants it names and the declared defaults of its searched
hyperparameters (draw 0). Code is not part of it, as it is not of a run id: an edited method
makes the search's records stale (their code fingerprint), and the search reruns them. Like the
published step-time profiles (``records.profiles``), the file is read here, below the layers
that write it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import dataset_variant, params_path
from ..contracts import ContractError, RunConfig
from ..paths import project_root
from ..registry import METHODS, did_you_mean
from .identity import canonical_json

SCHEMA = 1
DEFAULT_PROFILE = "quick"
RUN_FIELDS = frozenset(f.name for f in dataclasses.fields(RunConfig))  # profile keys that change a run


def search_folder() -> Path:
    """Where searches publish: ``results/search`` in the project (records in ``runs/NAME`` below it)."""
    return project_root() / "results" / "search"


def selection_path(name: str, folder: Path | None = None) -> Path:
    return Path(folder or search_folder()) / f"{name}.json"


def search_entry(name: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``searches.NAME`` entry of params.yaml (a mapping), or one line naming what is wrong."""
    section = params.get("searches") or {}
    where = params_path().name
    if not isinstance(section, Mapping):
        raise ContractError(
            f"{where}: 'searches' must be a mapping of names to entries, got a {type(section).__name__}"
        )
    if name not in section:
        names = sorted(map(str, section))
        raise ContractError(f"unknown search '{name}'{did_you_mean(name, names)}; searches in {where}: {names}")
    entry = section[name]
    if not isinstance(entry, Mapping):
        raise ContractError(f"{where}: searches.{name}: expected a mapping, got {entry!r}")
    return entry


def _names(items: Any) -> list[str]:
    """The names of an axis's items (``name`` or ``{name: ..., params: ...}``); malformed ones are the
    search's validation's to report."""
    items = items if isinstance(items, list) else []
    names = [
        item if isinstance(item, str) else item.get("name") if isinstance(item, Mapping) else None for item in items
    ]
    return [name for name in names if isinstance(name, str)]


def definition(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """What search ``name``'s draws and run configs are a function of (see the module docstring)."""
    entry = search_entry(name, params)
    profiles = params.get("profiles") or {}
    chosen = entry.get("profile") or DEFAULT_PROFILE
    settings = {}
    for profile in dict.fromkeys([chosen, DEFAULT_PROFILE]):
        raw = profiles.get(profile) if isinstance(profiles, Mapping) else None
        settings[str(profile)] = (
            {k: v for k, v in (raw or {}).items() if k in RUN_FIELDS} if isinstance(raw, Mapping) else raw
        )
    variants = {}
    for variant in _names(entry.get("datasets")):
        family, variant_params = dataset_variant(variant, dict(params))
        variants[variant] = {"family": family, "params": variant_params}
    found = entry.get("space")
    space = found if isinstance(found, Mapping) else {}
    defaults = {}
    for method in _names(entry.get("methods")):
        declared = METHODS.get(method).hparams
        found = space.get(method)
        searched = found if isinstance(found, Mapping) else {}
        defaults[method] = {key: declared[key].default for key in sorted(searched) if key in declared}
    return {
        "search": {k: v for k, v in entry.items() if k != "description"},
        "profiles": settings,
        "datasets": variants,
        "draw0": defaults,
    }


def definition_hash(name: str, params: Mapping[str, Any]) -> str:
    """First 16 hex digits of the sha256 of the canonical JSON of ``definition``."""
    return hashlib.sha256(canonical_json(definition(name, params)).encode()).hexdigest()[:16]


def apply_settings(settings: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """Run settings with searched values applied: ``optimizer.lr`` sets one key of the optimizer
    mapping, a plain key (``batch_size``) replaces the setting."""
    out = dict(settings)
    for key, value in sorted(chosen.items()):
        head, dot, tail = key.partition(".")
        out[head] = {**(out.get(head) or {}), tail: value} if dot else value
    return out


@dataclass(frozen=True)
class Tuned:
    """A method's validation-selected draw of a published search."""

    search: str
    method: str
    draw: int
    params: dict[str, Any]  # the searched hyperparameters (the others keep their defaults)
    settings: dict[str, Any]  # the searched run settings (``optimizer.lr``: value)


def shown(path: Path) -> str:
    """``path`` relative to the project when it lies inside it (messages stay short)."""
    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def read_published(name: str, params: Mapping[str, Any], folder: Path | None = None) -> dict[str, Any]:
    """The published file of search ``name``, refused when missing, unreadable or stale."""
    current = definition_hash(name, params)  # an unknown search fails here, naming params.yaml
    path = selection_path(name, folder)
    rerun = f"run `python -m benchmark search {name}` (or `make search`)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{shown(path)}: no published selection of search '{name}'; {rerun}") from None
    except (OSError, ValueError) as exc:
        raise ContractError(f"{shown(path)}: unreadable ({exc}); {rerun}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("methods"), dict):
        raise ContractError(f"{shown(path)}: not a schema-{SCHEMA} search publication; {rerun}")
    if data.get("definition") != current:
        raise ContractError(
            f"{shown(path)} is stale: published for another definition of search '{name}' (its "
            f"params.yaml entry, its profile's run settings, its dataset variants or the defaults of "
            f"its searched hyperparameters changed); {rerun}"
        )
    return data


def tuned_draw(name: str, method: str, params: Mapping[str, Any], folder: Path | None = None) -> Tuned:
    """Method ``method``'s validation-selected draw of search ``name`` (``read_published``'s checks)."""
    data = read_published(name, params, folder)
    path = shown(selection_path(name, folder))
    if method not in data["methods"]:
        raise ContractError(
            f"{path}: search '{name}' did not tune method '{method}'; it tuned {sorted(data['methods'])}"
        )
    chosen = data["methods"][method].get("selected") if isinstance(data["methods"][method], dict) else None
    if chosen is None:
        raise ContractError(
            f"{path}: search '{name}' selected no draw of '{method}' (no draw has all its runs done); "
            f"rerun `python -m benchmark search {name} --retry-failed`"
        )
    if not (
        isinstance(chosen, dict)
        and isinstance(chosen.get("draw"), int)
        and isinstance(chosen.get("params"), dict)
        and isinstance(chosen.get("settings"), dict)
    ):
        raise ContractError(
            f"{path}: methods.{method}.selected must hold draw, params and settings; "
            f"run `python -m benchmark search {name}`"
        )
    return Tuned(name, method, chosen["draw"], dict(chosen["params"]), dict(chosen["settings"]))

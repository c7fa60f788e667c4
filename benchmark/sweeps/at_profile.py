"""A study's per-profile override block: ``studies.NAME.at_profile.PROFILE``.

One study, two scales: the default (``quick``, CPU) grid, and at ``--profile paper`` the papers'
data, architectures, image sizes, epochs and seeds::

    studies:
      sgt:
        methods: [erm, sgt]
        archs: [simple_cnn, gap_cnn]
        datasets: [clean_digits]
        seeds: 3
        at_profile:
          paper:                         # merged when the study expands at profile `paper`
            archs: [simple_cnn]
            datasets: [mnist]            # a `paper_datasets:` variant
            seeds: 5
            epochs: 100

A block holds study keys: the four axes (``methods``, ``archs``, ``datasets``, ``seeds``), the run
settings (``epochs``, ``batch_size``, ``optimizer``, ...), ``description`` and ``grids``, plus
``replace``. At that profile:

- each study key of the block replaces the study's **and the same key in each of the study's
  grids** (a study's own run settings win over its profile's, so a block restates those the
  paper changes, e.g. ``epochs: 50`` when the study says ``epochs: 15``);
- ``grids`` in the block replaces the study's grids (the block's other keys are their base, as a
  study's are): for a paper version whose cells differ from the default's;
- ``replace: {AXIS: {NAME: ITEM or [ITEMS]}}`` (AXIS: methods, archs, datasets) replaces every
  item named NAME, in the study and in each of its grids, by the given item(s), whole (the old
  item's params do not carry over), e.g. ``{datasets: {toy_faces_small: cyborg_faces},
  archs: {gap_cnn: [resnet50, densenet121]}}``: the default's grid structure, the paper's data and
  networks, without restating the grids. A NAME that names no item is refused (a stale
  replacement would silently leave the default's item at paper scale).

Other profiles ignore the block, but every block is checked whenever params.yaml is read (a typo
in the paper block fails the quick sweep too): the file's schema (``benchmark.params_schema``:
``AtProfile``, ``Replace``) knows its keys and values, and its profile must be under ``profiles:``
(``params_schema.check_references``), else one line naming params.yaml and the key. What the schema
cannot know, that a replaced name names an item of the study, is checked here when the block applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..contracts import ContractError
from ..registry import did_you_mean

KEY = "at_profile"
REPLACE = "replace"


def _name(item: Any) -> Any:
    return item.get("name") if isinstance(item, Mapping) else item


def _replaced(items: Any, mapping: Mapping[str, Any], used: set[str]) -> Any:
    if not isinstance(items, list):
        return items  # refused where the axis is read
    out = []
    for item in items:
        name = _name(item)
        if isinstance(name, str) and name in mapping:
            used.add(name)
            new = mapping[name]
            out.extend(new if isinstance(new, list) else [new])
        else:
            out.append(item)
    return out


def apply_replace(where: str, study: dict[str, Any], replace: Mapping[str, Any] | None) -> dict[str, Any]:
    """The study with every item ``replace`` names replaced (in the study and in each grid)."""
    if not replace:
        return study
    out = dict(study)
    grids = out.get("grids")
    if isinstance(grids, list):
        grids = [dict(g) if isinstance(g, Mapping) else g for g in grids]
        out["grids"] = grids
    for axis, mapping in replace.items():
        used: set[str] = set()
        if axis in out:
            out[axis] = _replaced(out[axis], mapping, used)
        for grid in grids if isinstance(grids, list) else []:
            if isinstance(grid, dict) and axis in grid:
                grid[axis] = _replaced(grid[axis], mapping, used)
        stale = [name for name in mapping if name not in used]
        if stale:
            present = sorted(
                {
                    str(_name(i))
                    for holder in [out, *(grids if isinstance(grids, list) else [])]
                    if isinstance(holder, Mapping) and isinstance(holder.get(axis), list)
                    for i in holder[axis]
                }
            )
            raise ContractError(
                f"{where}.{axis}: {stale[0]!r} names no item of the study's {axis}"
                f"{did_you_mean(stale[0], present)}; its {axis}: {present}"
            )
    return out


def apply_block(where: str, entry: Mapping[str, Any], profile: str) -> tuple[dict[str, Any], str, str]:
    """(the study entry at ``profile``, where its errors point, where its grids' errors point).

    Without a block for ``profile``: the entry as it is (less ``at_profile``). With one: the block's
    keys replace the study's; without ``grids`` in the block they also replace the same keys in each
    of the study's grids; with ``grids`` the block's grids replace the study's; then ``replace``
    swaps the items it names, in the study and its grids (the entry is one the schema has checked)."""
    study = {k: v for k, v in entry.items() if k != KEY}
    block = (entry.get(KEY) or {}).get(profile)
    if block is None:
        return study, where, f"{where}.grids"
    here = f"{where}.{KEY}.{profile}"
    keys = {k: v for k, v in block.items() if k != REPLACE}
    merged = {**study, **keys}
    if "grids" not in keys and isinstance(study.get("grids"), list):
        merged["grids"] = [
            {k: v for k, v in grid.items() if k not in keys} if isinstance(grid, Mapping) else grid
            for grid in study["grids"]
        ]
    merged = apply_replace(f"{here}.{REPLACE}", merged, block.get(REPLACE))
    return merged, f"{where} (with {KEY}.{profile})", f"{here}.grids" if "grids" in keys else f"{where}.grids"

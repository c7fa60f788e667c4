"""Was the option of an "identical runs" claim exercised? The two sides' records compared, seed by seed.

Every paired difference of a claim exactly 0 can mean that the option under test never took effect (a
bound that is never reached), or that the two sides are one configuration under two names. The records
say which: this compares the paired runs' resolved configs (``RunRecord.config``) and everything they
recorded (the weights' digest, every metric, every per-epoch curve) and says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...records.identity import canonical_json
from ...records.table import RecordSet
from .spec import Claim, Side

SHOWN = 4  # differing names listed before "…"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def differing(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The flattened keys whose values differ (or that one side lacks), with both values."""
    fa, fb = flatten(a), flatten(b)
    return {
        k: (fa.get(k), fb.get(k))
        for k in sorted(set(fa) | set(fb))
        if canonical_json(fa.get(k)) != canonical_json(fb.get(k))
    }


def _done_by_seed(records: RecordSet, side: Side) -> dict[int, str]:
    runs = records.runs
    mine = runs[
        (runs["method"] == side.method)
        & (runs["dataset"] == side.dataset)
        & (runs["arch"] == side.arch)
        & (runs["state"] == "done")
    ]
    return {int(s): str(r) for s, r in zip(mine["seed"], mine["run_id"])}


def _listed(names: list[str]) -> str:
    return ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "")


def exercised(claim: Claim, records: RecordSet) -> str:
    """What the two sides' paired runs have in common and what not, in one sentence."""
    mine, ref = _done_by_seed(records, claim.side), _done_by_seed(records, claim.reference)
    seeds = sorted(set(mine) & set(ref))
    if not seeds:
        return "no paired runs to compare"
    config: dict[str, tuple[Any, Any]] = {}
    recorded: dict[str, set[str]] = {"weights": set(), "metrics": set(), "curves": set()}
    for seed in seeds:
        a, b = records.record(mine[seed]), records.record(ref[seed])
        config.update(differing(a.config, b.config))
        if a.extra.get("weights_sha256") != b.extra.get("weights_sha256"):
            recorded["weights"].add("weights")
        recorded["metrics"] |= set(differing(a.metrics, b.metrics))
        recorded["curves"] |= set(differing(a.curves, b.curves))
    if config:
        options = "; ".join(f"{k} {canonical_json(x)} vs {canonical_json(y)}" for k, (x, y) in config.items())
        said = f"the configs differ in {options}"
    else:
        said = "the two sides are the same configuration"
    runs = f"{len(seeds)} paired run{'s' if len(seeds) > 1 else ''}"
    changed = [
        f"{what} ({_listed(sorted(names))})" if what != "weights" else "weights"
        for what, names in recorded.items()
        if names
    ]
    if not changed:
        return f"{said}, yet the {runs} have identical weights, metrics and curves: the option changed nothing"
    return f"{said}; the {runs} differ in {'; '.join(changed)}, though not in this claim's metrics"

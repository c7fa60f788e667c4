"""Hyperparameter random search, DomainBed's protocol (Gulrajani & Lopez-Paz, ICLR 2021, Sec. 3-4).

Every method is tuned under the same budget: the same number of seeded random draws over its
declared hyperparameters (and the run settings searched for every method, so ERM is tuned too),
each draw trained on the search's seeds, one draw selected per method on a validation split of
the training distribution. A search in params.yaml::

    searches:
      decoy:
        methods: [erm, sgt]                 # every method gets `draws` draws
        archs: [simple_cnn]
        datasets: [decoy_digits]
        seeds: [0]                          # the search's own seeds
        draws: 5
        epochs: 5                           # run settings win over the profile's, as in studies
        shared: {optimizer.lr: {log_uniform: [0.0003, 0.003]}}
        space: {sgt: {fraction: {uniform: [0.1, 0.9]}, kl_weight: {log_uniform: [0.1, 10.0]}}}
        select: {split: val, metric: accuracy}    # never a test split
        oracle: {split: test, metric: accuracy}   # reported apart, labelled oracle

Distributions: ``log_uniform: [lo, hi]`` and ``uniform: [lo, hi]`` (floats, kept to 4 significant
digits), ``int_uniform: [lo, hi]`` (inclusive), ``choice: [...]``. The search's keys and shapes are the
schema's (``benchmark.params_schema.Search``, checked with the whole file); every searched name, bound
and choice is checked here against the method's declared ``HParam`` (type and range), and every searched
run setting against the optimizer it becomes, before anything runs.

Draws. Draw ``i`` of method ``m`` is a pure function of (search, m, i): each searched value comes
from its own numpy Generator seeded by the sha256 of (search, m, i, the value's name), so adding a
hyperparameter to a space leaves the other values' draws as they were (DomainBed seeds each
hyperparameter apart, ``hparams_registry.py``). Draw 0 is the defaults: the method's declared
defaults (the papers') and the profile's run settings (DomainBed's ``hparams_seed`` 0).

Selection. Per method, the draw with the best mean selection score over its runs (seeds, archs,
datasets); ties go to the lower draw (the defaults first). A draw with a run that is not done
(e.g. failed on a NaN loss) has no score and is never selected. The oracle, the best mean on the
shifted split, is chosen the same way and reported apart: it peeks at the test split, so it is
not a model selection (DomainBed's "test-domain validation" row).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import check_params, params_path
from ..contracts import ContractError, HParam
from ..params_schema import AXES
from ..records.identity import canonical_json
from ..records.selections import DEFAULT_PROFILE, search_entry
from ..registry import METHODS, did_you_mean
from ..runs.training import check_optimizer
from .study import RUN_SETTINGS, load_profile

METRICS = {"accuracy": True, "auc": True, "loss": False}  # metric -> higher is better (params_schema.METRICS)
SIGNIFICANT = 4  # significant digits kept of a drawn float


@dataclass(frozen=True)
class Distribution:
    """One searched value's distribution (``values``: the bounds, or the choices)."""

    kind: str
    values: tuple

    def sample(self, rng: np.random.Generator) -> Any:
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.values
        if self.kind == "int_uniform":
            return int(rng.integers(low, high + 1))
        x = (
            math.exp(rng.uniform(math.log(low), math.log(high)))
            if self.kind == "log_uniform"
            else rng.uniform(low, high)
        )
        return min(max(float(f"{x:.{SIGNIFICANT}g}"), low), high)

    def text(self) -> str:
        return f"{self.kind}{list(self.values)}"


@dataclass(frozen=True)
class Criterion:
    """A split and a metric: what selects (or, for the oracle, what peeks)."""

    split: str
    metric: str

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric]

    @property
    def column(self) -> str:
        return f"{self.split}/{self.metric}"


@dataclass(frozen=True)
class Draw:
    method: str
    index: int
    params: dict[str, Any]  # searched hyperparameter -> value (draw 0: the declared defaults)
    settings: dict[str, Any]  # searched run setting (``optimizer.lr``) -> value (draw 0: the profile's)


@dataclass(frozen=True)
class Search:
    name: str
    description: str
    profile: str
    methods: tuple[str, ...]
    draws: int
    space: dict[str, dict[str, Distribution]]
    shared: dict[str, Distribution]
    baseline: dict[str, Any]  # the shared settings' values at draw 0
    select: Criterion
    oracle: Criterion
    study: dict[str, Any]  # axes and run settings: a study entry without its methods


def _where(name: str, *keys: str) -> str:
    return f"{params_path().name}: " + ".".join(("searches", name, *keys))


def _distribution(where: str, spec: Mapping[str, Any], name: str, hp: HParam | None) -> Distribution:
    """``{kind: values}`` (its shape checked by the schema's ``Distribution``): bounds and choices valid
    for ``hp``'s type and range (``hp`` None: numbers, checked by the caller)."""
    kind, values = next(iter(spec.items()))
    check = (lambda v: hp.validate(name, v, where)) if hp is not None else (lambda v: v)
    if kind == "choice":
        return Distribution(kind, tuple(dict.fromkeys(check(v) for v in values)))
    if kind != "int_uniform" and hp is not None and not isinstance(hp.default, float):
        raise ContractError(
            f"{where}: {kind} draws floats; the hyperparameter is {type(hp.default).__name__} "
            f"(use int_uniform or choice)"
        )
    return Distribution(kind, tuple(check(v) for v in values))


def _space(name: str, methods: tuple[str, ...], space: Mapping[str, Any]) -> dict[str, dict[str, Distribution]]:
    out = {}
    for method, entries in space.items():
        if method not in methods:
            raise ContractError(
                f"{_where(name, 'space', str(method))}: not one of the search's methods "
                f"{list(methods)}{did_you_mean(str(method), methods)}"
            )
        declared = METHODS.get(method).hparams
        for key in entries:
            if key not in declared:
                raise ContractError(
                    f"{_where(name, 'space', method, str(key))}: method '{method}' declares no "
                    f"hyperparameter '{key}'{did_you_mean(str(key), declared)}; known: {sorted(declared)}"
                )
        out[method] = {
            key: _distribution(_where(name, "space", method, key), spec, key, declared[key])
            for key, spec in sorted(entries.items())
        }
    return out


def _shared(
    name: str, shared: Mapping[str, Any], settings: Mapping[str, Any]
) -> tuple[dict[str, Distribution], dict[str, Any]]:
    """The run settings searched for every method (``optimizer.KEY``, ``batch_size``: the schema's keys),
    each bound checked as the setting it becomes, and their draw-0 values (the profile's, or the search's)."""
    dists, baseline = {}, {}
    for key, spec in sorted(shared.items()):
        where = _where(name, "shared", str(key))
        head, _, tail = str(key).partition(".")
        current = (settings.get("optimizer") or {}).get(tail) if tail else settings.get(key)
        if current is None:
            raise ContractError(
                f"{where}: the search's settings set no {key} (its draw 0 keeps the profile's value: set it "
                f"in the profile or the search)"
            )
        dist = _distribution(where, spec, key, HParam(1, "batch size", low=1) if key == "batch_size" else None)
        for value in dist.values:
            try:
                if tail:
                    check_optimizer({**settings["optimizer"], tail: value})
            except ContractError as exc:
                raise ContractError(f"{where}: {exc}") from exc
        dists[key], baseline[key] = dist, current
    return dists, baseline


def load_search(name: str, params: Mapping[str, Any]) -> Search:
    """Search ``name`` of ``params`` (params.yaml, checked whole against its schema), its names and
    hyperparameters checked against the registry (one line naming the field)."""
    entry = search_entry(name, check_params(params))
    methods = entry["methods"]
    for method in methods:
        if method not in METHODS.names():
            raise ContractError(
                f"{_where(name, 'methods')}: unknown method '{method}'"
                f"{did_you_mean(method, METHODS.names())}; known: {METHODS.names()}"
            )
    profile = load_profile(entry.get("profile") or DEFAULT_PROFILE, params)
    study = {key: entry[key] for key in (*AXES[1:], *RUN_SETTINGS) if key in entry}
    settings = {**profile.settings, **{k: entry[k] for k in RUN_SETTINGS if k in entry}}
    shared, baseline = _shared(name, entry.get("shared") or {}, settings)
    return Search(
        name=name,
        description=str(entry.get("description", "")),
        profile=profile.name,
        methods=tuple(methods),
        draws=entry["draws"],
        space=_space(name, tuple(methods), entry.get("space") or {}),
        shared=shared,
        baseline=baseline,
        select=Criterion(entry["select"]["split"], entry["select"]["metric"]),
        oracle=Criterion(entry["oracle"]["split"], entry["oracle"]["metric"]),
        study={**study, "profile": profile.name},
    )


def value_rng(search: str, method: str, index: int, key: str) -> np.random.Generator:
    """The Generator of one searched value of one draw: seeded by the sha256 of its coordinates."""
    digest = hashlib.sha256(canonical_json([search, method, index, key]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def draw(search: Search, method: str, index: int) -> Draw:
    """Draw ``index`` of ``method``: 0 is the defaults; otherwise every value from its own Generator."""
    space = search.space.get(method, {})
    if index == 0:
        declared = METHODS.get(method).hparams
        return Draw(method, 0, {key: declared[key].default for key in space}, dict(search.baseline))
    params = {key: dist.sample(value_rng(search.name, method, index, key)) for key, dist in space.items()}
    settings = {
        key: dist.sample(value_rng(search.name, method, index, f"setting:{key}")) for key, dist in search.shared.items()
    }
    return Draw(method, index, params, settings)


def draws(search: Search) -> list[Draw]:
    """Every draw of every method: the same number per method (DomainBed's equal budget)."""
    return [draw(search, method, i) for method in search.methods for i in range(search.draws)]


def select(scores: Mapping[int, float | None], higher_is_better: bool) -> int | None:
    """The draw index with the best score (None: no score); ties go to the lower index."""
    scored = [(index, value) for index, value in scores.items() if value is not None and math.isfinite(value)]
    if not scored:
        return None
    return min(scored, key=lambda item: ((-item[1] if higher_is_better else item[1]), item[0]))[0]

"""A run's identity: the config values that name it, hashed to its run id.

Every value equal to its declared default is left out of the identity: the defaults of the
method's hyperparameters, the dataset's and the architecture's parameters, the saliency
evaluation settings, the train maps' annotation view, and the ``RunConfig`` fields that have a default. So adding a setting
or a hyperparameter whose default keeps today's behaviour leaves every existing run id as it
was. A changed default is not missed: the file that declares it is in the run's code
fingerprint, so the run's record turns stale and reruns under the same id. The record keeps
the fully resolved config beside its identity.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..contracts import HParam, RunConfig
from ..data.annotation_views import ANNOTATION_PARAMS
from ..registry import ARCHS, DATASETS, METHODS
from ..saliency.settings import EVALUATION_PARAMS


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def non_default(values: Mapping[str, Any], declared: Mapping[str, HParam]) -> dict[str, Any]:
    """The entries of ``values`` that are not declared or differ from their declared default."""
    return {
        name: value
        for name, value in values.items()
        if name not in declared or canonical_json(value) != canonical_json(declared[name].default)
    }


def identity(config: RunConfig) -> dict[str, Any]:
    """The resolved ``config`` without the values that equal their declared defaults."""
    declared = {
        "method_params": METHODS.get(config.method).hparams,
        "dataset_params": DATASETS.get(config.dataset).params,
        "arch_params": ARCHS.get(config.arch).params,
        "evaluation": EVALUATION_PARAMS,
        "annotations": ANNOTATION_PARAMS,
    }
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name in declared:
            value = non_default(value, declared[f.name])
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if default is dataclasses.MISSING or canonical_json(value) != canonical_json(default):
            out[f.name] = value
    return out


def hash_identity(ident: Mapping[str, Any]) -> str:
    """First 16 hex digits of the sha256 of the canonical JSON of an identity."""
    return hashlib.sha256(canonical_json(ident).encode()).hexdigest()[:16]


def run_id(config: RunConfig) -> str:
    """The run id of a resolved config (``runs.run.resolve_config``)."""
    return hash_identity(identity(config))

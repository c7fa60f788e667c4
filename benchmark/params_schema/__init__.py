"""The schema of ``params.yaml``, defined once: pydantic models of every section, every key and its range.

``check_params_file`` validates a whole params.yaml document (``config.load_params`` calls it on every
load): every block is checked whether or not the command at hand uses it (a ``paper`` profile with
``epochs: -1`` is refused by a quick sweep too). A problem is one ``ContractError`` line naming the
file, the key's path and the value, e.g. ``params.yaml: profiles.quick.epochs: must be an integer
>= 1, got -1``. ``python -m benchmark schema`` prints the models as JSON Schema
(``docs/params.schema.json``), for editors to validate the file as it is typed.

What the file's shape cannot say is checked where the names are resolved, before any compute: a
method, architecture or dataset family name is the registry's (``sweeps.study``, ``config``), a
method's or a dataset's parameters are their declared ``HParam`` s, a study's axes are complete once
its grids are merged, a ``replace`` names an item of the study (``sweeps.at_profile``), a search's
hyperparameters are the method's (``sweeps.search``), and the optimizer and schedule are built once on
a dummy parameter (what torch refuses). The cross-references between sections (a study's profile, its
``at_profile`` profiles, the leaderboard's studies) are ``check_references``.

This package sits below everything but ``contracts`` and ``registry``: the sweeps, the CLI and the
reports read params.yaml through it. Ranges mirror the run layer's own checks (``runs.training``,
``runs.precision``, ``saliency.settings``, ``sweeps.executors``); tests/test_params_schema.py keeps
them in step.
"""

from .document import ParamsFile, Variants, check_params_file, check_references, json_schema, leaderboard_studies
from .errors import contract_error, describe, validated
from .fields import (
    ATTRIBUTION_NAMES,
    AXES,
    LEADERBOARD,
    METRICS,
    NAME_REGEX,
    NAME_RULE,
    OPTIMIZERS,
    PRECISIONS,
    RUN_SETTINGS,
    SEED_MAX,
    SOURCE,
    TAG,
    Block,
    choice,
    fail,
    number,
    shown,
)
from .profiles import SLURM_KEYS, Slurm
from .run_settings import SGD, Adam, Constant, Cosine, Evaluation, Step
from .searches import Search
from .studies import Grid

__all__ = [
    "ATTRIBUTION_NAMES",
    "AXES",
    "Adam",
    "Block",
    "Constant",
    "Cosine",
    "Evaluation",
    "Grid",
    "LEADERBOARD",
    "METRICS",
    "NAME_REGEX",
    "NAME_RULE",
    "OPTIMIZERS",
    "PRECISIONS",
    "ParamsFile",
    "RUN_SETTINGS",
    "SEED_MAX",
    "SGD",
    "SLURM_KEYS",
    "SOURCE",
    "Search",
    "Slurm",
    "Step",
    "TAG",
    "Variants",
    "check_params_file",
    "check_references",
    "choice",
    "contract_error",
    "describe",
    "fail",
    "json_schema",
    "leaderboard_studies",
    "number",
    "shown",
    "validated",
]

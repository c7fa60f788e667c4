"""Each done run's place on the study axes of issue 26, read from its record alone, joined to the tidy scores.

A guidance study labels every scale of a method as its own ``method`` (``sgt[kl_weight=0.3]``), and an
annotation study trains the same (method, dataset, arch, seed) under several views of the train maps. The
reports that draw a metric along these axes (``reports.fronts``; the curves report can read the same
columns) need, per run, from its record's config and identity:

- ``method_name``: the registered method;
- ``series``: the method with its non-default hyperparameters other than its guidance ones
  (``sgt``, ``sgt[fraction=0.3]``): the runs of one series differ only in guidance strength; a study's tuned
  item keeps its label (``sgt[tuned]``: its search also chose settings such as the learning rate);
- ``scale``: the guidance strength relative to the method's declared default
  (``Guidance.scale_of``, benchmark/guidance.py: 1 at the defaults, 0 when off; 0 for a method without
  guidance, ERM); NaN when the guidance hyperparameters are not one scale of their defaults (e.g. SAGE with
  only its triplet weight changed), which the reports list instead of placing;
- ``guidance``: the guidance hyperparameters' values as text (``kl_weight=0.3``; "" without guidance);
- ``annotations``: the train maps' view (``RunConfig.annotations``: its non-default settings, from the identity)
  as canonical JSON, "" for the dataset's own maps;
- ``cell_dataset``: the dataset's label without the annotation view (``records.table.dataset_label``): the runs
  of one cell under every view (the curves' cells; a study's ``dataset`` column names the view too).

Both reports read the runs' places from here (``reports.fronts`` and ``reports.curves.frame``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import load_params
from ..contracts import ContractError
from ..data.paper_variants import all_variants
from ..records.identity import canonical_json
from ..records.table import RecordSet, dataset_label, tag
from ..registry import METHODS

AXES_COLUMNS = ["run_id", "method_name", "series", "scale", "guidance", "annotations", "cell_dataset"]


def run_axes(config: dict[str, Any], identity: dict[str, Any], label: str = "") -> dict[str, Any]:
    """One run's axes (module docstring) from its resolved ``config`` and its ``identity`` (non-default values);
    ``label``: the study's label of the run (a tuned item's ``NAME[tuned]`` is its series)."""
    name = str(config["method"])
    cls = METHODS.get(name)
    changed = dict(identity.get("method_params") or {})
    view = identity.get("annotations") or {}  # the non-default settings only (the config holds all, resolved)
    out = {"method_name": name, "annotations": canonical_json(view) if view else ""}
    tuned = label if label.endswith("[tuned]") else ""
    if cls.guidance is None:
        return out | {"series": tuned or tag(name, changed), "scale": 0.0, "guidance": ""}
    defaults = {key: hp.default for key, hp in cls.hparams.items()}
    values = {**defaults, **(config.get("method_params") or {})}
    try:
        scale = float(cls.guidance.scale_of(values, defaults))
    except (ContractError, ZeroDivisionError):
        scale = float("nan")
    rest = {k: v for k, v in changed.items() if k not in cls.guidance.params}
    shown = ",".join(f"{k}={values[k]:g}" for k in cls.guidance.params)
    return out | {"series": tuned or tag(name, rest), "scale": scale, "guidance": shown}


def axes_table(records: RecordSet) -> pd.DataFrame:
    """``AXES_COLUMNS``, one row per done run of ``records``."""
    done = records.runs[records.runs["state"] == "done"].drop_duplicates("run_id")
    variants = all_variants(load_params())
    rows = []
    for rid, label in zip(done["run_id"], done["method"]):
        record = records.record(rid)
        ident = record.identity
        cell = dataset_label(ident["dataset"], ident.get("dataset_params", {}), variants)
        rows.append({"run_id": rid, **run_axes(record.config, ident, str(label)), "cell_dataset": cell})
    return pd.DataFrame(rows, columns=AXES_COLUMNS)


def axes_scores(records: RecordSet) -> pd.DataFrame:
    """The done runs' scores (``RecordSet.done``: one row per run × split × metric, each run once even when a
    study gives it two labels) with ``AXES_COLUMNS`` joined on ``run_id``."""
    done = records.done().drop_duplicates(["run_id", "split", "metric"])
    scores = done.drop(columns=["method"]).merge(axes_table(records), on="run_id", how="left", validate="m:1")
    scores["scale"] = scores["scale"].astype(float)
    return scores.sort_values(["dataset", "arch", "series", "scale", "seed"], kind="stable").reset_index(drop=True)

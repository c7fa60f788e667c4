"""The one read API of the results: a folder of records (or a study's runs) as tidy pandas frames.

``load_records(folder, expected)`` classifies every asked-for run (``run_states.py``: done,
failed, stale, missing, corrupt) and returns a ``RecordSet``:

- ``runs``: one row per run: ``run_id``, ``method`` (the method's name with its non-default
  hyperparameters, e.g. ``cyborg[alpha=0.1]``, or the label ``method_labels`` gives the run: a
  study's tuned item is ``sgt[tuned]``), ``method_name``, ``arch``, ``dataset`` (the
  params.yaml variant when the parameters match one, then the run's annotation view in brackets:
  ``toy_faces_small [budget 0.2]``), ``seed``, ``state``, ``current``
  (the code fingerprint matches today's code), ``problem``, ``path``;
- ``scores``: one row per run x split x metric of every record that holds metrics (done or
  stale runs): the run's columns plus ``split``, ``metric`` and ``value`` (NaN where the
  record stores null, i.e. the metric is undefined for that run; the reason is in
  ``undefined``);
- ``artifact(run_id, name)``: a probe-map array or curve table of a run, checked against the
  sha256 in its record.

Labels come from each run's identity (its non-default values), the same for a record and for
a study's run that has none yet. Reports and statistics read only this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import load_params
from ..contracts import ContractError, RunConfig
from ..data.annotation_views import label as annotation_label
from ..data.paper_variants import all_variants
from ..registry import DATASETS
from .artifacts import load_array, load_json
from .identity import canonical_json, identity, run_id
from .run_states import FolderStatus, folder_status
from .schema import RunRecord

RUN_COLUMNS = ["run_id", "method", "method_name", "arch", "dataset", "seed", "state", "current", "problem", "path"]
SCORE_COLUMNS = ["run_id", "method", "arch", "dataset", "seed", "state", "split", "metric", "value", "path"]


def tag(name: str, params: Mapping[str, Any]) -> str:
    """``name[k=v,...]`` with the parameters sorted by key; the bare name without parameters."""
    return name if not params else f"{name}[{','.join(f'{k}={v}' for k, v in sorted(params.items()))}]"


def dataset_label(family: str, params: Mapping[str, Any], variants: Mapping[str, Any]) -> str:
    """The params.yaml variant of ``family`` whose parameters the run has (the most specific one),
    tagged with the run's remaining non-default parameters; else the family's tag. ``variants``: the
    ``datasets:`` and ``paper_datasets:`` sections (``data.paper_variants.all_variants``), so a
    paper-scale run is labelled with its variant too."""
    declared = DATASETS.get(family).params if family in DATASETS.names() else {}

    def value(key: str) -> Any:
        return params[key] if key in params else getattr(declared.get(key), "default", None)

    best, size = family, -1
    covered: Mapping[str, Any] = {}
    for name, entry in (variants or {}).items():
        if not isinstance(entry, Mapping) or entry.get("family", name) != family:
            continue
        wanted = entry.get("params") or {}
        if not isinstance(wanted, Mapping):
            continue
        if all(canonical_json(value(k)) == canonical_json(v) for k, v in wanted.items()) and len(wanted) > size:
            best, covered, size = name, wanted, len(wanted)
    return tag(best, {k: v for k, v in params.items() if k not in covered})


def with_annotations(dataset: str, annotations: Mapping[str, Any]) -> str:
    """``dataset`` followed by the run's non-default annotation view, e.g. ``toy_faces_small [budget 0.2]``,
    ``decoy_digits [box]``, ``decoy_digits [shift 0.1]`` (``data.annotation_views.label``)."""
    text = annotation_label(annotations)
    return f"{dataset} [{text}]" if text else dataset


def labels(ident: Mapping[str, Any], variants: Mapping[str, Any]) -> dict[str, Any]:
    """The run's readable columns from its identity (non-default values only)."""
    return {
        "method": tag(ident["method"], ident.get("method_params", {})),
        "method_name": ident["method"],
        "arch": tag(ident["arch"], ident.get("arch_params", {})),
        "dataset": with_annotations(
            dataset_label(ident["dataset"], ident.get("dataset_params", {}), variants), ident.get("annotations", {})
        ),
        "seed": int(ident.get("seed", 0)),
    }


@dataclass
class RecordSet:
    """A folder's records classified, as frames (see the module docstring)."""

    status: FolderStatus
    runs: pd.DataFrame
    scores: pd.DataFrame
    undefined: pd.DataFrame  # run_id, split, metric, reason

    @property
    def records(self) -> dict[str, RunRecord]:
        return {rid: run.record for rid, run in self.status.runs.items() if run.record is not None}

    def record(self, rid: str) -> RunRecord:
        run = self.status.runs.get(rid)
        if run is None or run.record is None:
            raise ContractError(f"{self.status.folder}: no readable record for run {rid}")
        return run.record

    def artifact(self, rid: str, name: str) -> Any:
        """Artifact ``name`` (e.g. ``saliency/test/gradient``) of run ``rid``: an array (.npy) or a
        curve table (.json), verified against the record's sha256."""
        record, path = self.record(rid), self.status.runs[rid].path
        relative = record.artifacts.get(name)
        if relative is None:
            raise ContractError(f"{path}: no artifact {name!r}; it has {sorted(record.artifacts)[:20]}")
        digest = record.extra.get("saliency", {}).get("sha256", {}).get(relative)
        loader = load_array if relative.endswith(".npy") else load_json
        return loader(path, relative, digest)

    def done(self) -> pd.DataFrame:
        """The scores of current, successful runs: what statistics may rank."""
        return self.scores[self.scores["state"] == "done"].reset_index(drop=True)


def load_records(
    folder: Path,
    expected: Iterable[RunConfig] | None = None,
    variants: Mapping[str, Any] | None = None,
    method_labels: Mapping[str, Sequence[str | None]] | None = None,
) -> RecordSet:
    """Classify ``expected`` runs (resolved configs, e.g. a study's; default: every record in
    ``folder``) and build the frames. ``variants`` default to params.yaml's ``datasets:`` and ``paper_datasets:``."""
    variants = all_variants(load_params()) if variants is None else variants
    wanted: dict[str, dict[str, Any]] = {}
    for config in expected or []:
        config_identity = identity(config)
        wanted.setdefault(run_id(config), config_identity)
    status = folder_status(folder, list(wanted) if expected is not None else None)
    run_rows, score_rows, undefined_rows = [], [], []
    for rid, run in status.runs.items():
        ident = wanted.get(rid) or (run.record.identity if run.record is not None else None)
        base = {
            "run_id": rid,
            **(
                labels(ident, variants)
                if ident
                else {"method": "?", "method_name": "?", "arch": "?", "dataset": "?", "seed": -1}
            ),
        }
        row = {
            **base,
            "state": run.state,
            "current": run.state in ("done", "failed"),
            "problem": run.problem,
            "path": str(run.path),
        }
        run_rows.append(row)
        if run.record is None or run.record.status != "ok":
            continue
        for split, values in run.record.metrics.items():
            for metric, value in values.items():
                score_rows.append(
                    {
                        **base,
                        "state": run.state,
                        "split": split,
                        "metric": metric,
                        "value": np.nan if value is None else float(value),
                        "path": str(run.path),
                    }
                )
        for where, reason in run.record.extra.get("undefined_metrics", {}).items():
            split, _, metric = where.partition("/")
            undefined_rows.append({"run_id": rid, "split": split, "metric": metric, "reason": reason})
    runs = relabel(pd.DataFrame(run_rows, columns=RUN_COLUMNS), method_labels)
    scores = relabel(pd.DataFrame(score_rows, columns=SCORE_COLUMNS), method_labels)
    undefined = pd.DataFrame(undefined_rows, columns=["run_id", "split", "metric", "reason"])
    return RecordSet(status=status, runs=runs, scores=scores, undefined=undefined)


def combine(first: RecordSet, *others: RecordSet) -> RecordSet:
    """One view of several folders' record sets (a study's records and a submission's): their runs,
    scores and undefined metrics stacked; a run id present in two sets is refused. Artifacts stay
    readable, as each run keeps its own path; ``status.folder`` is the first set's."""
    sets = (first, *others)
    runs: dict = {}
    for item in sets:
        clash = sorted(set(runs) & set(item.status.runs))
        if clash:
            raise ContractError(f"run {clash[0]} is in both {first.status.folder} and {item.status.folder}")
        runs.update(item.status.runs)
    status = FolderStatus(
        folder=first.status.folder,
        runs=runs,
        unreadable=[u for item in sets for u in item.status.unreadable],
        orphans=[o for item in sets for o in item.status.orphans],
    )

    def stacked(name: str) -> pd.DataFrame:
        frames = [getattr(item, name) for item in sets]
        kept = [f for f in frames if not f.empty]
        return pd.concat(kept, ignore_index=True) if kept else frames[0]

    return RecordSet(status=status, runs=stacked("runs"), scores=stacked("scores"), undefined=stacked("undefined"))


def relabel(frame: pd.DataFrame, method_labels: Mapping[str, Sequence[str | None]] | None) -> pd.DataFrame:
    """``frame`` with the rows of each run in ``method_labels`` (run id -> labels) repeated under each
    of its labels (None keeps the row's own): a study's tuned item shows as ``sgt[tuned]``
    (``sweeps.study.Study.method_labels``), a label that stays when the selected values in the run's
    identity change, and a run two items name (a selection equal to the defaults) shows under both."""
    if not method_labels or frame.empty:
        return frame
    rows = [
        row if label is None else {**row, "method": label}
        for row in frame.to_dict("records")
        for label in method_labels.get(row["run_id"], (None,))
    ]
    return pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())

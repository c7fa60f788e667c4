"""A search's runs and its publication (``python -m benchmark search NAME``).

``plan`` expands every draw (``search.draws``) into the runs of a study entry (the search's axes
and run settings, the draw's hyperparameters and searched settings) through ``study.expand``, so
each run config is resolved and validated, as a study's, before anything runs. ``publication``
summarizes the records (``records.table``) into the draw table and the selections that
``results/search/NAME.json`` publishes (``records.selections`` reads it back); ``markdown`` is
its human-readable page. Both are functions of the records only: a rerun is byte-identical.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from ..config import params_path
from ..contracts import ContractError
from ..params_schema import LEADERBOARD
from ..records.selections import SCHEMA, apply_settings
from ..records.table import RecordSet
from .search import Criterion, Draw, Search, draws, select
from .study import OPTIONAL_STUDIES, RUN_SETTINGS, RunSpec, Study, expand, load_profile

DIGITS = 6  # scores are published (and selected) rounded to this many decimals
PROTOCOL = (
    "DomainBed's random search (Gulrajani & Lopez-Paz, ICLR 2021): the same number of seeded draws per "
    "method, draw 0 = the paper defaults; selection on a validation split of the training distribution; "
    "the oracle (best on the shifted split) is reported apart and is not a model selection"
)
VARIES = (
    "A search score is the mean over the search's seeds of one fixed draw: only seeds vary inside it. A study's "
    "tuned item trains the one selected draw, so its intervals vary seeds only, like every other row's; which "
    "draw a search selects (the selection's own variance) varies in no interval."
)


@dataclass(frozen=True)
class Cell:
    """One draw of one method and the ids of its runs (seeds x archs x datasets)."""

    draw: Draw
    run_ids: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    study: Study  # every run once (draws with equal configs share their runs)
    cells: tuple[Cell, ...]


def _entry(search: Search, one: Draw, params: Mapping[str, Any]) -> dict[str, Any]:
    """The study entry of one draw: the search's axes and settings, the draw's values."""
    profile = load_profile(search.profile, params)
    settings = {**profile.settings, **{k: search.study[k] for k in RUN_SETTINGS if k in search.study}}
    touched = {key.partition(".")[0] for key in one.settings}
    drawn = {k: v for k, v in apply_settings(settings, one.settings).items() if k in touched}
    return {**search.study, **drawn, "methods": [{"name": one.method, "params": one.params}]}


def plan(search: Search, params: Mapping[str, Any]) -> Plan:
    """Every draw's runs, resolved and validated (a problem names the search, the method and the draw)."""
    specs: dict[str, RunSpec] = {}
    cells = []
    # the document of one draw holds the search's study alone: the leaderboard, its grid and the optional
    # studies name (or extend) the file's studies, which it leaves out
    studies_apart = {k: v for k, v in params.items() if k not in (LEADERBOARD, "leaderboard_grid", OPTIONAL_STUDIES)}
    for one in draws(search):
        try:
            study = expand(search.name, params={**studies_apart, "studies": {search.name: _entry(search, one, params)}})
        except ContractError as exc:
            inner = str(exc).replace(f"{params_path().name}: studies.{search.name}", "", 1).lstrip(":. ")
            raise ContractError(
                f"{params_path().name}: searches.{search.name}: {one.method} draw {one.index} "
                f"{one.params | one.settings}: {inner}"
            ) from exc
        for spec in study.runs:
            specs.setdefault(spec.run_id, dataclasses.replace(spec, method=f"{one.method}[draw={one.index}]"))
        cells.append(Cell(one, tuple(spec.run_id for spec in study.runs)))
    profile = load_profile(search.profile, params)
    return Plan(
        Study(
            name=f"search-{search.name}", description=search.description, profile=profile, runs=tuple(specs.values())
        ),
        tuple(cells),
    )


def _mean(values: list[float]) -> float | None:
    if not values or not all(math.isfinite(v) for v in values):
        return None
    return round(sum(values) / len(values), DIGITS)


def draw_rows(search: Search, cells: tuple[Cell, ...], records: RecordSet) -> list[dict[str, Any]]:
    """One row per draw: its values, its mean selection and oracle scores over its runs (None unless
    every run is done with a finite selection score), how many runs scored, their states."""
    done = records.done()
    value = {(row.run_id, f"{row.split}/{row.metric}"): row.value for row in done.itertuples(index=False)}
    state = dict(zip(records.runs["run_id"], records.runs["state"]))
    rows = []
    for cell in cells:
        scored = [rid for rid in cell.run_ids if math.isfinite(value.get((rid, search.select.column), math.nan))]
        complete = len(scored) == len(cell.run_ids)
        rows.append(
            {
                "method": cell.draw.method,
                "draw": cell.draw.index,
                "params": cell.draw.params,
                "settings": cell.draw.settings,
                "val": _mean([value[(rid, search.select.column)] for rid in scored]) if complete else None,
                "oracle": _mean([value.get((rid, search.oracle.column), math.nan) for rid in scored])
                if complete
                else None,
                "n": len(scored),
                "runs": len(cell.run_ids),
                "states": dict(sorted(Counter(state.get(rid, "missing") for rid in cell.run_ids).items())),
                "run_ids": list(cell.run_ids),
            }
        )
    return rows


def _chosen(rows: list[dict[str, Any]], key: str, criterion: Criterion) -> dict[str, Any] | None:
    index = select({row["draw"]: row[key] for row in rows}, criterion.higher_is_better)
    row = next((row for row in rows if row["draw"] == index), None)
    return None if row is None else {k: row[k] for k in ("draw", "params", "settings", "val", "oracle", "n")}


def publication(search: Search, plan_: Plan, records: RecordSet, definition: str) -> dict[str, Any]:
    """What ``results/search/NAME.json`` holds (module docstring of ``records.selections``)."""
    rows = draw_rows(search, plan_.cells, records)
    first = plan_.study.runs[0].config
    methods = {}
    for method in search.methods:
        mine = [row for row in rows if row["method"] == method]
        methods[method] = {
            "selected": _chosen(mine, "val", search.select),
            "oracle_selected": _chosen(mine, "oracle", search.oracle),
        }
    return {
        "schema": SCHEMA,
        "search": search.name,
        "definition": definition,
        "description": search.description,
        "protocol": PROTOCOL,
        "varies": VARIES,
        "profile": search.profile,
        "settings": {
            "epochs": first.epochs,
            "batch_size": first.batch_size,
            "optimizer": first.optimizer,
            "schedule": first.schedule,
            "precision": first.precision,
        },
        "archs": sorted({spec.arch for spec in plan_.study.runs}),
        "datasets": sorted({spec.dataset for spec in plan_.study.runs}),
        "seeds": sorted({spec.seed for spec in plan_.study.runs}),
        "draws_per_method": search.draws,
        "space": {m: {k: d.text() for k, d in search.space.get(m, {}).items()} for m in search.methods},
        "shared": {k: d.text() for k, d in search.shared.items()},
        "select": {
            "split": search.select.split,
            "metric": search.select.metric,
            "higher_is_better": search.select.higher_is_better,
        },
        "oracle": {
            "split": search.oracle.split,
            "metric": search.oracle.metric,
            "higher_is_better": search.oracle.higher_is_better,
            "label": "oracle: selected on the shifted (test) split; it peeks at the test split, so it is not a "
            "model selection and is reported for reference only",
        },
        "methods": methods,
        "draws": rows,
    }


def _values(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "-"
    values = {**row["params"], **row["settings"]}
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "(nothing searched)"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def markdown(pub: Mapping[str, Any]) -> str:
    """The publication as a page: protocol, what varies, the selections (the oracle labelled), every draw."""
    select_col, oracle_col = (f"{pub[k]['split']}/{pub[k]['metric']}" for k in ("select", "oracle"))
    heads = ["method", "draw", "values", f"{select_col} (selection)", f"{oracle_col} (oracle)", "n"]

    def table(key: str) -> str:
        rows = [
            [
                m,
                "-" if s[key] is None else s[key]["draw"],
                _values(s[key]),
                _score(s[key] and s[key]["val"]),
                _score(s[key] and s[key]["oracle"]),
                s[key]["n"] if s[key] else 0,
            ]
            for m, s in pub["methods"].items()
        ]
        return tabulate(rows, headers=heads, tablefmt="github")

    every = [
        [
            r["method"],
            r["draw"],
            _values(r),
            _score(r["val"]),
            _score(r["oracle"]),
            f"{r['n']}/{r['runs']}",
            ", ".join(f"{k} {v}" for k, v in r["states"].items()),
        ]
        for r in pub["draws"]
    ]
    settings = pub["settings"]
    return "\n".join(
        [
            f"# Hyperparameter search `{pub['search']}`",
            "",
            pub["description"],
            "",
            f"Protocol: {pub['protocol']}.",
            "",
            f"Budget: {pub['draws_per_method']} draws per method x seeds {pub['seeds']}, archs {', '.join(pub['archs'])}, "
            f"datasets {', '.join(pub['datasets'])}; profile `{pub['profile']}` with epochs {settings['epochs']}, "
            f"batch size {settings['batch_size']}, optimizer {settings['optimizer']}. Definition `{pub['definition']}`.",
            "",
            f"What varies inside intervals: {pub['varies']}",
            "",
            f"## Selected on {select_col} (the training distribution's validation split)",
            "",
            "A study item `{name: METHOD, tuned: "
            + pub["search"]
            + "}` trains these values (label `METHOD[tuned]`) with "
            "the study's other run settings (e.g. its epochs). The best mean wins; ties go to the lower draw (draw 0: "
            "the defaults).",
            "",
            table("selected"),
            "",
            f"## Oracle: selected on {oracle_col}",
            "",
            f"{pub['oracle']['label'][0].upper()}{pub['oracle']['label'][1:]}.",
            "",
            table("oracle_selected"),
            "",
            "## Every draw",
            "",
            "Scores: means over the draw's runs; `-` when a run is not done (never selected).",
            "",
            tabulate(
                every,
                headers=["method", "draw", "values", select_col, f"{oracle_col} (oracle)", "n", "states"],
                tablefmt="github",
            ),
            "",
        ]
    )

"""Seeds added where a claim is not settled: the group-sequential walk over looks (docs/statistics.md §1.18).

A declared design (``Design``: the papers, ``max_seeds``, ``group``; ``results/settle/plan.json``) gives
every claim row of those papers a plan (``statistics.sequential.plan``): look 1 at the seeds its cells
have in the study (5; 3 for an ablation arm), then ``group`` more seeds per look up to ``max_seeds``, each
look judged at its nominal alpha. A look judges the paper's whole table (``evaluate.evaluate``) on the
records with seeds below the study's first seed plus the seeds added so far, with alpha replaced by the
look's nominal level; a row that is decisive and stable (any verdict but *inconclusive*, which includes
*unstable*) stops there, an inconclusive one goes on to its next look while it has one. The added seeds are
the study's next ones (5, 6, 7, ... on both sides, paired by seed) and live in ``results/settle/STUDY``:
ordinary records of the same configs but the seed. ``walk`` is the same for ``claims`` (read only: a row
whose next look's runs are not all attempted stops at its look) and for ``settle`` (``train`` runs them
first).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ...contracts import ContractError
from ...records.identity import run_id
from ...records.table import RecordSet, combine, load_records
from ...statistics import sequential
from ...statistics.verdicts import INCONCLUSIVE
from .evaluate import ClaimsTable, evaluate, side_runs
from .spec import Paper, Side

if TYPE_CHECKING:
    from ...sweeps.study import RunSpec, Study

PLAN = "plan.json"
ATTEMPTED = ("done", "failed")  # a run that ran: a failed one is left out of the tests, never rerun here


@dataclass(frozen=True)
class Design:
    """What ``settle`` declared: the papers whose rows get seeds, the seeds per cell at most, seeds per look."""

    papers: tuple[str, ...]
    max_seeds: int
    group: int
    alpha: float = 0.05

    def write(self, root: Path) -> None:
        from ...atomic import atomic_write_text

        root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(root / PLAN, json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def read(cls, root: Path) -> Design | None:
        path = Path(root) / PLAN
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        return cls(tuple(data["papers"]), int(data["max_seeds"]), int(data["group"]), float(data["alpha"]))


def settle_root(value: str | None = None) -> Path:
    """Where ``settle`` keeps its plan and added records: ``value``, else results/settle in the project."""
    from ...paths import project_root

    return Path(value) if value else project_root() / "results" / "settle"


def first_seed(records: RecordSet) -> int:
    """The first seed a study does not train: where its added seeds start."""
    return int(records.runs["seed"].max()) + 1 if not records.runs.empty else 0


def with_settle(records: Mapping[str, RecordSet], root: Path) -> tuple[dict[str, RecordSet], dict[str, int]]:
    """Each study's records with those of ``root/STUDY`` (when present) beside them, and each study's first
    added seed."""
    starts = {name: first_seed(rs) for name, rs in records.items()}
    out = {}
    for name, rs in records.items():
        folder = Path(root) / name
        out[name] = combine(rs, load_records(folder)) if folder.is_dir() and any(folder.glob("*.json")) else rs
    return out, starts


def sides(paper: Paper, entry: str) -> list[tuple[str, Side]]:
    """(study, side) of every cell of claim ``entry``, both roles, without repeats."""
    found = [(c.study, s) for c in paper.claims if c.entry == entry for s in (c.side, c.reference)]
    return list(dict.fromkeys(found))


def row_plan(paper: Paper, entry: str, records: Mapping[str, RecordSet], starts, design: Design) -> sequential.Plan:
    """The claim's plan: its first look at the fewest study seeds of any side of its cells."""
    counts = [
        int((side_runs(records[study], side)["seed"] < starts[study]).sum()) for study, side in sides(paper, entry)
    ]
    first = max(1, min(counts, default=1))
    if first >= design.max_seeds:
        return sequential.Plan((first,), (design.alpha,))
    return sequential.plan(first, design.group, design.max_seeds, design.alpha)


def at_seeds(records: Mapping[str, RecordSet], starts: Mapping[str, int], added: int) -> dict[str, RecordSet]:
    """Every study's records with the study's seeds and the first ``added`` added ones."""
    out = {}
    for name, rs in records.items():
        keep = rs.runs["seed"] < starts[name] + added
        ids = set(rs.runs.loc[keep, "run_id"])
        out[name] = RecordSet(
            status=rs.status,
            runs=rs.runs[keep].reset_index(drop=True),
            scores=rs.scores[rs.scores["run_id"].isin(ids)].reset_index(drop=True),
            undefined=rs.undefined[rs.undefined["run_id"].isin(ids)].reset_index(drop=True),
        )
    return out


def attempted(records: Mapping[str, RecordSet], study: str, side: Side, seeds: Sequence[int]) -> bool:
    """Whether every seed of ``seeds`` of the side has a current record (done or failed)."""
    runs = side_runs(records[study], side)
    have = set(runs.loc[runs["state"].isin(ATTEMPTED), "seed"].astype(int))
    return set(seeds) <= have


def next_runs(
    paper: Paper, entry: str, plan: sequential.Plan, look: int, starts: Mapping[str, int]
) -> list[tuple[str, Side, list[int]]]:
    """(study, side, seeds) the claim's next look adds to every side of its cells."""
    added, new = plan.seeds[look] - plan.seeds[0], plan.seeds[look + 1] - plan.seeds[0]
    return [
        (study, side, list(range(starts[study] + added, starts[study] + new))) for study, side in sides(paper, entry)
    ]


Train = Callable[[list[tuple[str, Side, list[int]]]], Mapping[str, RecordSet]]


def walk(
    paper: Paper,
    records: Mapping[str, RecordSet],
    starts: Mapping[str, int],
    design: Design,
    train: Train | None = None,
    on_look: Callable[[str], None] | None = None,
) -> ClaimsTable:
    """The paper's table after its looks (module docstring). ``train(wanted)`` gets (study, side, seeds) to
    add and returns the records with them; without it, a row whose next look is not all attempted stops.
    Each row gains ``looks`` (taken), ``looks_planned``, ``alpha_look`` (its last look's nominal level),
    ``seeds_added``."""
    entries = list(dict.fromkeys(c.entry for c in paper.claims))
    plans = {e: row_plan(paper, e, records, starts, design) for e in entries}
    look = dict.fromkeys(entries, 0)
    active = set(entries)
    tables: dict[tuple[int, float], ClaimsTable] = {}

    def key(e: str) -> tuple[int, float]:
        plan = plans[e]
        return plan.seeds[look[e]] - plan.seeds[0], plan.alphas[look[e]]

    def row(e: str) -> pd.Series:
        if key(e) not in tables:
            added, alpha = key(e)
            tables[key(e)] = evaluate(paper, at_seeds(records, starts, added), alpha=alpha)
        claims = tables[key(e)].claims
        return claims[claims["id"] == e].iloc[0]

    while True:
        going = [e for e in entries if e in active and look[e] + 1 < len(plans[e].seeds)]
        going = [e for e in going if row(e)["verdict"] == INCONCLUSIVE]
        if not going:
            break
        nexts = {e: next_runs(paper, e, plans[e], look[e], starts) for e in going}
        if train is not None:
            records = train([run for runs in nexts.values() for run in runs])
        moved = [e for e in going if all(attempted(records, *run) for run in nexts[e])]
        for e in entries:
            if e in moved:
                look[e] += 1
            else:
                active.discard(e)
        if on_look is not None:
            said = f"{', '.join(moved)} to their next look" if moved else "no row has its next look's runs"
            on_look(f"{paper.name}: {len(going)} rows not settled; {said}")
    return assemble(entries, tables, {e: key(e) for e in entries}, plans, look, row, design.alpha)


def assemble(
    entries: list[str],
    tables: Mapping[tuple[int, float], ClaimsTable],
    keys: Mapping[str, tuple[int, float]],
    plans: Mapping[str, sequential.Plan],
    look: Mapping[str, int],
    row: Callable[[str], pd.Series],
    alpha: float,
) -> ClaimsTable:
    """One table from each row's last look: its claim row and its cells, with its looks."""
    claims, cells = [], []
    for e in entries:
        r = row(e).copy()
        plan = plans[e]
        r["looks"], r["looks_planned"] = look[e] + 1, len(plan.seeds)
        r["alpha_look"], r["seeds_added"] = keys[e][1], keys[e][0]
        claims.append(r)
        cells.append(tables[keys[e]].cells_of(e))
    total = tables[keys[entries[0]]].cells_total
    return ClaimsTable(pd.DataFrame(claims).reset_index(drop=True), pd.concat(cells, ignore_index=True), alpha, total)


def cost_seconds(records: Mapping[str, RecordSet], wanted: Sequence[tuple[str, Side, list[int]]]) -> float:
    """The compute the wanted runs would take: per side, its seeds times the mean ``total_seconds`` of the
    side's own records."""
    total = 0.0
    for study, side, seeds in dict.fromkeys((s, side, tuple(x)) for s, side, x in wanted):
        rs = records[study]
        ids = side_runs(rs, side)["run_id"]
        times = [rs.records[r].timing.get("total_seconds", 0.0) for r in ids if r in rs.records]
        total += len(seeds) * (sum(times) / len(times) if times else 0.0)
    return total


def added_specs(study: Study, side: Side, seeds: Sequence[int]) -> list[RunSpec]:
    """The side's runs at ``seeds``: its study run's config with only the seed changed (an ordinary record)."""
    template = next(
        (
            s
            for s in (*study.runs, *study.aliases)
            if (s.method, s.dataset, s.arch) == (side.method, side.dataset, side.arch)
        ),
        None,
    )
    if template is None:
        raise ContractError(f"settle: study '{study.name}' has no run of {side.label()}")
    out = []
    for seed in seeds:
        config = dataclasses.replace(template.config, seed=int(seed))
        out.append(dataclasses.replace(template, config=config, run_id=run_id(config)))
    return out

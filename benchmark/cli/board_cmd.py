"""``board``: the across-cell leaderboard of ``leaderboard_grid`` (params.yaml; issue 24).

Reads the records of the grid's studies as ``stats`` does (``sweeps.study.expand``, ``records.table.load_records``
with the study's method labels), lists every run that is not done (one line each; never ranked), and scores each
method by the fraction of the shortcut gap it closes in each usable cell, pooled by the IQM with a seeded
stratified bootstrap (``statistics.gap_closed``), with the ranks, Friedman and pairwise Wilcoxon–Holm over the
cells. Bad input (a cell's study not in ``leaderboard:``, a dataset/arch the study does not train, a reference
without ERM runs in the study, an unknown metric) prints one line naming the field and exits 2 before any compute,
nothing written. Writes atomically, byte-identical on rerun, into ``--dest`` (default ``results/leaderboards``):
``board.md``, ``board.csv``, ``board.json`` (DVC metrics), ``board.tables.json`` and ``board/*.png``.

The accepted submissions are always ranked (``--submissions``, default ``results/submissions``): each current
bundle at the board's profile is one more row of kind ``submission`` (``reports.board.bundles``), and the others
are listed apart with why. Always, not behind a flag, because ``submit`` claims the place its method takes on this
board (``board_tables``, the one function both call): a board without the submissions would give every number of a
claim a second meaning. ``--no-submissions`` ranks the studies' methods alone (a look at the grid, not the page).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def grid(params: dict[str, Any]) -> tuple[str, list[Any]]:
    """The grid's baseline and cells (``reports.board.inputs.GridCell``); a ContractError when there is none."""
    from ..contracts import ContractError
    from ..reports.board.inputs import GridCell

    section = params.get("leaderboard_grid")
    if not section or not section.get("cells"):
        raise ContractError("params.yaml: leaderboard_grid: no cells to rank (see docs/statistics.md)")
    return str(section.get("baseline", "erm")), [GridCell.of(c) for c in section["cells"]]


def check_cells(cells: list[Any], studies: dict[str, Any], baseline: str) -> None:
    """Each cell's metric declared, its (dataset, arch) trained by its study, its reference trained by ERM there."""
    from ..contracts import ContractError

    for i, cell in enumerate(cells):
        where = f"params.yaml: leaderboard_grid.cells[{i}]"
        try:
            cell.family  # noqa: B018 - validates SPLIT/METRIC and its declaration
        except (KeyError, ValueError) as exc:
            raise ContractError(f"{where}.metric: {cell.metric!r}: {str(exc).strip(chr(39))}") from exc
        study = studies[cell.study]
        trained = {(s.dataset, s.arch) for s in study.runs}
        if (cell.dataset, cell.arch) not in trained:
            raise ContractError(
                f"{where}.dataset/arch: study {cell.study} does not train {cell.dataset} on {cell.arch} "
                f"(it trains {sorted(trained)})"
            )
        if cell.reference == cell.dataset:
            raise ContractError(f"{where}.reference: the same dataset as the cell's ({cell.dataset}): no gap to close")
        if not any(
            s.dataset == cell.reference and s.arch == cell.arch and s.config.method == baseline for s in study.runs
        ):
            raise ContractError(
                f"{where}.reference: study {cell.study} has no {baseline} runs on {cell.reference} / {cell.arch}"
            )


def board_tables(
    params: dict[str, Any],
    profile: str | None,
    runs_roots: list[Path | None],
    submissions: Path | None,
    *,
    alpha: float = 0.05,
    reps: int = 10_000,
    seed: int = 0,
    own: tuple[str, Path, set[str] | None] | None = None,
    only: list[str] | None = None,
) -> Any:
    """The board (``reports.board.tables_file.BoardTables``) of the grid's studies at ``profile``: each study run
    from the first of ``runs_roots`` (None: ``results/runs``; each holds STUDY/) where it is done, and the current
    bundles under ``submissions`` ranked beside them (``reports.board.bundles``; ``only``: just those methods).
    ``own``: (method, folder of its STUDY/ records, its run ids or None: all) ranked in place of its bundle: what
    ``submit`` claims, computed here so that the summary, the claim and the page give the same numbers over the
    same cells and rows."""
    import pandas as pd

    from ..paths import project_root
    from ..records.run_states import folder_status
    from ..records.table import load_records
    from ..reports.board.analysis import analyse
    from ..reports.board.bundles import read_bundles
    from ..reports.board.inputs import arrays
    from ..sweeps.study import expand
    from .sweep_cmd import study_folder

    baseline, cells = grid(params)
    studies = {name: expand(name, profile, params=params) for name in dict.fromkeys(c.study for c in cells)}
    check_cells(cells, studies, baseline)
    board_profile = next(iter(studies.values())).profile.name
    bundles = read_bundles(
        submissions, list(studies), board_profile, project_root(), skip=[own[0]] if own else [], only=only
    )
    if own:
        bundles.add(own[0], {name: own[1] / name for name in studies if (own[1] / name).is_dir()}, ids=own[2])
    runs: list[pd.DataFrame] = []
    scores: list[pd.DataFrame] = []
    for name, study in studies.items():
        left, labels = list(study.runs), study.method_labels()
        folders = [study_folder(study.name, str(Path(root) / name) if root else None) for root in runs_roots]
        for i, folder in enumerate(folders):
            if i < len(folders) - 1:
                done = folder_status(folder, [s.run_id for s in left]).runs
                here = [s for s in left if done[s.run_id].state == "done"]
            else:
                here = left
            if here:
                records = load_records(folder, [s.config for s in here], method_labels=labels)
                runs.append(records.runs.assign(study=name))
                scores.append(records.scores.assign(study=name))
            left = [s for s in left if s not in here]
    runs, scores = runs + bundles.runs, scores + bundles.scores  # the studies' methods first
    all_runs, all_scores = pd.concat(runs, ignore_index=True), pd.concat(scores, ignore_index=True)
    in_grid = pd.concat(
        [
            (all_runs["study"] == c.study)
            & all_runs["dataset"].isin([c.dataset, c.reference])
            & (all_runs["arch"] == c.arch)
            for c in cells
        ],
        axis=1,
    ).any(axis=1)
    pending = all_runs[in_grid & (all_runs["state"] != "done")].drop_duplicates("run_id")
    not_done = [
        f"{r.study}: {r.method}/{r.arch}/{r.dataset}/seed={r.seed}: {r.state}"
        + (f" ({r.problem})" if r.problem else "")
        for r in pending.itertuples()
    ]
    data = arrays(cells, all_runs[in_grid], all_scores, baseline)
    return analyse(cells, data, baseline, alpha=alpha, reps=reps, seed=seed, not_done=not_done, bundles=bundles)


def run(args: argparse.Namespace) -> int:
    from ..config import load_params
    from ..paths import project_root
    from ..reports.board.writer import write_board

    root = project_root()
    submissions = None if args.no_submissions else Path(args.submissions or root / "results" / "submissions")
    tables = board_tables(
        load_params(), args.profile, [args.out], submissions, alpha=args.alpha, reps=args.reps, seed=args.seed
    )
    dest = Path(args.dest) if args.dest else root / "results" / "leaderboards"
    written = write_board(tables, dest)
    for line in tables.not_done:
        print(f"not done: {line}")
    usable = int(tables.cells["usable"].sum())
    subs = int((tables.rows["kind"] == "submission").sum())
    print(
        f"board: {len(tables.rows) - 1} ranked rows ({subs} submissions) over {usable} usable cells of "
        f"{len(tables.cells)}; {len(tables.apart)} listed apart; {len(tables.not_done)} runs not done"
    )
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("board", help="across-cell leaderboard: the fraction of the shortcut gap closed")
    p.add_argument("--profile", help="the profile of the runs (default: each study's, else quick)")
    p.add_argument("--out", help="folder holding each study's records as STUDY/ (default: results/runs)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--reps", type=int, default=10_000, help="bootstrap repetitions (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--dest", help="output folder (default: results/leaderboards)")
    p.add_argument(
        "--submissions", help="the submission bundles ranked beside the methods (default: results/submissions)"
    )
    p.add_argument("--no-submissions", action="store_true", help="rank the studies' methods only")
    p.set_defaults(func=run)

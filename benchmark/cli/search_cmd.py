"""``search NAME``: a hyperparameter random search (DomainBed's protocol, ``benchmark.sweeps.search``).

Before anything runs, the search and every draw's run config are checked (a searched name the
method does not declare, a bound outside its range, a test split to select on: one line, exit 2).
The runs go through the sweep machinery into ``results/search/runs/NAME`` (done records are
skipped, a killed search resumes); then ``results/search/NAME.json`` (the selections and the draw
table, read back by the studies' ``tuned`` items) and ``NAME.md`` are written, byte-identical
on a rerun. ``--dry-run`` lists the runs and runs nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .sweep_cmd import dry_run, parse_jobs


def _selection_lines(pub: dict) -> list[str]:
    lines = []
    for method, chosen in pub["methods"].items():
        best, oracle = chosen["selected"], chosen["oracle_selected"]
        text = (
            "no draw with all its runs done"
            if best is None
            else (f"draw {best['draw']} {best['params'] | best['settings']} ({pub['select']['split']} {best['val']})")
        )
        if oracle is not None:
            text += f"; oracle: draw {oracle['draw']} ({pub['oracle']['split']} {oracle['oracle']})"
        lines.append(f"  {method}: {text}")
    return lines


def run(args: argparse.Namespace) -> int:
    from ..atomic import atomic_write_text
    from ..config import load_params
    from ..contracts import ContractError
    from ..records.selections import definition_hash, search_folder, shown
    from ..records.table import load_records
    from ..sweeps.executors import local_executor
    from ..sweeps.search import load_search
    from ..sweeps.search_runs import markdown, plan, publication
    from ..sweeps.study import device_problem
    from ..sweeps.sweep import run_sweep
    from .run_cmd import check_out_folder

    params = load_params()
    search = load_search(args.search, params)
    planned = plan(search, params)
    out = Path(args.out) if args.out else search_folder()
    folder = out / "runs" / search.name
    check_out_folder(folder)
    problem = device_problem(planned.study.profile.device)
    if args.dry_run:
        print(
            f"search {search.name}: {search.draws} draws x {len(search.methods)} methods, "
            f"{len(planned.study.runs)} distinct runs"
        )
        from ..sweeps.prerequisites import state_rows

        needs = state_rows(planned.study, params)
        return dry_run(planned.study, folder, args.retry_failed, [], [problem] if problem else [], needs)
    if problem:
        raise ContractError(f"profile '{planned.study.profile.name}': {problem}")
    executor = local_executor(planned.study.profile, args.jobs)
    summary = run_sweep(planned.study, folder, executor, retry_failed=args.retry_failed, progress=not args.quiet)
    print(summary.line())
    if summary.lost:
        print(f"not published: {summary.lost} run(s) left no record; rerun `python -m benchmark search {search.name}`")
        return 1
    records = load_records(folder, [spec.config for spec in planned.study.runs])
    pub = publication(search, planned, records, definition_hash(search.name, params))
    json_path, md_path = out / f"{search.name}.json", out / f"{search.name}.md"
    atomic_write_text(json_path, json.dumps(pub, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write_text(md_path, markdown(pub))
    print(
        f"selected on {pub['select']['split']}/{pub['select']['metric']} (oracle on "
        f"{pub['oracle']['split']}/{pub['oracle']['metric']}, reported apart):"
    )
    print("\n".join(_selection_lines(pub)))
    print(f"wrote {shown(json_path)} and {shown(md_path)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="hyperparameter random search of a params.yaml search (DomainBed's "
        "protocol); publishes results/search/NAME.json",
    )
    p.add_argument("search", help="a search under 'searches:' in params.yaml")
    p.add_argument(
        "--jobs",
        type=parse_jobs,
        default=1,
        help="parallel runs (worker processes; 'auto' = CPU cores / the profile's threads per run; default 1)",
    )
    p.add_argument("--dry-run", action="store_true", help="list the runs and every problem found, run nothing")
    p.add_argument("--retry-failed", action="store_true", help="rerun runs whose record says 'failed'")
    p.add_argument("--out", help="folder of the publication (default: results/search; records in OUT/runs/NAME)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-run lines")
    p.set_defaults(func=run)

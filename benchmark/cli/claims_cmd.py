"""``claims PAPER``: a paper's claims table with a verdict per claim, from the records of its studies.

PAPER is a claims file ``claims/PAPER.yaml`` (``reports.claims_spec``). Everything is checked
before anything is computed (the file's fields, every named study in params.yaml, both sides of
every claim among the study's expected runs): a problem is one line naming the file and the
field, exit 2, nothing written. Runs that are not done are listed and left out of every test.

Writes, atomically and byte-identical on rerun, into ``--dest`` (default ``results/claims``):
``PAPER.md`` (the section that ``results/README.md`` embeds), ``PAPER.json`` (every number of
every row) and ``PAPER/`` (the claims forest plot and the paper's curve figures).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .sweep_cmd import study_folder


def claims_folder() -> Path:
    from ..paths import project_root

    return project_root() / "claims"


def paper_path(name: str, folder: Path) -> Path:
    from ..contracts import ContractError

    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ContractError(f"claims: no claims file {path}; known papers: {known}")
    return path


def load_studies(paper, profile: str | None, out: str | None) -> dict:
    """The records of every study the paper names, classified against the study's expected runs."""
    from ..records.table import load_records
    from ..sweeps.study import expand

    studies = list(dict.fromkeys([c.study for c in paper.claims] + [f.study for f in paper.figures] + paper.studies))
    expanded = {name: expand(name, profile) for name in studies}  # every study checked before any record is read
    return {name: load_records(study_folder(name, out if len(studies) == 1 else None),
                               [spec.config for spec in study.runs]) for name, study in expanded.items()}


def incomplete_lines(records: dict) -> list[str]:
    lines = []
    for study, rs in records.items():
        bad = rs.runs[rs.runs["state"] != "done"]
        for _, row in bad.iterrows():
            problem = f": {row['problem']}" if row["problem"] else ""
            lines.append(f"{study}: {row['method']} · {row['dataset']} · {row['arch']} · seed {row['seed']} "
                         f"{row['state']}{problem}")
    return lines


def run(args: argparse.Namespace) -> int:
    from ..atomic import atomic_folder, atomic_write_text
    from ..reports import claims_plots
    from ..reports.claims_eval import check_sides, evaluate
    from ..reports.claims_report import as_json, markdown
    from ..reports.claims_spec import load_paper
    from ..reports.leaderboard_tables import clean

    paper = load_paper(paper_path(args.paper, Path(args.claims_dir) if args.claims_dir else claims_folder()))
    records = load_studies(paper, args.profile, args.out)
    check_sides(paper, records)
    table = evaluate(paper, records, alpha=args.alpha)
    incomplete = incomplete_lines(records)
    dest = Path(args.dest) if args.dest else claims_folder().parent / "results" / "claims"
    with atomic_folder(dest / paper.name) as folder:
        figures = {f"{paper.paper}: every claim's gain in ROPE units, 95% interval, colour = verdict":
                   f"{paper.name}/" + claims_plots.claims_forest(table, folder, "claims.png",
                                                                 f"{paper.paper} claims")}
        for i, figure in enumerate(paper.figures):
            name = claims_plots.curve(records[figure.study], figure, folder, f"curve_{i}_{figure.curve}.png")
            figures[figure.title] = f"{paper.name}/{name}"
    atomic_write_text(dest / f"{paper.name}.md", markdown(paper, table, figures, incomplete, args.alpha) + "\n")
    atomic_write_text(dest / f"{paper.name}.json", json.dumps(clean(as_json(paper, table, figures, incomplete,
                                                                            args.alpha)),
                                                              indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    for line in incomplete:
        print(f"not done: {line}")
    tally = ", ".join(f"{n} {k}" for k, n in table["verdict"].value_counts().sort_index().items())
    print(f"{paper.paper}: {len(table)} claims ({tally}); wrote {dest / paper.name}.md, .json and {len(figures)} "
          f"figures in {dest / paper.name}/")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("claims", help="a paper's claims table with a verdict per claim (claims/PAPER.yaml)")
    p.add_argument("paper", help="a claims file claims/PAPER.yaml (e.g. sgt, cyborg)")
    p.add_argument("--profile", help="the profile of the runs (default: each study's, else quick)")
    p.add_argument("--out", help="folder of the records when the paper names one study (default: results/runs/STUDY)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--claims-dir", help="folder of the claims files (default: claims/)")
    p.add_argument("--dest", help="output folder (default: results/claims)")
    p.set_defaults(func=run)

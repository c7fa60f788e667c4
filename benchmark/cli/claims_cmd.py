"""``claims PAPER``: a paper's claims table with a verdict per claim, from the records of its studies.

PAPER is a claims file ``claims/PAPER.yaml`` (``reports.claims.spec``). Everything is checked
before anything is computed (the file's fields, every named study in params.yaml, both sides of
every claim among the study's expected runs): a problem is one line naming the file and the
field, exit 2, nothing written. Runs that are not done are listed and left out of every test.

Writes, atomically and byte-identical on rerun, into ``--dest`` (default ``results/claims``):
``--all`` does every claims file. ``PAPER.md`` (the section that ``results/README.md`` embeds), ``PAPER.json`` (every number of
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


def load_studies(papers: list, profile: str | None, out: str | None, extended: bool = False) -> dict:
    """The records of every study the papers name, classified against the study's expected runs; ``extended``:
    with the records of the optional studies that extend it beside them (``sweeps.study.extensions``)."""
    from ..records.table import combine, load_records
    from ..sweeps.study import expand, extensions

    studies = list(
        dict.fromkeys(
            s
            for paper in papers
            for s in [c.study for c in paper.claims] + [f.study for f in paper.figures] + paper.studies
        )
    )
    expanded = {name: expand(name, profile) for name in studies}  # every study checked before any record is read
    added = {name: [expand(e, profile) for e in extensions(name)] if extended else [] for name in studies}
    out_records = {}
    for name, study in expanded.items():
        folder = study_folder(name, out if len(studies) == 1 else None)
        records = load_records(folder, [spec.config for spec in study.runs], method_labels=study.method_labels())
        ids = {spec.run_id for spec in study.runs}
        for extension in added[name]:  # beside the study's folder (results/runs/EXTENSION by default)
            own = [spec.config for spec in extension.runs if spec.run_id not in ids]
            more = load_records(folder.parent / extension.name, own, method_labels=extension.method_labels())
            records = combine(records, more)
        out_records[name] = records
    return out_records


def optional_arms(studies: list[str], profile: str | None) -> dict[str, dict[tuple[str, str, str], str]]:
    """Per study, the (method, dataset, arch) arms that only the optional studies extending it train, with the
    optional study's name (``reports.claims.optional_cells``)."""
    from ..sweeps.study import expand, extensions

    out: dict[str, dict[tuple[str, str, str], str]] = {}
    for name in studies:
        for extension in extensions(name):
            for spec in expand(extension, profile).runs:
                out.setdefault(name, {}).setdefault((spec.method, spec.dataset, spec.arch), extension)
    return out


def default_papers(papers: list, records: dict, profile: str | None) -> tuple[list, dict[str, list]]:
    """Each paper with only the cells the default studies train, and per paper the cells left out."""
    from ..reports.claims.optional_cells import split_paper

    optional = optional_arms(list(records), profile)
    split = [split_paper(paper, records, optional) for paper in papers]
    return [p for p, _ in split], {p.name: left for p, left in split}


def incomplete_lines(records: dict) -> list[str]:
    lines = []
    for study, rs in records.items():
        bad = rs.runs[rs.runs["state"] != "done"]
        for _, row in bad.iterrows():
            problem = f": {row['problem']}" if row["problem"] else ""
            lines.append(
                f"{study}: {row['method']} · {row['dataset']} · {row['arch']} · seed {row['seed']} "
                f"{row['state']}{problem}"
            )
    return lines


def incomplete_of(paper, records: dict) -> list[str]:
    studies = list(dict.fromkeys([c.study for c in paper.claims] + paper.studies))
    return incomplete_lines({s: records[s] for s in studies})


def judged(paper, records: dict, alpha: float, settled: tuple | None):
    """The paper's table: its looks when ``settled`` = (design, starts) names it (``reports.claims.settle``),
    else one evaluation on the study's own seeds; an empty table when no cell of the paper is trained."""
    from ..reports.claims.evaluate import empty_table, evaluate
    from ..reports.claims.settle import at_seeds, walk

    if not paper.claims:
        return empty_table(alpha)
    if settled is None:
        return evaluate(paper, records, alpha=alpha)
    design, starts = settled
    if paper.name in design.papers:
        return walk(paper, records, starts, design)
    return evaluate(paper, at_seeds(records, starts, 0), alpha=alpha)


def write_paper(
    paper, records: dict, dest: Path, alpha: float, settled: tuple | None = None, not_run: list | None = None
) -> str:
    """Evaluate one paper's claims and write its Markdown, JSON and figures; a one-line tally. ``not_run``: the
    cells left out because only an optional study trains them (named on the page)."""
    from ..atomic import atomic_folder, atomic_write_text
    from ..reports.claims import plots as claims_plots
    from ..reports.claims.optional_cells import not_run_text
    from ..reports.claims.report import as_json, counts, markdown, percent
    from ..reports.formatting import clean

    table = judged(paper, records, alpha, settled)
    if settled is not None:
        from ..reports.claims.settle import at_seeds

        records = at_seeds(records, settled[1], 0)  # figures and the not-done list: the study's own seeds
    incomplete = incomplete_of(paper, records)
    with atomic_folder(dest / paper.name) as folder:
        caption = (
            f"{paper.paper}: every cell's gain in ROPE units, simultaneous {percent(table.simultaneous_level)} "
            "interval (equivalence: 90%), colour = its claim's verdict"
        )
        figures = (
            {
                caption: f"{paper.name}/"
                + claims_plots.claims_forest(table, folder, "claims.png", f"{paper.paper} claims")
            }
            if paper.claims
            else {}
        )
        for i, figure in enumerate(paper.figures):
            name, said = claims_plots.curve(records[figure.study], figure, folder, f"curve_{i}_{figure.curve}.png")
            figures[f"{figure.title}. {said}" if said else figure.title] = f"{paper.name}/{name}"
    left = not_run_text(not_run or [])
    atomic_write_text(dest / f"{paper.name}.md", markdown(paper, table, figures, incomplete, not_run=left) + "\n")
    atomic_write_text(
        dest / f"{paper.name}.json",
        json.dumps(
            clean(as_json(paper, table, figures, incomplete, not_run=left)),
            indent=1,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n",
    )
    tally = ", ".join(f"{n} {k}" for k, n in counts(table).items())
    return (
        f"{paper.paper}: {len(table.claims)} claims, {table.cells_total} cells ({tally}); wrote "
        f"{dest / paper.name}.md, .json and {len(figures)} figures"
    )


def settle_records(records: dict, root: str | None) -> tuple | None:
    """(records with the added seeds, the design, each study's first added seed) when ``root`` (default
    results/settle) holds a ``settle`` plan, else None."""
    from ..reports.claims.settle import Design, settle_root, with_settle

    design = Design.read(settle_root(root))
    if design is None:
        return None
    combined, starts = with_settle(records, settle_root(root))
    return combined, design, starts


def run(args: argparse.Namespace) -> int:
    from ..contracts import ContractError
    from ..reports.claims.evaluate import check_sides
    from ..reports.claims.spec import load_paper

    if not 0 < args.alpha < 1:
        raise ContractError(f"claims: --alpha must be in (0, 1), got {args.alpha}")
    if bool(args.paper) == bool(args.all):
        raise ContractError("claims: name one PAPER (a file claims/PAPER.yaml) or give --all")
    folder = Path(args.claims_dir) if args.claims_dir else claims_folder()
    paths = sorted(folder.glob("*.yaml")) if args.all else [paper_path(args.paper, folder)]
    if not paths:
        raise ContractError(f"claims: no claims file in {folder}")
    papers = [load_paper(p) for p in paths]
    records = load_studies(papers, args.profile, args.out, extended=args.extended)
    left: dict[str, list] = {}
    if not args.extended:
        papers, left = default_papers(papers, records, args.profile)
    for paper in papers:
        check_sides(paper, records)
    results = claims_folder().parent / "results"
    dest = Path(args.dest) if args.dest else results / ("claims_extended" if args.extended else "claims")
    settled = None if args.out and not args.settle else settle_records(records, args.settle)
    for line in incomplete_lines(records):
        print(f"not done: {line}")
    if settled is not None:
        records = settled[0]
        print(f"settle: the looks of {', '.join(settled[1].papers) or 'no paper'} ({args.settle or 'results/settle'})")
    for paper in papers:
        print(write_paper(paper, records, dest, args.alpha, settled[1:] if settled else None, left.get(paper.name)))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("claims", help="a paper's claims table with a verdict per claim (claims/PAPER.yaml)")
    p.add_argument("paper", nargs="?", help="a claims file claims/PAPER.yaml (e.g. sgt, cyborg)")
    p.add_argument("--all", action="store_true", help="every claims file in the claims folder")
    p.add_argument("--profile", help="the profile of the runs (default: each study's, else quick)")
    p.add_argument(
        "--out",
        help="folder of the records when the paper names one study (default: results/runs/STUDY); with --extended, "
        "the optional studies' folders are beside it",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--claims-dir", help="folder of the claims files (default: claims/)")
    p.add_argument(
        "--extended",
        action="store_true",
        help="also read the optional studies that extend the claims' studies (params.yaml `extends:`), so every "
        "cell is judged (default --dest results/claims_extended)",
    )
    p.add_argument("--dest", help="output folder (default: results/claims, or results/claims_extended)")
    p.add_argument(
        "--settle",
        help="folder of `settle`'s plan and added records (default: results/settle, none with --out; no plan: no looks)",
    )
    p.set_defaults(func=run)

"""``readme``: write ``results/README.md`` from the claims tables, the leaderboards and the published searches.

The last stage of ``dvc repro`` (``reports.claims.readme``): one section per seed paper with its
claims table (a verdict per claim), figures and the leaderboard of each study it reads, then "Guidance as
a trade-off" from the optional studies' fronts and curves reports (``reports.claims.tradeoffs``; the
studies from params.yaml ``optional_studies``). Reads only files the pipeline wrote; byte-identical on rerun.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from ..atomic import atomic_write_text
    from ..config import load_params
    from ..contracts import ContractError
    from ..paths import project_root
    from ..reports.claims.readme import results_readme
    from ..reports.claims.tradeoffs import declared_studies

    results = Path(args.results) if args.results else project_root() / "results"
    claims = results / "claims"
    if not sorted(claims.glob("*.json")):
        raise ContractError(f"readme: no claims table in {claims} (run `python -m benchmark claims --all`)")
    tradeoffs = (results / "fronts", results / "curves")
    studies = declared_studies(load_params())
    text = results_readme(claims, results / "leaderboards", results / "search", args.profile, tradeoffs, studies)
    atomic_write_text(results / "README.md", text)
    print(f"wrote {results / 'README.md'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "readme", help="write results/README.md (claims tables, leaderboards, searches, trade-offs)"
    )
    p.add_argument("--results", help="the results folder (default: results/ of the project)")
    p.add_argument("--profile", default="quick", help="the profile the records were trained at (default: quick)")
    p.set_defaults(func=run)

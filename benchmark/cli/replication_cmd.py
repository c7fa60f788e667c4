"""``replication [--committed DIR] [--results DIR] [--out PATH]``: a rerun compared with the committed results.

``python -m benchmark repro`` calls ``snapshot`` before DVC runs (the seeds files and claims JSON of
``results/``, as they are in the working tree, copied to ``results/replication/committed/``, git-ignored)
and ``report`` after it succeeded: ``results/replication.md`` (git-ignored) and one summary line
(``reports.replication``). This command rewrites that report from a snapshot folder and the current
results; a missing snapshot is one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

MARKER = "SNAPSHOT.json"  # written into every snapshot: the only folders ``snapshot`` replaces


def results_root() -> Path:
    from ..paths import project_root

    return project_root() / "results"


def default_snapshot(results: Path) -> Path:
    return results / "replication" / "committed"


def snapshot(results: Path, dest: Path) -> int:
    """Copy ``results``' seeds files and claims JSON into ``dest``; returns the number of files copied.

    Nothing is copied (0) when there are none. ``dest`` is replaced only when it is absent or holds this
    function's marker; another folder there is left alone (``ContractError``).
    """
    from ..atomic import atomic_folder
    from ..contracts import ContractError
    from ..reports.replication import claim_files, seed_files

    files = seed_files(results) + claim_files(results)
    if not files:
        return 0
    if dest.exists() and not (dest / MARKER).is_file():
        raise ContractError(f"replication: {dest} exists and is not a snapshot of this program; move it away")
    with atomic_folder(dest) as folder:
        for path in files:
            target = folder / path.relative_to(results)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        stamp = {"source": str(results), "taken": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "files": len(files)}
        (folder / MARKER).write_text(json.dumps(stamp, indent=1) + "\n")
    return len(files)


def report(committed: Path, results: Path, out: Path) -> str:
    """Write the replication report of ``results`` against the snapshot ``committed``; returns the summary."""
    from ..atomic import atomic_write_text
    from ..contracts import ContractError
    from ..reports.replication import claim_files, compare, markdown, read_results, seed_files, summary

    if not (seed_files(committed) or claim_files(committed)):
        raise ContractError(
            f"replication: no snapshot at {committed} (no leaderboards/*.seeds.csv or claims/*.json; "
            "python -m benchmark repro takes one before DVC runs)"
        )
    rep = compare(read_results(committed), read_results(results))
    atomic_write_text(out, markdown(rep, basis(committed), shown(results)))
    return summary(rep, shown(out))


def basis(committed: Path) -> str:
    """The snapshot folder, with when ``snapshot`` took it (from its marker), for the report's first line."""
    marker = committed / MARKER
    if not marker.is_file():
        return f"`{shown(committed)}`"
    stamp = json.loads(marker.read_text())
    return f"`{shown(committed)}` (taken {stamp['taken']} from `{shown(Path(stamp['source']))}` before DVC ran)"


def shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run(args: argparse.Namespace) -> int:
    results = Path(args.results) if args.results else results_root()
    committed = Path(args.committed) if args.committed else default_snapshot(results)
    out = Path(args.out) if args.out else results / "replication.md"
    print(report(committed, results, out))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replication", help="compare the current results with a snapshot of the committed ones (results/replication.md)"
    )
    p.add_argument("--committed", help="the snapshot folder (default: results/replication/committed)")
    p.add_argument("--results", help="the fresh results folder (default: results)")
    p.add_argument("--out", help="the report's path (default: results/replication.md)")
    p.set_defaults(func=run)

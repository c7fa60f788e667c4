"""``submit METHOD [--profile P]``: validate a new method, then rank it on the leaderboard protocol.

Before any compute: the method loads (``methods/FILE.py`` or an installed entry point) and meets
the contract; the profile, the ``leaderboard:`` studies and their data exist here; the bundle
folder is this program's to write. Then, in order (CONTRIBUTING.md):

1. contract, 2. a one-step smoke run on every architecture x dataset of the protocol,
3. determinism, 4. honesty (train split only, annotations only when declared, declared vs
   measured cost: a mismatch above 1.2x is a warning) — ``benchmark.submission.checks``;
5. the leaderboard protocol at the profile, the statistics against every method of each study and
   a printed summary (``submission.protocol``, ``submission.summary``).

A failed check prints one line per failure (check, architecture / dataset, what to change), exits 2
and writes nothing. On success the bundle ``results/submissions/METHOD/`` is written in one rename
(``submission.bundle``). ``--verify`` re-derives a bundle's claim from its records instead
(``submission.verify``): one ``mismatch:`` line per way the bundle went stale, exit 1.

``--rerun K`` adds the sentinel re-run (``submission.rerun``): K of the bundle's runs, drawn with a salt
(``--rerun-salt``, else a fresh one), retrained from their recorded configs and compared with their records
(CPU: weights digest and every metric, exactly); the outcome goes to the bundle's ``verification.json``,
which the leaderboard reads. With ``--verify`` it checks the committed bundle (the maintainers' check);
without, it runs after ``submit`` wrote the bundle (the submitter's dry run of that check). K outside
1..N is refused (exit 2) before any compute; a mismatch exits 1.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any


def destinations(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """(bundle root, the study records' root, the work folder) inside the project."""
    from ..paths import project_root
    from ..submission.protocol import work_folder

    root = project_root()
    bundles = Path(args.submissions) if args.submissions else root / "results" / "submissions"
    runs = Path(args.runs) if args.runs else root / "results" / "runs"
    work = Path(args.work) if args.work else root / "results" / "submission-work"
    return bundles, runs, work_folder(work, args.method)


def options(args: argparse.Namespace):
    from ..submission.protocol import ProtocolOptions

    return ProtocolOptions(jobs=args.jobs, reps=args.reps, progress=not args.quiet)


def refuse(lines: list[str]) -> int:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return 2


def rerun_refusal(args: argparse.Namespace, runs: int) -> list[str]:
    """Why ``--rerun K`` cannot run on a bundle of ``runs`` runs (nothing without ``--rerun``)."""
    from ..submission.rerun import count_problem

    problem = count_problem(args.rerun, runs) if args.rerun is not None else ""
    return [problem] if problem else []


def sentinel_lines(folder: Path, draft: Any, quiet: bool) -> tuple[list[str], str]:
    """Run the drawn re-run ``draft`` (``submission.rerun.plan``) on the bundle in ``folder``: (its mismatch
    lines, its verdict); writes the bundle's verification.json."""
    from ..submission.rerun import chance_of_drawing, sentinel, write_verification

    print(
        f"re-run: {draft.k} of the bundle's {draft.of} runs drawn with salt {draft.salt!r} (replay: --rerun-salt "
        f"{shlex.quote(draft.salt)}); an edited run is drawn with probability "
        f"{chance_of_drawing(draft.of, draft.k):.2f}: {', '.join(draft.chosen)}"
    )
    result = sentinel(folder, draft, None if quiet else (lambda line: print(f"... {line}", file=sys.stderr)))
    for line in result.notes:
        print(f"note: {line}")
    path = write_verification(folder, result)
    print(f"{result.verdict()} (written to {path})")
    return [f"re-run {line}" for line in result.mismatches], result.verdict()


def board_claim(
    args: argparse.Namespace,
    params: dict[str, Any],
    profile: str,
    own: tuple[str, Path, set[str] | None],
    only: list[str] | None = None,
) -> dict[str, Any] | None:
    """The method's row on the across-cell board (``submission.board``), computed by ``board_cmd.board_tables``
    (the board stage's function, its default alpha and seed, ``--reps`` repetitions) over the studies' records
    (``--runs``, else the work folder's) and the current bundles (``only``: those); None without a
    ``leaderboard_grid``; only a ``reason`` when the grid is not trained at ``profile`` (``tiny``)."""
    from ..contracts import ContractError
    from ..submission.board import board_entry
    from .board_cmd import board_tables

    if not (params.get("leaderboard_grid") or {}).get("cells"):
        return None
    bundles, runs, work = destinations(args)
    try:
        tables = board_tables(params, profile, [runs, work / "runs"], bundles, reps=args.reps, own=own, only=only)
    except ContractError as exc:  # the grid's cells are not trained at this profile (tiny): no board there
        return {"reason": f"no board at profile {profile} ({exc})"}
    return board_entry(tables, own[0])


def board_rederiver(args: argparse.Namespace, folder: Path) -> Any:
    """For ``verify``: claim.json -> its ``board`` entry re-derived from the bundle's records beside the bundles
    it names, or a note saying why not (one of them is no longer ranked)."""
    from ..config import load_params

    def rederive(content: dict[str, Any]) -> dict[str, Any] | str | None:
        beside = list((content.get("board") or {}).get("beside") or [])
        entry = board_claim(
            args, load_params(), str(content.get("profile")), (args.method, folder / "records", None), beside
        )
        if entry is not None and "beside" in entry and entry["beside"] != sorted(beside):
            gone = sorted(set(beside) - set(entry.get("beside") or []))
            return f"the submissions it was ranked beside are no longer all current ({', '.join(gone)})"
        return entry

    return rederive


def verify_cmd(args: argparse.Namespace, folder: Path | None = None) -> int:
    """``--verify`` (and ``--rerun K``) on the bundle in ``folder`` (default: the method's bundle); a bad K, or
    a drawn GPU run on a machine without one, is refused before anything is computed."""
    from ..config import load_params
    from ..submission.protocol import rederiver
    from ..submission.rerun import plan
    from ..submission.verify import verify

    bundles, runs, work = destinations(args)
    folder = folder or bundles / args.method
    if not (folder / "claim.json").is_file():
        return refuse(
            [f"submit --verify: no bundle {folder}/claim.json (run `python -m benchmark submit {args.method}`)"]
        )
    draft = None
    if args.rerun is not None:
        draft, refusals = plan(folder, args.rerun, args.rerun_salt)
        if draft is None or refusals:
            return refuse(refusals)
    problems, notes = verify(
        folder, rederiver(args.method, load_params(), runs, work, options(args)), board_rederiver(args, folder)
    )
    for line in notes:
        print(line)
    verdict = ""
    if draft is not None:
        lines, verdict = sentinel_lines(folder, draft, args.quiet)
        problems, verdict = problems + lines, f"; {verdict}"
    for line in problems:
        print(f"mismatch: {line}", file=sys.stderr)
    print(f"bundle {folder}: {'verified' if not problems else f'{len(problems)} mismatch(es)'}{verdict}")
    return 1 if problems else 0


def run(args: argparse.Namespace) -> int:
    if args.verify:
        return verify_cmd(args)
    from ..config import load_params
    from ..submission.bundle import check_destination, claim, write_bundle
    from ..submission.checks import run_checks
    from ..submission.contract import contract_failures
    from ..submission.protocol import describe_pairs, protocol_configs, run_protocol
    from ..submission.summary import summary_text
    from ..sweeps.prerequisites import absent_lines
    from ..sweeps.study import device_problem
    from ..sweeps.submission_study import leaderboard_protocol

    bundles, runs, work = destinations(args)
    cls, source, failures = contract_failures(args.method)
    if [f for f in failures if not f.warning]:
        return refuse([f.line() for f in failures])
    params = load_params()
    pairs = leaderboard_protocol(args.method, args.profile, params)
    problems = [line for reference, _ in pairs for line in absent_lines(reference, params)]
    device = device_problem(pairs[0][0].profile.device)
    if device:
        problems.append(f"profile '{pairs[0][0].profile.name}': {device}")
    check_destination(bundles / args.method)
    problems += rerun_refusal(args, sum(len(submission.runs) for _, submission in pairs))
    if problems:
        return refuse(problems)
    print(f"submit {args.method} ({source}) at profile {pairs[0][0].profile.name}:")
    for line in describe_pairs(pairs):
        print(f"  {line}")
    report = run_checks(
        args.method,
        protocol_configs(pairs),
        progress=None if args.quiet else (lambda line: print(f"... {line}", file=sys.stderr)),
    )
    for line in report.lines():
        print(line)
    if not report.passed:
        return refuse([f.line() for f in report.failures if not f.warning])
    if args.checks_only:
        print("checks passed; the protocol was not run (--checks-only); nothing written")
        return 0
    outcomes = run_protocol(pairs, runs, work, options(args))
    profile = pairs[0][0].profile.name
    ids = {s.run_id for _, submission in pairs for s in submission.runs}
    board = board_claim(args, params, profile, (args.method, work / "runs", ids))
    content = claim(args.method, profile, outcomes, report.cost_rows, board)
    text = summary_text(content, report.cost_rows, report.lines())
    command = " ".join(["python -m benchmark submit", shlex.quote(args.method), "--profile", profile])
    submission = {
        "method": args.method,
        "source": source,
        "profile": profile,
        "command": command,
        "studies": [o.reference.name for o in outcomes],
        "checks": report.lines(),
        "warnings": [f.line() for f in report.warnings],
        "cost": report.cost_rows,
    }
    folder = write_bundle(bundles, args.method, profile, outcomes, submission, text, report.cost_rows, board)
    print(text)
    print(
        f"wrote {folder}/ (commit it with {content['method_file']}); the statistics with every method are in "
        f"{work / 'leaderboards'}/; check it with `python -m benchmark submit {args.method} --verify`"
    )
    return verify_cmd(args, folder) if args.rerun is not None else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from .sweep_cmd import parse_jobs

    p = subparsers.add_parser(
        "submit", help="validate a new method and rank it on the leaderboard protocol (CONTRIBUTING.md)"
    )
    p.add_argument("method", help="a method in methods/ or from an installed entry point")
    p.add_argument(
        "--profile",
        help="training profile of the protocol (default: each study's, else quick; "
        "tiny: the flow in a minute or two, ranks nothing)",
    )
    p.add_argument("--jobs", type=parse_jobs, default=1, help="parallel runs (as `sweep --jobs`)")
    p.add_argument("--reps", type=int, default=10_000, help="bootstrap repetitions of the statistics (default 10000)")
    p.add_argument("--checks-only", action="store_true", help="run checks 1-4 only; write nothing")
    p.add_argument(
        "--verify",
        action="store_true",
        help="re-derive results/submissions/METHOD/claim.json from its "
        "records (and the ranking from the studies' records when they are done); exit 1 on a mismatch",
    )
    p.add_argument(
        "--rerun",
        type=int,
        metavar="K",
        help="sentinel re-run: retrain K of the bundle's runs (a seeded draw) from their recorded configs and "
        "require identical weights and metrics on CPU; writes the bundle's verification.json (with --verify: "
        "the committed bundle; without: the bundle submit just wrote); exit 1 on a mismatch",
    )
    p.add_argument(
        "--rerun-salt",
        metavar="TEXT",
        help="the salt of --rerun's draw (default: a fresh random one, printed and kept in verification.json; "
        "give it to replay a draw)",
    )
    p.add_argument("--submissions", help="bundle root (default: results/submissions)")
    p.add_argument("--runs", help="root of the studies' records (default: results/runs)")
    p.add_argument(
        "--work",
        help="root of the submissions' own runs and statistics (default: results/submission-work; git-ignored)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-run lines")
    p.set_defaults(func=run)

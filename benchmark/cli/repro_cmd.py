"""``repro [DVC ARGS]``: ``dvc repro`` with the wall time of every stage (``make reproduce`` runs it).

Streams DVC's output unchanged and timestamps its ``Running stage 'NAME':`` lines; a stage lasts
until the next one starts or DVC exits. Writes ``results/stage_times.md`` (stage, seconds, share of
the total; the machine's cores and load at the start) when DVC succeeded and ran at least one stage,
so a no-op rerun keeps the last measured table. Exits with DVC's status.

A rerun is a replication (issue 23): before DVC runs, the per-seed values and claims tables in
``results/`` are snapshotted to ``results/replication/committed/``; after DVC succeeded the fresh
results are compared with them in ``results/replication.md`` and one summary line is printed last
(``cli.replication_cmd``, ``reports.replication``). Both are git-ignored.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

RUNNING = re.compile(r"Running stage '([^']+)'")


def stage_times(events: list[tuple[float, str]], end: float) -> list[tuple[str, float]]:
    """``[(start, stage), ...]`` in order and the end time -> ``[(stage, seconds), ...]``."""
    out = []
    for (start, name), nxt in zip(events, [t for t, _ in events[1:]] + [end]):
        out.append((name, nxt - start))
    return out


def table(times: list[tuple[str, float]], total: float, command: list[str], cores: int, load: float) -> str:
    lines = [
        "# Time per stage of the last `make reproduce`",
        "",
        f"`{' '.join(command)}` on {cores} cores (1-minute load average {load:.2f} at the start); "
        f"total {total / 60:.1f} min. Written by `python -m benchmark repro`.",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {seconds:.0f} | {100 * seconds / total:.1f}% |" for name, seconds in times]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from ..atomic import atomic_write_text
    from ..paths import project_root
    from .replication_cmd import default_snapshot, report, snapshot

    results = project_root() / "results"
    basis = default_snapshot(results)
    snapped = snapshot(results, basis)
    command = ["dvc", "repro", *args.dvc_args]  # as shown; run with this interpreter's dvc (no PATH needed)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    events: list[tuple[float, str]] = []
    with subprocess.Popen(
        [sys.executable, "-m", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        cwd=project_root(),
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            found = RUNNING.search(line)
            if found:
                events.append((time.perf_counter(), found.group(1)))
    end = time.perf_counter()
    if proc.returncode == 0 and events:
        times = stage_times(events, end)
        out = Path(args.out) if args.out else project_root() / "results" / "stage_times.md"
        atomic_write_text(out, table(times, end - started, command, os.cpu_count() or 1, load))
        print(f"wrote {out}: {len(times)} stages in {(end - started) / 60:.1f} min")
    if proc.returncode == 0 and snapped:
        print(report(basis, results, results / "replication.md"))
    return proc.returncode


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("repro", help="dvc repro, writing the wall time of every stage to results/stage_times.md")
    p.add_argument("--out", help="the table's path (default: results/stage_times.md)")
    p.add_argument("dvc_args", nargs=argparse.REMAINDER, help="arguments passed to dvc repro")
    p.set_defaults(func=run)

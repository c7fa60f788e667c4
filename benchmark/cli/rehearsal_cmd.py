"""``rehearsal``: the paper profile's path, end to end, on this CPU (README "The rehearsal"; issue 25).

The steps, each a child process of ``python -m benchmark`` (so each one's peak host memory is its own,
read from ``os.wait4``'s resource usage, like ``/usr/bin/time -v``'s "Maximum resident set size"):

1. ``rehearsal-folder``: the generated CYBORG-layout folder where ``paper_datasets.rehearsal_faces``'s
   ``root`` points (written once; an existing one is reused);
2. ``data build`` of ``rehearsal_faces`` and ``rehearsal_faces_7x``: the same ``annotated_folder`` code a
   user's copy of the CYBORG data goes through, at 224 px;
3. one ``run`` of ERM on ResNet-50 on the 7x data with the faces rehearsal block's saliency evaluation (the
   peak memory of a run against the size of its arrays);
4. ``sweep`` of faces, faces_more and decoy at ``--profile rehearsal`` (the studies' rehearsal blocks: every
   method of the paper grids on the paper networks, a few steps each), records under DEST/runs;
5. ``stats`` of faces and decoy on those records.

DEST/rehearsal.md tables each step's wall time, peak RSS and, for the builds, the bytes of the built
arrays; DEST/rehearsal.json holds the same numbers. A failing step stops the rehearsal (exit 1), naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FACES = ("rehearsal_faces", "rehearsal_faces_7x")
STUDIES = ("faces", "faces_more", "decoy")
STATS = ("faces", "decoy")
SINGLE_EVALUATION = ("attributions=[cam, gradcam, gradient]", "sanity=false", "probe_size=8")  # the faces block's


def measured(argv: list[str], label: str) -> dict[str, Any]:
    """Run ``python -m benchmark ARGV`` as a child; its wall seconds, peak RSS (bytes) and exit status."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "benchmark", *argv])
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "step": label,
        "command": "python -m benchmark " + " ".join(argv),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_bytes": int(usage.ru_maxrss) * 1024,  # Linux: kibibytes
        "exit": child.returncode,
    }


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*.npy") if path.is_file())


def report(steps: list[dict[str, Any]]) -> str:
    from tabulate import tabulate

    rows = [
        [
            s["step"],
            f"{s['seconds']:.1f}",
            f"{s['peak_rss_bytes'] / 2**20:.0f}",
            "" if s.get("array_bytes") is None else f"{s['array_bytes'] / 2**20:.0f}",
            s["exit"],
        ]
        for s in steps
    ]
    table = tabulate(rows, ["step", "seconds", "peak RSS (MiB)", "built arrays (MiB)", "exit"], tablefmt="github")
    total = sum(s["seconds"] for s in steps)
    return (
        "# The rehearsal: the paper path on this CPU\n\n"
        'Written by `python -m benchmark rehearsal` (README "The rehearsal"). Peak RSS: each step\'s own '
        "child process (`os.wait4`, as `/usr/bin/time -v`).\n\n" + table + f"\n\nTotal: {total:.0f} s.\n"
    )


def main(args: argparse.Namespace) -> int:
    from ..config import load_params
    from ..data.dataset_store import default_data_root, find
    from ..data.folder_source import folder_root
    from ..data.paper_variants import resolve_variant

    params = load_params()
    family, faces_params = resolve_variant(FACES[0], params)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, Any]] = []

    def step(argv: list[str], label: str) -> bool:
        steps.append(measured(argv, label))
        print(
            f"rehearsal: {label}: {steps[-1]['seconds']:.1f} s, peak RSS {steps[-1]['peak_rss_bytes'] / 2**20:.0f} MiB"
        )
        return steps[-1]["exit"] == 0

    root = folder_root(faces_params["root"])
    plan: list[tuple[list[str], str]] = []
    if not root.exists():
        plan.append((["rehearsal-folder", str(root)], "write the CYBORG-layout folder"))
    plan += [(["data", "build", name], f"data build {name}") for name in FACES]
    plan.append(
        (
            [
                "run",
                "--method",
                "erm",
                "--arch",
                "resnet50",
                "--dataset",
                FACES[1],
                "--profile",
                "rehearsal",
                "--out",
                str(dest / "single"),
                "--quiet",
                *(arg for setting in SINGLE_EVALUATION for arg in ("--eval", setting)),
            ],
            f"one run: erm/resnet50/{FACES[1]}",
        )
    )
    plan += [
        (["sweep", study, "--profile", "rehearsal", "--out", str(dest / "runs" / study), "--quiet"], f"sweep {study}")
        for study in STUDIES
    ]
    plan += [
        (
            [
                "stats",
                study,
                "--profile",
                "rehearsal",
                "--out",
                str(dest / "runs" / study),
                "--dest",
                str(dest / "stats"),
            ],
            f"stats {study}",
        )
        for study in STATS
    ]
    for argv, label in plan:
        ok = step(argv, label)
        if argv[:2] == ["data", "build"]:
            name = argv[2]
            built = find(*resolve_variant(name, params), default_data_root())
            steps[-1]["array_bytes"] = None if built is None else folder_bytes(built)
        if not ok:
            break
    (dest / "rehearsal.json").write_text(json.dumps({"family": family, "steps": steps}, indent=2) + "\n")
    (dest / "rehearsal.md").write_text(report(steps))
    failed = [s["step"] for s in steps if s["exit"] != 0]
    print(f"rehearsal: {'FAILED at ' + failed[0] if failed else 'passed'}; {dest / 'rehearsal.md'}")
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rehearsal", help="the paper path end to end on this CPU: build, one run, sweeps, stats")
    p.add_argument(
        "--dest", default="results/rehearsal", help="folder of the records and the report (default: results/rehearsal)"
    )
    p.set_defaults(func=main)

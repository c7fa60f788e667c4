"""``profile``: what each method's training step costs on this machine, measured and explained.

For each architecture x method, on a seeded synthetic fully annotated batch with the training
profile's batch size and optimizer: the step time (median, IQR, images/s) from interleaved rounds
of ``torch.utils.benchmark.Timer``, the ratio to ERM with a bootstrap CI beside the ratio the
method's declared ``Cost`` predicts from unit times measured on ERM's network, the phase breakdown
(``salbench.*`` profiler ranges on the CPU, CUDA timing events on a GPU), the step's own peak memory and
its FLOPs (``benchmark.profiling``). The steps run as the profile's runs do: its precision, its
``deterministic`` switch (cuDNN's autotuner on when false) and the training layout (channels-last on the
CPU and on CUDA: ``benchmark.models.layout``).

Everything is checked before anything is measured (one line naming the value, exit 2, nothing
written): the training profile, method and architecture names, the image shape each network
needs, batch size and settings, device, precision, the label (a plain file name) and ``--out``
(not a file). Writes ``LABEL.json``, ``LABEL.md``, ``LABEL.overhead.png`` and ``LABEL.phases.png``
into ``--out`` (default ``results/profiles``), each atomically, once everything is measured.

Accepted submissions join by default: without ``--methods`` every registered method is timed, and a
submission's method file is in ``methods/`` (the file its bundle pins), so the pipeline's profile stage
(dvc.yaml ``profile@quick``) times them in the same rounds as the seed methods and the leaderboard reads
every row's overhead from that one run (``reports.leaderboard.submissions``) rather than the number a bundle
measured on its author's machine. No flag, so the stage cannot leave them out by omission; the command
names the submissions it timed, and those of ``results/submissions/*/claim.json`` it did not (``--methods``
without them, or a method that is not registered), whose leaderboard cell stays the bundle's own cost.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
from pathlib import Path

from .run_cmd import DEFAULT_PROFILE, check_out_folder, checked_device, checked_precision

DEFAULT_ARCHS = ("simple_cnn", "gap_cnn")
DEFAULT_OUT = "results/profiles"  # under the project root
SUBMISSIONS = "results/submissions"  # the accepted submissions' bundles, METHOD/claim.json, under the project root
DEFAULTS = {
    "rounds": 10,
    "min_run_time": 0.05,
    "warmup": 2,
    "unit_rounds": 10,
    "phase_steps": 2,
    "bootstrap_reps": 10_000,
}  # = benchmark.profiling.measure.Settings (tested equal; read here without torch)
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check(value: object, flag: str, low: float, kind: type = int) -> None:
    """``value`` is an integer (or, with ``kind=float``, a finite number) >= ``low``; else one line naming ``flag``."""
    from ..contracts import ContractError

    number = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int)
    if not number or not math.isfinite(value) or value < low:
        what = "an integer" if kind is int else "a finite number"
        raise ContractError(f"{flag} must be {what} >= {low:g}, got {value!r}")


def check_settings(args: argparse.Namespace) -> None:
    """The numeric flags, each in its range (named by its flag), and the label."""
    from ..contracts import ContractError

    lows = {
        "batch_size": 1,
        "image_size": 1,
        "channels": 1,
        "threads": 1,
        "rounds": 2,
        "warmup": 0,
        "unit_rounds": 1,
        "phase_steps": 1,
        "bootstrap_reps": 100,
        "seed": 0,
    }
    for name, low in lows.items():
        if getattr(args, name) is not None:
            _check(getattr(args, name), "--" + name.replace("_", "-"), low)
    _check(args.min_run_time, "--min-run-time", 0.0, float)
    if args.min_run_time == 0:
        raise ContractError("--min-run-time must be > 0 seconds, got 0")
    if not LABEL.fullmatch(args.label):
        raise ContractError(
            f"--label {args.label!r} must be a plain file name (letters, digits, '.', '_', '-'; "
            f"starting with a letter or digit)"
        )


def checked_methods(names: list[str] | None) -> list[str]:
    """The methods asked for (each must be registered and load), else every registered one except
    private names (``_...``, test-only registrations); ERM first."""
    from ..profiling.ratios import method_order
    from ..registry import METHODS

    if names:
        for name in names:
            METHODS.get(name)  # unknown -> UnknownName with the closest name; broken plug-in -> its error
        return method_order(names)
    return method_order([n for n in METHODS.names() if not n.startswith("_")])


def accepted_submissions(root: Path) -> list[str]:
    """The methods of ``root/results/submissions/*/claim.json`` whose method file (``method_file``, relative
    to ``root``) exists: the submissions the leaderboard shows; an unreadable claim is skipped (the leaderboard
    names it)."""
    import json

    found = []
    for claim_path in sorted((root / SUBMISSIONS).glob("*/claim.json")):
        try:
            claim = json.loads(claim_path.read_text(encoding="utf-8"))
            method, file = str(claim["method"]), str(claim["method_file"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (root / file).is_file():
            found.append(method)
    return found


def submissions_line(accepted: list[str], timed: list[str]) -> str:
    """What the run did with the accepted submissions: timed here, or left to their bundle's cost ("" if none)."""
    joined = [m for m in accepted if m in timed]
    missing = [m for m in accepted if m not in timed]
    parts = [f"timed with the seed methods: {', '.join(joined)}"] if joined else []
    if missing:
        parts.append(
            f"not timed: {', '.join(missing)} (not among the methods profiled; the leaderboard shows their "
            "bundle's cost, not re-measured)"
        )
    return f"accepted submissions {'; '.join(parts)}" if parts else ""


def checked_archs(args: argparse.Namespace) -> list[tuple[str, int, int]]:
    """(arch, channels, image side) per architecture asked for; each network is built once on the
    CPU for that shape, so a shape it cannot take is refused now (e.g. simple_cnn below 6x6)."""
    from ..contracts import ContractError
    from ..models.build import build_network
    from ..profiling.case import NUM_CLASSES, default_shape
    from ..registry import ARCHS

    out = []
    for arch in dict.fromkeys(args.archs or DEFAULT_ARCHS):
        ARCHS.get(arch)
        channels, side = default_shape(arch)
        channels = args.channels or channels
        side = args.image_size or side
        try:
            build_network(arch, channels, NUM_CLASSES, side)
        except ContractError as exc:
            raise ContractError(f"--archs {arch} with images {channels}x{side}x{side}: {exc}") from exc
        out.append((arch, channels, side))
    return out


def command_line(
    args: argparse.Namespace,
    methods: list[str],
    archs: list[tuple[str, int, int]],
    batch_size: int,
    device: str,
    precision: str,
    threads: int,
) -> str:
    """The fully resolved command (every default written out), as stored in the profile."""
    parts = [
        "python",
        "-m",
        "benchmark",
        "profile",
        "--profile",
        args.profile,
        "--methods",
        *methods,
        "--archs",
        *[a for a, _, _ in archs],
        "--batch-size",
        str(batch_size),
    ]
    if args.channels:
        parts += ["--channels", str(args.channels)]
    if args.image_size:
        parts += ["--image-size", str(args.image_size)]
    parts += [
        "--device",
        device,
        "--precision",
        precision,
        "--threads",
        str(threads),
        "--rounds",
        str(args.rounds),
        "--min-run-time",
        f"{args.min_run_time:g}",
        "--warmup",
        str(args.warmup),
        "--unit-rounds",
        str(args.unit_rounds),
        "--phase-steps",
        str(args.phase_steps),
        "--bootstrap-reps",
        str(args.bootstrap_reps),
        "--seed",
        str(args.seed),
        "--label",
        args.label,
        "--out",
        args.out or DEFAULT_OUT,
    ]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..config import load_params
    from ..paths import project_root
    from ..runs.run import select_device
    from ..runs.training import check_optimizer
    from ..sweeps.study import load_profile

    profile = load_profile(args.profile, load_params())
    args.label = args.label if args.label is not None else profile.name
    out = Path(args.out) if args.out else project_root() / DEFAULT_OUT
    check_settings(args)
    check_out_folder(out)
    device = checked_device(args, profile)
    precision = checked_precision(args, profile, device)
    optimizer = dict(profile.settings.get("optimizer") or {"name": "adam"})
    check_optimizer(optimizer)
    methods = checked_methods(args.methods)
    archs = checked_archs(args)
    batch_size = args.batch_size if args.batch_size is not None else int(profile.settings["batch_size"])
    threads = args.threads or profile.threads or torch.get_num_threads()
    command = command_line(args, methods, archs, batch_size, device, precision, threads)

    from ..profiling import measure, outputs  # every input is checked: now load the measuring machinery

    settings = measure.Settings(
        rounds=args.rounds,
        min_run_time=args.min_run_time,
        warmup=args.warmup,
        unit_rounds=args.unit_rounds,
        phase_steps=args.phase_steps,
        bootstrap_reps=args.bootstrap_reps,
        seed=args.seed,
    )
    doc = measure.run_profile(
        args.label,
        command,
        archs,
        methods,
        batch_size,
        optimizer,
        select_device(device),
        precision,
        threads,
        settings,
        progress=not args.quiet,
        extra_settings={"training_profile": profile.name, "optimizer": optimizer},
        deterministic=bool(profile.settings.get("deterministic", True)),
    )
    written = outputs.write(out, doc)
    line = submissions_line(accepted_submissions(project_root()), methods)
    if line:
        print(line)
    for case in doc["cases"]:
        worst = max(case["methods"], key=lambda r: r["measured_over_theoretical"])
        print(
            f"{case['arch']}: {len(case['methods'])} methods, ERM step {1e3 * case['methods'][0]['step_median_s']:.2f} ms; "
            f"highest measured/theoretical: {worst['method']} {worst['measured_over_theoretical']:.2f} "
            f"({'within' if worst['within_target'] else 'above'} the target {doc['target']:g})"
        )
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("profile", help="time every method's training step against ERM's and its declared cost")
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="METHOD",
        help="methods to profile (default: every registered "
        "one, plug-ins included); ERM is always included as the baseline",
    )
    p.add_argument("--archs", nargs="+", metavar="ARCH", help=f"architectures (default: {' '.join(DEFAULT_ARCHS)})")
    p.add_argument("--batch-size", type=int, help="default: the training profile's")
    p.add_argument("--image-size", type=int, help="image side (default: 28 for simple_cnn, 32 otherwise)")
    p.add_argument("--channels", type=int, help="image channels (default: 1 for simple_cnn, 3 otherwise)")
    p.add_argument("--device", help="auto (GPU when present), cpu, cuda, cuda:1, ... (default: the profile's)")
    p.add_argument(
        "--precision", metavar="fp32|bf16|fp16", help="training-step autocast (default: the profile's, else fp32)"
    )
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="params.yaml training profile: batch size, optimizer, device, threads, precision (default: quick)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads (default: the profile's threads, else all)")
    p.add_argument("--label", help="file name of the outputs (default: the training profile's name)")
    p.add_argument("--out", help="output folder (default: results/profiles)")
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULTS["rounds"],
        help="interleaved timing rounds, at least 2 (default %(default)s)",
    )
    p.add_argument(
        "--min-run-time",
        type=float,
        default=DEFAULTS["min_run_time"],
        help="seconds of timed steps per method per round, at least one step (default %(default)s)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=DEFAULTS["warmup"],
        help="warm-up steps per method before the rounds (default %(default)s)",
    )
    p.add_argument(
        "--unit-rounds",
        type=int,
        default=DEFAULTS["unit_rounds"],
        help="interleaved rounds of the unit measurements (default %(default)s)",
    )
    p.add_argument(
        "--phase-steps",
        type=int,
        default=DEFAULTS["phase_steps"],
        help="profiled (untimed) steps per method for the phase breakdown (default %(default)s)",
    )
    p.add_argument(
        "--bootstrap-reps",
        type=int,
        default=DEFAULTS["bootstrap_reps"],
        help="bootstrap resamples of the ratio CI, at least 100 (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the batch, the initial weights and the bootstraps")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)

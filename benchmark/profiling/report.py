"""The Markdown form of a profile: a header (machine, CPU, threads, device, precision, torch, commit,
settings) and one table per architecture (``tabulate``, GitHub format), every cell filled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from ..contracts import COST_UNITS
from .breakdown import PARTS

UNIT_NAMES = {
    "forward": "forward",
    "backward": "backward",
    "input_backward": "input-only backward",
    "double_backward": "double backward",
    "grad_cam": "Grad-CAM weights",
}
MIB = 2**20


def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.2f}"


def header(doc: Mapping[str, Any]) -> list[str]:
    """The lines above the tables."""
    m = doc["machine"]
    s = doc["settings"]
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return [
        f"# Step-time profile `{doc['label']}`",
        "",
        f"- machine: {m['hostname']} ({m['platform']}); CPU: {m['cpu']}, {m['cores']} cores{gpu}",
        f"- threads: {doc['threads']}; device: {doc['device']}; precision: {doc['precision']}; "
        f"torch {doc['torch']}; commit: {doc['commit'] or 'not a git checkout'}",
        f"- command: `{doc['command']}`",
        f"- timing: {s['warmup']} untimed steps per method, then {s['rounds']} interleaved rounds (order rotated "
        f"each round); per round and method `torch.utils.benchmark.Timer.blocked_autorange`: untimed steps to size its "
        f"blocks, then at least {s['min_run_time']:g} s of timed steps (at least one); step time: median [IQR] over "
        f"rounds; ratio to ERM: median of the per-round ratios, {s['confidence']:.0%} bootstrap CI over rounds "
        f"({s['bootstrap_reps']} resamples, {s['bootstrap_method']}, seeded); theoretical: the declared cost in unit "
        f"times measured on ERM's network ({s['unit_rounds']} interleaved rounds, medians); "
        f"target: measured/theoretical <= {doc['target']:g}",
        f"- phases: exclusive time of the `salbench.*` profiler ranges over {s['phase_steps']} untimed steps "
        f"(nested ranges subtracted from their parent, 'other' = the rest of the step), as shares of the step scaled "
        f"to its timed median; memory: peak of the step above its start ({'CUDA allocator' if doc['device'].startswith('cuda') else 'profiler memory events'}); "
        f"FLOPs: `FlopCounterMode` (matrix products and convolutions, forward and backward)",
        "",
    ]


def case_table(case: Mapping[str, Any]) -> str:
    """One architecture: a line of unit times, then a row per method."""
    units = ", ".join(f"{UNIT_NAMES[u]} {_ms(case['units_s'][u])} ms" for u in COST_UNITS)
    rows = []
    for r in case["methods"]:
        rows.append(
            {
                "method": r["method"],
                "cost": r["cost"],
                "step ms": _ms(r["step_median_s"]),
                "IQR ms": f"{_ms(r['step_iqr_s'][0])}-{_ms(r['step_iqr_s'][1])}",
                "images/s": f"{r['images_per_s']:.0f}",
                "ratio to ERM [95% CI]": f"{r['ratio_to_erm']:.2f} [{r['ratio_ci'][0]:.2f}, {r['ratio_ci'][1]:.2f}]",
                "theoretical": f"{r['theoretical_ratio']:.2f}",
                "measured/theoretical": f"{r['measured_over_theoretical']:.2f}",
                "within target": "yes" if r["within_target"] else "NO",
                **{f"{p} ms": _ms(r["phases_s"][p]) for p in PARTS},
                "peak MiB": f"{r['peak_memory_bytes'] / MIB:.2f}",
                "GFLOP": f"{r['flops'] / 1e9:.3f}",
                "GFLOP/s": f"{r['flops_per_s'] / 1e9:.2f}",
                "rounds": str(r["rounds"]),
            }
        )
    title = (
        f"## {case['arch']}, batch {case['batch_size']}x{case['channels']}x{case['image_size']}x{case['image_size']}"
    )
    return "\n".join(
        [
            title,
            "",
            f"Units (ERM's network, measured): {units}.",
            "",
            tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True),
            "",
        ]
    )


def markdown(doc: Mapping[str, Any]) -> str:
    """The whole ``LABEL.md``."""
    return "\n".join([*header(doc), *(case_table(c) for c in doc["cases"])])

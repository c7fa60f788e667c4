"""The two figures of a profile, as PNG bytes (matplotlib, Agg backend; nothing drawn on screen):

- ``overhead``: per architecture, grouped bars of each method's measured ratio to ERM (with its
  bootstrap CI) beside the ratio its declared cost predicts, a line at 1 (ERM);
- ``phases``: per architecture, each method's step as stacked phase bars, ms per step.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from .breakdown import PARTS


def _figure(panels: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, panels, figsize=(max(5.0, 4.5 * panels), 4.0), squeeze=False)
    return plt, fig, axes[0]


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def overhead_png(doc: Mapping[str, Any]) -> bytes:
    """Measured vs theoretical ratio to ERM per method, one panel per architecture."""
    plt, fig, axes = _figure(len(doc["cases"]))
    for ax, case in zip(axes, doc["cases"]):
        rows = case["methods"]
        at = np.arange(len(rows))
        measured = np.array([r["ratio_to_erm"] for r in rows])
        errors = np.array(
            [[r["ratio_to_erm"] - r["ratio_ci"][0], r["ratio_ci"][1] - r["ratio_to_erm"]] for r in rows]
        ).T
        ax.bar(
            at - 0.2,
            measured,
            0.4,
            yerr=np.clip(errors, 0, None),
            capsize=3,
            label="measured (95% CI)",
            color="tab:blue",
        )
        ax.bar(
            at + 0.2, [r["theoretical_ratio"] for r in rows], 0.4, label="theoretical (declared cost)", color="tab:gray"
        )
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(at, [r["method"] for r in rows], rotation=30, ha="right")
        ax.set_xlabel("method")
        ax.set_ylabel("step time / ERM's step time")
        ax.set_title(
            f"{case['arch']}, batch {case['batch_size']}x{case['channels']}x{case['image_size']}x{case['image_size']}"
        )
        ax.legend(fontsize="small")
    fig.suptitle(f"Training-step overhead ({doc['label']}, {doc['device']}, {doc['precision']})")
    return _png(plt, fig)


def phases_png(doc: Mapping[str, Any]) -> bytes:
    """Stacked phase bars (ms per step) per method, one panel per architecture."""
    plt, fig, axes = _figure(len(doc["cases"]))
    colors = dict(zip(PARTS, ("tab:red", "tab:orange", "tab:blue", "tab:green", "tab:purple", "tab:gray")))
    for ax, case in zip(axes, doc["cases"]):
        rows = case["methods"]
        at = np.arange(len(rows))
        bottom = np.zeros(len(rows))
        for part in PARTS:
            height = np.array([1e3 * r["phases_s"][part] for r in rows])
            ax.bar(at, height, 0.6, bottom=bottom, label=part, color=colors[part])
            bottom += height
        ax.set_xticks(at, [r["method"] for r in rows], rotation=30, ha="right")
        ax.set_xlabel("method")
        ax.set_ylabel("ms per step (timed median)")
        ax.set_title(f"{case['arch']}, batch {case['batch_size']}")
        ax.legend(fontsize="small")
    fig.suptitle(f"Where a step's time goes ({doc['label']}, {doc['device']}, {doc['precision']})")
    return _png(plt, fig)

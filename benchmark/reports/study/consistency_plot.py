"""The consistency figure: the probe-set-mean saliency map of every run, one row per method (as CYBORG's
README shows its test-set mean CAMs of independently trained models), with a reference row (mean probe
image, mean human annotation, mean wrong-reason mask) and each method's Spearman consistency with its
jackknife interval over the runs (``statistics.consistency``).

Every stored map is divided by its own maximum, so a run's mean map lies in [0, 1]; all map panels
share one colour scale (colour bar), so brightness is comparable across methods and seeds. A run
the study expects but that is not done is an empty panel naming its state.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .consistency import ConsistencyResult, GroupKey
from .tables import Completeness

DPI = 110


def file_name(group: GroupKey) -> str:
    return "consistency_" + "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", part).strip("-") for part in group) + ".png"


def _display(image: np.ndarray) -> np.ndarray:
    low, high = float(np.min(image)), float(np.max(image))
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def plot_group(result: ConsistencyResult, completeness: Completeness, group: GroupKey, folder: Path) -> str:
    """Write the figure of one (dataset, arch, split, attribution) group into ``folder``; return its name."""
    from matplotlib.figure import Figure

    dataset, arch, split, attribution = group
    maps = result.mean_maps[group]
    refs = result.references.get((dataset, arch, split), {})
    summary = result.summary.set_index(["dataset", "arch", "split", "attribution", "method"])
    methods = list(maps)
    expected = {m: completeness.cell_runs(dataset, arch, m).sort_values("seed") for m in methods}
    ncols = max([len(e) for e in expected.values()] + [len(refs), 1])
    nrows = len(methods) + (1 if refs else 0)
    width, height = 1.55 * ncols + 2.6, 1.6 * nrows + 0.9
    fig = Figure(figsize=(width, height))
    # fixed margins in inches (the method labels on the left, the colour bar on the right, the title on top):
    # a constrained layout over this many panels took most of the `stats` command's time
    fig.subplots_adjust(
        left=1.1 / width, right=1 - 1.0 / width, bottom=0.1 / height, top=1 - 1.0 / height, wspace=0.12, hspace=0.3
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    row0 = 0
    if refs:
        for j, (label, image) in enumerate(refs.items()):
            ax = axes[0, j]
            if image.ndim == 3:
                ax.imshow(_display(image), interpolation="nearest")
            else:
                probe = label.startswith("probe")
                ax.imshow(
                    image,
                    cmap="gray" if probe else ("Greens" if label.startswith("human") else "Reds"),
                    vmin=None if probe else 0,
                    vmax=None if probe else 1,
                    interpolation="nearest",
                )
            ax.set_title(label, fontsize=7)
        for j in range(len(refs), ncols):
            axes[0, j].set_visible(False)
        axes[0, 0].set_ylabel("reference", fontsize=8)
        row0 = 1
    image = None
    vmax = max([float(m.max()) for runs in maps.values() for m in runs.values()] + [1e-12])
    for i, method in enumerate(methods):
        row = axes[row0 + i]
        runs = expected[method]
        for j, (seed, state) in enumerate(zip(runs["seed"], runs["state"])):
            ax = row[j]
            if int(seed) in maps[method]:
                image = ax.imshow(maps[method][int(seed)], cmap="inferno", vmin=0, vmax=vmax, interpolation="nearest")
                ax.set_title(f"seed {seed}", fontsize=7)
            else:
                ax.text(
                    0.5,
                    0.5,
                    f"seed {seed}\n{state}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="tab:red",
                    transform=ax.transAxes,
                )
        for j in range(len(runs), ncols):
            row[j].set_visible(False)
        key = (dataset, arch, split, attribution, method)
        rho, low, high = (
            summary.loc[key, ["spearman", "spearman_low", "spearman_high"]] if key in summary.index else (np.nan,) * 3
        )
        text = (
            "ρ̄: n.a. (< 2 runs)"
            if pd.isna(rho)
            else (f"ρ̄ = {rho:.2f} (CI: < 3 runs)" if pd.isna(low) else f"ρ̄ = {rho:.2f} [{low:.2f}, {high:.2f}]")
        )
        row[0].set_ylabel(f"{method}\n{text}", fontsize=8)
    if image is not None:
        top = axes[row0, 0].get_position().y1
        bar = fig.colorbar(image, cax=fig.add_axes((1 - 0.8 / width, 0.1 / height, 0.12 / width, top - 0.1 / height)))
        bar.set_label("probe-set mean of the max-normalised map", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    n_images = (
        summary.xs((dataset, arch, split, attribution), level=[0, 1, 2, 3])["n_images"].max()
        if len(summary)
        else np.nan
    )
    images = f"{int(n_images)} probe images" if pd.notna(n_images) else "probe images"
    fig.suptitle(
        f"{attribution} maps of {dataset} / {arch}, split {split}: the mean over {images}, per run\n"
        "ρ̄ = Spearman between seeds, mean over seed pairs and images [95% jackknife CI over runs]; constant map = 0",
        fontsize=9,
    )
    fig.savefig(Path(folder) / file_name(group), format="png", dpi=DPI)
    return file_name(group)

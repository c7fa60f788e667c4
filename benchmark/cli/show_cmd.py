"""``show RUN``: a run's saliency summaries as tables, and a PNG of its probe maps and curves.

RUN is a record path or a run id (searched under ``--runs``, default ``results/runs``).
The PNG shows, for the first evaluated split, probe images (the decoy / distractor mask
outlined in red, the human annotation in cyan), the human map and every attribution's map,
then the masking, deletion and insertion curves and, when present, the sanity curve.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports happen inside the functions: the CLI starts without them
    from ..records.schema import RunRecord


def find_record(run: str, roots: list[Path]) -> Path:
    """A record path as given, else ``RUN.json`` anywhere under ``roots``."""
    from ..contracts import ContractError

    path = Path(run)
    if path.is_file():
        if path.suffix != ".json":
            raise ContractError(f"{path}: not a run record (a record is a RUN_ID.json file)")
        return path
    if path.is_dir():
        raise ContractError(
            f"{path}: a folder, not a run record; pass a RUN_ID.json file or a run id (with --runs FOLDER)"
        )
    if path.suffix == ".json" or len(path.parts) > 1 or not re.fullmatch(r"[A-Za-z0-9_.-]+", run):
        raise ContractError(f"{path}: no such record file (a run id is letters, digits, '_', '.', '-')")
    hits = sorted({p.resolve() for root in roots if Path(root).is_dir() for p in Path(root).rglob(f"{run}.json")})
    if not hits:
        raise ContractError(f"no record '{run}': not a file, and no {run}.json under {[str(r) for r in roots]}")
    if len(hits) > 1:
        raise ContractError(f"run id '{run}' matches several records: {[str(h) for h in hits]}; pass a path")
    return hits[0]


def summary_tables(record: RunRecord) -> str:
    """Per evaluated split and metric family, a table: rows = attributions then references,
    columns = metrics with their direction."""
    from tabulate import tabulate

    from ..saliency import metrics as registry
    from ..saliency.settings import REFERENCE_NAMES

    info = record.extra.get("saliency", {})
    parts = []
    for split in info.get("splits", []):
        cells: dict[str, dict[str, float]] = {}
        for metric_key, value in record.metrics.get(split, {}).items():
            row, name = registry.parse(metric_key)
            if row is not None:
                cells.setdefault(row, {})[name] = value
        order = [r for r in [*info.get("attributions", []), *REFERENCE_NAMES] if r in cells]
        accuracy = record.metrics.get(split, {}).get("accuracy")
        parts.append(f"== split {split}" + (f" (accuracy {accuracy:.3f})" if accuracy is not None else ""))
        for family in ("alignment", "faithfulness", "sanity", "diagnostic"):
            columns = [s.name for s in registry.SPECS if s.family == family and any(s.name in cells[r] for r in order)]
            rows = [[r] + [cells[r].get(c) for c in columns] for r in order if any(c in cells[r] for c in columns)]
            if rows:
                header = [family] + [
                    f"{c} {'↑' if registry.METRICS[c].direction == 'higher' else '↓'}" for c in columns
                ]
                parts.append(tabulate(rows, header, floatfmt=".3f", missingval="-"))
    sanity = info.get("sanity")
    if sanity:
        rows = [
            [stage + 1, block] + [sanity["similarity"][m][stage] for m in sanity["similarity"]]
            for stage, block in enumerate(sanity["blocks"])
        ]
        flags = ", ".join(m for m, bad in sanity["flagged"].items() if bad) or "none"
        parts.append(
            f"== sanity on {sanity['images']} images: Spearman(trained, randomized) per cascade stage, "
            f"lower is better; flagged (final >= {sanity['threshold']}): {flags}\n"
            f"{tabulate(rows, ['stage', 'randomized down to'] + list(sanity['similarity']), floatfmt='.3f')}"
        )
    return "\n\n".join(parts)


def _artifact(path: Path, record: RunRecord, name: str, loader=None):
    from ..records.artifacts import load_array

    loader = loader or load_array
    relative = record.artifacts.get(name)
    if relative is None:
        return None
    return loader(path, relative, record.extra.get("saliency", {}).get("sha256", {}).get(relative))


def _image(ax, image) -> None:
    ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=255)


def _outline(ax, mask, color: str) -> None:
    if mask is not None and mask.any():
        ax.contour(mask.astype(float), levels=[0.5], colors=color, linewidths=0.8)


def figure(path: Path, record: RunRecord, out: Path, rows: int) -> Path:
    """Write the PNG: probe grid of the first evaluated split, then its curves."""
    import matplotlib
    import numpy as np
    import torch

    from ..contracts import ContractError
    from ..records.artifacts import load_json
    from ..saliency.attributions import at_size

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = record.extra.get("saliency")
    if not info:
        raise ContractError(f"{path}: the record has no saliency evaluation (run without --no-saliency)")
    split, methods = info["splits"][0], info["attributions"]
    images = _artifact(path, record, f"saliency/{split}/images")
    labels = _artifact(path, record, f"saliency/{split}/labels")
    human = _artifact(path, record, f"saliency/{split}/human")
    wrong = _artifact(path, record, f"saliency/{split}/wrong_reason")
    maps = {m: _artifact(path, record, f"saliency/{split}/{m}") for m in methods}
    size = images.shape[-2:]
    maps = {m: at_size(torch.from_numpy(a), tuple(size)).numpy() for m, a in maps.items()}
    threshold = record.config.get("evaluation", {}).get("annotation_threshold", 0.5)
    rows = min(rows, len(images))
    columns = ["image"] + (["human"] if human is not None else []) + methods
    curves = [
        (name, _artifact(path, record, f"saliency/{split}/{name}", load_json))
        for name in ("masking", "deletion", "insertion")
    ]
    sanity = _artifact(path, record, "saliency/sanity", load_json)
    panels = [c for c in curves if c[1]] + ([("sanity", sanity)] if sanity else [])
    cell = 1.35
    fig = plt.figure(figsize=(max(len(columns), 2 * len(panels)) * cell + 0.6, rows * cell + 3.2))
    height = rows * cell + 3.2
    grid = fig.add_gridspec(
        rows + 1, 1, height_ratios=[cell] * rows + [2.6], hspace=0.35, top=1 - 0.45 / height, bottom=0.5 / height
    )
    top = grid[:rows].subgridspec(rows, len(columns), wspace=0.05, hspace=0.08)
    for r in range(rows):
        annotation = None if human is None else human[r].astype(np.float32) >= threshold
        decoy = None if wrong is None else wrong[r].astype(bool)
        for c, column in enumerate(columns):
            ax = fig.add_subplot(top[r, c])
            ax.set_xticks([]), ax.set_yticks([])
            if column == "image":
                _image(ax, images[r])
                _outline(ax, annotation, "cyan")
                ax.set_ylabel(f"label {labels[r]}", fontsize=7)
            else:
                ax.imshow(human[r].astype(np.float32) if column == "human" else maps[column][r], cmap="inferno")
            _outline(ax, decoy, "red")
            if r == 0:
                ax.set_title(column.replace("_", " "), fontsize=7)
    bottom = grid[rows].subgridspec(1, len(panels), wspace=0.35)
    labels_of = {
        "masking": ("masked fraction (SGT)", "accuracy"),
        "deletion": ("deleted fraction (RISE)", "p(class)"),
        "insertion": ("inserted fraction (RISE)", "p(class)"),
        "sanity": ("cascade stage", "Spearman"),
    }
    for i, (name, table) in enumerate(panels):
        ax = fig.add_subplot(bottom[0, i])
        x_key = "stage" if name == "sanity" else next(iter(table[0]))
        for series in [k for k in table[0] if k not in (x_key, "block")]:
            ys = [np.nan if row[series] is None else row[series] for row in table]
            ax.plot(
                [row[x_key] for row in table],
                ys,
                label=series.replace("_", " "),
                linestyle="--" if series == "random" else "-",
                marker=".",
                markersize=3,
            )
        ax.set_xlabel(labels_of[name][0], fontsize=7)
        ax.set_ylabel(labels_of[name][1], fontsize=7)
        ax.tick_params(labelsize=6)
        if name == "sanity":
            ax.set_xticks(range(1, len(table) + 1), [row["block"] for row in table], rotation=60, fontsize=5)
    if panels:
        handles, names = fig.axes[-len(panels)].get_legend_handles_labels()
        fig.legend(
            handles, names, loc="lower center", ncol=len(names), fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.01)
        )
    fig.suptitle(
        f"{record.config['method']} / {record.config['arch']} / {record.config['dataset']} seed "
        f"{record.config['seed']}: split {split}  (red: decoy / distractor mask, cyan: annotation)",
        fontsize=8,
        y=1 - 0.12 / height,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return out


def show(args: argparse.Namespace) -> int:
    from ..contracts import ContractError
    from ..records.record_store import read_record

    if args.rows < 1:
        raise ContractError(f"--rows must be a positive integer, got {args.rows}")
    path = find_record(args.run, [Path(r) for r in (args.runs or ["results/runs"])])
    record = read_record(path)
    if record.status != "ok":
        raise ContractError(f"{path}: the run failed; nothing to show")
    print(f"record: {path}")
    print(summary_tables(record) or "no saliency evaluation in this record")
    if record.extra.get("saliency"):
        out = Path(args.png) if args.png else path.with_name(f"{record.run_id}.saliency.png")
        print(f"figure: {figure(path, record, out, args.rows)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("show", help="print a run's saliency summaries and write a PNG of its maps and curves")
    p.add_argument("run", help="a record path or a run id")
    p.add_argument(
        "--runs", action="append", default=None, help="folder searched for a run id (repeatable; default results/runs)"
    )
    p.add_argument("--png", help="where to write the figure (default: RUN_ID.saliency.png beside the record)")
    p.add_argument("--rows", type=int, default=8, help="probe images in the grid")
    p.set_defaults(func=show)

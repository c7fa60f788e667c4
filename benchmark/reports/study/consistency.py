"""Saliency consistency across runs of a study (docs/statistics.md §2.2), from the probe maps stored with its records.

Every run's saliency evaluation stores one map per probe image and attribution
(``saliency/<split>/<attribution>`` artifacts, float16, each map divided by its maximum) for
the same probe images for every run of a dataset (``saliency/<split>/index``; checked here: a
group whose runs saw different images is skipped and named). For each cell (dataset × arch),
split, attribution and method with at least two done runs, ``statistics.consistency`` gives the
mean over probe images of the mean over seed pairs of the Spearman correlation (primary), the
Pearson correlation of maps clipped at their 99th percentile and the top-10% IoU, a pair with a
constant map scoring 0 (the constant (run, image) maps are counted and shown), with a jackknife
t-interval over the runs (from 3 runs); methods are compared on the Spearman consistency, paired
by seed (jackknife t over the shared seeds, Holm over the method pairs of one cell, split and
attribution): the run, not the image, is the unit (``descriptions.CONSISTENCY_TESTS``). Maps are
compared at their stored resolution (the feature grid for CAM / Grad-CAM). The probe-set-mean map
of every run is kept for the figure (``consistency_plot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...statistics.consistency import MIN_RUNS, NEEDS_RUNS, compare, run_kernel, summarize
from ...statistics.descriptions import TestDescription, consistency_tests
from ...statistics.map_similarity import MEASURES, pair_similarities
from ...statistics.map_similarity import constant_maps as constant
from ..formatting import DASH, interval, markdown_table, pval
from .tables import Completeness

GroupKey = tuple[str, str, str, str]  # dataset, arch, split, attribution
ORDER = ("cam", "gradcam", "gradient", "input_x_gradient", "integrated_gradients")
LABELS = {"spearman": "Spearman", "pearson": "Pearson (clipped)", "topk_iou": "top-10% IoU"}


@dataclass
class ConsistencyResult:
    summary: pd.DataFrame  # one row per group x method: runs, images, measure means and CIs, flags
    comparisons: pd.DataFrame  # statistics.consistency.compare rows with the group columns
    mean_maps: dict[GroupKey, dict[str, dict[int, np.ndarray]]] = field(default_factory=dict)  # method -> seed -> map
    references: dict[tuple[str, str, str], dict[str, np.ndarray]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    tests: dict[str, TestDescription] = field(default_factory=lambda: consistency_tests(0.05))


def _saliency(records: Any, rid: str) -> dict[str, Any]:
    return records.record(rid).extra.get("saliency") or {}


def _ordered(names: set[str]) -> list[str]:
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def references(records: Any, rid: str, split: str) -> dict[str, np.ndarray]:
    """Probe-set means of one run's probe images (the same for every run of the dataset), human annotation
    and wrong-reason mask, when stored."""
    out = {}
    images = np.asarray(records.artifact(rid, f"saliency/{split}/images"), dtype=np.float64).mean(axis=0)
    out["probe images (mean)"] = images[0] if images.shape[0] == 1 else np.moveaxis(images, 0, -1) / 255.0
    for name, label in (("human", "human annotation (mean)"), ("wrong_reason", "wrong-reason mask (mean)")):
        if f"saliency/{split}/{name}" in records.record(rid).artifacts:
            out[label] = np.asarray(records.artifact(rid, f"saliency/{split}/{name}"), dtype=np.float64).mean(axis=0)
    return out


def constant_flag(count: int, runs: int, images: int) -> str:
    """The flag of a method whose maps include constant ones (scored 0 against every map)."""
    return f"{count} of {runs * images} (run, image) maps constant (scored 0)" if count else ""


def study_consistency(records: Any, completeness: Completeness, *, alpha: float = 0.05) -> ConsistencyResult:
    """Consistency of every (cell, split, attribution, method) group of the study's done runs.
    ``records`` is a ``RecordSet`` (or anything with its ``record(rid)`` and ``artifact(rid, name)``)."""
    runs = completeness.runs
    done = runs[runs["state"] == "done"].sort_values("seed", kind="stable")
    evaluated = [rid for rid in done["run_id"] if _saliency(records, rid).get("attributions")]
    done = done[done["run_id"].isin(evaluated)]
    rows, comparisons, problems = [], [], []
    mean_maps: dict[GroupKey, dict[str, dict[int, np.ndarray]]] = {}
    refs: dict[tuple[str, str, str], dict[str, np.ndarray]] = {}
    probe_of: dict[tuple[str, str], np.ndarray] = {}
    for dataset, arch in completeness.cells:
        cell_runs = done[(done["dataset"] == dataset) & (done["arch"] == arch)]
        if cell_runs.empty:
            continue
        splits = set.intersection(*(set(_saliency(records, r)["splits"]) for r in cell_runs["run_id"]))
        attributions = set.intersection(*(set(_saliency(records, r)["attributions"]) for r in cell_runs["run_id"]))
        for split in sorted(splits):
            bad = []
            for rid in cell_runs["run_id"]:
                index = np.asarray(records.artifact(rid, f"saliency/{split}/index"))
                first = probe_of.setdefault((dataset, split), index)
                if not np.array_equal(first, index):
                    bad.append(rid)
            if bad:
                problems.append(
                    f"{dataset} / {arch} / {split}: runs {', '.join(bad)} saw other probe images than the "
                    "dataset's first run: consistency not computed"
                )
                continue
            refs[(dataset, arch, split)] = references(records, cell_runs["run_id"].iloc[0], split)
            for attribution in _ordered(attributions):
                group: GroupKey = (dataset, arch, split, attribution)
                kernels: dict[str, tuple[list[int], np.ndarray]] = {}
                mean_maps[group] = {}
                for method in completeness.methods:
                    expected = completeness.cell_runs(dataset, arch, method)
                    if expected.empty:
                        continue
                    mine = cell_runs[cell_runs["method"] == method]
                    maps = [np.asarray(records.artifact(r, f"saliency/{split}/{attribution}")) for r in mine["run_id"]]
                    mean_maps[group][method] = {
                        int(s): m.astype(np.float64).mean(axis=0) for s, m in zip(mine["seed"], maps)
                    }
                    row: dict[str, Any] = {
                        "dataset": dataset,
                        "arch": arch,
                        "split": split,
                        "attribution": attribution,
                        "method": method,
                        "runs_expected": len(expected),
                        "runs_done": int((expected["state"] == "done").sum()),
                        "runs_used": len(maps),
                    }
                    flags = [completeness.missing_note(expected)] if completeness.missing_note(expected) else []
                    if len(maps) >= 2:
                        stacked = np.stack(maps)
                        pairs = pair_similarities(stacked)
                        kernels[method] = ([int(x) for x in mine["seed"]], run_kernel(pairs["spearman"]))
                        stats = summarize(pairs).set_index("measure")
                        row["n_images"] = int(stacked.shape[1])
                        row["n_pairs"] = len(maps) * (len(maps) - 1) // 2
                        row["constant_maps"] = int(constant(stacked).sum())
                        for m in MEASURES:
                            row.update(
                                {
                                    m: stats.loc[m, "mean"],
                                    f"{m}_low": stats.loc[m, "ci_low"],
                                    f"{m}_high": stats.loc[m, "ci_high"],
                                }
                            )
                        flags += [f for f in (constant_flag(row["constant_maps"], *stacked.shape[:2]),) if f]
                        if len(maps) < MIN_RUNS:
                            flags.append(f"CI {NEEDS_RUNS}")
                    else:
                        flags.append(f"{len(maps)} run(s) with maps: consistency needs >= 2")
                    row["flags"] = "; ".join(flags)
                    rows.append(row)
                if len(kernels) >= 2:
                    c = compare(kernels, "spearman")
                    c.insert(0, "attribution", attribution)
                    c.insert(0, "split", split)
                    c.insert(0, "arch", arch)
                    c.insert(0, "dataset", dataset)
                    comparisons.append(c)
    summary_columns = (
        [
            "dataset",
            "arch",
            "split",
            "attribution",
            "method",
            "runs_expected",
            "runs_done",
            "runs_used",
            "n_images",
            "n_pairs",
            "constant_maps",
        ]
        + [f"{m}{s}" for m in MEASURES for s in ("", "_low", "_high")]
        + ["flags"]
    )
    summary = pd.DataFrame(rows).reindex(columns=summary_columns)
    comparison = (
        pd.concat(comparisons, ignore_index=True)
        if comparisons
        else pd.DataFrame(
            columns=[
                "dataset",
                "arch",
                "split",
                "attribution",
                "method",
                "other",
                "measure",
                "n_runs",
                "mean_diff",
                "diff_low",
                "diff_high",
                "p",
                "note",
                "p_holm",
            ]
        )
    )
    return ConsistencyResult(summary, comparison, mean_maps, refs, problems, consistency_tests(alpha))


def consistency_metrics(result: ConsistencyResult) -> dict[str, Any]:
    """``{split/attribution: {method: {"dataset/arch": mean Spearman}}}`` for the DVC metrics file."""
    out: dict[str, Any] = {}
    for row in result.summary.dropna(subset=["spearman"]).itertuples(index=False):
        cell = out.setdefault(f"{row.split}/{row.attribution}", {}).setdefault(row.method, {})
        cell[f"{row.dataset}/{row.arch}"] = float(f"{row.spearman:.6g}")
    return out


def consistency_markdown(result: ConsistencyResult) -> list[str]:
    """The report section: what was computed, the per-method table and the paired comparisons."""
    tests = result.tests
    out = [
        "## Saliency consistency across runs",
        "",
        "Per probe image, the mean over all pairs of runs (seeds) of one method and cell of the similarity of "
        "their maps: Spearman ρ of the pixel ranks (primary), Pearson r of the maps clipped at their 99th "
        "percentile, IoU of the top-10% pixels (chance ≈ 0.053); a pair with a constant map scores 0 (the "
        "constant (run, image) maps are counted); then the mean over the probe images. 1 = every seed gives the "
        "same map; ≈ 0 = unrelated maps. Maps at their stored resolution (CAM / Grad-CAM: the feature grid). "
        f"Intervals: {tests['interval'].text()}.",
    ]
    if result.problems:
        out += [""] + [f"- {p}" for p in result.problems]
    if result.summary.empty:
        return out + ["", "No probe maps: the study's done runs have no saliency evaluation."]
    rows = []
    for _, r in result.summary.iterrows():
        row = {
            "cell": f"{r['dataset']} / {r['arch']}",
            "split": r["split"],
            "attribution": r["attribution"],
            "method": r["method"],
            "runs": f"{int(r['runs_used'])}/{int(r['runs_expected'])}",
            "images": DASH if pd.isna(r["n_images"]) else str(int(r["n_images"])),
            "constant maps": DASH if pd.isna(r["constant_maps"]) else str(int(r["constant_maps"])),
        }
        for m in MEASURES:
            row[f"{LABELS[m]} [95% CI] ↑"] = interval(r[m], r[f"{m}_low"], r[f"{m}_high"])
        row["flags"] = r["flags"] if isinstance(r["flags"], str) else ""
        rows.append(row)
    out += ["", markdown_table(pd.DataFrame(rows))]
    c = result.comparisons
    if not c.empty:
        alpha = float(tests["comparison"].alpha or 0.05)
        shown = pd.DataFrame(
            {
                "cell": c["dataset"] + " / " + c["arch"],
                "split": c["split"],
                "attribution": c["attribution"],
                "method": c["method"],
                "vs": c["other"],
                "paired runs": c["n_runs"].astype(int).astype(str),
                "Δ Spearman [95% CI]": [
                    interval(x, lo, hi) if pd.notna(x) else DASH
                    for x, lo, hi in zip(c["mean_diff"], c["diff_low"], c["diff_high"])
                ],
                "p": [pval(p) if pd.notna(p) else note for p, note in zip(c["p"], c["note"])],
                "p_Holm": [pval(p) + (" *" if pd.notna(p) and p < alpha else "") for p in c["p_holm"]],
            }
        )
        out += [
            "",
            "Paired comparison of the Spearman consistency over the seeds both methods have (Δ = method − vs, "
            f"each over those seeds): {tests['comparison'].text()}; * p_Holm < {alpha:g}:",
            "",
            markdown_table(shown),
        ]
    return out

"""The statistics of a study's records as files: what ``stats STUDY`` writes (``cli.stats_cmd``), and what
``submit`` writes for a study with a submitted method's runs added (``submission.protocol``).

``write_statistics`` validates the baseline and the metrics before computing anything (an unknown one
is a ``ContractError`` naming it and the known ones; nothing written), runs ``statistics.analyze`` per
family, the saliency consistency across runs and the overhead join, and writes atomically and
byte-identically on rerun the files ``cli.stats_cmd`` lists.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from ...atomic import atomic_folder, atomic_write_text
from ...contracts import ContractError
from ...paths import project_root
from ...records.profiles import load_overheads
from ...records.table import RecordSet
from ...saliency.metrics import spec
from ...statistics import analyze
from ..formatting import clean
from . import consistency_plot, plots
from .board import VERSIONED, StudyReport, detail_csv, markdown
from .consistency import consistency_markdown, consistency_metrics, study_consistency
from .overhead import overhead_note, overhead_rows, overhead_texts
from .tables import Completeness, board_rows, detail_rows, family_metrics, seeds_frame
from .tex import latex

AGREEMENT = ("auroc", "energy_pointing")
CAM_ROWS = ("cam", "gradcam")


def _declared(metric: str) -> bool:
    try:
        spec(metric)
    except KeyError:
        return False
    return True


def known_metrics(done: pd.DataFrame) -> list[str]:
    """Every ``SPLIT/METRIC`` of the done runs that has a declared direction, in record order."""
    pairs = dict.fromkeys(zip(done["split"], done["metric"]))
    return [f"{s}/{m}" for s, m in pairs if _declared(m)]


def default_metrics(done: pd.DataFrame) -> list[str]:
    """See the module docstring; only keys with at least one finite value."""
    finite = done[done["value"].notna()]
    present = dict.fromkeys(f"{s}/{m}" for s, m in zip(finite["split"], finite["metric"]))
    out = [k for k in present if k.split("/", 1)[0].startswith("test") and k.split("/", 1)[1] in ("accuracy", "auc")]
    splits = dict.fromkeys(k.split("/", 1)[0] for k in present if k.split("/", 1)[1].startswith("saliency/"))
    for split in splits:
        rows = [r for r in CAM_ROWS if any(k.startswith(f"{split}/saliency/{r}/") for k in present)] + ["gradient"]
        out += [f"{split}/saliency/{r}/{m}" for r in rows for m in AGREEMENT if f"{split}/saliency/{r}/{m}" in present]
    return out


def shown_path(path: Path) -> str:
    """A path as the report prints it: relative to the project when inside it (the same on every clone)."""
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def validate(args: argparse.Namespace, completeness: Completeness, done: pd.DataFrame) -> list[str]:
    """The families to analyse, or a ContractError naming what is wrong (before anything is computed)."""
    if not 0 < args.alpha < 1:
        raise ContractError(f"stats: --alpha must be in (0, 1), got {args.alpha}")
    if args.reps < 1 or args.bayes_samples < 1:
        raise ContractError("stats: --reps and --bayes-samples must be >= 1")
    methods = completeness.methods
    if args.baseline not in methods:
        raise ContractError(f"stats: unknown baseline '{args.baseline}'; the study's methods: {methods}")
    if done.empty:
        raise ContractError(
            f"stats: the study has no done runs in {args.folder} (run `python -m benchmark sweep {args.study}`)"
        )
    if args.baseline not in set(done["method"]):
        raise ContractError(
            f"stats: baseline '{args.baseline}' has no done run; methods with done runs: {sorted(set(done['method']))}"
        )
    known = known_metrics(done)
    keys = list(dict.fromkeys(args.metric)) if args.metric else default_metrics(done)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ContractError(f"stats: unknown metric(s) {unknown}; known: {known}")
    for key in keys:
        split, metric = key.split("/", 1)
        rows = done[(done["split"] == split) & (done["metric"] == metric)]
        if args.baseline not in set(rows["method"]):
            raise ContractError(f"stats: baseline '{args.baseline}' has no value of '{key}'")
    if not keys:
        raise ContractError(f"stats: no default metric in the records; name one with --metric (known: {known})")
    return keys


def figures(
    rep: StudyReport, consistency, completeness: Completeness, seeds: pd.DataFrame, folder: Path, link: str
) -> dict[str, str]:
    """Draw every figure into ``folder``; captions -> paths relative to the Markdown file."""
    out = {}
    named = [
        (
            "Critical-difference diagrams (mean ranks; bars: not separated by Wilcoxon–Holm over cells)",
            plots.cd_diagram(rep.families, folder),
        ),
        (
            "Forest plot: paired difference to the baseline per cell, 95% CI, zero line and ROPE band",
            plots.forest(rep.families, rep.details, folder),
        ),
        (
            "Cell means with 95% CIs, seeds as dots, the baseline's mean dashed",
            plots.cell_means(rep.families, rep.details, seeds, folder),
        ),
    ]
    for caption, name in named:
        out[caption] = f"{link}/{name}"
    shown = [a for a in CAM_ROWS if any(g[3] == a for g in consistency.mean_maps)][:1] + ["gradient"]
    for group in consistency.mean_maps:
        if group[3] in shown and consistency.mean_maps[group]:
            name = consistency_plot.plot_group(consistency, completeness, group, folder)
            out[f"Probe-set-mean {group[3]} map per run: {group[0]} / {group[1]}, split {group[2]}"] = f"{link}/{name}"
    return out


@dataclass
class Written:
    """What ``write_statistics`` computed and wrote."""

    completeness: Completeness
    keys: list[str]
    results: list
    boards: dict[str, pd.DataFrame]
    files: list[Path]
    figures: int
    folder: Path


@dataclass
class Tables:
    """The statistics of a study's records before anything is drawn or written."""

    completeness: Completeness
    done: pd.DataFrame
    keys: list[str]
    results: list
    details: dict[str, pd.DataFrame]
    boards: dict[str, pd.DataFrame]


def study_tables(records: RecordSet, args: argparse.Namespace) -> Tables:
    """Validate (``validate``), then ``statistics.analyze`` per family, the detail rows and the boards."""
    completeness = Completeness(records.runs)
    done = records.done()
    keys = validate(args, completeness, done)
    results = [
        analyze(
            done,
            key,
            args.baseline,
            alpha=args.alpha,
            reps=args.reps,
            seed=args.seed,
            scale=args.scale,
            bayes_samples=args.bayes_samples,
        )
        for key in keys
    ]
    details = {r.family.key: detail_rows(r, completeness) for r in results}
    boards = {r.family.key: board_rows(r, completeness, details[r.family.key]) for r in results}
    return Tables(completeness, done, keys, results, details, boards)


def write_statistics(study: Any, records: RecordSet, args: argparse.Namespace, dest: Path) -> Written:
    """Every table and figure of ``study``'s ``records`` (a ``sweeps.study.Study``: its name, profile and
    description head the report; options: ``register``'s flags; ``args.folder`` and
    ``args.study`` name the records in messages) into ``dest``; validated before anything is computed."""
    tables = study_tables(records, args)
    completeness, done, keys, results, details, boards = (
        tables.completeness,
        tables.done,
        tables.keys,
        tables.results,
        tables.details,
        tables.boards,
    )
    consistency = study_consistency(records, completeness, reps=args.reps, seed=args.seed)
    seeds = seeds_frame(done, keys)
    rep = StudyReport(
        study.name,
        study.profile.name,
        study.description or "",
        args.baseline,
        args.alpha,
        args.reps,
        args.seed,
        args.bayes_samples,
        args.scale,
        completeness,
        results,
        boards,
        details,
        versions(),
        consistency_markdown(consistency, args.alpha, args.reps, args.seed),
    )
    archs = list(dict.fromkeys(records.runs["arch"]))
    profiles = Path(args.profiles) if args.profiles else project_root() / "results" / "profiles"
    overheads = load_overheads(profiles, study.profile.name)
    rep.overhead = overhead_texts(completeness.methods, archs, overheads, args.baseline)
    rep.overhead_note = overhead_note(overheads, study.profile.name, shown_path(profiles))

    with atomic_folder(dest / study.name) as folder:
        rep.figures = figures(rep, consistency, completeness, seeds, folder, study.name)
    metrics = {
        "runs": completeness.counts(),
        **{k: family_metrics(boards[k], details[k]) for k in keys},
        "consistency": consistency_metrics(consistency),
    }
    tables = {
        "study": study.name,
        "profile": study.profile.name,
        "description": study.description or "",
        "baseline": args.baseline,
        "alpha": args.alpha,
        "bootstrap_reps": args.reps,
        "seed": args.seed,
        "bayes_samples": args.bayes_samples,
        "scale": args.scale,
        "versions": rep.versions,
        "runs": records.runs.drop(columns=["path", "current"]),
        "families": {
            r.family.key: {
                "direction": r.family.direction,
                "rope": r.family.rope,
                "leaderboard": boards[r.family.key],
                "detail": details[r.family.key],
                "friedman": r.friedman,
                "mean_ranks": r.mean_ranks,
                "pairwise_holm": r.pairwise,
                "versus_baseline_holm": r.versus_baseline,
                "gains": r.gains,
                "bayes_signed_rank": r.bayes,
                "win_tie_loss": r.wtl,
                "dropped_cells": [list(c) for c in r.dropped_cells],
            }
            for r in results
        },
        "consistency": {
            "summary": consistency.summary,
            "comparisons": consistency.comparisons,
            "problems": consistency.problems,
        },
        "overhead": {
            "files": overheads.files,
            "problems": overheads.problems,
            "rows": overhead_rows(completeness.methods, archs, overheads),
        },
    }
    base = dest / study.name
    written = {
        base.with_suffix(".md"): markdown(rep),
        base.with_suffix(".csv"): detail_csv(rep),
        base.with_suffix(".tex"): latex(rep),
        base.with_suffix(".json"): json.dumps(
            clean({"metrics": metrics}), indent=1, ensure_ascii=False, allow_nan=False
        )
        + "\n",
        dest / f"{study.name}.tables.json": json.dumps(clean(tables), indent=1, ensure_ascii=False, allow_nan=False)
        + "\n",
        dest / f"{study.name}.seeds.csv": seeds.to_csv(index=False, float_format="%.6g", lineterminator="\n"),
    }
    for path, text in written.items():
        atomic_write_text(path, text)
    return Written(completeness, keys, results, boards, list(written), len(rep.figures), base)

"""The statistics of a study's records as files: what ``stats STUDY`` writes (``cli.stats_cmd``), and what
``submit`` writes for a study with a submitted method's runs added (``submission.protocol``).

``write_statistics`` validates the baseline and the metrics before computing anything (an unknown one
is a ``ContractError`` naming it and the known ones; nothing written), runs ``statistics.analyze`` per
family, the saliency consistency across runs and the overhead join, and writes atomically and
byte-identically on rerun the files ``cli.stats_cmd`` lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
from ...statistics.descriptions import family_tests
from ...statistics.family import FamilyResult
from ..formatting import clean
from ..sources import sources_text
from . import consistency_plot, plots
from .board import VERSIONED, StudyReport, detail_csv, markdown
from .consistency import ConsistencyResult, consistency_markdown, consistency_metrics, study_consistency
from .labels import one_label_per_run_set
from .overhead import overhead_note, overhead_rows, overhead_texts
from .tables import Completeness, board_rows, detail_rows, family_metrics, seeds_frame
from .tables_file import ConsistencyTables, FamilyTables, OverheadTables, StudyTables
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


@dataclass(frozen=True)
class StatsOptions:
    """How ``stats`` analyses a study: built by the CLI from its flags and by the submission protocol.

    ``study`` and ``folder`` only name the records in messages; ``metrics`` empty means the defaults
    (``default_metrics``); ``profiles`` is the folder of stored step-time profiles (default
    ``results/profiles``)."""

    study: str
    folder: Path
    baseline: str = "erm"
    metrics: tuple[str, ...] = ()
    alpha: float = 0.05
    reps: int = 10_000
    seed: int = 0
    bayes_samples: int = 50_000
    scale: str = "rope"
    profiles: Path | None = None


def validate(args: StatsOptions, completeness: Completeness, done: pd.DataFrame) -> list[str]:
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
    keys = list(dict.fromkeys(args.metrics)) if args.metrics else default_metrics(done)
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
    tables: Tables, consistency: ConsistencyResult, seeds: pd.DataFrame, folder: Path, link: str
) -> dict[str, str]:
    """Draw every figure into ``folder``; captions -> paths relative to the Markdown file."""
    results, details, out = tables.results, tables.details, {}
    pairwise = (results[0].tests if results else family_tests(0.05))["pairwise"]
    named = [
        (
            f"Critical-difference diagrams (mean ranks; bars: not separated by {pairwise.short})",
            plots.cd_diagram(results, folder),
        ),
        (
            "Forest plot: paired difference to the baseline per cell, 95% CI, zero line and ROPE band",
            plots.forest(results, details, folder),
        ),
        (
            "Cell means with 95% CIs, seeds as dots, the baseline's mean dashed",
            plots.cell_means(results, details, seeds, folder),
        ),
    ]
    for caption, name in named:
        out[caption] = f"{link}/{name}"
    shown = [a for a in CAM_ROWS if any(g[3] == a for g in consistency.mean_maps)][:1] + ["gradient"]
    for group in consistency.mean_maps:
        if group[3] in shown and consistency.mean_maps[group]:
            name = consistency_plot.plot_group(consistency, tables.completeness, group, folder)
            out[f"Probe-set-mean {group[3]} map per run: {group[0]} / {group[1]}, split {group[2]}"] = f"{link}/{name}"
    return out


@dataclass
class Tables:
    """The statistics of a study's records before anything is drawn or written."""

    completeness: Completeness
    done: pd.DataFrame
    keys: list[str]
    results: list[FamilyResult]
    details: dict[str, pd.DataFrame]
    boards: dict[str, pd.DataFrame]
    families: dict[str, FamilyTables] = field(default_factory=dict)


@dataclass
class Written:
    """What ``write_statistics`` computed and wrote."""

    completeness: Completeness
    keys: list[str]
    results: list[FamilyResult]
    boards: dict[str, pd.DataFrame]
    files: list[Path]
    figures: int
    folder: Path
    tables: StudyTables


def study_tables(records: RecordSet, options: StatsOptions) -> Tables:
    """Validate (``validate``), then ``statistics.analyze`` per family, the detail rows and the boards."""
    completeness = Completeness(records.runs)
    done = records.done()
    keys = validate(options, completeness, done)
    results = [
        analyze(
            done,
            key,
            options.baseline,
            alpha=options.alpha,
            reps=options.reps,
            seed=options.seed,
            scale=options.scale,
            bayes_samples=options.bayes_samples,
        )
        for key in keys
    ]
    details = {r.family.key: detail_rows(r, completeness) for r in results}
    boards = {r.family.key: board_rows(r, completeness, details[r.family.key]) for r in results}
    families = {r.family.key: FamilyTables.from_result(r, boards[r.family.key], details[r.family.key]) for r in results}
    return Tables(completeness, done, keys, results, details, boards, families)


def done_ids(records: RecordSet) -> list[str]:
    """The run ids of the done runs (the ones every table reads)."""
    return list(records.runs.loc[records.runs["state"] == "done", "run_id"])


def write_statistics(study: Any, records: RecordSet, options: StatsOptions, dest: Path) -> Written:
    """Every table and figure of ``study``'s ``records`` (a ``sweeps.study.Study``: its name, profile and
    description head the report) into ``dest``; validated before anything is computed. Labels naming the same
    runs are one row (``labels.one_label_per_run_set``)."""
    records, merged = one_label_per_run_set(records, options.baseline)
    tables = study_tables(records, options)
    completeness, done, keys = tables.completeness, tables.done, tables.keys
    consistency = study_consistency(records, completeness, alpha=options.alpha)
    seeds = seeds_frame(done, keys)
    archs = list(dict.fromkeys(records.runs["arch"]))
    profiles = options.profiles if options.profiles else project_root() / "results" / "profiles"
    overheads = load_overheads(profiles, study.profile.name)
    study_file = StudyTables(
        study=study.name,
        profile=study.profile.name,
        description=study.description or "",
        baseline=options.baseline,
        alpha=options.alpha,
        bootstrap_reps=options.reps,
        seed=options.seed,
        bayes_samples=options.bayes_samples,
        scale=options.scale,
        versions=versions(),
        runs=records.runs.drop(columns=["path", "current"]),
        families=tables.families,
        consistency=ConsistencyTables(
            consistency.summary, consistency.comparisons, consistency.problems, consistency.tests
        ),
        overhead=OverheadTables(
            overheads.files, overheads.problems, overhead_rows(completeness.methods, archs, overheads)
        ),
        sources=sources_text(records.record(rid).config for rid in done_ids(records)),
        merged=merged,
    )
    rep = StudyReport.of(study_file, completeness, consistency_markdown(consistency))
    rep.overhead = overhead_texts(completeness.methods, archs, overheads, options.baseline)
    rep.overhead_note = overhead_note(overheads, study.profile.name, shown_path(profiles))

    with atomic_folder(dest / study.name) as folder:
        rep.figures = figures(tables, consistency, seeds, folder, study.name)
    metrics = {
        "runs": completeness.counts(),
        **{k: family_metrics(tables.boards[k], tables.details[k]) for k in keys},
        "consistency": consistency_metrics(consistency),
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
        dest / f"{study.name}.tables.json": study_file.to_text(),
        # round-trip floats (repr), not %.6g: a rerun's replication report compares them bitwise (issue 23)
        dest / f"{study.name}.seeds.csv": seeds.to_csv(index=False, lineterminator="\n"),
    }
    for path, text in written.items():
        atomic_write_text(path, text)
    return Written(completeness, keys, tables.results, tables.boards, list(written), len(rep.figures), base, study_file)

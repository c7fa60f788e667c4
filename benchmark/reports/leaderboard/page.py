"""The leaderboard page's rows (``python -m benchmark leaderboard``), gathered from statistics files only.

DomainBed style: nothing is trained or tested here. The inputs are what ``python -m benchmark stats``
wrote for each study of ``leaderboard:`` in params.yaml (``results/leaderboards/STUDY.tables.json``
and the figures in ``results/leaderboards/STUDY/``) and the accepted submissions'
``results/submissions/METHOD/claim.json`` (``leaderboard.submissions``). Typed tables in, rows out
(``leaderboard.rows``); the paper links come from the method registry (``Method.url``).

Per study, the overall table shows the study's *headline family* (its first test accuracy/AUC
family): the mean over the cells every method has (the cells the ranks use), the mean rank and
place, and the pooled paired difference to the baseline with a significance marker read from
the stats tables (``marker``), all read through the typed ``study.tables_file.StudyTables``. A submission's row comes from its claim; a claim whose method file
is absent or has changed since (sha256) is *stale*: shown greyed, never ranked; a claim at
another profile than a study's statistics is listed apart. A study's page shows the same rows for that
study alone (``study_gather``): its methods and the submissions whose claim covers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ...contracts import ContractError
from ...records.profiles import Overhead
from ...statistics import descriptions
from ..formatting import num, pval
from ..study.tables_file import FamilyTables, StudyTables
from .rows import (
    DOWN,
    MIXED,
    SAME,
    UP,
    Link,
    Marker,
    OverheadCell,
    Page,
    Row,
    Score,
    StudyInfo,
    cell_marker,
    link_of,
    method_name,
    number,
    verdict_word,
)
from .submissions import submissions

HEADLINE = ("accuracy", "auc")


def tables_path(folder: Path, study: str) -> Path:
    return Path(folder) / f"{study}.tables.json"


def load_tables(folder: Path, study: str, shown: str | None = None) -> StudyTables:
    """A study's typed tables file; a ContractError saying how to make it when absent, unreadable or malformed."""
    path = tables_path(folder, study)
    where = shown or str(path)
    if not path.is_file():
        raise ContractError(
            f"leaderboard: no statistics for study '{study}' ({where}); run python -m benchmark stats {study}"
        )
    try:
        return StudyTables.read(path, where)
    except ContractError as exc:
        raise ContractError(f"leaderboard: {exc}; run python -m benchmark stats {study}") from exc


# --- one study --------------------------------------------------------------------------------------------


def headline_family(tables: StudyTables) -> str:
    """The first ``test*/accuracy`` or ``test*/auc`` family of the study, else its first family."""
    keys = list(tables.families)
    return next((k for k in keys if k.split("/", 1)[0].startswith("test") and k.split("/", 1)[1] in HEADLINE), keys[0])


def complete_cells(fam: FamilyTables) -> list[tuple[str, str]]:
    """The family's cells that every method has (the detail's cells minus the dropped ones), in table order."""
    dropped = set(fam.dropped_cells)
    cells = dict.fromkeys((d["dataset"], d["arch"]) for d in fam.detail_rows)
    return [c for c in cells if c not in dropped]


def study_info(tables: StudyTables) -> StudyInfo:
    key = headline_family(tables)
    fam = tables.families[key]
    return StudyInfo(
        tables.study,
        tables.profile,
        tables.description,
        tables.baseline,
        tables.alpha,
        key,
        fam.family.direction,
        fam.family.rope,
        complete_cells(fam),
        fam.tests,
    )


def study_marker(tables: StudyTables, key: str, method: str) -> Marker:
    """The marker of ``method`` vs the baseline in family ``key``, from the stats tables: the Wilcoxon-Holm
    test over cells when it could run (N >= 6 cells), else the per-cell paired t-tests, BH-adjusted."""
    fam, base, alpha = tables.families[key], tables.baseline, tables.alpha
    tests = fam.tests
    if method == base:
        return Marker("", "")
    paired = [d for d in fam.detail_rows if d.get("p_t") is not None]
    mine = [d for d in paired if d["method"] == method]
    across = next((v for v in fam.versus_baseline_rows if v.get("method") == method), None)
    lines, symbol = [], cell_marker(mine)
    if across and across.get("status") == "ok" and across.get("p_holm") is not None:
        tested = sum(v.get("status") == "ok" for v in fam.versus_baseline_rows)
        separated = across["p_holm"] < alpha and (across.get("median_gain") or 0) != 0
        better = (across.get("median_gain") or 0) > 0
        symbol = (UP if better else DOWN) if separated else (SAME if symbol == SAME else "")
        lines.append(
            f"Across cells (decides the marker): {tests['across_cells'].text()}: {across.get('n_cells')} cells, "
            f"{tested} methods vs {base}: p_Holm = {pval(across['p_holm'])} (raw {pval(across.get('p'))}): "
            + (("better" if better else "worse") if separated else "not separated")
            + "."
        )
    elif across:
        lines.append(
            f"Across cells: not tested ({across.get('reason') or across.get('status')}); the marker "
            "follows the per-cell tests."
        )
    lines.append(
        f"Per cell: {tests['per_cell'].text()}: {len(paired)} cell × method comparisons of {key}; equivalence: "
        f"{tests['equivalence'].text()}, ROPE ±{fam.family.rope:g}."
    )
    for d in mine:
        lines.append(
            f"{d['dataset']} / {d['arch']}: Δ = {num(d.get('gain'))}, p = {pval(d.get('p_t'))}, "
            f"p_BH = {pval(d.get('p_bh'))}: {verdict_word(d)}; TOST p_BH = {pval(d.get('p_tost_bh'))}"
            + (" (equivalent)" if d.get("equivalent") else "")
            + "."
        )
    if not mine:
        lines.append("No paired test (no cell shares seeds with the baseline).")
    return Marker(symbol, "\n".join(lines))


def study_scores(tables: StudyTables) -> dict[str, Score]:
    """Label -> the headline numbers of every method on the study's board."""
    key = headline_family(tables)
    fam = tables.families[key]
    cells = set(complete_cells(fam))
    board = fam.board_rows
    ranked = sum(b.get("place") is not None for b in board)
    out = {}
    for b in board:
        means = [
            d["mean"]
            for d in fam.detail_rows
            if d["method"] == b["method"] and (d["dataset"], d["arch"]) in cells and number(d.get("mean")) is not None
        ]
        out[b["method"]] = Score(
            mean=sum(means) / len(means) if means else None,
            mean_rank=number(b.get("mean_rank")),
            place=b.get("place"),
            of=ranked if b.get("place") is not None else None,
            delta=number(b.get("delta")),
            low=number(b.get("delta_low")),
            high=number(b.get("delta_high")),
            marker=study_marker(tables, key, b["method"]),
            baseline=b["method"] == tables.baseline,
        )
    return out


# --- overhead ---------------------------------------------------------------------------------------------


def overheads(all_tables: list[StudyTables]) -> dict[tuple[str, str], Overhead]:
    """(method, arch) -> the stored ratio to ERM, from the studies' ``overhead.rows`` (first study wins)."""
    out: dict[tuple[str, str], Overhead] = {}
    for tables in all_tables:
        for r in tables.overhead.rows:
            out.setdefault(
                (r.method, r.arch),
                Overhead(
                    r.method,
                    r.arch,
                    r.ratio,
                    r.ratio_low,
                    r.ratio_high,
                    r.theoretical_ratio,
                    r.step_ms,
                    r.precision,
                    r.source,
                ),
            )
    return out


def study_cost(label: str, arch: str, found: Mapping[tuple[str, str], Overhead]) -> OverheadCell:
    """A study method's overhead cell on ``arch`` (a labelled variant: n.a., as in the stats boards)."""
    if "[" in label:
        return OverheadCell(
            "n.a. (variant)",
            None,
            "the profile times each method at its default hyperparameters; a variant may cost differently",
        )
    o = found.get((label, arch))
    if o is None:
        return OverheadCell("not profiled", None, f"no stored profile of {label} on {arch}")
    return OverheadCell(
        o.text(),
        o.ratio,
        f"median training-step time over ERM's on {arch}, bootstrap 95% CI; the "
        f"declared cost predicts {o.theoretical:.2f}×; {o.step_ms:.1f} ms per step, "
        f"{o.precision}, results/profiles/{o.source}",
    )


# --- the page ---------------------------------------------------------------------------------------------


def registry_link(label: str) -> str | None:
    """The paper address of a study method label (its registered method's ``url``), None if unknown."""
    from ...registry import METHODS

    try:
        return link_of(METHODS.get(method_name(label)).url)
    except ContractError:
        return None


def order_key(row: Row, infos: list[StudyInfo]) -> tuple:
    """Default order: the first study's mean rank, then the next studies', missing last; then the label."""
    ranks = []
    for info in infos:
        r = row.scores.get(info.name)
        ranks.append((r is None or r.mean_rank is None, r.mean_rank if r and r.mean_rank is not None else 0.0))
    return (*ranks, row.label)


def gather(
    all_tables: Mapping[str, StudyTables],
    submissions_folder: Path | None = None,
    root: Path | None = None,
    link: Link = registry_link,
) -> Page:
    """The page from the studies' typed tables (study -> tables, leaderboard order) and the submissions."""
    infos = [study_info(t) for t in all_tables.values()]
    found = overheads(list(all_tables.values()))
    archs = list(dict.fromkeys(arch for _, arch in found))
    rows: dict[str, Row] = {}
    for name, tables in all_tables.items():
        for label, score in study_scores(tables).items():
            if label not in rows:
                rows[label] = Row(label, link(label), {}, {a: study_cost(label, a, found) for a in archs})
            rows[label].scores[name] = score
    current, stale, apart, problems = (
        submissions(submissions_folder, infos, archs, Path(root or "."), link)
        if submissions_folder is not None
        else ([], [], [], [])
    )
    ranked = sorted([*rows.values(), *current], key=lambda r: order_key(r, infos))
    files = sorted({f for t in all_tables.values() for f in t.overhead.files})
    tests = {
        name: {"bootstrap_reps": t.bootstrap_reps, "seed": t.seed, "scale": t.scale, "alpha": t.alpha}
        for name, t in all_tables.items()
    }
    return Page(infos, archs, ranked, stale, apart, problems, files, tests)


def study_gather(
    tables: StudyTables,
    submissions_folder: Path | None = None,
    root: Path | None = None,
    link: Link = registry_link,
) -> Page:
    """One study's share of the index (``gather`` over that study alone): its methods and the submissions whose
    claim has an entry for it, judged against its profile (stale greyed, another profile apart); an unreadable
    claim names no study and stays on the index."""
    page = gather({tables.study: tables}, submissions_folder, root, link)

    def mine(rows: list[Row]) -> list[Row]:
        return [r for r in rows if r.kind != "submission" or tables.study in r.scores]

    return replace(page, rows=mine(page.rows), stale=mine(page.stale), apart=mine(page.apart), problems=[])


def columns(page: Page) -> list[tuple[str, str, str]]:
    """(study or "", header, tooltip) of the overall table's columns, in order."""
    out = [("", "method", "the method, linked to its paper; submissions are marked")]
    for s in page.studies:
        arrow = "↑" if s.direction == "higher" else "↓"
        cells = "; ".join(f"{d} / {a}" for d, a in s.cells) or "none"
        out += [
            (
                s.name,
                f"mean {s.family} {arrow}",
                f"{s.name}: mean of the method's cell means over the cells every method has ({cells})",
            ),
            (
                s.name,
                "mean rank ↓ (place)",
                f"{s.name}: mean rank over those cells (1 = best), place among the ranked methods",
            ),
            (
                s.name,
                f"Δ vs {s.baseline} [95% CI] ↑",
                f"{s.name}: pooled paired difference to {s.baseline} over "
                "every (cell, seed) pair, oriented (positive = better), "
                "Welch–Satterthwaite t CI (the seeds are the units); marker: significance (legend)",
            ),
        ]
    out += [("", f"step time ÷ ERM, {a}", f"measured training-step time over ERM's on {a}") for a in page.archs]
    return out


def legend(page: Page) -> list[str]:
    """The legend of the markers and the columns (Markdown inline syntax), naming every test."""
    base = ", ".join(sorted({s.baseline for s in page.studies}))

    def described(key: str) -> str:
        """A test's description, once when every study states it alike, else per study."""
        texts = {s.name: s.tests[key].text() for s in page.studies if key in s.tests}
        if len(set(texts.values())) <= 1:
            return next(iter(texts.values()), "")
        return "; ".join(f"{name}: {text}" for name, text in texts.items())

    return [
        f"**Markers** (in the Δ column): {UP} better / {DOWN} worse than `{base}` after correction; {MIXED} better "
        f"in some cells and worse in others; {SAME} equivalent within the ROPE in every tested cell (TOST); blank: "
        "not separated. Each marker's tooltip names its test, correction, α and p-values.",
        "**Per-cell test** (decides the marker while a study has too few cells for a test across cells): "
        + described("per_cell")
        + "; equivalence: "
        + described("equivalence")
        + ".",
        "**Across cells** (decides the marker when it could run: at least 6 cells): "
        + described("across_cells")
        + f", against `{base}`.",
        "**Mean** over the cells every method of the study has (the cells the ranks use; a column header's tooltip "
        "names them). **Mean rank** (1 = best) over those cells, with the place among the ranked methods; its "
        "CI (from 6 cells), the Friedman test and the pairwise Wilcoxon–Holm tests behind the CD diagram are on "
        "each study's page. **Δ**: pooled paired difference over the method's (cell, seed) pairs, 95% CI: "
        + (described("pooled") or "stratified bootstrap")
        + ".",
        "**Overhead**: median training-step wall time over ERM's on the same network and batch, bootstrap 95% CI, "
        "from the stored profile(s) "
        + (", ".join(f"`results/profiles/{f}`" for f in page.overhead_files) or "(none)")
        + " (`python -m benchmark profile`); a labelled variant is n.a. (the profile times defaults).",
        "**Submissions**: on the index's across-cell board, a current submission is a row like any method "
        "(its bundle's runs; the numbers its claim's `board` states). In the per-study tables, rows from "
        "`results/submissions/METHOD/claim.json` (`python -m benchmark submit`), with the claim's own per-study "
        "numbers and test (its per-study place and mean rank: the study's methods and the submission ranked "
        "together; its overhead: the profile stage's, which times the submissions with every other method "
        "in one run, else the claim's own, marked *not re-measured*). A claim whose method file is absent or "
        "changed since (sha256) is stale: greyed and never ranked; a claim at another profile than the "
        "statistics is listed apart. "
        "**re-run: J/K identical** (from the bundle's `verification.json`, `python -m benchmark submit METHOD "
        f"--verify --rerun K`): {descriptions.SENTINEL_RERUN.text()}; *outdated* when the bundle changed since.",
    ]

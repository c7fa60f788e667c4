"""The leaderboard page's rows (``python -m benchmark leaderboard``), gathered from statistics files only.

DomainBed style: nothing is trained or tested here. The inputs are what ``python -m benchmark stats``
wrote for each study of ``leaderboard:`` in params.yaml (``results/leaderboards/STUDY.tables.json``
and the figures in ``results/leaderboards/STUDY/``) and the accepted submissions'
``results/submissions/METHOD/claim.json``. Every function here is pure: dicts in, rows out.

Per study, the overall table shows the study's *headline family* (its first test accuracy/AUC
family): the mean over the cells every method has (the cells the ranks use), the mean rank and
place, and the pooled paired difference to the baseline with a significance marker read from
the stats tables (``marker``). A submission's row comes from its claim; a claim whose method file
is absent or has changed since (sha256) is *stale*: shown greyed, never ranked; a claim at
another profile than a study's statistics is listed apart.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from ..contracts import ContractError
from ..records.profiles import Overhead, Overheads
from ..statistics.family import FamilyResult
from ..statistics.orient import Family
from .leaderboard import DASH, StudyReport, board_display, detail_display, family_notes, family_title, interval, num, pval
from .leaderboard_tables import Completeness
from .overhead import overhead_note, overhead_texts

KEY = "leaderboard"
HEADLINE = ("accuracy", "auc")
UP, DOWN, MIXED, SAME = "▲", "▼", "▲▼", "≈"
FIGURE_ORDER = ("cd_diagram", "forest", "cell_means")
CAPTIONS = {"cd_diagram": "Critical-difference diagrams: mean ranks per family; a bar joins methods that "
                          "Wilcoxon–Holm over cells does not separate",
            "forest": "Forest plot: paired difference to the baseline per cell, 95% CI, zero line and ROPE band",
            "cell_means": "Cell means with 95% CIs, seeds as dots, the baseline's mean dashed"}
Link = Callable[[str], "str | None"]


def leaderboard_studies(params: Mapping[str, Any]) -> list[str]:
    """The study names of ``leaderboard:`` in params.yaml: a non-empty list of distinct names of ``studies:``."""
    names, studies = params.get(KEY), params.get("studies") or {}
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ContractError(f"params.yaml: {KEY}: expected a list of study names, got {names!r}")
    unknown = [n for n in names if n not in studies]
    if unknown:
        raise ContractError(f"params.yaml: {KEY}: {unknown[0]!r} is not a study (known: {sorted(studies)}); "
                            f"got {names!r}")
    if len(set(names)) != len(names):
        raise ContractError(f"params.yaml: {KEY}: a study is listed twice: {names!r}")
    return list(names)


def tables_path(folder: Path, study: str) -> Path:
    return Path(folder) / f"{study}.tables.json"


def load_tables(folder: Path, study: str, shown: str | None = None) -> dict[str, Any]:
    """A study's tables file; a ContractError saying how to make it when absent or unreadable."""
    path = tables_path(folder, study)
    where = shown or str(path)
    if not path.is_file():
        raise ContractError(f"leaderboard: no statistics for study '{study}' ({where}); "
                            f"run python -m benchmark stats {study}")
    try:
        tables = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"leaderboard: cannot read {where} ({exc}); run python -m benchmark stats {study}") from exc
    if not isinstance(tables, dict) or not isinstance(tables.get("families"), dict) or not tables["families"]:
        raise ContractError(f"leaderboard: {where} has no families; run python -m benchmark stats {study}")
    return tables


def number(value: Any) -> float | None:
    """A finite number, else None (claims are read tolerantly)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def method_name(label: str) -> str:
    """``cyborg[tuned]`` -> ``cyborg``."""
    return label.split("[", 1)[0]


@dataclass(frozen=True)
class Marker:
    """A significance marker (▲ better, ▼ worse, ▲▼ both in different cells, ≈ equivalent, "" not
    separated) and its tooltip: the test, the correction, alpha and the p-values."""

    symbol: str = ""
    title: str = ""


@dataclass(frozen=True)
class Score:
    """One method in one study: the headline family's numbers."""

    mean: float | None = None
    mean_rank: float | None = None
    place: int | None = None
    of: int | None = None
    delta: float | None = None
    low: float | None = None
    high: float | None = None
    marker: Marker = Marker()
    baseline: bool = False

    def rank_text(self) -> str:
        where = f" ({self.place}/{self.of})" if self.place is not None and self.of else ""
        return num(self.mean_rank, 2) + where

    def delta_text(self) -> str:
        return "(baseline)" if self.baseline else interval(self.delta, self.low, self.high)


@dataclass(frozen=True)
class Cost:
    """The overhead cell of one architecture: text, the number it sorts by, and where it comes from."""

    text: str
    value: float | None = None
    title: str = ""


@dataclass
class Row:
    """A method of the overall table: a study method (label as in the stats) or a submission."""

    label: str
    link: str | None
    scores: dict[str, Score]
    overhead: dict[str, Cost]
    kind: str = "study"  # "study" or "submission"
    profile: str = ""
    note: str = ""  # why a submission is stale or listed apart


@dataclass
class StudyInfo:
    """A leaderboard study as the overall table names it."""

    name: str
    profile: str
    description: str
    baseline: str
    alpha: float
    family: str  # the headline family
    direction: str
    rope: float
    cells: list[tuple[str, str]]  # the cells every method has (the mean and the ranks use them)


@dataclass
class Page:
    """Everything the index page and its Markdown twin show."""

    studies: list[StudyInfo]
    archs: list[str]  # architectures of the overhead columns
    rows: list[Row]  # ranked: study methods and current submissions at the studies' profile
    stale: list[Row] = field(default_factory=list)  # shown greyed, never ranked
    apart: list[Row] = field(default_factory=list)  # claims at another profile
    problems: list[str] = field(default_factory=list)  # unreadable claims
    overhead_files: list[str] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)  # per study: reps, seed, scale (the legend)


# --- one study --------------------------------------------------------------------------------------------


def headline_family(tables: Mapping[str, Any]) -> str:
    """The first ``test*/accuracy`` or ``test*/auc`` family of the study, else its first family."""
    keys = list(tables["families"])
    return next((k for k in keys if k.split("/", 1)[0].startswith("test") and k.split("/", 1)[1] in HEADLINE),
                keys[0])


def complete_cells(fam: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The family's cells that every method has (the detail's cells minus the dropped ones), in table order."""
    dropped = {tuple(c) for c in fam.get("dropped_cells") or []}
    cells = dict.fromkeys((d["dataset"], d["arch"]) for d in fam["detail"])
    return [c for c in cells if c not in dropped]


def study_info(tables: Mapping[str, Any]) -> StudyInfo:
    key = headline_family(tables)
    fam = tables["families"][key]
    return StudyInfo(tables["study"], tables.get("profile", ""), tables.get("description", ""), tables["baseline"],
                     float(tables["alpha"]), key, fam["direction"], float(fam["rope"]), complete_cells(fam))


def _verdict(d: Mapping[str, Any]) -> str:
    return {"win": "better", "loss": "worse"}.get(d.get("verdict") or "", "not separated")


def cell_marker(rows: list[Mapping[str, Any]]) -> str:
    """The per-cell rule: ▲ wins and no loss, ▼ losses and no win, ▲▼ both, ≈ every tested cell equivalent."""
    wins = sum(d.get("verdict") == "win" for d in rows)
    losses = sum(d.get("verdict") == "loss" for d in rows)
    if wins or losses:
        return MIXED if wins and losses else (UP if wins else DOWN)
    return SAME if rows and all(d.get("equivalent") for d in rows) else ""


def study_marker(tables: Mapping[str, Any], key: str, method: str) -> Marker:
    """The marker of ``method`` vs the baseline in family ``key``, from the stats tables: the Wilcoxon-Holm
    test over cells when it could run (N >= 6 cells), else the per-cell paired t-tests, BH-adjusted."""
    fam, base, alpha = tables["families"][key], tables["baseline"], float(tables["alpha"])
    if method == base:
        return Marker("", "")
    paired = [d for d in fam["detail"] if d.get("p_t") is not None]
    mine = [d for d in paired if d["method"] == method]
    across = next((v for v in fam.get("versus_baseline_holm") or [] if v.get("method") == method), None)
    lines, symbol = [], cell_marker(mine)
    if across and across.get("status") == "ok" and across.get("p_holm") is not None:
        tested = sum(v.get("status") == "ok" for v in fam["versus_baseline_holm"])
        separated = across["p_holm"] < alpha and (across.get("median_gain") or 0) != 0
        better = (across.get("median_gain") or 0) > 0
        symbol = (UP if better else DOWN) if separated else (SAME if symbol == SAME else "")
        lines.append(f"Across cells (decides the marker): Wilcoxon signed-rank over {across.get('n_cells')} cell "
                     f"means vs {base}, Holm over {tested} methods, α = {alpha:g}: p_Holm = {pval(across['p_holm'])} "
                     f"(raw {pval(across.get('p'))}): "
                     + (("better" if better else "worse") if separated else "not separated") + ".")
    elif across:
        lines.append(f"Across cells: not tested ({across.get('reason') or across.get('status')}); the marker "
                     "follows the per-cell tests.")
    lines.append(f"Per cell: paired t-test over seeds (scipy.stats.ttest_rel), Benjamini–Hochberg over the "
                 f"{len(paired)} cell × method comparisons of {key}, α = {alpha:g}; equivalence: TOST within "
                 f"±{float(fam['rope']):g} (BH).")
    for d in mine:
        lines.append(f"{d['dataset']} / {d['arch']}: Δ = {num(d.get('gain'))}, p = {pval(d.get('p_t'))}, "
                     f"p_BH = {pval(d.get('p_bh'))}: {_verdict(d)}; TOST p_BH = {pval(d.get('p_tost_bh'))}"
                     + (" (equivalent)" if d.get("equivalent") else "") + ".")
    if not mine:
        lines.append("No paired test (no cell shares seeds with the baseline).")
    return Marker(symbol, "\n".join(lines))


def study_scores(tables: Mapping[str, Any]) -> dict[str, Score]:
    """Label -> the headline numbers of every method on the study's board."""
    key = headline_family(tables)
    fam = tables["families"][key]
    cells = set(complete_cells(fam))
    board = fam["leaderboard"]
    ranked = sum(b.get("place") is not None for b in board)
    out = {}
    for b in board:
        means = [d["mean"] for d in fam["detail"] if d["method"] == b["method"]
                 and (d["dataset"], d["arch"]) in cells and number(d.get("mean")) is not None]
        out[b["method"]] = Score(
            mean=sum(means) / len(means) if means else None, mean_rank=number(b.get("mean_rank")),
            place=b.get("place"), of=ranked if b.get("place") is not None else None, delta=number(b.get("delta")),
            low=number(b.get("delta_low")), high=number(b.get("delta_high")),
            marker=study_marker(tables, key, b["method"]), baseline=b["method"] == tables["baseline"])
    return out


# --- overhead ---------------------------------------------------------------------------------------------


def overheads(all_tables: list[Mapping[str, Any]]) -> dict[tuple[str, str], Overhead]:
    """(method, arch) -> the stored ratio to ERM, from the studies' ``overhead.rows`` (first study wins)."""
    out: dict[tuple[str, str], Overhead] = {}
    for tables in all_tables:
        for r in (tables.get("overhead") or {}).get("rows") or []:
            out.setdefault((r["method"], r["arch"]), Overhead(
                r["method"], r["arch"], r["ratio"], r["ratio_low"], r["ratio_high"], r["theoretical_ratio"],
                r["step_ms"], r["precision"], r["source"]))
    return out


def study_cost(label: str, arch: str, found: Mapping[tuple[str, str], Overhead]) -> Cost:
    """A study method's overhead cell on ``arch`` (a labelled variant: n.a., as in the stats boards)."""
    if "[" in label:
        return Cost("n.a. (variant)", None, "the profile times each method at its default hyperparameters; "
                                            "a variant may cost differently")
    o = found.get((label, arch))
    if o is None:
        return Cost("not profiled", None, f"no stored profile of {label} on {arch}")
    return Cost(o.text(), o.ratio, f"median training-step time over ERM's on {arch}, bootstrap 95% CI; the "
                                   f"declared cost predicts {o.theoretical:.2f}×; {o.step_ms:.1f} ms per step, "
                                   f"{o.precision}, results/profiles/{o.source}")


# --- submissions ------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def staleness(claim: Mapping[str, Any], root: Path) -> str:
    """Why a claim no longer describes the method file ("" when current)."""
    file, digest = claim.get("method_file"), claim.get("method_sha256")
    if not isinstance(file, str) or not file or not isinstance(digest, str) or not digest:
        return "stale: the claim names no method file and hash"
    path = Path(root) / file
    if not path.is_file():
        return f"stale: {file} is absent"
    actual = sha256(path)
    if actual != digest.lower():
        return f"stale: {file} changed since the claim (sha256 {actual[:12]}…, claimed {digest[:12]}…); resubmit"
    return ""


def claim_marker(versus: Any, alpha: float) -> Marker:
    """A submission's marker from its claim's comparison with the baseline, under the claim's own test: per cell
    verdicts (``cells: {CELL: {gain, p_adjusted, verdict}}``, the per-cell rule) or one test (``p_holm``,
    ``significant``, ``better``)."""
    if not isinstance(versus, Mapping):
        return Marker("", "the claim reports no comparison with the baseline")
    test = str(versus.get("test") or "test not named")
    cells = versus.get("cells")
    if isinstance(cells, Mapping):
        rows = [c for c in cells.values() if isinstance(c, Mapping)]
        lines = [f"{cell}: Δ = {num(number(c.get('gain')))}, p_adjusted = {pval(number(c.get('p_adjusted')))}: "
                 f"{_verdict(c)}." for cell, c in sorted(cells.items()) if isinstance(c, Mapping)]
        return Marker(cell_marker(rows), "\n".join([f"From the claim: {test}, α = {alpha:g}.", *lines]))
    symbol = ""
    if versus.get("significant") is True:
        symbol = UP if versus.get("better") is True else DOWN
    elif versus.get("equivalent") is True:
        symbol = SAME
    return Marker(symbol, f"From the claim: {test}, α = {alpha:g}: p_Holm = {pval(number(versus.get('p_holm')))}"
                  + (": better" if symbol == UP else ": worse" if symbol == DOWN else ": not separated") + ".")


def count(value: Any) -> int | None:
    """A whole number (claims write places as floats), else None."""
    x = number(value)
    return int(x) if x is not None and x.is_integer() else None


def claim_mean(study: Mapping[str, Any], fam: Mapping[str, Any], info: StudyInfo) -> float | None:
    """The claim's ``mean``, else the mean of its per-cell means (``cells: {FAMILY: {"DATASET/ARCH": {mean}}}``)
    over the cells every method of the study has, as for the study's methods."""
    if number(fam.get("mean")) is not None:
        return number(fam.get("mean"))
    cells = (study.get("cells") or {}).get(info.family) or {}
    means = [number((cells.get(f"{d}/{a}") or {}).get("mean")) for d, a in info.cells]
    means = [m for m in means if m is not None]
    return sum(means) / len(means) if means else None


def claim_scores(claim: Mapping[str, Any], infos: list[StudyInfo]) -> dict[str, Score]:
    """Study -> the headline numbers of a claim: its ``ranking`` (or ``families``) entry of the headline family."""
    out = {}
    for info in infos:
        study = (claim.get("studies") or {}).get(info.name)
        if not isinstance(study, Mapping):
            continue
        fam = next((f for f in ((study.get(k) or {}).get(info.family) for k in ("ranking", "families"))
                    if isinstance(f, Mapping)), None)
        if fam is None:
            continue
        out[info.name] = Score(
            mean=claim_mean(study, fam, info), mean_rank=number(fam.get("mean_rank")), place=count(fam.get("place")),
            of=count(fam.get("of")), delta=number(fam.get("gain")), low=number(fam.get("gain_low")),
            high=number(fam.get("gain_high")),
            marker=claim_marker((fam.get("versus") or {}).get(info.baseline), info.alpha))
    return out


def claim_costs(claim: Mapping[str, Any], archs: list[str]) -> dict[str, Cost]:
    out = {}
    for arch in archs:
        entry = (claim.get("overhead") or {}).get(arch)
        measured = number(entry.get("measured")) if isinstance(entry, Mapping) else None
        declared = number(entry.get("declared")) if isinstance(entry, Mapping) else None
        out[arch] = Cost(f"{measured:.2f}×", measured, f"measured by submit on {arch} (fastest of its repeats)"
                         + (f"; declared {declared:.2f}×" if declared is not None else "")) \
            if measured is not None else Cost("not profiled", None, f"the claim has no overhead on {arch}")
    return out


def read_claim(folder: Path) -> dict[str, Any]:
    """``folder/claim.json`` as a dict; ValueError saying why not."""
    try:
        claim = json.loads((folder / "claim.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder.name}/claim.json: unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(claim, dict):
        raise ValueError(f"{folder.name}/claim.json: not a JSON object")
    return claim


def submission_row(claim: Mapping[str, Any], folder: Path, infos: list[StudyInfo], archs: list[str], root: Path,
                   link: Link) -> Row:
    method = str(claim.get("method") or folder.name)
    profile = str(claim.get("profile") or "unknown")
    url = claim.get("url")
    row = Row(method, (link_of(url) if isinstance(url, str) else None) or link(method), claim_scores(claim, infos),
              claim_costs(claim, archs), kind="submission", profile=profile)
    other = [i.name for i in infos if i.profile != profile]
    row.note = staleness(claim, root) or (
        f"profile {profile}, statistics of {', '.join(other)} at profile "
        f"{', '.join(sorted({i.profile for i in infos if i.name in other}))}: not comparable, not ranked"
        if other else "")
    return row


def submissions(folder: Path, infos: list[StudyInfo], archs: list[str], root: Path,
                link: Link) -> tuple[list[Row], list[Row], list[Row], list[str]]:
    """(current rows, stale rows, rows at another profile, problems) of ``folder/METHOD/claim.json``."""
    current, stale, apart, problems = [], [], [], []
    folders = sorted(p for p in Path(folder).iterdir() if p.is_dir()) if Path(folder).is_dir() else []
    for sub in folders:
        if not (sub / "claim.json").exists():
            continue
        try:
            claim = read_claim(sub)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        row = submission_row(claim, sub, infos, archs, root, link)
        (stale if row.note.startswith("stale") else apart if row.note else current).append(row)
    return current, stale, apart, problems


# --- the page ---------------------------------------------------------------------------------------------


def link_of(url: str | None) -> str | None:
    from ..contracts import paper_link

    return paper_link(url) if url else None


def registry_link(label: str) -> str | None:
    """The paper address of a study method label (its registered method's ``url``), None if unknown."""
    from ..registry import METHODS

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


def gather(all_tables: Mapping[str, Mapping[str, Any]], submissions_folder: Path | None = None,
           root: Path | None = None, link: Link = registry_link) -> Page:
    """The page from the studies' tables (study -> tables dict, leaderboard order) and the submissions."""
    infos = [study_info(t) for t in all_tables.values()]
    found = overheads(list(all_tables.values()))
    archs = list(dict.fromkeys(arch for _, arch in found))
    rows: dict[str, Row] = {}
    for name, tables in all_tables.items():
        for label, score in study_scores(tables).items():
            if label not in rows:
                rows[label] = Row(label, link(label), {}, {a: study_cost(label, a, found) for a in archs})
            rows[label].scores[name] = score
    current, stale, apart, problems = (submissions(submissions_folder, infos, archs, Path(root or "."), link)
                                       if submissions_folder is not None else ([], [], [], []))
    ranked = sorted([*rows.values(), *current], key=lambda r: order_key(r, infos))
    files = sorted({f for t in all_tables.values() for f in (t.get("overhead") or {}).get("files") or []})
    tests = {name: {k: t.get(k) for k in ("bootstrap_reps", "seed", "scale", "alpha")} for name, t in all_tables.items()}
    return Page(infos, archs, ranked, stale, apart, problems, files, tests)


def columns(page: Page) -> list[tuple[str, str, str]]:
    """(study or "", header, tooltip) of the overall table's columns, in order."""
    out = [("", "method", "the method, linked to its paper; submissions are marked")]
    for s in page.studies:
        arrow = "↑" if s.direction == "higher" else "↓"
        cells = "; ".join(f"{d} / {a}" for d, a in s.cells) or "none"
        out += [(s.name, f"mean {s.family} {arrow}", f"{s.name}: mean of the method's cell means over the cells "
                                                     f"every method has ({cells})"),
                (s.name, "mean rank ↓ (place)", f"{s.name}: mean rank over those cells (1 = best), place among the "
                                                "ranked methods"),
                (s.name, f"Δ vs {s.baseline} [95% CI] ↑", f"{s.name}: pooled paired difference to {s.baseline} over "
                                                          "every (cell, seed) pair, oriented (positive = better), "
                                                          "stratified bootstrap CI; marker: significance (legend)")]
    out += [("", f"step time ÷ ERM, {a}", f"measured training-step time over ERM's on {a}") for a in page.archs]
    return out


def legend(page: Page) -> list[str]:
    """The legend of the markers and the columns (Markdown inline syntax), naming every test."""
    base = ", ".join(sorted({s.baseline for s in page.studies}))
    alphas = ", ".join(f"{s.name} α = {s.alpha:g}" for s in page.studies)
    boot = "; ".join(f"{n}: {t['bootstrap_reps']} repetitions, seed {t['seed']}, scale {t['scale']}"
                     for n, t in page.tests.items())
    return [
        f"**Markers** (in the Δ column): {UP} better / {DOWN} worse than `{base}` after correction; {MIXED} better "
        f"in some cells and worse in others; {SAME} equivalent within the ROPE in every tested cell (TOST); blank: "
        "not separated. Each marker's tooltip names its test, correction, α and p-values.",
        "**Per-cell test** (decides the marker while a study has too few cells for a test across cells): paired "
        "t-test over the seeds (`scipy.stats.ttest_rel`), Benjamini–Hochberg over every cell × method comparison "
        f"of the family (`statsmodels multipletests('fdr_bh')`), {alphas}; equivalence: two one-sided paired "
        "t-tests within the family's ROPE (TOST, `statsmodels ttost_paired`), BH-adjusted.",
        "**Across cells** (decides the marker when it could run: at least 6 cells): Wilcoxon signed-rank over the "
        f"cell means against `{base}` (`scipy.stats.wilcoxon`), Holm over the methods (`statsmodels "
        "multipletests('holm')`).",
        "**Mean** over the cells every method of the study has (the cells the ranks use; a column header's tooltip "
        "names them). **Mean rank** (1 = best) over those cells, with the place among the ranked methods; its "
        "bootstrap CI, the Friedman test and the pairwise Wilcoxon–Holm tests behind the CD diagram are on each "
        f"study's page. **Δ**: pooled paired difference over the method's (cell, seed) pairs, stratified "
        f"bootstrap 95% CI ({boot}).",
        "**Overhead**: median training-step wall time over ERM's on the same network and batch, bootstrap 95% CI, "
        "from the stored profile(s) " + (", ".join(f"`results/profiles/{f}`" for f in page.overhead_files) or
                                         "(none)")
        + " (`python -m benchmark profile`); a labelled variant is n.a. (the profile times defaults).",
        "**Submissions**: rows from `results/submissions/METHOD/claim.json` (`python -m benchmark submit`), "
        "with the claim's own numbers and test (its place and mean rank: the study's methods and the submission "
        "ranked together; its overhead: measured by `submit`, in ERM steps). A claim whose method file is absent or changed since (sha256) is "
        "stale: greyed and never ranked; a claim at another profile than the statistics is listed apart.",
    ]


# --- one study's page -------------------------------------------------------------------------------------


COUNTS = ("place", "wins", "ties", "losses", "untested", "n_cells", "n_pairs", "runs_done", "runs_expected",
          "underpowered_cells", "n", "n_undefined", "seeds_needed")


def frame(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of a tables file as a frame whose count columns stay integers (JSON nulls make them float)."""
    out = pd.DataFrame(rows)
    for col in COUNTS:
        if col in out and out[col].dropna().map(lambda v: float(v).is_integer()).all():
            out[col] = out[col].astype("Int64")
    return out


def family_result(tables: Mapping[str, Any], key: str) -> FamilyResult:
    """The stored tables of one family as the ``FamilyResult`` the Markdown renderers read (the frames the
    tables file does not keep are empty)."""
    fam, empty = tables["families"][key], pd.DataFrame()
    split, metric = key.split("/", 1)
    return FamilyResult(
        family=Family(split, metric, fam["direction"], float(fam["rope"])), baseline=tables["baseline"],
        alpha=float(tables["alpha"]), reps=tables.get("bootstrap_reps", 0), seed=tables.get("seed", 0),
        scale=tables.get("scale", ""), cells=empty, paired=empty, matrix=empty,
        dropped_cells=[tuple(c) for c in fam.get("dropped_cells") or []],
        mean_ranks=pd.DataFrame(fam.get("mean_ranks") or []), friedman=fam["friedman"],
        pairwise=pd.DataFrame(fam.get("pairwise_holm") or []),
        versus_baseline=pd.DataFrame(fam.get("versus_baseline_holm") or []), significance=empty,
        gains=pd.DataFrame(fam.get("gains") or []), bayes=pd.DataFrame(fam.get("bayes_signed_rank") or []),
        wtl=pd.DataFrame(fam.get("win_tie_loss") or []), leaderboard=frame(fam["leaderboard"]))


def study_report(tables: Mapping[str, Any]) -> StudyReport:
    """The ``StudyReport`` fields the stats' footer reads, from the tables file."""
    results = [family_result(tables, k) for k in tables["families"]]
    over = tables.get("overhead") or {}
    rep = StudyReport(tables["study"], tables.get("profile", ""), tables.get("description", ""), tables["baseline"],
                      float(tables["alpha"]), tables.get("bootstrap_reps", 0), tables.get("seed", 0),
                      tables.get("bayes_samples", 0), tables.get("scale", ""),
                      Completeness(pd.DataFrame(tables["runs"])), results, {}, {}, dict(tables.get("versions") or {}))
    rep.overhead_note = overhead_note(Overheads({}, list(over.get("files") or []), list(over.get("problems") or [])),
                                      rep.profile, "results/profiles")
    return rep


@dataclass
class FamilySection:
    """One family on a study's page: the stats' board, notes and per-cell detail, as strings."""

    key: str
    title: str
    board: pd.DataFrame
    notes: list[str]
    detail: pd.DataFrame


def family_sections(tables: Mapping[str, Any]) -> list[FamilySection]:
    """Every family of the study, rendered by the stats' own Markdown renderers (``reports.leaderboard``)."""
    archs = list(dict.fromkeys(r["arch"] for r in tables["runs"]))
    over = Overheads(overheads([tables]), [], [])
    out = []
    for key, fam in tables["families"].items():
        r = family_result(tables, key)
        costs = overhead_texts(list(r.leaderboard["method"]), archs, over, r.baseline)
        out.append(FamilySection(key, family_title(r), board_display(r.leaderboard, r, costs), family_notes(r),
                                 detail_display(frame(fam["detail"]), r)))
    return out


def consistency_frame(tables: Mapping[str, Any]) -> pd.DataFrame:
    """The saliency consistency summary as strings (one row per cell x split x attribution x method)."""
    rows = [{"cell": f"{r['dataset']} / {r['arch']}", "split": r["split"], "attribution": r["attribution"],
             "method": r["method"], "runs used": f"{r.get('runs_used', DASH)}/{r.get('runs_expected', DASH)}",
             "images": str(r.get("n_images", DASH)),
             "Spearman ρ [95% CI] ↑": interval(r.get("spearman"), r.get("spearman_low"), r.get("spearman_high"), 2),
             "Pearson [95% CI] ↑": interval(r.get("pearson"), r.get("pearson_low"), r.get("pearson_high"), 2),
             "top-10% IoU [95% CI] ↑": interval(r.get("topk_iou"), r.get("topk_iou_low"), r.get("topk_iou_high"), 2),
             "flags": r.get("flags") or ""}
            for r in (tables.get("consistency") or {}).get("summary") or []]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Figure:
    caption: str
    path: Path


def caption(stem: str) -> str:
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    parts = stem.split("_")
    if parts[0] == "consistency" and len(parts) == 5:
        _, dataset, arch, split, attribution = parts
        return f"Saliency consistency: the probe-set-mean {attribution} map of every run, {dataset} / {arch}, " \
               f"split {split}"
    return stem


def figures(folder: Path, kinds: tuple[str, ...] | None = None) -> list[Figure]:
    """The PNGs of a study's figure folder in a fixed order (CD diagram, forest, cell means, consistency);
    ``kinds``: only the figures whose name starts with one of these."""
    files = sorted(Path(folder).glob("*.png")) if Path(folder).is_dir() else []
    order = {name: i for i, name in enumerate(FIGURE_ORDER)}
    files.sort(key=lambda p: (order.get(p.stem, len(order)), p.name))
    return [Figure(caption(p.stem), p) for p in files if kinds is None or p.stem.startswith(kinds)]

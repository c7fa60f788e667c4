"""A study's significance-tested leaderboard as text: Markdown, CSV, TeX and JSON (docs/statistics.md §1.14).

Renders what ``benchmark.statistics`` computed (``study.tables`` joins it with the study's
expected runs). Per family (one ``SPLIT/METRIC``, its own correction family): the main board
(one row per method, by mean rank), notes on the across-cell tests (or why a test cannot reach
alpha with the cells at hand), and a detail table per cell x method. Every column whose value
has a better side says which: ``↑`` higher is better, ``↓`` lower is better; Δ and gains are
oriented (positive = better, whatever the metric's direction). Numbers are printed with fixed
formats and nothing time-dependent is written, so a rerun gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...saliency.metrics import spec
from ...statistics.descriptions import family_tests
from ...statistics.paired import IDENTICAL, T_TEST
from ..formatting import ARROW, DASH, interval, markdown_table, num, pval, sd_n
from .labels import merged_text
from .overhead import COLUMN as OVERHEAD_COLUMN
from .tables import DETAIL_COLUMNS, Completeness
from .tables_file import FamilyTables, StudyTables

VERSIONED = ("numpy", "scipy", "pandas", "statsmodels", "scikit-posthocs", "baycomp", "matplotlib")


@dataclass
class StudyReport:
    """Everything a leaderboard file shows (built by the ``stats`` command, and by a study's page from its
    tables file: ``of``)."""

    study: str
    profile: str
    description: str
    baseline: str
    alpha: float
    reps: int
    seed: int
    bayes_samples: int
    scale: str
    completeness: Completeness
    families: list[FamilyTables]
    versions: dict[str, str]
    consistency_md: list[str] = field(default_factory=list)  # the consistency section, rendered
    figures: dict[str, str] = field(default_factory=dict)  # caption -> path relative to the Markdown file
    overhead: dict[str, str] = field(
        default_factory=dict
    )  # method -> measured step time over ERM's (reports.study.overhead)
    overhead_note: str = ""
    sources: str = ""  # what varies over the seeds (reports.sources); empty: not recorded
    merged: dict[str, list[str]] = field(default_factory=dict)  # shown label -> labels naming the same runs

    @classmethod
    def of(
        cls, tables: StudyTables, completeness: Completeness, consistency_md: list[str] | None = None
    ) -> StudyReport:
        """The report of a study's typed tables (the runs' completeness given by the caller)."""
        return cls(
            tables.study,
            tables.profile,
            tables.description,
            tables.baseline,
            tables.alpha,
            tables.bootstrap_reps,
            tables.seed,
            tables.bayes_samples,
            tables.scale,
            completeness,
            list(tables.families.values()),
            dict(tables.versions),
            list(consistency_md or []),
            sources=tables.sources,
            merged=dict(tables.merged),
        )


def family_title(r: FamilyTables) -> str:
    s = spec(r.family.metric)
    return (
        f"{r.family.key}: {ARROW[r.family.direction]} {r.family.direction} is better "
        f"({s.description}; unit: {s.unit}; ROPE ±{r.family.rope:g})"
    )


def not_computed(row: pd.Series | dict, column: str) -> str:
    """The "n.a. (N cells < K)" of a statistic that had too few cells (``statistics.gates``), else ""."""
    value = row.get(column)
    return value if isinstance(value, str) else ""


def board_display(board: pd.DataFrame, r: FamilyTables, overhead: dict[str, str] | None = None) -> pd.DataFrame:
    """The main table as strings (docs/statistics.md §1.14 columns), with the measured overhead beside the
    runs when given; a statistic with too few cells prints "n.a. (N cells < K)"."""
    base, rows = r.baseline, []
    for _, b in board.iterrows():
        rank_na, iqm_na, bayes_na = (not_computed(b, c) for c in ("rank_ci_na", "gain_iqm_na", "bayes_na"))
        is_base, ranked = b["method"] == base, pd.notna(b["place"])
        cells = b.get("cells_status")
        if is_base:
            p_cells = "(baseline)"
        elif cells == "insufficient":
            p_cells = f"n.a. ({b['cells_reason'].split(':')[0]})"
        else:
            p_cells = f"{pval(b['p_cells_holm'])} (raw {pval(b['p_cells'])})" if pd.notna(b.get("p_cells")) else DASH
        bayes = (
            DASH
            if is_base
            else bayes_na
            or (DASH if pd.isna(b.get("p_better")) else f"{b['p_better']:.2f} / {b['p_rope']:.2f} / {b['p_worse']:.2f}")
        )
        wtl = DASH if is_base or pd.isna(b.get("wins")) else f"{b['wins']}/{b['ties']}/{b['losses']}"
        rows.append(
            {
                "#": str(int(b["place"])) if ranked else DASH,
                "method": f"{b['method']} (baseline)" if is_base else b["method"],
                "mean rank [95% CI] ↓": f"{num(b.get('mean_rank'), 2)} [{rank_na}]"
                if rank_na and pd.notna(b.get("mean_rank"))
                else interval(b.get("mean_rank"), b.get("rank_low"), b.get("rank_high"), 2),
                "gain, mean [95% CI] ↑": DASH
                if is_base
                else interval(b.get("gain_mean"), b.get("gain_mean_low"), b.get("gain_mean_high"), 2),
                "gain, IQM [95% CI] ↑": DASH
                if is_base
                else iqm_na or interval(b.get("gain_iqm"), b.get("gain_iqm_low"), b.get("gain_iqm_high"), 2),
                f"Δ vs {base} [95% CI] ↑": DASH
                if is_base
                else interval(b.get("delta"), b.get("delta_low"), b.get("delta_high")),
                "W/T/L": wtl,
                "p cells (Wilcoxon, Holm)": p_cells,
                f"P(better / ROPE / worse), ROPE {r.family.rope:g}": bayes,
                "P(improvement) [95% CI] ↑": DASH
                if is_base
                else interval(b.get("poi"), b.get("poi_low"), b.get("poi_high"), 2),
                "median d_z ↑": DASH if is_base else num(b.get("median_d_z"), 2),
                "A12 ↑": DASH if is_base else num(b.get("poi_unpaired"), 2),
                "group": b.get("group") or DASH,
                "runs": f"{int(b['runs_done'])}/{int(b['runs_expected'])}",
                **({OVERHEAD_COLUMN: overhead.get(b["method"], "not profiled")} if overhead else {}),
                "flags": b.get("flags") or "",
            }
        )
    return pd.DataFrame(rows)


def p_text(d: pd.Series) -> str:
    """The paired p of a cell; where every pair differs by the same amount, the exact sign-flip p, so labelled
    (and "identical runs" when every difference is 0: the label the claims tables use)."""
    if d.get("verdict") == IDENTICAL:
        return f"{pval(d['p_t'])} ({IDENTICAL})"
    how = d.get("p_method")
    return pval(d["p_t"]) + (f" ({how})" if isinstance(how, str) and how != T_TEST else "")


def power_text(d: pd.Series) -> str:
    if pd.isna(d.get("underpowered")):
        return DASH
    if pd.isna(d.get("n_pairs")) or d["n_pairs"] < 2:
        return "n.a. (n<2 pairs)"
    needed = d["seeds_needed"]
    need = f"needs {int(needed)}" if pd.notna(needed) else "needs n.a.: no spread"
    return f"underpowered ({need})" if d["underpowered"] else f"ok ({need})"


def detail_display(detail: pd.DataFrame, r: FamilyTables) -> pd.DataFrame:
    """The per-cell table as strings: mean ± SD (n), Δ [95% CI], paired-t p, p_BH, Wilcoxon p, d_z, ρ,
    power, TOST."""
    fam, base, rows = r.family, r.baseline, []
    for _, d in detail.iterrows():
        is_base = d["method"] == base
        paired = not is_base and pd.notna(d.get("p_t"))
        wil = d.get("wilcoxon_method")
        rows.append(
            {
                "cell": f"{d['dataset']} / {d['arch']}",
                "method": f"{d['method']} (baseline)" if is_base else d["method"],
                "runs": f"{int(d['runs_done'])}/{int(d['runs_expected'])}",
                f"mean ± SD (n) {ARROW[fam.direction]}": sd_n(d["mean"], d["sd"], d["n"]),
                f"Δ vs {base} [95% CI] ↑": DASH
                if is_base
                else interval(d["gain"], d["gain_low"], d["gain_high"])
                + (f" (n={int(d['n_pairs'])})" if paired else ""),
                "p (paired t)": p_text(d) if paired else (DASH if is_base else "n.a. (n<2 pairs)"),
                "p_BH": (pval(d["p_bh"]) + (f" {d['marker']}" if d["marker"] else "")) if paired else DASH,
                "p (Wilcoxon)": DASH
                if is_base
                else (
                    pval(d["p_wilcoxon"]) if pd.notna(d["p_wilcoxon"]) else (wil if isinstance(wil, str) else "n.a.")
                ),
                "d_z ↑": DASH if is_base else num(d["d_z"], 2),
                "ρ": DASH if is_base else num(d["rho"], 2),
                "power at 1 ROPE": DASH if is_base else power_text(d),
                f"TOST p_BH (±{fam.rope:g})": DASH
                if is_base or pd.isna(d["p_tost_bh"])
                else pval(d["p_tost_bh"]) + (" ≡" if d["equivalent"] else ""),
                "flags": d["flags"] if isinstance(d["flags"], str) else "",
            }
        )
    return pd.DataFrame(rows)


def family_notes(r: FamilyTables) -> list[str]:
    """Across-cell tests in words, saying so when a test cannot reach alpha."""
    f = r.friedman
    lines = [f"Flag for every method: {flag}." for flag in r.flags]
    if f["status"] == "ok":
        lines.append(
            f"Friedman over N={f['n_cells']} complete cells, k={f['k']} methods: χ² = {f['chi2']:.3f}, "
            f"p = {pval(f['p_chi2'])}; Iman–Davenport F = {f['f']:.3f}, p = {pval(f['p_f'])}"
            + (f" ({f['reason']})" if f["reason"] else "")
            + "."
        )
    else:
        lines.append(f"Friedman / Iman–Davenport: not computed: {f['reason']}.")
    pw = r.pairwise
    tested = pw[pw["status"] == "ok"] if not pw.empty else pw
    if pw.empty:
        lines.append("Pairwise Wilcoxon over cells: a single method, nothing to compare.")
    elif tested.empty:
        lines.append(f"Pairwise Wilcoxon over cell means (Holm): no pair testable ({pw['reason'].iloc[0]}).")
    else:
        sig = tested[tested["p_holm"] < r.alpha]
        blocked = tested["reason"][tested["reason"] != ""]
        listed = ", ".join(
            f"{a} vs {b} p_Holm = {pval(p)}" for a, b, p in zip(sig["method"], sig["other"], sig["p_holm"])
        )
        if len(sig) > 6:
            listed = f"{len(sig)} pairs below α (the groups and the CD diagram show which; all in STUDY.tables.json)"
        lines.append(
            f"Pairwise Wilcoxon over cell means, Holm over {len(tested)} pairs: "
            + (listed or "no pair below α")
            + (f" ({blocked.iloc[0]})" if len(blocked) else "")
            + "."
        )
    gate = r.gates.get("cd_diagram", "")
    if gate:
        lines.append(
            f"CD diagram and group letters: {gate}, complete cells: not drawn, since with fewer complete cells "
            "some pairs of ranked methods are never tested."
        )
    if r.dropped_cells:
        lines.append(
            "Cells without every method (left out of ranks and Friedman, kept in the paired tests): "
            + ", ".join(" / ".join(c) for c in r.dropped_cells)
            + "."
        )
    return lines


def footer(rep: StudyReport) -> list[str]:
    seeds = sorted(set(int(s) for s in rep.completeness.runs["seed"]))
    # the tests as the tables file states them; a test a file written before it lacks: its current description
    t = {**family_tests(rep.alpha), **(rep.families[0].tests if rep.families else {})}
    lines = [
        "## Methods",
        "",
        f"- **Units and pairing.** Seeds {', '.join(map(str, seeds))}, the same for every method: one run seed "
        "derives the initial weights (seed, dataset, arch), the data order (seed, dataset, epoch) and the method's "
        "noise (seed, method, epoch), so runs with the same seed are paired. What varies inside the intervals: "
        f"{rep.sources or 'the seeds'}; hyperparameters are fixed (defaults unless the method label names them). "
        "Only done runs "
        "(valid record, current code) enter; the others are listed above and flagged where they would have been.",
        "- **Within a cell** (dataset × arch): mean, SD (ddof 1), n, 95% t-interval (`scipy.stats.t.interval`). "
        "Paired over the seeds both runs have: Δ = oriented mean difference (positive = better) with its 95% "
        f"t-interval; {t['per_cell'].text()}; markers * / ** / *** for p_BH < 0.05 / 0.01 / 0.001 "
        "and W/T/L from p_BH only; Wilcoxon signed-rank (`scipy.stats.wilcoxon`, "
        "zero_method='zsplit', method='auto': exact up to n = 50 without ties or zeros, else a sign-flip permutation "
        "test up to n = 13) or n.a. when n < 6 (2/2^n > 0.05); "
        "d_z = Δ / SD of the differences; ρ = Pearson correlation of the paired values; power: seeds for 80% power "
        f"of the two-sided paired t at α = {rep.alpha:g} against an effect of one ROPE (d = ROPE / safeguard SD, "
        "the upper bound of the two-sided 60% interval of the differences' SD, Perugini et al. 2014; "
        "`statsmodels TTestPower`), never the observed effect; equivalence: "
        f'{t["equivalence"].text()}, ≡ when below α ("no loss beyond one ROPE").',
        f"- **Across cells** (cells are the units): {t['mean_rank'].text()}; {t['friedman'].text()}; method vs the "
        f"baseline (column p cells): {t['across_cells'].text()}; all pairs (CD diagram, group letters: methods "
        f"sharing a letter are not significantly different): {t['pairwise'].text()}; {t['bayes'].text()}: prior 0.5, "
        f"{rep.bayes_samples} draws, RandomState({rep.seed}). A number or figure whose "
        'statistic has fewer cells than its minimum reads "n.a. (N cells < K)".',
        f"- **Pooled over cells** (the seeds are the units, the cells fixed): normalized gain g = sign · (y − "
        f'baseline mean) / scale with scale = {rep.scale} ("rope": g = 1 is one ROPE); its mean and the pooled '
        f"paired Δ: {t['pooled'].text()}; {t['iqm'].text()}, {rep.reps} bootstrap repetitions, seed {rep.seed}; "
        f"{t['improvement'].text()}; A12 = unpaired Vargha–Delaney P(method > baseline), per cell, averaged.",
        "- **Families.** Each SPLIT/METRIC is its own correction family (BH and Holm never mix metrics):",
        "",
        markdown_table(
            pd.DataFrame(
                [
                    {
                        "family": r.family.key,
                        "better": f"{ARROW[r.family.direction]} {r.family.direction}",
                        "ROPE": f"{r.family.rope:g}",
                        "unit": spec(r.family.metric).unit,
                    }
                    for r in rep.families
                ]
            )
        ),
        "",
        "- **Files.** `STUDY.csv`: the detail rows of every family (raw numbers); `STUDY.seeds.csv`: the value of "
        "every done run; `STUDY.json`: DVC metrics (numbers per family / method / cell); `STUDY.tables.json`: "
        "every table above in full; `STUDY/`: the figures.",
        "- **Packages.** " + ", ".join(f"{k} {v}" for k, v in rep.versions.items()) + ".",
    ]
    if rep.overhead_note:
        lines.insert(-1, rep.overhead_note)
    if rep.merged:
        lines.insert(-1, merged_text(rep.merged))
    return lines


def markdown(rep: StudyReport) -> str:
    counts = rep.completeness.counts()
    about = f"Study `{rep.study}` (profile `{rep.profile}`)" + (f": {rep.description}" if rep.description else ".")
    out = [
        f"# Leaderboard: {rep.study}",
        "",
        about,
        "",
        f"Baseline: `{rep.baseline}`. α = {rep.alpha:g}. Families: "
        + ", ".join(f"`{r.family.key}` {ARROW[r.family.direction]}" for r in rep.families)
        + ".",
        "",
        "## Completeness",
        "",
        f"{counts['done']} of {counts['expected']} expected runs done"
        + "".join(f", {counts[s]} {s}" for s in ("failed", "stale", "missing", "corrupt") if counts[s])
        + ".",
    ]
    lines = rep.completeness.lines()
    if lines:
        out += ["", "Runs not done (left out of every statistic; flagged in each table they would have entered):", ""]
        out += [f"- {line}" for line in lines]
    for r in rep.families:
        out += ["", f"## {family_title(r)}", "", markdown_table(board_display(r.leaderboard, r, rep.overhead)), ""]
        out += [f"- {line}" for line in family_notes(r)]
        out += [
            "",
            f"Per cell (Δ and d_z oriented: positive = better than `{rep.baseline}`):",
            "",
            markdown_table(detail_display(r.detail, r)),
        ]
    if rep.consistency_md:
        out += [""] + rep.consistency_md
    if rep.figures:
        out += ["", "## Figures", ""]
        for caption, path in rep.figures.items():
            out += [f"**{caption}**", "", f"![{caption}]({path})", ""]
    out += [""] + footer(rep)
    return "\n".join(out).rstrip() + "\n"


def detail_csv(rep: StudyReport) -> str:
    frames = [r.detail for r in rep.families]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DETAIL_COLUMNS)
    return frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")

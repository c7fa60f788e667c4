"""``results/README.md``: the paper tables a visitor reads without running anything.

Built only from files the pipeline wrote: the claims tables (``results/claims/PAPER.json``), the
studies' leaderboards (``results/leaderboards/STUDY.csv`` and their figures) and the published
hyperparameter searches (``results/search/NAME.json``). One section per paper, in the claims
files' ``order``: its claims table with a verdict per claim, its figures, and the leaderboard of
each study it reads (cell means with the BH-adjusted paired test against ERM; the full board is
linked); then "Guidance as a trade-off" from the optional studies' ``results/fronts/STUDY/fronts.json``
and ``results/curves/STUDY/curves.json`` (``tradeoffs``). Byte-identical on rerun (no timestamps).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...statistics.stability import STABLE
from ..formatting import DASH, markdown_table, num
from .report import COUNTS, from_json, markdown
from .spec import Paper
from .tradeoffs import Study, tradeoff_section

PRIMARY = ("accuracy", "auc")  # the leaderboard families shown here (all families: the study's own board)


def load_paper_tables(folder: Path) -> list[dict[str, Any]]:
    """Every claims table JSON in ``folder``, in the claims files' order (then by name)."""
    tables = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return sorted(tables, key=lambda t: (t.get("order", 1000), t["name"]))


def paper_section(table: dict[str, Any]) -> str:
    """The claims table of one paper as a section, figure paths re-rooted at ``claims/``."""
    paper = Paper(
        table["name"],
        table["paper"],
        table["title"],
        table["citation"],
        table["url"],
        table["studies"],
        table["notes"],
        [],
        [],
        "",
    )
    figures = {caption: f"claims/{path}" for caption, path in table["figures"].items()}
    return markdown(
        paper, from_json(table), figures, table["incomplete"], heading="##", not_run=table.get("not_run", "")
    )


def study_board(study: str, leaderboards: Path) -> str:
    """Cell means per method of the study's primary families, with the paired test against the baseline."""
    path = leaderboards / f"{study}.csv"
    if not path.is_file():
        return f"*No leaderboard for study `{study}` yet (`python -m benchmark stats {study}`).*"
    detail = pd.read_csv(path)
    detail = detail[detail["metric"].isin(PRIMARY)]
    out = []
    for family, rows in detail.groupby("family", sort=False):
        base = rows["baseline"].iloc[0]
        cells = list(dict.fromkeys(zip(rows["dataset"], rows["arch"])))
        table: dict[str, dict[str, str]] = {}
        for _, r in rows.iterrows():
            text = DASH if pd.isna(r["mean"]) else f"{num(r['mean'])} ± {num(r['sd'])}"
            if r["method"] != base and pd.notna(r.get("gain")):
                text += f" ({float(r['gain']):+.3f}{r['marker'] if isinstance(r['marker'], str) else ''})"
            if r["runs_done"] < r["runs_expected"]:
                text += f" [{int(r['runs_done'])}/{int(r['runs_expected'])} runs]"
            table.setdefault(r["method"], {})[f"{r['dataset']} / {r['arch']}"] = text
        frame = pd.DataFrame.from_dict(table, orient="index").reindex(columns=[f"{d} / {a}" for d, a in cells])
        frame = frame.fillna("").rename_axis("method").reset_index()
        out += [
            f"**{family}** (↑ better; mean ± SD over seeds; in brackets the paired gain over {base}, "
            f"* p_BH < 0.05, ** < 0.01, *** < 0.001):",
            "",
            markdown_table(frame),
            "",
        ]
    return "\n".join(out)


def study_figures(study: str, leaderboards: Path) -> list[str]:
    folder = leaderboards / study
    shown = [
        ("cell_means.png", "cell means with 95% CIs, seeds as dots"),
        ("forest.png", "paired difference to ERM per cell, 95% CI, ROPE band"),
    ]
    return [
        f"![{study}: {caption}](leaderboards/{study}/{name})" for name, caption in shown if (folder / name).is_file()
    ]


def search_section(folder: Path) -> list[str]:
    """The published selections (validation-selected, and the oracle apart)."""
    lines = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        lines.append(f"- `{path.stem}`: {data.get('description', '')} — [{path.stem}.md](search/{path.stem}.md)")
    return lines


def tally(tables: list[dict[str, Any]]) -> str:
    rows = []
    for t in tables:
        counts = t["counts"]
        rows.append(
            {
                "paper": f"[{t['paper']}](#{anchor(t['paper'], t['title'])})",
                "claims": sum(counts.values()),
                **{k: counts.get(k, 0) for k in COUNTS if any(k in x["counts"] for x in tables)},
            }
        )
    return markdown_table(pd.DataFrame(rows))


def anchor(paper: str, title: str) -> str:
    """GitHub's heading anchor of ``## PAPER: TITLE``."""
    text = f"{paper}: {title}".lower()
    return "".join(c for c in text.replace(" ", "-") if c.isalnum() or c in "-_")


def results_readme(
    claims: Path,
    leaderboards: Path,
    search: Path,
    profile: str,
    tradeoffs: tuple[Path, Path] | None = None,
    studies: Sequence[Study] = (),
) -> str:
    """The page. ``tradeoffs``: the fronts and curves folders (``results/fronts``, ``results/curves``), whose
    ``studies`` (``tradeoffs.declared_studies``) and other reports make the last section; None: no such section."""
    tables = load_paper_tables(claims)
    lines = [
        "# Results: the seed papers' claims, reproduced by `dvc repro`",
        "",
        "Generated by `python -m benchmark readme` at the end of `make reproduce` (`dvc repro`) from the run "
        f"records of profile `{profile}` (CPU-sized; `--profile paper` runs the same studies at the papers' "
        "scale on GPUs with the real data). Every number and every verdict is computed from the records; "
        "nothing here is written by hand. The claims are data: `claims/PAPER.yaml`.",
        "",
        "## Verdicts",
        "",
        tally(tables),
        "",
        "One verdict per claim (an entry of `claims/PAPER.yaml`); a claim over several cells (architectures, "
        "methods, metrics) is listed with its cells beneath it, and the table above counts claims.",
        "",
        "- **reproduced**: the claim holds in every cell (intersection-union test: the largest cell p), "
        "Holm-adjusted over the paper's claims, p < α;",
        "- **significant but negligible**: significant, but every cell's simultaneous interval lies inside "
        "±ROPE: the effect is real and smaller than the smallest effect of interest;",
        "- **not reproduced**: not significant, and in some cell the simultaneous interval (Bonferroni over the "
        "paper's cells) rules out a gain of one ROPE (equivalence claims: rules out equivalence);",
        "- **inconclusive**: neither; the row says why (e.g. only after Holm, or the interval spans zero) and how "
        "many seeds would settle it (80% power at one ROPE for the test used, at the claim's Holm step, with a "
        "safeguard SD);",
        "- ablations say whether a choice **changes the result** (in any of its cells), makes **no practical "
        "difference** (in every cell), or neither;",
        "- **identical runs**: every paired difference is exactly 0; no test, and the row says whether the "
        "option under test was exercised (the two sides' configs and recorded weights, metrics and curves);",
        "- **untestable**: fewer than two pairs (seeds a side) in a cell.",
        "",
        "**Stability (seeds)**, beside each verdict: the share of seeded simulated reruns with new seeds (the same "
        "number per cell, shown in brackets) that give the same verdict, each rerun drawn from the cells' "
        "posterior predictive and judged by the same rules. No claim is called reproduced, not reproduced, "
        f"significant but negligible, changes the result or no practical difference below {STABLE:.0%}: it reads "
        '*inconclusive* with "unstable: reproduced in 62% of reruns with new seeds" and the seeds that would '
        f"settle it; below {STABLE:.0%} the column also lists what the reruns say. The method, its calibration "
        "check and its limits: docs/statistics.md §1.16.",
        "",
        "Comparisons across datasets (e.g. CYBORG's 7x-data reference, RRR's clean-digits reference) are "
        "unpaired (Welch): the two datasets share no randomness. Each test and rule, with its reference, is "
        "stated once under each paper's table (*How a verdict is made*).",
        "",
        "Hyperparameters: every method runs at its paper's defaults; the tuned arms (label `[tuned]`) use "
        "the selection of a published random search (DomainBed's protocol: the same number of seeded draws "
        "per method, selected on the training distribution's validation split; the oracle selection on the "
        "shifted split is reported apart and never used):",
        "",
    ]
    lines += search_section(search) or ["- (no published search)"]
    lines += [
        "",
        "Time per stage of the last measured `make reproduce`: [stage_times.md](stage_times.md). "
        "Step-time overhead of every method: [profiles/](profiles/).",
        "",
    ]
    if tradeoffs is not None:
        lines += [
            "Guidance as a trade-off (fronts over guidance strength, curves over the annotation budget and "
            "quality; optional studies): [after the papers](#guidance-as-a-trade-off).",
            "",
        ]
    shown: set[str] = set()
    for t in tables:
        lines += [paper_section(t), ""]
        for study in t["studies"]:
            if study in shown:
                lines += [f"Leaderboard of study `{study}`: above.", ""]
                continue
            shown.add(study)
            lines += (
                [
                    f"### Leaderboard of study `{study}`",
                    "",
                    f"Full board with every test and family: [leaderboards/{study}.md](leaderboards/{study}.md).",
                    "",
                    study_board(study, leaderboards),
                    "",
                ]
                + study_figures(study, leaderboards)
                + [""]
            )
    if tradeoffs is not None:
        lines += tradeoff_section(*tradeoffs, studies)
    return "\n".join(lines).rstrip() + "\n"

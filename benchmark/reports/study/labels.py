"""One row per distinct set of runs on a study's pages (issue 24): a label whose expected runs are exactly another
label's, such as a tuned selection equal to the defaults (``sage[tuned]`` trains the runs of ``sage``), is shown once,
under the label ``statistics.gap_closed.same_run_groups`` puts first (the baseline when it is one of them), and the
page says which labels it stands for. Ranking both would count the same runs twice in every across-cell statistic."""

from __future__ import annotations

import dataclasses

from ...records.table import RecordSet
from ...statistics.gap_closed import same_run_groups


def merged_labels(records: RecordSet, keep: str) -> dict[str, list[str]]:
    """{shown label: [labels with exactly its runs]}, for the labels that share their runs with another."""
    runs = records.runs
    ids = {str(label): frozenset(group["run_id"]) for label, group in runs.groupby("method", sort=False)}
    return {head: rest for head, *rest in same_run_groups(ids, keep) if rest}


def one_label_per_run_set(records: RecordSet, keep: str) -> tuple[RecordSet, dict[str, list[str]]]:
    """``records`` without the rows of the labels ``merged_labels`` folds into another, and that map."""
    merged = merged_labels(records, keep)
    dropped = {label for rest in merged.values() for label in rest}
    if not dropped:
        return records, {}
    return (
        dataclasses.replace(
            records,
            runs=records.runs[~records.runs["method"].isin(dropped)].reset_index(drop=True),
            scores=records.scores[~records.scores["method"].isin(dropped)].reset_index(drop=True),
        ),
        merged,
    )


def merged_text(merged: dict[str, list[str]]) -> str:
    """The pages' line: which labels a row stands for (empty when none)."""
    if not merged:
        return ""
    parts = [
        f"`{head}` also stands for {', '.join(f'`{x}`' for x in rest)}"
        + (" (tuned = defaults)" if f"{head}[tuned]" in rest else "")
        for head, rest in merged.items()
    ]
    return (
        "- **One row per set of runs.** Labels that name exactly the same runs are shown once: "
        + "; ".join(parts)
        + ". Ranking both would count those runs twice."
    )

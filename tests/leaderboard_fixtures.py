"""Hand-made statistics files for the leaderboard page tests: two studies (``alpha``, ``beta``) of three
methods each, in the shape ``python -m benchmark stats`` writes (``STUDY.tables.json`` and ``STUDY/*.png``),
the across-cell board (``board.tables.json`` and ``board/*.png``), and submission bundles
(``results/submissions/METHOD/claim.json`` and a method file)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.reports.board.analysis import analyse
from benchmark.reports.board.bundles import Bundles
from benchmark.reports.board.inputs import Arrays, GridCell
from benchmark.reports.board.tables_file import BoardTables
from benchmark.reports.study.tables import DETAIL_COLUMNS
from benchmark.reports.study.tables_file import StudyTables

CELL = ("d1", "cnn")
# study -> family -> method -> (mean, mean_rank, place, delta, verdict, p_bh, equivalent)
NUMBERS = {
    "alpha": {
        "test/accuracy": {
            "sgt": (0.80, 1.0, 1, 0.05, "win", 0.0123, False),
            "cyborg": (0.76, 2.0, 2, 0.004, "tie", 0.61, True),
            "erm": (0.75, 3.0, 3, None, None, None, None),
        }
    },
    "beta": {
        "test_closed/auc": {
            "cyborg": (0.91, 1.0, 1, 0.03, "win", 0.002, False),
            "erm": (0.88, 2.0, 2, None, None, None, None),
            "sgt": (0.85, 3.0, 3, -0.03, "loss", 0.004, False),
        },
        "test_closed/saliency/cam/auroc": {
            "cyborg": (0.70, 1.0, 1, 0.1, "win", 0.001, False),
            "sgt": (0.62, 2.0, 2, 0.02, "tie", 0.2, False),
            "erm": (0.60, 3.0, 3, None, None, None, None),
        },
    },
}
PAPERS = {
    "erm": "https://paper.example/erm",
    "sgt": "https://paper.example/sgt",
    "cyborg": "https://paper.example/cyborg",
    "focus": "https://paper.example/focus",
    "edited": "https://paper.example/edited",
}


def link(label: str) -> str | None:
    """A deterministic paper link (the tests of the registry's links use the real registry)."""
    return PAPERS.get(label.split("[", 1)[0])


def board_row(method: str, mean_rank: float, place: int, delta: float | None) -> dict[str, Any]:
    base = delta is None
    gain = None if base else delta * 100
    return {
        "place": place,
        "method": method,
        "direction": "higher",
        "rope": 0.01,
        "mean_rank": mean_rank,
        "rank_low": mean_rank,
        "rank_high": mean_rank,
        "n_pairs": None if base else 3,
        "scale": "rope",
        "gain_mean": gain,
        "gain_mean_low": None if base else gain - 3,
        "gain_mean_high": None if base else gain + 3,
        "gain_iqm": gain,
        "gain_iqm_low": None if base else gain - 3,
        "gain_iqm_high": None if base else gain + 3,
        "delta": delta,
        "delta_low": None if base else delta - 0.03,
        "delta_high": None if base else delta + 0.03,
        "poi": None if base else 0.7,
        "poi_low": None if base else 0.5,
        "poi_high": None if base else 0.9,
        "poi_unpaired": None if base else 0.6,
        "wins": None,
        "ties": None,
        "losses": None,
        "untested": None,
        "p_cells": None,
        "p_cells_holm": None,
        "cells_status": None if base else "insufficient",
        "cells_reason": None if base else "N=1 cells < 6: smallest exact Wilcoxon p 2/2^N = 1 > 0.05",
        "p_better": None if base else 0.6,
        "p_rope": None if base else 0.3,
        "p_worse": None if base else 0.1,
        "median_d_z": None if base else 1.2,
        "underpowered_cells": None,
        "n_cells": 1,
        "flags": "",
        "group": "a",
        "runs_expected": 3,
        "runs_done": 3,
    }


def detail_row(
    key: str,
    method: str,
    mean: float,
    delta: float | None,
    verdict: str | None,
    p_bh: float | None,
    equivalent: bool | None,
) -> dict[str, Any]:
    split, metric = key.split("/", 1)
    row = dict.fromkeys(DETAIL_COLUMNS)
    row.update(
        {
            "family": key,
            "split": split,
            "metric": metric,
            "direction": "higher",
            "rope": 0.01,
            "dataset": CELL[0],
            "arch": CELL[1],
            "method": method,
            "baseline": "erm",
            "runs_expected": 3,
            "runs_done": 3,
            "n": 3,
            "n_undefined": 0,
            "mean": mean,
            "sd": 0.01,
            "ci_low": mean - 0.02,
            "ci_high": mean + 0.02,
            "flags": "",
        }
    )
    if delta is not None:
        row.update(
            {
                "n_pairs": 3.0,
                "gain": delta,
                "gain_low": delta - 0.03,
                "gain_high": delta + 0.03,
                "p_t": p_bh / 2,
                "p_bh": p_bh,
                "marker": "*" if p_bh < 0.05 else "",
                "p_wilcoxon": None,
                "wilcoxon_method": "n.a. (n<6)",
                "d_z": 1.2,
                "rho": 0.5,
                "seeds_needed": 12.0,
                "underpowered": True,
                "p_tost": 0.01 if equivalent else 0.9,
                "p_tost_bh": 0.02 if equivalent else 0.95,
                "equivalent": equivalent,
                "verdict": verdict,
            }
        )
    return row


def family(key: str, numbers: dict[str, tuple]) -> dict[str, Any]:
    board = [board_row(m, n[1], n[2], n[3]) for m, n in numbers.items()]
    detail = [detail_row(key, m, n[0], n[3], n[4], n[5], n[6]) for m, n in numbers.items()]
    versus = [
        {
            "method": m,
            "other": "erm",
            "n_cells": 1,
            "wins": 0,
            "ties": 0,
            "losses": 0,
            "median_gain": n[3],
            "p": None,
            "wilcoxon_method": "n.a. (n<6)",
            "p_holm": None,
            "status": "insufficient",
            "reason": "N=1 cells < 6: smallest exact Wilcoxon p 2/2^N = 1 > 0.05",
        }
        for m, n in numbers.items()
        if m != "erm"
    ]
    return {
        "direction": "higher",
        "rope": 0.01,
        "leaderboard": board,
        "detail": detail,
        "friedman": {
            "k": 3,
            "n_cells": 1,
            "dropped_cells": 0,
            "chi2": None,
            "p_chi2": None,
            "f": None,
            "p_f": None,
            "status": "insufficient",
            "reason": "N=1 complete cells: smallest exact Friedman p (k!)^(1-N) = 1 > 0.05",
        },
        "mean_ranks": [
            {"method": m, "mean_rank": n[1], "rank_low": n[1], "rank_high": n[1], "n_cells": 1}
            for m, n in numbers.items()
        ],
        "pairwise_holm": versus,
        "versus_baseline_holm": versus,
        "gains": [],
        "bayes_signed_rank": [],
        "win_tie_loss": [],
        "dropped_cells": [],
    }


def tables(study: str, profile: str = "quick") -> dict[str, Any]:
    """A ``STUDY.tables.json``-like dict."""
    methods = list(next(iter(NUMBERS[study].values())))
    return {
        "study": study,
        "profile": profile,
        "description": f"the hand-made study {study}",
        "baseline": "erm",
        "alpha": 0.05,
        "bootstrap_reps": 100,
        "seed": 0,
        "bayes_samples": 1000,
        "scale": "rope",
        "versions": {"numpy": "1", "scipy": "1"},
        "runs": [
            {
                "run_id": f"{m}-{s}",
                "method": m,
                "method_name": m,
                "arch": CELL[1],
                "dataset": CELL[0],
                "seed": s,
                "state": "done",
                "problem": "",
            }
            for m in methods
            for s in range(3)
        ],
        "families": {key: family(key, numbers) for key, numbers in NUMBERS[study].items()},
        "consistency": {
            "summary": [
                {
                    "dataset": CELL[0],
                    "arch": CELL[1],
                    "split": "test",
                    "attribution": "cam",
                    "method": m,
                    "runs_expected": 3,
                    "runs_done": 3,
                    "runs_used": 3,
                    "n_images": 8,
                    "n_pairs": 3,
                    "spearman": 0.5,
                    "spearman_low": 0.4,
                    "spearman_high": 0.6,
                    "pearson": 0.5,
                    "pearson_low": 0.4,
                    "pearson_high": 0.6,
                    "topk_iou": 0.3,
                    "topk_iou_low": 0.2,
                    "topk_iou_high": 0.4,
                    "flags": "",
                }
                for m in methods
            ],
            "comparisons": [],
            "problems": [],
        },
        "overhead": {
            "files": ["quick.json"],
            "problems": [],
            "rows": [
                {
                    "method": "erm",
                    "arch": CELL[1],
                    "ratio": 1.0,
                    "ratio_low": 1.0,
                    "ratio_high": 1.0,
                    "theoretical_ratio": 1.0,
                    "step_ms": 80.0,
                    "precision": "fp32",
                    "source": "quick.json",
                },
                {
                    "method": "sgt",
                    "arch": CELL[1],
                    "ratio": 2.65,
                    "ratio_low": 2.44,
                    "ratio_high": 2.87,
                    "theoretical_ratio": 2.8,
                    "step_ms": 212.0,
                    "precision": "fp32",
                    "source": "quick.json",
                },
            ],
        },
    }


def png(path: Path, color: str) -> None:
    """A small matplotlib figure saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.bar(["erm", "sgt", "cyborg"], [3, 1, 2], color=color)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def typed(data: dict[str, Any]) -> StudyTables:
    """A hand-made tables dict read through the schema the page reads (``StudyTables``)."""
    return StudyTables.from_json(data, "hand-made tables")


BOARD_CLOSES = {"erm": 0.0, "sgt": 0.6, "focus": 0.45, "cyborg": 0.3}  # the fraction of each cell's gap closed
BOARD_RERUN = "re-run: 2/2 identical"  # the submission focus's mark (its verification.json)


def board_tables() -> BoardTables:
    """An across-cell board of erm, sgt, the submission focus and cyborg over 6 hand-made cells, 5 seeds
    (``reports.board.analysis``)."""
    rng = np.random.default_rng(0)
    cells = [GridCell("alpha", f"d{i}", "cnn", "test/accuracy", f"clean{i}", f"cue {i}") for i in range(6)]
    gaps = np.linspace(0.1, 0.3, 6)
    values = np.stack([0.5 + c * gaps[:, None] + 0.01 * rng.standard_normal((6, 5)) for c in BOARD_CLOSES.values()])
    reference = 0.5 + gaps[:, None] + 0.01 * rng.standard_normal((6, 5))
    ids = {m: frozenset(f"{m}-{i}" for i in range(30)) for m in BOARD_CLOSES}
    present = {m: [c.name for c in cells] for m in BOARD_CLOSES}
    data = Arrays(list(BOARD_CLOSES), np.arange(5), values, reference, ids, present)
    return analyse(cells, data, "erm", reps=200, bundles=Bundles(reruns={"focus": BOARD_RERUN}))


def write_board(folder: Path) -> BoardTables:
    """``folder/board.tables.json`` and ``folder/board/{cd_diagram,gap_closed}.png``, read back."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "board.tables.json").write_text(board_tables().to_text())
    for name, color in (("cd_diagram", "tab:purple"), ("gap_closed", "tab:red")):
        png(folder / "board" / f"{name}.png", color)
    return BoardTables.read(folder / "board.tables.json")


def write_statistics(
    folder: Path, studies: tuple[str, ...] = ("alpha", "beta"), board: bool = True
) -> dict[str, StudyTables]:
    """``folder/STUDY.tables.json`` and ``folder/STUDY/{cd_diagram,forest,consistency_…}.png`` of each study,
    read back through ``StudyTables.read``, and the across-cell board (``write_board``) unless ``board`` is False."""
    out = {}
    if board:
        write_board(folder)
    for study in studies:
        out[study] = tables(study)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{study}.tables.json").write_text(json.dumps(out[study], indent=1))
        for name, color in (
            ("cd_diagram", "tab:blue"),
            ("forest", "tab:orange"),
            ("consistency_d1_cnn_test_cam", "tab:green"),
        ):
            png(folder / study / f"{name}.png", color)
    return {study: StudyTables.read(folder / f"{study}.tables.json") for study in out}


def write_params(path: Path, leaderboard: Any = ("alpha", "beta")) -> Path:
    import yaml

    board = list(leaderboard) if isinstance(leaderboard, tuple) else leaderboard
    path.write_text(yaml.safe_dump({"leaderboard": board, "studies": {"alpha": {}, "beta": {}}}))
    return path


TEST = "paired t-test over the seeds of each cell (the submission vs the method), Benjamini-Hochberg"


def claim(
    method: str,
    method_file: str,
    digest: str,
    profile: str = "quick",
    mean_rank: float = 1.5,
    shape: str = "bundle",
    study: str = "alpha",
) -> dict:
    """A ``claim.json`` for ``study`` (its headline family): as ``submission.bundle.claim`` writes it (``ranking``
    and per-cell ``cells``), or ``shape="brief"``: the shape first announced (``families`` with a mean and one
    test)."""
    key = next(iter(NUMBERS[study]))
    ranking = {
        "direction": "higher",
        "rope": 0.01,
        "of": 4,
        "place": 2.0,
        "mean_rank": mean_rank,
        "gain": 0.03,
        "gain_low": 0.01,
        "gain_high": 0.05,
    }
    if shape == "brief":
        entry = {
            "families": {
                key: {
                    **ranking,
                    "mean": 0.78,
                    "versus": {
                        "erm": {
                            "p_holm": 0.01,
                            "significant": True,
                            "better": True,
                            "test": "paired t-test over seeds per cell, Holm over the comparisons",
                        }
                    },
                }
            }
        }
    else:
        versus = {
            other: {
                "test": TEST,
                "cells": {
                    "d1/cnn": {
                        "gain": gain,
                        "gain_low": gain - 0.02,
                        "gain_high": gain + 0.02,
                        "n": 3,
                        "p_adjusted": p,
                        "verdict": verdict,
                    }
                },
                "wins": int(verdict == "win"),
                "ties": int(verdict == "tie"),
                "losses": int(verdict == "loss"),
            }
            for other, gain, p, verdict in (("erm", 0.03, 0.01, "win"), ("sgt", -0.02, 0.2, "tie"))
        }
        entry = {
            "runs": 3,
            "cells": {key: {"d1/cnn": {"mean": 0.78, "sd": 0.01, "n": 3}}},
            "ranking": {key: {**ranking, "versus": versus}},
        }
    return {
        "method": method,
        "citation": "Someone et al. 2026",
        "url": PAPERS.get(method, ""),
        "profile": profile,
        "method_file": method_file,
        "method_sha256": digest,
        "studies": {study: entry},
        "overhead": {CELL[1]: {"declared": 2.0, "measured": 1.9, "ratio": 0.95}},
    }


def write_submission(
    root: Path,
    submissions: Path,
    method: str,
    *,
    change_file: bool = False,
    remove_file: bool = False,
    profile: str = "quick",
    mean_rank: float = 1.5,
    shape: str = "bundle",
    study: str = "alpha",
) -> Path:
    """A method file under ``root/methods`` and its bundle ``submissions/METHOD/claim.json``; the file is then
    changed or removed to make the claim stale; ``study``: the study the claim is for."""
    source = root / "methods" / f"{method}.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(f"# the {method} method\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    folder = submissions / method
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "claim.json").write_text(
        json.dumps(claim(method, f"methods/{method}.py", digest, profile, mean_rank, shape, study))
    )
    if change_file:
        source.write_text(f"# the {method} method, edited after the claim\n")
    if remove_file:
        source.unlink()
    return folder

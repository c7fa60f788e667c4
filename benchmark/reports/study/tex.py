"""The leaderboard as TeX: per family the board and the detail table, booktabs (``pandas.DataFrame.to_latex``).

The same strings as the Markdown tables, TeX-escaped, with the symbols (↑ ↓ ± Δ ρ ≡ <) as math; the
flags column is left out (it is in the Markdown and the CSV). Wide tables: wrap them in
``\\resizebox{\\textwidth}{!}{...}`` (graphicx) when including them.
"""

from __future__ import annotations

import pandas as pd

from .board import StudyReport, board_display, detail_display, family_title

TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
TEX_SYMBOLS = {
    "±": r"$\pm$",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "Δ": r"$\Delta$",
    "ρ": r"$\rho$",
    "≡": r"$\equiv$",
    "–": "--",
    "χ²": r"$\chi^2$",
    "×": r"$\times$",
    "<": r"$<$",
    ">": r"$>$",
    "α": r"$\alpha$",
    "²": r"$^2$",
}


def tex_escape(text: str) -> str:
    out = "".join(TEX.get(ch, ch) for ch in str(text))
    for symbol, command in TEX_SYMBOLS.items():
        out = out.replace(symbol, command)
    return out


def tex_table(frame: pd.DataFrame, caption: str, label: str) -> str:
    shown = frame.map(tex_escape)
    shown.columns = [tex_escape(c) for c in frame.columns]
    return shown.to_latex(
        index=False,
        escape=False,
        column_format="l" * len(frame.columns),
        caption=tex_escape(caption),
        label=label,
        position="htbp",
    )


def latex(rep: StudyReport) -> str:
    """Booktabs tables (``\\usepackage{booktabs}``): per family the board and the detail table."""
    out = [f"% Leaderboard of study {rep.study} (profile {rep.profile}); needs \\usepackage{{booktabs}}", ""]
    for i, r in enumerate(rep.families):
        out.append(
            tex_table(
                board_display(r.leaderboard, r, rep.overhead).drop(columns=["flags"]),
                f"{family_title(r)}. Baseline {rep.baseline}, alpha {rep.alpha:g}.",
                f"tab:{rep.study}:board:{i}",
            )
        )
        out.append(
            tex_table(
                detail_display(r.detail, r).drop(columns=["flags"]),
                f"{r.family.key} per cell (Δ oriented: positive = better). p: "
                + (r.tests["per_cell"].text() if r.tests else "paired t-test")
                + ".",
                f"tab:{rep.study}:detail:{i}",
            )
        )
    return "\n".join(out)

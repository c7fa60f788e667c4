"""The leaderboard pages' Jinja2 templates (``benchmark/reports/leaderboard/templates``): shipped as package data,
strict about missing context values, escaping every value as ``html.escape`` does, and writing the exact bytes
(newlines included) the committed pages have; rendered here from hand-made contexts, no statistics files."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from benchmark.reports.leaderboard.html import Cell, Figures, Head, Sig, environment, markdown_blocks, render, table

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ("base.html.j2", "index.html.j2", "study.html.j2", "macros.html.j2", "leaderboard.css", "leaderboard.js")


def small_table():
    return table(
        [Head("method"), Head("Δ ↑", 'the "gain"', "descending")],
        [
            (
                "",
                [
                    (
                        "",
                        [
                            Cell("sgt", "sgt", link="https://x.example/?a=1&b=2"),
                            Cell("0.05", 0.05, "p = 0.01", "num", marker=Sig("▲", "up", "it's better")),
                        ],
                    ),
                    ("", [Cell("erm"), Cell("–", "", cls="num")]),
                ],
            )
        ],
        sorted_by=1,
    )


TABLE = (
    '<div class="wide"><table class="sortable"><thead><tr><th title="" data-first="ascending">method</th>'
    '<th title="the &quot;gain&quot;" data-first="descending" aria-sort="descending">Δ ↑</th></tr></thead><tbody>'
    '<tr data-index="0"><td data-sort="sgt"><a href="https://x.example/?a=1&amp;b=2">sgt</a></td>'
    '<td class="num" title="p = 0.01" data-sort="0.05">0.05 <span class="sig up" title="it&#x27;s better">▲</span>'
    '</td></tr>\n<tr data-index="1"><td>erm</td><td class="num" data-sort="">–</td></tr></tbody></table></div>'
)


def study_context(**changes) -> dict:
    context = {
        "title": "Leaderboard: s",
        "study": "s",
        "description": "<script>alert('x')</script> & \"q\"",
        "profile": "quick",
        "baseline": "erm",
        "alpha": "0.05",
        "done": 5,
        "expected": 6,
        "incomplete": [(1, "failed")],
        "run_lines": ["sgt / d1 / cnn / seed 0 (run r0): failed: it's <gone>"],
        "sections": [
            {
                "key": "test/accuracy",
                "anchor": "test-accuracy",
                "title": "test/accuracy: ↑ higher is better",
                "board": small_table(),
                "notes": markdown_blocks(["- **n** `c<d>`"]),
                "detail": small_table(),
            }
        ],
        "submissions": None,
        "consistency": None,
        "figures": Figures(None, []),
        "methods": markdown_blocks(["## Methods", "", "| a | b |", "|---|---|", "| 1 & 2 | 'x' |"]),
    }
    return {**context, **changes}


def test_the_templates_are_package_data():
    folder = files("benchmark.reports.leaderboard") / "templates"
    assert all((folder / name).is_file() for name in TEMPLATES)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "templates/*" in config["tool"]["setuptools"]["package-data"]["benchmark.reports.leaderboard"]


@pytest.mark.parametrize("template", ["index.html.j2", "study.html.j2"])
def test_a_missing_context_value_is_an_error_not_an_empty_string(template):
    with pytest.raises(UndefinedError):
        render(template, {})
    context = study_context()
    del context["baseline"]
    with pytest.raises(UndefinedError, match="baseline"):
        render("study.html.j2", context)


def test_a_study_page_is_escaped_as_html_escape_does_with_the_exact_newlines():
    out = render("study.html.j2", study_context())
    folder = files("benchmark.reports.leaderboard") / "templates"
    css, js = (folder / "leaderboard.css").read_text("utf-8"), (folder / "leaderboard.js").read_text("utf-8")
    body = "\n".join(
        [
            '<p><a href="../leaderboard.html">← the leaderboard</a></p>',
            "<h1>Study <code>s</code></h1>",
            "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;</p>",
            '<p>Profile <code>quick</code>; baseline <code>erm</code>; α = 0.05. Families: <a href="#test-accuracy">'
            "test/accuracy</a>.</p>",
            "<h2>Completeness</h2>",
            "<p>5 of 6 expected runs done, 1 failed.</p>",
            "<ul><li>sgt / d1 / cnn / seed 0 (run r0): failed: it&#x27;s &lt;gone&gt;</li></ul>",
            '<h2 id="test-accuracy">test/accuracy: ↑ higher is better</h2>',
            TABLE,
            "<ul><li><strong>n</strong> <code>c&lt;d&gt;</code></li></ul>",
            "<details><summary>Per cell (Δ and d_z oriented: positive = better than <code>erm</code>)</summary>"
            + TABLE
            + "</details>",
            "<h2>Figures</h2>",
            '<p class="key">No figures.</p>',
            "<footer>",
            "<h2>Methods</h2>",
            '<div class="wide"><table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1 &amp; 2</td>'
            "<td>&#x27;x&#x27;</td></tr></tbody></table></div>",
            "</footer>",
        ]
    )
    assert out == (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>Leaderboard: s</title>\n'
        f"<style>\n{css}</style>\n</head>\n<body>\n{body}\n<script>\n{js}</script>\n</body>\n</html>\n"
    )


def test_the_environment_is_strict_autoescaped_and_keeps_the_trailing_newline():
    env = environment()
    assert env.autoescape is True and env.keep_trailing_newline and env.trim_blocks and env.lstrip_blocks
    assert env.undefined.__name__ == "StrictUndefined"

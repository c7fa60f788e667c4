"""The leaderboard as self-contained HTML: ``results/leaderboard.html`` and one page per study.

Every page is one file: inline CSS and JavaScript, the figures embedded as base64 ``data:`` URIs, no
network at view time. Tables sort by a click (or Enter) on a column header: numbers numerically,
missing values last, a visible indicator on the sorted column; each ``<tbody>`` sorts on its own,
so stale submissions stay below the ranked rows. Text is escaped with ``html.escape``; the
numbers come from ``page`` (and, on a study's page, from the stats' own renderers).
Nothing time-dependent is written: a rerun gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..formatting import DASH, num
from ..study.board import footer
from .page import columns, legend
from .rows import DOWN, MIXED, SAME, UP, Page, Row
from .study_page import Figure, consistency_frame, family_sections, study_report

SIG_CLASS = {UP: "up", DOWN: "down", MIXED: "mixed", SAME: "same"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1.5rem auto;
max-width:1500px;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1.05rem}a{color:#0969da}code{font-size:.85em;background:#f6f8fa;padding:0 .2em;border-radius:3px}
.wide{overflow-x:auto}table{border-collapse:collapse;font-size:.84rem;margin:.4rem 0 1rem}
th,td{border-bottom:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f3f5f7}thead tr.groups th{text-align:center;border-left:1px solid #d0d7de}
table.sortable thead tr:last-child th{cursor:pointer;user-select:none}
table.sortable thead tr:last-child th::after{content:" \\21C5";color:#8c959f}
table.sortable thead tr:last-child th[aria-sort=ascending]::after{content:" \\25B4";color:#1f2328}
table.sortable thead tr:last-child th[aria-sort=descending]::after{content:" \\25BE";color:#1f2328}
td.nw{white-space:nowrap}td:not(.nw):not(.num){min-width:12rem}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody.unranked tr td{color:#8c959f;background:#f6f8fa}tbody.unranked{border-top:2px solid #8c959f}
tbody.unranked .sig{color:#8c959f}
.sig{font-weight:bold;cursor:help;padding-left:.2rem}.sig.up{color:#1a7f37}.sig.down{color:#cf222e}
.sig.mixed{color:#9a6700}.sig.same{color:#0969da}
.badge{font-size:.7rem;background:#ddf4ff;color:#0550ae;border-radius:.6rem;padding:0 .4rem;margin-left:.3rem;
white-space:nowrap}.badge.stale{background:#eaeef2;color:#57606a}
.note{font-size:.75rem;color:#57606a;max-width:32rem}.key{font-size:.85rem;color:#57606a}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:1rem;align-items:start}
.side{display:grid;grid-template-columns:minmax(280px,460px) 1fr;gap:1.5rem;align-items:start}
.side .figs{grid-template-columns:repeat(auto-fill,minmax(380px,1fr))}
figure{margin:0}figure img{max-width:100%;height:auto;border:1px solid #d8dee4}
figcaption{font-size:.8rem;color:#57606a}figure img{cursor:zoom-in}
figure.zoom{position:fixed;inset:0;z-index:10;overflow:auto;background:rgba(255,255,255,.97);padding:1rem}
figure.zoom img{max-width:none;cursor:zoom-out}footer{margin-top:2.5rem;font-size:.85rem}
details summary{cursor:pointer;color:#0969da}
"""

JS = """
(function () {
  function key(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute('data-sort');
    if (raw !== null) { return raw === '' ? null : (isNaN(Number(raw)) ? raw.toLowerCase() : Number(raw)); }
    var text = cell.textContent.trim();
    var m = text.match(/^[+-]?(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?/i);
    if (m) { return parseFloat(m[0]); }
    return (text === '' || text === '\\u2013') ? null : text.toLowerCase();
  }
  function compare(x, y) {
    if (typeof x !== typeof y) { return typeof x === 'number' ? -1 : 1; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  function sortBy(table, heads, th, col) {
    var now = th.getAttribute('aria-sort');
    var dir = now === 'ascending' ? 'descending' : (now === 'descending' ? 'ascending' :
              (th.getAttribute('data-first') || 'ascending'));
    heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var sign = dir === 'ascending' ? 1 : -1;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col]), y = key(b.cells[col]);
        if (x === null || y === null) {
          if (x !== y) { return x === null ? 1 : -1; }
        } else {
          var c = compare(x, y) * sign;
          if (c !== 0) { return c; }
        }
        return Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('figure img'), function (img) {
    img.title = 'click to enlarge (click again or Escape to close)';
    img.addEventListener('click', function () { img.parentNode.classList.toggle('zoom'); });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      Array.prototype.forEach.call(document.querySelectorAll('figure.zoom'), function (f) { f.classList.remove('zoom'); });
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[table.tHead.rows.length - 1].cells);
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, heads, th, col); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, heads, th, col); }
      });
    });
  });
})();
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def inline(text: str) -> str:
    """Escaped text with the Markdown inline marks the stats' notes use: ``**bold**`` and ```code```."""
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def blocks(lines: Iterable[str]) -> str:
    """Markdown blocks (``## heading``, ``- bullet``, a pipe table, paragraphs) as HTML: the stats' footer."""
    out: list[str] = []
    items: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if table:
            head, *body = [r for r in table if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            out.append(
                '<div class="wide"><table><thead><tr>'
                + "".join(f"<th>{inline(c)}</th>" for c in head)
                + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body)
                + "</tbody></table></div>"
            )
            table.clear()

    for line in "\n".join(lines).splitlines():
        text = line.strip()
        if text.startswith("|"):
            if items:
                flush()
            table.append([c.strip() for c in text.strip("|").split("|")])
            continue
        if table:
            flush()
        if text.startswith("- "):
            items.append(text[2:])
        elif text.startswith("#"):
            flush()
            level = min(len(text) - len(text.lstrip("#")), 4)
            out.append(f"<h{level}>{inline(text.lstrip('#').strip())}</h{level}>")
        elif text:
            flush()
            out.append(f"<p>{inline(text)}</p>")
    flush()
    return "\n".join(out)


def embedded_png(path: Path) -> bytes:
    """The figure as a 256-colour palette PNG (Pillow's fast-octree quantizer, deterministic): plots and
    colour-mapped saliency maps keep their look at about a third of the bytes, so every page stays a few
    MB at most. The PNG files themselves are untouched."""
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGBA").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(embedded_png(Path(path))).decode("ascii")


def figure(fig: Figure) -> str:
    return (
        f'<figure><img src="{data_uri(fig.path)}" alt="{esc(fig.caption)}">'
        f"<figcaption>{esc(fig.caption)}</figcaption></figure>"
    )


def gallery(figs: list[Figure]) -> str:
    return (
        '<div class="figs">' + "".join(figure(f) for f in figs) + "</div>" if figs else '<p class="key">No figures.</p>'
    )


def side_by_side(figs: list[Figure]) -> str:
    """The (tall) CD diagram in a narrow column beside a gallery of the other figures."""
    tall = [f for f in figs if f.path.stem == "cd_diagram"]
    rest = [f for f in figs if f not in tall]
    if not tall or not rest:
        return gallery(figs)
    return f'<div class="side"><div>{figure(tall[0])}</div>{gallery(rest)}</div>'


@dataclass(frozen=True)
class Cell:
    """A table cell: its HTML, the key it sorts by (None: the page parses the text), a tooltip, a class."""

    html: str
    sort: float | str | None = None
    title: str = ""
    cls: str = ""

    def render(self) -> str:
        attrs = "".join(
            f' {name}="{esc(value)}"' for name, value in (("class", self.cls), ("title", self.title)) if value
        )
        if self.sort is not None:
            attrs += f' data-sort="{esc(self.sort)}"'
        return f"<td{attrs}>{self.html}</td>"


@dataclass(frozen=True)
class Head:
    text: str
    title: str = ""
    first: str = "ascending"  # the direction of the first click


def table(
    heads: list[Head],
    bodies: list[tuple[str, list[tuple[str, list[Cell]]]]],
    groups: str = "",
    sorted_by: int | None = None,
    ident: str = "",
) -> str:
    """A sortable table; ``bodies``: (tbody class, [(tr class, cells)]); ``groups``: a header row above."""
    ths = "".join(
        f'<th title="{esc(h.title)}" data-first="{h.first}"'
        + (f' aria-sort="{h.first}"' if i == sorted_by else "")
        + f">{esc(h.text)}</th>"
        for i, h in enumerate(heads)
    )
    rows, index = [], 0
    for cls, body in bodies:
        trs = []
        for tr_cls, cells in body:
            trs.append(
                f'<tr data-index="{index}"'
                + (f' class="{tr_cls}"' if tr_cls else "")
                + ">"
                + "".join(c.render() for c in cells)
                + "</tr>"
            )
            index += 1
        rows.append("<tbody" + (f' class="{cls}"' if cls else "") + ">" + "\n".join(trs) + "</tbody>")
    ident_attr = f' id="{ident}"' if ident else ""
    return (
        f'<div class="wide"><table class="sortable"{ident_attr}><thead>{groups}<tr>{ths}</tr></thead>'
        + "".join(rows)
        + "</table></div>"
    )


def frame_table(frame: pd.DataFrame) -> str:
    """A frame of strings (the stats' renderers) as a sortable table; "↑" columns sort high first."""
    heads = [Head(str(c), first="descending" if "↑" in str(c) else "ascending") for c in frame.columns]
    wrap = [str(c) == "flags" for c in frame.columns]
    body = [
        ("", [Cell(esc(v), cls="" if w else "nw") for v, w in zip(row, wrap)]) for row in frame.itertuples(index=False)
    ]
    return table(heads, [("", body)])


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{esc(title)}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n<script>{JS}</script>\n</body>\n</html>\n"
    )


# --- the index page ---------------------------------------------------------------------------------------


def marker_html(marker: Any) -> str:
    if not marker.symbol:
        return ""
    return f' <span class="sig {SIG_CLASS[marker.symbol]}" title="{esc(marker.title)}">{esc(marker.symbol)}</span>'


def method_cell(row: Row, stale: bool) -> Cell:
    name = f'<a href="{esc(row.link)}">{esc(row.label)}</a>' if row.link else esc(row.label)
    if row.kind == "submission":
        name += (
            f' <span class="badge{" stale" if stale else ""}">'
            + ("STALE " if stale else "")
            + f"submission · {esc(row.profile)}</span>"
        )
    if row.note:
        name += f'<div class="note">{esc(row.note)}</div>'
    return Cell(name, row.label)


def row_cells(row: Row, page_: Page, stale: bool = False) -> list[Cell]:
    cells = [method_cell(row, stale)]
    for s in page_.studies:
        sc = row.scores.get(s.name)
        if sc is None:
            cells += [Cell(DASH, "", cls="num")] * 3
            continue
        cells += [
            Cell(esc(num(sc.mean)), sc.mean if sc.mean is not None else "", cls="num"),
            Cell(
                esc(sc.rank_text() if not stale else num(sc.mean_rank, 2) + " (not ranked)"),
                sc.mean_rank if sc.mean_rank is not None else "",
                cls="num",
            ),
            Cell(
                esc(sc.delta_text()) + marker_html(sc.marker),
                sc.delta if sc.delta is not None else "",
                sc.marker.title,
                "num",
            ),
        ]
    for arch in page_.archs:
        cost = row.overhead.get(arch)
        cells.append(
            Cell(esc(cost.text), cost.value if cost.value is not None else "", cost.title, "num")
            if cost
            else Cell(DASH, "", cls="num")
        )
    return cells


def overall_table(page_: Page, rows: list[Row], stale: list[Row], ident: str, ranked: bool = True) -> str:
    cols = columns(page_)
    heads = [Head(h, t, "descending" if "↑" in h else "ascending") for _, h, t in cols]
    groups = (
        '<tr class="groups"><th></th>'
        + "".join(
            f'<th colspan="3"><a href="leaderboard/{esc(s.name)}.html">{esc(s.name)}</a> '
            f'<span class="key">({esc(s.family)}, profile {esc(s.profile)})</span></th>'
            for s in page_.studies
        )
        + (f'<th colspan="{len(page_.archs)}">overhead</th>' if page_.archs else "")
        + "</tr>"
    )
    bodies = [("ranked", [("", row_cells(r, page_)) for r in rows])]
    if stale:
        bodies.append(("unranked", [("stale", row_cells(r, page_, stale=True)) for r in stale]))
    return table(heads, bodies, groups, sorted_by=2 if page_.studies and ranked else None, ident=ident)


def study_links(page_: Page) -> str:
    return (
        "<ul>"
        + "".join(
            f'<li><a href="leaderboard/{esc(s.name)}.html">{esc(s.name)}</a> (profile {esc(s.profile)}, baseline '
            f"<code>{esc(s.baseline)}</code>, α = {s.alpha:g}; headline family <code>{esc(s.family)}</code>): "
            f"{esc(s.description)}</li>"
            for s in page_.studies
        )
        + "</ul>"
    )


def index_html(page_: Page, figs: dict[str, list[Figure]]) -> str:
    """The overall leaderboard page; ``figs``: study -> the figures shown (CD diagram, consistency)."""
    key = (
        f"{UP} better / {DOWN} worse than the baseline after correction, {MIXED} both in different cells, "
        f"{SAME} equivalent within the ROPE, blank: not separated; hover a marker (or a Δ cell) for its test, "
        "correction, α and p-values. Click a column header to sort. The legend at the bottom names every test."
    )
    parts = [
        "<h1>Saliency-guided training: leaderboard</h1>",
        "<p>Generated by <code>python -m benchmark leaderboard</code> from the statistics that "
        "<code>python -m benchmark stats STUDY</code> wrote (<code>results/leaderboards/STUDY.tables.json</code> and "
        "its figures); nothing is trained or tested here. One row per method as the studies label it, and the "
        "accepted submissions. Each study's page has every metric family's board.</p>",
        "<h2>Studies</h2>",
        study_links(page_),
        "<h2>Overall</h2>",
        f'<p class="key">{esc(key)}</p>',
        overall_table(page_, page_.rows, page_.stale, "overall"),
    ]
    if page_.apart:
        parts += [
            "<h2>Submissions at another profile</h2>",
            "<p>Not comparable with the statistics above (another training profile): listed apart, never ranked.</p>",
            overall_table(page_, page_.apart, [], "apart", ranked=False),
        ]
    if page_.problems:
        parts += [
            "<h2>Unreadable submissions</h2>",
            "<ul>" + "".join(f"<li>{esc(p)}</li>" for p in page_.problems) + "</ul>",
        ]
    parts.append("<h2>Figures</h2>")
    for s in page_.studies:
        parts += [
            f'<h3><a href="leaderboard/{esc(s.name)}.html">{esc(s.name)}</a></h3>',
            side_by_side(figs.get(s.name, [])),
        ]
    parts += [
        "<footer>",
        "<h2>Legend: markers, columns and tests</h2>",
        blocks(f"- {line}" for line in legend(page_)),
        "<p>Each study's page ends with the statistics' own Methods section: every test, correction, ROPE, "
        "bootstrap setting, the seeds and the package versions.</p>",
        "</footer>",
    ]
    return page("Saliency-guided training leaderboard", "\n".join(parts))


# --- a study's page ---------------------------------------------------------------------------------------


def anchor(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")


def study_html(tables: dict[str, Any], figs: list[Figure]) -> str:
    """One study's page: every family's board, notes and per-cell detail, consistency, figures, Methods."""
    rep, sections = study_report(tables), family_sections(tables)
    counts = rep.completeness.counts()
    parts = [
        '<p><a href="../leaderboard.html">← the leaderboard</a></p>',
        f"<h1>Study <code>{esc(rep.study)}</code></h1>",
        f"<p>{esc(rep.description)}</p>",
        f"<p>Profile <code>{esc(rep.profile)}</code>; baseline <code>{esc(rep.baseline)}</code>; α = {rep.alpha:g}. "
        "Families: " + ", ".join(f'<a href="#{anchor(s.key)}">{esc(s.key)}</a>' for s in sections) + ".</p>",
        "<h2>Completeness</h2>",
        f"<p>{counts['done']} of {counts['expected']} expected runs done"
        + "".join(f", {counts[k]} {k}" for k in ("failed", "stale", "missing", "corrupt") if counts[k])
        + ".</p>",
    ]
    lines = rep.completeness.lines()
    if lines:
        parts.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")
    for s in sections:
        parts += [
            f'<h2 id="{anchor(s.key)}">{esc(s.title)}</h2>',
            frame_table(s.board),
            blocks(f"- {n}" for n in s.notes),
            f"<details><summary>Per cell (Δ and d_z oriented: positive = better than "
            f"<code>{esc(rep.baseline)}</code>)</summary>{frame_table(s.detail)}</details>",
        ]
    consistency = consistency_frame(tables)
    if not consistency.empty:
        parts += [
            "<h2>Saliency consistency across seeds</h2>",
            "<p>Per image, the mean over seed pairs of the similarity of two runs' maps, averaged over the "
            "probe images with a percentile bootstrap CI over images.</p>",
            frame_table(consistency),
        ]
    parts += ["<h2>Figures</h2>", side_by_side(figs), "<footer>", blocks(footer(rep)), "</footer>"]
    return page(f"Leaderboard: {rep.study}", "\n".join(parts))

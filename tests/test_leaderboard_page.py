"""The leaderboard page (``python -m benchmark leaderboard``) without a browser: rows gathered from hand-made
statistics files, markers and their tests, submissions (current, stale, another profile), the HTML and
Markdown renderings, the command's refusal of a missing tables file and its byte-identical rerun."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from leaderboard_fixtures import PAPERS, link, tables, typed, write_params, write_statistics, write_submission

from benchmark.cli import main
from benchmark.contracts import ContractError
from benchmark.params_schema import leaderboard_studies
from benchmark.reports.leaderboard.html import index_html, study_html
from benchmark.reports.leaderboard.markdown import markdown_page
from benchmark.reports.leaderboard.page import gather, registry_link, study_marker
from benchmark.reports.leaderboard.study_page import figures
from benchmark.reports.leaderboard.submissions import claim_costs
from benchmark.reports.study.tables_file import StudyTables
from benchmark.statistics.descriptions import ACROSS_CELLS, PER_CELL

ROOT = Path(__file__).resolve().parent.parent


def both() -> dict:
    return {"alpha": typed(tables("alpha")), "beta": typed(tables("beta"))}


def view(row) -> dict:
    return {
        s: (round(v.mean, 3) if v.mean is not None else None, v.rank_text(), v.delta_text(), v.marker.symbol)
        for s, v in row.scores.items()
    }


def test_rows_are_the_stats_numbers_in_the_first_studys_rank_order():
    page = gather(both(), link=link)
    assert [s.family for s in page.studies] == ["test/accuracy", "test_closed/auc"]  # the headline families
    assert page.archs == ["cnn"]
    assert [r.label for r in page.rows] == ["sgt", "cyborg", "erm"]
    sgt, cyborg, erm = page.rows
    assert view(sgt) == {
        "alpha": (0.8, "1.00 (1/3)", "0.050 [0.020, 0.080]", "▲"),
        "beta": (0.85, "3.00 (3/3)", "-0.030 [-0.060, 0.000]", "▼"),
    }
    assert view(cyborg) == {
        "alpha": (0.76, "2.00 (2/3)", "0.004 [-0.026, 0.034]", "≈"),
        "beta": (0.91, "1.00 (1/3)", "0.030 [0.000, 0.060]", "▲"),
    }
    assert view(erm) == {
        "alpha": (0.75, "3.00 (3/3)", "(baseline)", ""),
        "beta": (0.88, "2.00 (2/3)", "(baseline)", ""),
    }
    assert sgt.link == PAPERS["sgt"] and sgt.kind == "study"
    assert sgt.overhead["cnn"].text == "2.65× [2.44, 2.87]" and sgt.overhead["cnn"].value == 2.65
    assert cyborg.overhead["cnn"].text == "not profiled"


def test_a_marker_names_its_test_correction_alpha_and_p_values():
    title = gather(both(), link=link).rows[0].scores["alpha"].marker.title
    assert f"Per cell: {PER_CELL.at(0.05).text()}: 2 cell × method comparisons of test/accuracy" in title
    assert (
        "paired t-test (" in title
        and "(`scipy.stats.ttest_rel`)" in title
        and "Benjamini–Hochberg" in title
        and "α = 0.05" in title
    )
    assert "d1 / cnn: Δ = 0.050, p = 0.006, p_BH = 0.012: better" in title
    assert "Across cells: not tested (N=1 cells < 6" in title


def test_the_test_across_cells_decides_the_marker_when_it_could_run():
    t = copy.deepcopy(tables("alpha"))
    fam = t["families"]["test/accuracy"]
    for row in fam["versus_baseline_holm"]:
        row.update({"status": "ok", "p": 0.004, "p_holm": 0.008 if row["method"] == "sgt" else 0.4, "n_cells": 8})
    sgt, cyborg = study_marker(typed(t), "test/accuracy", "sgt"), study_marker(typed(t), "test/accuracy", "cyborg")
    assert sgt.symbol == "▲" and f"{ACROSS_CELLS.at(0.05).text()}: 8 cells, 2 methods vs erm" in sgt.title
    assert "p_Holm = 0.008" in sgt.title
    assert cyborg.symbol == "≈"  # not separated across cells, equivalent in its one cell


def test_variants_have_no_overhead_and_labels_link_to_the_registered_methods_paper():
    t = copy.deepcopy(tables("alpha"))
    fam = t["families"]["test/accuracy"]
    fam["leaderboard"][1]["method"] = fam["detail"][1]["method"] = "cyborg[tuned]"
    row = next(r for r in gather({"alpha": typed(t)}).rows if r.label == "cyborg[tuned]")
    assert row.overhead["cnn"].text == "n.a. (variant)"
    assert row.link == registry_link("cyborg") == "https://arxiv.org/abs/2112.00686"
    assert registry_link("no_such_method") is None


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "expected a list of study names, got None"),
        ("alpha", "expected a list of study names, got 'alpha'"),
        (["alpha", "gamma"], "'gamma' is not a study (known: ['alpha', 'beta']); got ['alpha', 'gamma']"),
        (["alpha", "alpha"], "a study is listed twice: ['alpha', 'alpha']"),
    ],
)
def test_a_bad_leaderboard_key_is_refused_naming_params_yaml_and_the_value(value, message):
    with pytest.raises(ContractError, match=re.escape(f"params.yaml: leaderboard: {message}")):
        leaderboard_studies({"leaderboard": value, "studies": {"alpha": {}, "beta": {}}})
    assert leaderboard_studies({"leaderboard": ["beta", "alpha"], "studies": {"alpha": {}, "beta": {}}}) == [
        "beta",
        "alpha",
    ]


def test_submissions_current_ranked_stale_greyed_other_profile_apart(tmp_path):
    subs = tmp_path / "results" / "submissions"
    write_submission(tmp_path, subs, "focus")
    write_submission(tmp_path, subs, "edited", change_file=True)
    write_submission(tmp_path, subs, "gone", remove_file=True)
    write_submission(tmp_path, subs, "tinyone", profile="tiny")
    (subs / "broken").mkdir()
    (subs / "broken" / "claim.json").write_text("{not json")
    (subs / "README.md").write_text("a file, not a submission\n")
    page = gather(both(), subs, tmp_path, link=link)
    assert [r.label for r in page.rows] == ["sgt", "focus", "cyborg", "erm"]
    focus = page.rows[1]
    assert (focus.kind, focus.profile, focus.note, focus.link) == ("submission", "quick", "", PAPERS["focus"])
    assert view(focus) == {"alpha": (0.78, "1.50 (2/4)", "0.030 [0.010, 0.050]", "▲")}
    assert focus.scores["alpha"].marker.title == (
        "From the claim: paired t-test over the seeds of each cell (the submission vs the method), Benjamini-Hochberg, "
        "α = 0.05.\nd1/cnn: Δ = 0.030, p_adjusted = 0.010: better."
    )
    assert focus.overhead["cnn"].text == "1.90× (not re-measured)"  # no results/profiles: the claim's cost
    assert focus.overhead["cnn"].title.startswith("cost from the bundle (not re-measured)")
    assert "declared 2.00×" in focus.overhead["cnn"].title
    assert [r.label for r in page.stale] == ["edited", "gone"]
    assert page.stale[0].note.startswith("stale: methods/edited.py changed since the claim (sha256 ")
    assert page.stale[1].note == "stale: methods/gone.py is absent"
    assert [r.label for r in page.apart] == ["tinyone"]
    assert "profile tiny, statistics of alpha, beta at profile quick" in page.apart[0].note
    assert len(page.problems) == 1 and page.problems[0].startswith("broken/claim.json: unreadable")
    html = index_html(page, {})
    ranked, unranked = (
        html.split('<tbody class="ranked">')[1].split("</tbody>")[0],
        html.split('<tbody class="unranked">')[1].split("</tbody>")[0],
    )
    assert "focus" in ranked and "edited" not in ranked and "gone" not in ranked
    assert unranked.count('class="stale"') == 2 and "(not ranked)" in unranked and "STALE submission" in unranked


def write_profile(folder: Path, label: str, ratios: dict[str, tuple[float, float, float]]) -> None:
    """A stored profile ``folder/LABEL.json`` (schema 1) with each method's ratio to ERM [low, high] on cnn."""
    rows = [
        {"method": m, "ratio_to_erm": r, "ratio_ci": [lo, hi], "theoretical_ratio": 2.0, "step_median_s": 0.01}
        for m, (r, lo, hi) in ratios.items()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{label}.json").write_text(json.dumps({"schema": 1, "cases": [{"arch": "cnn", "methods": rows}]}))


def test_a_submissions_overhead_is_the_profile_stages_and_the_bundles_only_when_not_re_measured(tmp_path):
    """The profile stage timed "focus" with every method in one run: its cell reads that, not the claim's 1.90;
    "other", which the profile lacks, keeps the claim's number, marked as not re-measured."""
    subs = tmp_path / "results" / "submissions"
    write_submission(tmp_path, subs, "focus")
    write_submission(tmp_path, subs, "other", mean_rank=2.5)
    write_profile(tmp_path / "results" / "profiles", "quick", {"erm": (1.0, 1.0, 1.0), "focus": (1.4, 1.3, 1.5)})
    rows = {r.label: r for r in gather(both(), subs, tmp_path, link=link).rows}
    focus, other = rows["focus"].overhead["cnn"], rows["other"].overhead["cnn"]
    assert (focus.text, focus.value) == ("1.40× [1.30, 1.50]", 1.4)
    assert focus.title.startswith("re-measured by the profile stage on cnn, in the same run as every method")
    assert focus.title.endswith("results/profiles/quick.json")
    assert (other.text, other.value) == ("1.90× (not re-measured)", 1.9)
    assert other.title == "cost from the bundle (not re-measured): measured by submit on cnn; declared 2.00×"


def test_a_bundles_ci_and_an_unreliable_cost_are_shown_as_stored():
    ci = {"declared": 2.0, "measured": 1.9, "measured_low": 1.8, "measured_high": 2.05, "rounds": 15}
    unreliable = {"declared": 2.0, "measured": None, "unreliable": "CI too wide: 1.90 [1.20, 2.90]"}
    cells = claim_costs({"method": "x", "overhead": {"cnn": ci, "vit": unreliable}}, ["cnn", "vit", "mlp"])
    assert cells["cnn"].text == "1.90× [1.80, 2.05] (not re-measured)"
    assert (cells["vit"].text, cells["vit"].value) == ("unreliable (not re-measured)", None)
    assert cells["vit"].title.endswith("; unreliable: CI too wide: 1.90 [1.20, 2.90]")
    assert cells["mlp"].text == "not profiled"


def test_a_claim_in_the_first_announced_shape_is_read_too(tmp_path):
    subs = tmp_path / "submissions"
    write_submission(tmp_path, subs, "focus", shape="brief")
    focus = next(r for r in gather(both(), subs, tmp_path, link=link).rows if r.label == "focus")
    assert view(focus) == {"alpha": (0.78, "1.50 (2/4)", "0.030 [0.010, 0.050]", "▲")}
    assert focus.scores["alpha"].marker.title == (
        "From the claim: paired t-test over seeds per cell, Holm over the "
        "comparisons, α = 0.05: p_Holm = 0.010: better."
    )


def test_the_html_page_is_self_contained_with_markers_tooltips_links_and_figures(tmp_path):
    stats = tmp_path / "leaderboards"
    write_statistics(stats)
    page = gather(both(), link=link)
    figs = {s: figures(stats / s, ("cd_diagram", "consistency")) for s in ("alpha", "beta")}
    html = index_html(page, figs)
    assert html.count('src="data:image/png;base64,') == 4  # CD diagram and consistency of each study
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace('href="https://paper.example', ""))
    assert "<script src" not in html and "<link" not in html
    assert '<a href="https://paper.example/sgt">sgt</a>' in html
    assert re.search(r'<span class="sig up" title="[^"]*paired t-test[^"]*p_BH = 0\.012[^"]*">▲</span>', html)
    assert '<a href="leaderboard/alpha.html">alpha</a>' in html
    assert "Benjamini–Hochberg" in html.split("<footer>")[1] and "Wilcoxon signed-rank" in html.split("<footer>")[1]
    study = study_html(typed(tables("beta")), figures(stats / "beta"))
    assert study.count('src="data:image/png;base64,') == 3
    for title in (
        "test_closed/auc: ↑ higher is better",
        "test_closed/saliency/cam/auroc: ↑ higher is better",
        "Saliency consistency across seeds",
        "<h2>Methods</h2>",
        '<a href="../leaderboard.html">',
    ):
        assert title in study


def test_the_markdown_twin_has_the_same_table_footnoted_markers_and_relative_images(tmp_path):
    dest = tmp_path / "results"
    stats = dest / "leaderboards"
    write_statistics(stats)
    page = gather(both(), link=link)
    text = markdown_page(page, {s: figures(stats / s, ("cd_diagram",)) for s in ("alpha", "beta")}, dest, stats)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in rows]
    assert cells[0] == [
        "method",
        "alpha: mean test/accuracy ↑",
        "alpha: mean rank ↓ (place)",
        "alpha: Δ vs erm [95% CI] ↑",
        "beta: mean test_closed/auc ↑",
        "beta: mean rank ↓ (place)",
        "beta: Δ vs erm [95% CI] ↑",
        "step time ÷ ERM, cnn",
    ]
    assert cells[2] == [
        "[`sgt`](https://paper.example/sgt)",
        "0.800",
        "1.00 (1/3)",
        "0.050 [0.020, 0.080] ▲[^1]",
        "0.850",
        "3.00 (3/3)",
        "-0.030 [-0.060, 0.000] ▼[^2]",
        "2.65× [2.44, 2.87]",
    ]
    assert cells[4][0] == "[`erm`](https://paper.example/erm)" and cells[4][3] == "(baseline)"
    assert re.search(r"^\[\^1\]: .*paired t-test.*p_BH = 0\.012", text, re.M)
    assert "![Critical-difference diagrams" in text and "(leaderboards/alpha/cd_diagram.png)" in text
    assert "- [alpha](leaderboards/alpha.md)" in text


def run_command(tmp_path, monkeypatch, leaderboard=("alpha", "beta")) -> tuple[int, Path]:
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml", leaderboard)))
    dest = tmp_path / "out"
    code = main(
        [
            "leaderboard",
            "--dest",
            str(dest),
            "--leaderboards",
            str(tmp_path / "leaderboards"),
            "--submissions",
            str(tmp_path / "submissions"),
        ]
    )
    return code, dest


def test_a_missing_tables_file_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, capsys):
    write_statistics(tmp_path / "leaderboards", studies=("alpha",))
    code, dest = run_command(tmp_path, monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and not dest.exists()
    assert err == (
        f"error: leaderboard: no statistics for study 'beta' ({tmp_path / 'leaderboards' / 'beta.tables.json'})"
        "; run python -m benchmark stats beta\n"
    )
    code, _ = run_command(tmp_path, monkeypatch, leaderboard=["alpha", "nope"])
    assert code == 2 and "params.yaml: leaderboard: 'nope' is not a study" in capsys.readouterr().err


def test_the_command_writes_every_page_and_a_rerun_is_byte_identical(tmp_path, monkeypatch):
    write_statistics(tmp_path / "leaderboards")
    code, dest = run_command(tmp_path, monkeypatch)
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert code == 0 and files == [
        "leaderboard.html",
        "leaderboard.md",
        "leaderboard/alpha.html",
        "leaderboard/beta.html",
    ]
    first = {f: (dest / f).read_bytes() for f in files}
    assert run_command(tmp_path, monkeypatch)[0] == 0
    assert {f: (dest / f).read_bytes() for f in files} == first
    assert not [p for p in dest.rglob("*") if p.name.startswith(".")]  # no temporary left behind


def test_the_committed_statistics_render():
    """The stats files in results/leaderboards (what `dvc repro` wrote) have the shape the page reads."""
    folder = ROOT / "results" / "leaderboards"
    studies = [s for s in ("decoy", "faces") if (folder / f"{s}.tables.json").exists()]
    if not studies:
        pytest.skip("no committed statistics")
    loaded = {s: StudyTables.read(folder / f"{s}.tables.json") for s in studies}
    page = gather(loaded, link=link)
    assert {r.label for r in page.rows} >= {"erm", "sgt", "cyborg"}
    assert "<table" in index_html(page, {}) and all("<h2>Methods</h2>" in study_html(t, []) for t in loaded.values())


def test_embedded_figures_are_palette_pngs_of_the_same_size_and_committed_pages_stay_small():
    """Pages embed their figures as 256-colour PNGs; a committed page over 2 MiB would not belong in git."""
    import io

    from PIL import Image

    from benchmark.reports.leaderboard.html import embedded_png

    figures = ROOT / "results" / "leaderboards" / "decoy"
    for plot in ("cd_diagram", "forest", "cell_means"):  # written as palette PNGs already (study.plots._save)
        with Image.open(figures / f"{plot}.png") as image:
            assert image.mode == "P", plot
    source = sorted(figures.glob("consistency_*.png"))[0]  # a colour-mapped figure, written as RGBA
    with Image.open(io.BytesIO(embedded_png(source))) as small, Image.open(source) as original:
        assert small.mode == "P" and small.size == original.size
    assert len(embedded_png(source)) < source.stat().st_size
    for page in [ROOT / "results" / "leaderboard.html", *sorted((ROOT / "results" / "leaderboard").glob("*.html"))]:
        assert page.stat().st_size < 2 * 1024 * 1024, page


def test_a_study_page_links_a_figure_too_large_to_embed_and_embeds_the_rest(tmp_path):
    """A forest plot of every cell x method would make the page megabytes: above ``EMBED_LIMIT`` the page shows
    the PNG from its file (a path relative to the page, full resolution); a small figure stays embedded."""
    import numpy as np
    from PIL import Image

    from benchmark.reports.leaderboard.html_parts import EMBED_LIMIT, embedded_png, side_by_side
    from benchmark.reports.leaderboard.study_page import Figure

    figs = tmp_path / "results" / "leaderboards" / "faces"
    figs.mkdir(parents=True)
    noise = np.random.default_rng(0).integers(0, 256, size=(700, 700, 3), dtype=np.uint8)  # incompressible
    Image.fromarray(noise).save(figs / "forest.png")
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(figs / "cell_means.png")
    assert len(embedded_png(figs / "forest.png")) > EMBED_LIMIT > len(embedded_png(figs / "cell_means.png"))
    shown = side_by_side(
        [Figure("forest", figs / "forest.png"), Figure("means", figs / "cell_means.png")],
        tmp_path / "results" / "leaderboard",
    )
    sources = {f.caption: f.src for f in [*([shown.tall] if shown.tall else []), *shown.rest]}
    assert sources["forest"] == "../leaderboards/faces/forest.png"
    assert sources["means"].startswith("data:image/png;base64,")
    embedded = side_by_side([Figure("forest", figs / "forest.png")])  # no page folder: everything embedded
    assert embedded.rest[0].src.startswith("data:image/png;base64,")

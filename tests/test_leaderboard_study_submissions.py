"""A study's leaderboard page (``results/leaderboard/STUDY.html``) shows the submissions with a claim for that study,
as the index does (issue 27 item 5): marked "submission", a stale claim greyed and never ranked, a claim at another
profile apart, the re-run mark; a claim for another study is not on the page. Hand-made statistics and bundles
(``leaderboard_fixtures``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from leaderboard_fixtures import link, write_statistics, write_submission
from test_leaderboard_page import run_command
from test_submit_rerun import verified

from benchmark import paths
from benchmark.reports.leaderboard.html import study_html
from benchmark.reports.leaderboard.page import study_gather
from benchmark.statistics import descriptions


def bundles(root: Path, subs: Path) -> None:
    """focus (alpha, current, re-run 2/2), edited (alpha, stale), tinyone (alpha, profile tiny), onbeta (beta)."""
    verified(write_submission(root, subs, "focus"), identical=2)
    write_submission(root, subs, "edited", change_file=True)
    write_submission(root, subs, "tinyone", profile="tiny")
    write_submission(root, subs, "onbeta", study="beta")
    (subs / "broken").mkdir()
    (subs / "broken" / "claim.json").write_text("{not json")


def body(html: str, cls: str) -> str:
    return html.split(f'<tbody class="{cls}">')[1].split("</tbody>")[0]


def test_a_study_page_lists_its_submissions_greys_a_stale_one_and_leaves_out_another_studys(tmp_path, monkeypatch):
    monkeypatch.setattr(descriptions, "SENTINEL_RERUN", replace(descriptions.SENTINEL_RERUN, name="Sigma-rerun"))
    subs = tmp_path / "submissions"
    tables = write_statistics(tmp_path / "leaderboards")
    bundles(tmp_path, subs)
    alpha = study_gather(tables["alpha"], subs, tmp_path, link=link)
    assert [r.label for r in alpha.rows] == ["sgt", "focus", "cyborg", "erm"]  # ranked with the study's methods
    assert [r.label for r in alpha.stale] == ["edited"] and [r.label for r in alpha.apart] == ["tinyone"]
    assert alpha.apart[0].note == "profile tiny, statistics of alpha at profile quick: not comparable, not ranked"
    assert alpha.problems == [], "an unreadable claim names no study: the index lists it"
    html = study_html(tables["alpha"], [], alpha)
    ranked, unranked = body(html, "ranked"), body(html, "unranked")
    assert "submission · quick · re-run: 2/2 identical" in ranked and 'data-sort="focus"' in ranked
    assert 'data-sort="edited"' in unranked and 'data-sort="edited"' not in ranked
    assert unranked.count('class="stale"') == 1 and "STALE submission · quick" in unranked
    assert "1.50 (not ranked)" in unranked and "changed since the claim" in unranked
    apart = html.split("<h3>Submissions at another profile</h3>")[1]
    assert "submission · tiny" in apart and "not comparable, not ranked" in apart
    assert 'data-sort="onbeta"' not in html and '<a href="#submissions">Submissions</a>: 3.' in html
    assert "Sigma-rerun (<code>numpy.random.Generator.choice" in html, "the legend states the re-run's description"

    beta = study_html(tables["beta"], [], study_gather(tables["beta"], subs, tmp_path, link=link))
    assert 'data-sort="onbeta"' in body(beta, "ranked") and "submission · quick" in body(beta, "ranked")
    assert not [m for m in ("focus", "edited", "tinyone") if f'data-sort="{m}"' in beta]
    assert '<tbody class="unranked">' not in beta and "<h3>Submissions at another profile</h3>" not in beta


def test_a_study_without_submissions_says_so_and_without_a_folder_its_page_is_as_before(tmp_path):
    tables = write_statistics(tmp_path / "leaderboards", studies=("beta",))
    empty = study_html(tables["beta"], [], study_gather(tables["beta"], tmp_path / "none", tmp_path, link=link))
    assert "No accepted submission has a claim for this study" in empty and "<tbody" in empty
    assert 'id="submissions"' not in study_html(tables["beta"], [])


def test_the_command_writes_the_submissions_on_each_study_page(tmp_path, monkeypatch):
    # the command's root, where the claims' method files are (not $SALBENCH_ROOT: the registry would load from it)
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    write_statistics(tmp_path / "leaderboards")
    bundles(tmp_path, tmp_path / "submissions")
    code, dest = run_command(tmp_path, monkeypatch)
    alpha, beta = ((dest / "leaderboard" / f"{s}.html").read_text(encoding="utf-8") for s in ("alpha", "beta"))
    assert code == 0
    assert 'data-sort="focus"' in body(alpha, "ranked") and 'data-sort="edited"' in body(alpha, "unranked")
    assert 'data-sort="onbeta"' in body(beta, "ranked") and 'data-sort="focus"' not in beta

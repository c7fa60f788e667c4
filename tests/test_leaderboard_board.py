"""The index page ranks the across-cell board (issue 24 item 4): its overall table is the board's rows, every
column over the same cells and seeds, with the studies' step-time overhead; the raw per-cell tables and the board's
figures below it; the submissions in a table of their own with their claims' per-study numbers; the legend printed
from the board's test descriptions; the command refuses a missing board. A browser sorts the board's table."""

from __future__ import annotations

import re

from leaderboard_fixtures import link, write_board, write_params, write_statistics, write_submission
from test_leaderboard_browser import browser, texts

from benchmark.atomic import atomic_write_text
from benchmark.cli import main
from benchmark.reports.leaderboard.html import index_html
from benchmark.reports.leaderboard.markdown import markdown_page
from benchmark.reports.leaderboard.page import gather
from benchmark.reports.leaderboard.study_page import figures
from benchmark.statistics.across_descriptions import GAP_CLOSED


def site(tmp_path):
    stats, subs = tmp_path / "leaderboards", tmp_path / "submissions"
    tables = write_statistics(stats)
    board = write_board(stats)
    write_submission(tmp_path, subs, "focus", mean_rank=1.5)
    write_submission(tmp_path, subs, "edited", change_file=True)
    return gather(tables, subs, tmp_path, link=link), board, figures(stats / "board"), stats


def table_of(html: str, ident: str) -> str:
    return re.search(rf'<table class="sortable" id="{ident}">(.*?)</table>', html, re.S).group(1)


def test_the_overall_table_is_the_board_and_the_submissions_have_their_own(tmp_path):
    page, board, figs, _ = site(tmp_path)
    html = index_html(page, {}, board, figs)
    overall = table_of(html, "overall")
    assert re.findall(r'<tr data-index="\d+"[^>]*>\s*<td[^>]*data-sort="([^"]+)"', overall) == ["sgt", "cyborg", "erm"]
    assert "gap closed [simultaneous CI]" in overall and "mean rank [CI] (place)" in overall
    assert "mean test/accuracy" not in overall, "no per-study columns in the overall table"
    assert "2.65× [2.44, 2.87]" in overall, "the studies' step-time overhead stays"
    up = re.search(r'<span class="sig up" title="([^"]+)">▲</span>', overall).group(1)
    assert "simultaneous interval (Bonferroni) is above 0" in up and "97.50%" in up  # 1 - 0.05/2 rows
    assert html.count('id="overall"') == 1
    subs = table_of(html, "submissions")
    assert 'data-sort="focus"' in subs and 'data-sort="edited"' in subs and 'data-sort="sgt"' not in subs
    assert "Submissions: each claim's per-study numbers" in html
    assert "Raw per-cell means" in html and "Gap closed across cells" in html
    assert GAP_CLOSED.text().split(" (")[0].replace("−", "−") in html.replace("&#x27;", "'")


def test_the_markdown_twin_ranks_the_board_and_lists_the_submissions_apart(tmp_path):
    page, board, figs, stats = site(tmp_path)
    text = markdown_page(page, {}, tmp_path, stats, board, figs)
    overall = text.split("## Overall: ranked across cells", 1)[1].split("### The cells", 1)[0]
    rows = [line for line in overall.splitlines() if line.startswith("| [")]
    assert [re.search(r"`([^`]+)`", r).group(1) for r in rows] == ["sgt", "cyborg", "erm"]
    assert "(1/2)" in rows[0] and "▲" in rows[0] and "| 6 " in rows[0] and "| 5 " in rows[0]
    assert "0 (by definition)" in rows[2]
    assert "## Submissions: each claim's per-study numbers" in text and "`focus`" in text.split("## Submissions")[1]
    assert "### Raw per-cell means" in text and "(leaderboards/board/gap_closed.png)" in text
    assert "**Gap closed**: IQM of the gap closed" in text


def test_the_command_refuses_a_missing_board(tmp_path, monkeypatch, capsys):
    write_statistics(tmp_path / "leaderboards", board=False)
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml")))
    dest = tmp_path / "out"
    code = main(["leaderboard", "--dest", str(dest), "--leaderboards", str(tmp_path / "leaderboards")])
    err = capsys.readouterr().err
    assert code == 2 and not dest.exists()
    assert err.strip().endswith("run python -m benchmark board") and len(err.strip().splitlines()) == 1


def test_the_command_refuses_a_malformed_board_naming_the_field(tmp_path, monkeypatch, capsys):
    import json

    write_statistics(tmp_path / "leaderboards")
    path = tmp_path / "leaderboards" / "board.tables.json"
    data = json.loads(path.read_text())
    del data["rows"][1]["n_cells"]
    path.write_text(json.dumps(data))
    monkeypatch.setenv("SALBENCH_PARAMS", str(write_params(tmp_path / "params.yaml")))
    code = main(["leaderboard", "--dest", str(tmp_path / "out"), "--leaderboards", str(tmp_path / "leaderboards")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and not (tmp_path / "out").exists()
    assert "board.tables.json: rows: malformed" in err[0] and "'n_cells'" in err[0]


def test_a_person_sorts_the_board(tmp_path):
    from selenium.webdriver.common.by import By

    page, board, figs, _ = site(tmp_path)
    out = tmp_path / "out" / "leaderboard.html"
    atomic_write_text(out, index_html(page, {}, board, figs))
    driver = browser(tmp_path / "chromium-profile")
    try:
        driver.get(out.as_uri())
        first = "#overall tbody.ranked tr td:first-child a"
        assert texts(driver, first) == ["sgt", "cyborg", "erm"]
        heads = driver.find_elements(By.CSS_SELECTOR, "#overall thead th")
        heads[3].click()  # gap closed ↑: highest first
        assert texts(driver, first) == ["sgt", "cyborg", "erm"]
        heads[3].click()
        assert texts(driver, first) == ["erm", "cyborg", "sgt"]
        assert texts(driver, "#submissions tbody.ranked tr td:first-child a") == ["focus"]
        assert texts(driver, "#submissions tbody.unranked tr td:first-child a") == ["edited"]
    finally:
        driver.quit()


def test_a_changed_board_description_reaches_the_board_and_the_index(tmp_path, monkeypatch):
    from dataclasses import replace

    from benchmark.reports.board.markdown import markdown as board_markdown
    from benchmark.statistics import across_descriptions

    name = "Theta-score of the gaps"
    monkeypatch.setitem(across_descriptions.BOARD_TESTS, "gap_closed", replace(GAP_CLOSED, name=name))
    page, board, figs, stats = site(tmp_path)
    assert name in board_markdown(board) and name in index_html(page, {}, board, figs)
    assert name in markdown_page(page, {}, tmp_path, stats, board, figs)

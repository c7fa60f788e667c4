"""The index page ranks the across-cell board (issue 24 item 4): its overall table is the board's rows, every
column over the same cells and seeds, with the studies' step-time overhead; the raw per-cell tables and the board's
figures below it; a current submission ranked on it as a marked row (its paper link and re-run mark), the stale
ones in a table of their own with their claims' per-study numbers (issue 27 item 4); the legend printed
from the board's test descriptions; the command refuses a missing board. A browser sorts the board's table."""

from __future__ import annotations

import re

from leaderboard_fixtures import BOARD_RERUN, link, write_board, write_params, write_statistics, write_submission
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
    assert re.findall(r'<tr data-index="\d+"[^>]*>\s*<td[^>]*data-sort="([^"]+)"', overall) == [
        "sgt",
        "focus",
        "cyborg",
        "erm",
    ]
    focus = re.search(r'<tr data-index="1".*?</tr>', overall, re.S).group(0)
    assert 'href="https://paper.example/focus"' in focus, "linked to its paper, as its claim gives it"
    assert "submission · quick · " + BOARD_RERUN in focus and "(2/3)" in focus
    assert "gap closed [simultaneous CI]" in overall and "mean rank [CI] (place)" in overall
    assert "mean test/accuracy" not in overall, "no per-study columns in the overall table"
    assert "2.65× [2.44, 2.87]" in overall, "the studies' step-time overhead stays"
    up = re.search(r'<span class="sig up" title="([^"]+)">▲</span>', overall).group(1)
    assert "simultaneous interval (Bonferroni) is above 0" in up and "98.33%" in up  # 1 - 0.05/3 rows
    assert html.count('id="overall"') == 1
    subs = table_of(html, "submissions")
    assert 'data-sort="edited"' in subs and 'data-sort="focus"' not in subs and 'data-sort="sgt"' not in subs
    assert "Submissions not ranked" in html
    assert "Raw per-cell means" in html and "Gap closed across cells" in html
    assert GAP_CLOSED.text().split(" (")[0].replace("−", "−") in html.replace("&#x27;", "'")


def test_the_markdown_twin_ranks_the_board_and_lists_the_submissions_apart(tmp_path):
    page, board, figs, stats = site(tmp_path)
    text = markdown_page(page, {}, tmp_path, stats, board, figs)
    overall = text.split("## Overall: ranked across cells", 1)[1].split("### The cells", 1)[0]
    rows = [line for line in overall.splitlines() if line.startswith("| [")]
    assert [re.search(r"`([^`]+)`", r).group(1) for r in rows] == ["sgt", "focus", "cyborg", "erm"]
    assert "(1/3)" in rows[0] and "▲" in rows[0] and "| 6 " in rows[0] and "| 5 " in rows[0]
    assert f"*(submission, profile quick; {BOARD_RERUN})*" in rows[1] and "(2/3)" in rows[1]
    assert "0 (by definition)" in rows[3]
    unranked = text.split("## Submissions not ranked")[1]
    assert "`edited`" in unranked and "`focus`" not in unranked
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
        assert texts(driver, first) == ["sgt", "focus", "cyborg", "erm"]
        heads = driver.find_elements(By.CSS_SELECTOR, "#overall thead th")
        heads[3].click()  # gap closed ↑: highest first
        assert texts(driver, first) == ["sgt", "focus", "cyborg", "erm"]
        heads[3].click()
        assert texts(driver, first) == ["erm", "cyborg", "focus", "sgt"]
        assert texts(driver, "#submissions tbody.ranked tr td:first-child a") == []
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

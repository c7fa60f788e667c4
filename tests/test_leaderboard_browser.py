"""The leaderboard page in a real browser: headless Debian chromium driven by selenium, the driver binary
given explicitly (selenium's driver manager would download one; no test needs the internet).

Renders the pages (``reports.leaderboard.html``, as ``python -m benchmark leaderboard`` does) from hand-made
statistics (two studies, three methods, matplotlib PNGs, a current and a stale submission), opens it as a ``file://`` page and checks
what a person sees: the rows in rank order, a click on a column header re-ordering them (and a second
click reversing), the significance markers with their tests as tooltips, the embedded images
displayed, the paper links, the stale submission greyed below the ranked rows, a study's page and its
submissions. Saves
a screenshot as ``tests/artifacts/leaderboard.png`` (git-ignored).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from leaderboard_fixtures import PAPERS, link, write_statistics, write_submission

from benchmark.atomic import atomic_write_text
from benchmark.reports.leaderboard.html import index_html, study_html
from benchmark.reports.leaderboard.page import gather, study_gather
from benchmark.reports.leaderboard.study_page import figures

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GREY = "rgb(140, 149, 159)"  # a stale submission's text (leaderboard.css: tbody.unranked)
HOW = "install it with `apt-get install chromium chromium-driver` (Debian) and `pip install -e '.[test]'` (selenium)"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


def browser(profile: Path):
    """Headless chromium through selenium, or a skip saying how to install what is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip(f"selenium is not installed: {HOW}")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists() and not shutil.which(Path(p).name)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found: {HOW}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver"))
    return webdriver.Chrome(service=service, options=options)


@pytest.fixture
def site(tmp_path) -> Path:
    """The pages of two hand-made studies and two submissions (focus current, edited stale)."""
    stats, subs, out = tmp_path / "leaderboards", tmp_path / "submissions", tmp_path / "out"
    tables = write_statistics(stats)
    write_submission(tmp_path, subs, "focus", mean_rank=1.5)
    write_submission(tmp_path, subs, "edited", change_file=True)
    page = gather(tables, subs, tmp_path, link=link)
    atomic_write_text(
        out / "leaderboard.html",
        index_html(page, {s: figures(stats / s, ("cd_diagram", "consistency")) for s in tables}),
    )
    for study, t in tables.items():
        subs_of = study_gather(t, subs, tmp_path, link=link)  # the submissions with a claim for the study
        atomic_write_text(out / "leaderboard" / f"{study}.html", study_html(t, figures(stats / study), subs_of))
    return out


def colour(driver, row) -> str:
    """The computed text colour of a table row's first cell."""
    from selenium.webdriver.common.by import By

    return driver.execute_script("return getComputedStyle(arguments[0]).color", row.find_element(By.TAG_NAME, "td"))


def texts(driver, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def test_a_person_sees_sorted_rows_markers_images_and_links(site, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser(tmp_path / "chromium-profile")
    try:
        driver.get((site / "leaderboard.html").as_uri())
        first = "#overall tbody.ranked tr td:first-child a"  # the method names
        assert texts(driver, first) == ["sgt", "focus", "cyborg", "erm"]  # alpha's mean rank, ascending
        heads = driver.find_elements(By.CSS_SELECTOR, "#overall thead tr:last-child th")
        assert heads[2].get_attribute("aria-sort") == "ascending"

        heads[4].click()  # beta: mean test_closed/auc ↑ -> highest first; focus has no beta number: last
        assert texts(driver, first) == ["cyborg", "erm", "sgt", "focus"]
        assert heads[4].get_attribute("aria-sort") == "descending" and heads[2].get_attribute("aria-sort") is None
        indicator = driver.execute_script("return getComputedStyle(arguments[0], '::after').content", heads[4])
        assert "▾" in indicator
        heads[4].click()
        assert texts(driver, first) == ["sgt", "erm", "cyborg", "focus"]
        heads[0].click()  # the method names, alphabetically
        assert texts(driver, first) == ["cyborg", "erm", "focus", "sgt"]
        assert texts(driver, "#overall tbody.unranked tr td:first-child a") == ["edited"]  # never among the ranked

        stale = driver.find_element(By.CSS_SELECTOR, "#overall tbody.unranked tr")
        assert "STALE" in stale.text and "changed since the claim" in stale.text
        assert colour(driver, stale) == GREY

        markers = driver.find_elements(By.CSS_SELECTOR, "#overall .sig")
        assert sorted(m.text for m in markers) == sorted(["▲", "▼", "≈", "▲", "▲", "▲"])  # stale focus-like row too
        up = next(m for m in markers if m.text == "▲" and "ttest_rel" in m.get_attribute("title"))
        assert "Benjamini–Hochberg" in up.get_attribute("title") and "α = 0.05" in up.get_attribute("title")
        assert "p_BH = " in up.get_attribute("title") and up.is_displayed()

        links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#overall td a")}
        assert {k: links[k] for k in ("sgt", "erm", "cyborg", "focus")} == {
            k: PAPERS[k] for k in ("sgt", "erm", "cyborg", "focus")
        }
        images = driver.find_elements(By.TAG_NAME, "img")
        assert len(images) == 4
        assert all(
            driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) > 0
            and i.is_displayed()
            for i in images
        )
        legend = driver.find_element(By.TAG_NAME, "footer").text
        assert "Benjamini–Hochberg" in legend and "Wilcoxon signed-rank" in legend and "TOST" in legend

        ARTIFACTS.mkdir(exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(height + 120, 6000))
        assert driver.save_screenshot(str(ARTIFACTS / "leaderboard.png"))

        driver.find_element(By.LINK_TEXT, "beta").click()  # the study's page, a relative link
        assert driver.current_url.endswith("/leaderboard/beta.html")
        board = driver.find_element(By.CSS_SELECTOR, "table.sortable")
        assert [r.text.split()[1] for r in board.find_elements(By.CSS_SELECTOR, "tbody tr")] == ["cyborg", "erm", "sgt"]
        place = board.find_elements(By.CSS_SELECTOR, "thead th")[0]
        place.click()
        place.click()  # ascending (as shown), then descending
        assert [r.text.split()[1] for r in board.find_elements(By.CSS_SELECTOR, "tbody tr")] == ["sgt", "erm", "cyborg"]
        assert all(
            driver.execute_script("return arguments[0].naturalWidth", i) > 0
            for i in driver.find_elements(By.TAG_NAME, "img")
        )

        driver.get((site / "leaderboard" / "alpha.html").as_uri())  # its submissions, as on the index
        assert texts(driver, first) == ["sgt", "focus", "cyborg", "erm"]
        stale = driver.find_element(By.CSS_SELECTOR, "#overall tbody.unranked tr")
        assert "STALE submission" in stale.text and colour(driver, stale) == GREY
    finally:
        driver.quit()


def test_without_chromium_the_browser_test_skips_saying_how_to_install(tmp_path, monkeypatch):
    import test_leaderboard_browser as this

    monkeypatch.setattr(this, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        pytest.skip.Exception, match=r"apt-get install chromium chromium-driver.*pip install -e '\.\[test\]'"
    ):
        browser(tmp_path / "profile")

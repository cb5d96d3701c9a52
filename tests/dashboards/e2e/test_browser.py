"""The dashboards in a real browser: `windowwatch serve` + Debian chromium through Playwright.

Logs in, opens every page in both languages, finds no exception, checks key numbers against
the fixture marts and keeps screenshots in test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import os
import re

import duckdb
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.dashboard_snapshot import add_test_user, publish_fixture
from tests.support.dashboard_server import dashboard_server
from dashboards.common import fmt_int, fmt_pct
from dashboards.i18n import t
from core.paths import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PAGES = {  # url path -> (zh title, en title)
    "overview": ("总览", "Overview"),
    "rankings": ("星级窗口排名", "Star windows ranking"),
    "timeliness": ("超时监控", "Timeliness"),
    "offbook": ("体外循环", "Off-book processing"),
    "satisfaction": ("满意度", "Satisfaction"),
    "video": ("视频巡查", "Video patrol"),
    "audit": ("双随机抽查", "Double-random audit"),
    "reports": ("月度报告", "Monthly reports"),
    "window": ("窗口明细", "Window detail"),
    "case": ("办件时间线", "Case timeline"),
    "hall": ("今日窗口满意度", "Satisfaction today"),
}
PASSWORD = {"insp": "insp-pass-123", "view": "view-pass-123"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e") / "home"
    home.mkdir()
    old = os.environ.get("WINDOWWATCH_HOME")
    os.environ["WINDOWWATCH_HOME"] = str(home)
    snap = publish_fixture(home)
    add_test_user("insp", "inspector", PASSWORD["insp"])
    add_test_user("view", "viewer", PASSWORD["view"])
    log_path = tmp_path_factory.mktemp("e2e-log") / "serve.log"
    try:
        with dashboard_server(home, log_path, timeout=90) as (base, _pid):
            yield base, snap, log_path
    finally:
        if old is None:
            os.environ.pop("WINDOWWATCH_HOME", None)
        else:
            os.environ["WINDOWWATCH_HOME"] = old


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)
    # plotly draws after the run: wait until every chart has its SVG
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(el => el.querySelector('.main-svg'))", timeout=30_000)
    page.wait_for_timeout(1200)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(el => el.querySelector('.main-svg'))", timeout=30_000)


def login(browser, base: str, user: str, path: str = "") -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
    page.goto(f"{base}/{path}")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD[user])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1").first).not_to_have_text(re.compile("登录"), timeout=30_000)
    settle(page)
    return page


def assert_clean(page: Page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    body = page.locator("body").inner_text()
    for bad in ("Traceback", "Exception:", "Error:", "KeyError", "NoneType"):
        assert bad not in body, f"{where}: {bad!r} on the page"


def metric_values(page: Page) -> dict[str, str]:
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def go(page: Page, key: str, lang: str) -> None:
    title = PAGES[key][0 if lang == "zh" else 1]
    nav_label = t(f"nav.{key}", lang=lang)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=nav_label, exact=True).click()
    expect(page.locator("h1").first).to_contain_text(title, timeout=30_000)
    settle(page)


def test_every_page_in_both_languages(server, browser):
    base, snap, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(snap), read_only=True)
    case_id = con.execute("select case_id from marts.fct_off_book_signal s join marts.fct_evaluation e using (case_id) "
                          "where s.case_id is not null order by case_id limit 1").fetchone()[0]
    con.close()
    page = login(browser, base, "insp")
    expect(page.locator("h1").first).to_have_text("总览")
    for lang in ("zh", "en"):
        if lang == "en":
            page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
            settle(page)
        for key in PAGES:
            if key == "hall":
                continue  # full screen, no sidebar: opened last
            go(page, key, lang)
            if key == "case":  # a case with events, signals and an evaluation: the full timeline
                box = page.get_by_label(t("case.input", lang=lang))
                box.fill(case_id)
                box.press("Enter")
                settle(page)
                expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
            assert_clean(page, f"{lang}/{key}")
            page.screenshot(path=str(SHOTS / f"{lang}_{key}.png"), full_page=True)
    go(page, "hall", "en")
    assert_clean(page, "en/hall")
    assert page.locator('[data-testid="stSidebar"]').is_hidden()
    page.screenshot(path=str(SHOTS / "en_hall.png"), full_page=True)
    page.close()


def test_key_numbers_equal_marts(server, browser):
    base, snap, _ = server
    con = duckdb.connect(str(snap), read_only=True)
    month, end = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    q = lambda sql, p=(): con.execute(sql, list(p)).fetchone()[0]  # noqa: E731
    expected = {
        "受理件数": fmt_int(q("select count(*) from marts.fct_case where accepted_at >= ? and accepted_at < ?", (month, end))),
        "按时办结率": fmt_pct(q("select avg(is_on_time::int) from marts.fct_case where status = 'completed' "
                             "and completed_at >= ? and completed_at < ?", (month, end))),
        "好评率": fmt_pct(q("select avg(is_good::int) from marts.fct_evaluation where evaluated_at >= ? "
                          "and evaluated_at < ?", (month, end))),
        "在办红牌": fmt_int(q("select count(*) from marts.fct_case where status = 'open' and card = 'red'")),
        "在办黄牌": fmt_int(q("select count(*) from marts.fct_case where status = 'open' and card = 'yellow'")),
        "待审核视频线索": fmt_int(q("select count(*) from marts.fct_video_flag where review_status = 'pending'")),
    }
    con.close()
    page = login(browser, base, "insp")
    for label, value in expected.items():  # expect() retries while Streamlit is still drawing
        tile = page.locator('[data-testid="stMetric"]').filter(has_text=label)
        expect(tile.locator('[data-testid="stMetricValue"]')).to_have_text(value, timeout=30_000)
    shown = metric_values(page)
    assert all(shown[label] == value for label, value in expected.items()), shown
    page.close()


def test_shared_link_survives_login(server, browser):
    base, _, _ = server
    page = login(browser, base, "insp", path="rankings?month=2026-09&center=C01")
    expect(page.locator("h1").first).to_have_text("星级窗口排名")
    expect(page.get_by_text("统计月份：2026-09")).to_be_visible()
    assert "center=C01" in page.url and "month=2026-09" in page.url
    page.screenshot(path=str(SHOTS / "zh_rankings_shared_link.png"), full_page=True)
    page.close()


def test_viewer_sees_only_reports(server, browser):
    base, _, _ = server
    page = login(browser, base, "view", path="timeliness")
    expect(page.locator("h1").first).to_have_text("月度报告")
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"] a').count() <= 1
    assert_clean(page, "viewer")
    page.screenshot(path=str(SHOTS / "zh_viewer.png"), full_page=True)
    page.close()


def test_wrong_password_is_refused(server, browser):
    base, _, _ = server
    page = browser.new_page(locale="zh-CN")
    page.goto(base)
    page.get_by_label("用户名").fill("insp")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("用户名或密码错误。")).to_be_visible(timeout=30_000)
    assert page.locator('[data-testid="stMetric"]').count() == 0
    page.close()

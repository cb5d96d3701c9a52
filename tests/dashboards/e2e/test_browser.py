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
from playwright.sync_api import Page, expect

from tests.support.dashboard_snapshot import add_test_user, publish_fixture
from tests.support.browser import PAGES, assert_clean, go, settle
from tests.support.browser import login as _login
from tests.support.dashboard_server import dashboard_server
from dashboards.common import fmt_int, fmt_pct
from dashboards.i18n import t
from core.paths import REPO_ROOT

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
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


def login(browser, base: str, user: str, path: str = "") -> Page:
    return _login(browser, base, user, PASSWORD[user], path)


def metric_values(page: Page) -> dict[str, str]:
    out = {}
    for m in page.locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


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


def test_sign_in_survives_reload_and_new_tab_until_signed_out(server, browser):
    """SPEC §8 v2: F5 and a new tab keep the sign-in (a signed session token in a SameSite=Strict
    cookie, never the password); a forged token is refused; signing out revokes it server-side, so a
    copy of the cookie no longer works either."""
    base, _, _ = server
    context = browser.new_context(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/timeliness")
    page.get_by_label("用户名").fill("insp")
    page.get_by_label("密码").fill(PASSWORD["insp"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1").first).to_have_text("超时监控", timeout=30_000)
    page.wait_for_function("() => document.cookie.includes('ww_session=')", timeout=30_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ww_session")
    assert cookie["sameSite"] == "Strict", cookie
    assert PASSWORD["insp"] not in cookie["value"] and "insp" not in cookie["value"]

    page.reload()
    expect(page.locator("h1").first).to_have_text("超时监控", timeout=30_000)
    settle(page)
    assert page.get_by_label("密码").count() == 0
    other = page.context.new_page()
    other.goto(f"{base}/rankings")
    expect(other.locator("h1").first).to_have_text("星级窗口排名", timeout=30_000)
    other.close()

    def opens_signed_out(value: str) -> None:
        ctx = browser.new_context(locale="zh-CN")
        ctx.add_cookies([{**cookie, "value": value}])
        p = ctx.new_page()
        p.goto(base)
        expect(p.get_by_label("密码")).to_be_visible(timeout=30_000)
        ctx.close()

    sid, sig = cookie["value"].split(".")
    opens_signed_out(f"{sid}.{sig[::-1]}")  # forged signature

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_label("密码")).to_be_visible(timeout=30_000)
    opens_signed_out(cookie["value"])  # the copied cookie of the signed-out session
    page.reload()
    expect(page.get_by_label("密码")).to_be_visible(timeout=30_000)
    context.close()


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

"""The hall screen's kiosk mode in a real browser at the hall TV's size, 1920×1080 (issue 20; SPEC §7, §8;
docs/operations.md#the-hall-screen-kiosk).

`/?kiosk=TOKEN` opens the hall page without an account and nothing else: its figures equal the
fixture marts, no sign-in form, no navigation, no horizontal overflow, large dark type, no chart
toolbar, 更新于 in local time (Asia/Shanghai, while the machine runs on UTC). Every other page with
the same token, a wrong token and a revoked token are refused, never with data or the sign-in form.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import duckdb
import pytest
from playwright.sync_api import Page, expect

from core.localtime import LOCAL_TZ
from core.paths import REPO_ROOT, Home
from dashboards.common import fmt_int, fmt_pct
from tests.support.app_pages import app_pages
from tests.support.browser import settle
from tests.support.dashboard_server import dashboard_server
from tests.support.dashboard_snapshot import AS_OF, add_test_user, publish_fixture
from tests.support.feed_markup import Recorder, corpus, poison_snapshot
from windowwatch import kiosk

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1920, "height": 1080}
REFUSED = "大屏链接无效或已停用"
ONLY_HALL = "大屏链接只能打开大屏页面"
ROWS = 3  # WINDOWWATCH_HALL_PAGE_ROWS of the server: the fixture's 4 windows make 2 pages


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("kiosk") / "home"
    home.mkdir()
    old = os.environ.get("WINDOWWATCH_HOME")
    os.environ["WINDOWWATCH_HOME"] = str(home)
    os.environ["WINDOWWATCH_HALL_PAGE_ROWS"] = str(ROWS)
    snap = publish_fixture(home)
    add_test_user("insp", "inspector", "insp-pass-123")
    h = Home(home)
    tokens = {"hall": kiosk.add("hall-tv-1", h), "revoked": kiosk.add("old-tv", h)}
    kiosk.revoke("old-tv", h)
    log_path = tmp_path_factory.mktemp("kiosk-log") / "serve.log"
    try:
        with dashboard_server(home, log_path, timeout=90) as (base, _pid):
            yield base, snap, h, tokens
    finally:
        os.environ.pop("WINDOWWATCH_HALL_PAGE_ROWS", None)
        if old is None:
            os.environ.pop("WINDOWWATCH_HOME", None)
        else:
            os.environ["WINDOWWATCH_HOME"] = old


def screen(browser, url: str, locale: str = "zh-CN") -> Page:
    page = browser.new_page(viewport=VIEWPORT, locale=locale)
    page.goto(url)
    return page


def no_data(page: Page) -> None:
    """A refusal: no figure, chart, table, feed, navigation or sign-in form."""
    for sel in ('[data-testid="stMetric"]', '[data-testid="stPlotlyChart"]', '[data-testid="stDataFrame"]',
                '[data-testid="ww-hall-table"]', '[data-testid="ww-hall-feed"]', '[data-testid="stSidebarNav"]',
                'input[type="password"]'):
        assert page.locator(sel).count() == 0, sel
    body = page.locator("body").inner_text()
    assert "登录" not in body and "用户名" not in body, body


def test_token_opens_the_hall_screen_sized_for_the_hall(server, browser):
    base, snap, _, tokens = server
    con = duckdb.connect(str(snap), read_only=True)
    day = con.execute("select max(evaluated_at)::date from marts.fct_evaluation where evaluated_at::date <= ?",
                      [AS_OF]).fetchone()[0]
    n, good = con.execute("select count(*), count(*) filter (where is_good) from marts.fct_evaluation "
                          "where evaluated_at::date = ?", [day]).fetchone()
    red = con.execute("select count(*) from marts.fct_case where status = 'open' and card = 'red'").fetchone()[0]
    windows = con.execute("select count(*) from marts.dim_window").fetchone()[0]
    latest = con.execute("select w.window_name from marts.fct_evaluation e join marts.dim_window w using (window_id) "
                         "where e.evaluated_at::date = ? and e.channel <> 'default' "
                         "order by e.evaluated_at desc, e.evaluation_id desc limit 1", [day]).fetchone()[0]
    con.close()

    page = screen(browser, f"{base}/?kiosk={tokens['hall']}")
    expect(page.locator("h1").first).to_contain_text(f"今日窗口满意度 · {day}", timeout=30_000)
    settle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh_hall_kiosk_1920.png"))
    # the figures, equal to the marts; no sign-in form, no navigation or sidebar
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="今日评价数")
           .locator('[data-testid="stMetricValue"]')).to_have_text(fmt_int(n))
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="今日好评率")
           .locator('[data-testid="stMetricValue"]')).to_have_text(fmt_pct(good / n))
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="在办红牌")
           .locator('[data-testid="stMetricValue"]')).to_have_text(fmt_int(red))
    assert page.locator('input[type="password"]').count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stSidebar"]').is_hidden()
    assert page.get_by_text("退出大屏").count() == 0  # no way out to the inspector pages
    # the live feed: the day's latest applicant rating first, time · window · rating, no case or comment
    feed = page.locator('[data-testid="ww-hall-feed"]')
    expect(feed).to_contain_text("满意度现场直播")
    expect(feed.locator(".window").first).to_have_text(latest)
    # the paged table: at most ROWS rows, with its page number
    table = page.locator('[data-testid="ww-hall-table"]')
    pages = -(-windows // ROWS)
    assert pages >= 2
    assert 1 <= table.locator("tbody tr").count() <= ROWS
    expect(page.get_by_text(re.compile(rf"第 \d/{pages} 页"))).to_be_visible()

    # 1920×1080 from across a hall: nothing runs off the side, big dark type, no chart toolbar
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1920
    for sel in ('[data-testid="ww-hall-table"]', '[data-testid="ww-hall-feed"]', '[data-testid="stPlotlyChart"]'):
        right = page.evaluate(f"document.querySelector('{sel}').getBoundingClientRect().right")
        assert right <= 1920, (sel, right)
    px = lambda sel: page.evaluate(  # noqa: E731
        f"parseFloat(getComputedStyle(document.querySelector('{sel}')).fontSize)")
    assert px('[data-testid="stMetricValue"]') >= 28
    assert px('[data-testid="stMetricValue"] div') >= 28
    assert px(".ww-table td") >= 28 and px(".ww-feed .window") >= 28
    background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    assert background == "rgb(0, 0, 0)", background
    assert page.locator(".modebar-container .modebar").count() == 0
    # chart labels horizontal and large: plotly writes no rotate() on a tick when the angle is 0
    ticks = page.locator('[data-testid="stPlotlyChart"] .ytick text')
    assert ticks.count() >= 1
    assert all("rotate" not in (ticks.nth(i).get_attribute("transform") or "") for i in range(ticks.count()))
    assert float(ticks.first.evaluate("e => parseFloat(e.style.fontSize)")) >= 28

    # 更新于 is local time (Asia/Shanghai), not the machine's UTC
    caption = page.get_by_text(re.compile("更新于")).first.inner_text()
    stamp = re.search(r"更新于 (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", caption).group(1)
    shown = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
    now = dt.datetime.now(LOCAL_TZ).replace(tzinfo=None)
    assert abs((now - shown).total_seconds()) < 120, (caption, now)
    assert "北京时间" in caption
    page.close()


def test_the_table_pages_by_itself(server, browser):
    base, _, _, tokens = server
    page = screen(browser, f"{base}/?kiosk={tokens['hall']}")
    label = page.get_by_text(re.compile(r"第 \d/\d 页"))
    expect(label).to_be_visible(timeout=30_000)
    first = label.inner_text()
    first_rows = page.locator('[data-testid="ww-hall-table"] tbody').inner_text()
    expect(label).not_to_have_text(first, timeout=30_000)  # the page turns within a refresh (10 s)
    assert page.locator('[data-testid="ww-hall-table"] tbody').inner_text() != first_rows
    page.close()


@pytest.mark.parametrize("key", [k for k, _ in app_pages() if k != "hall"] + ["login"])
def test_other_pages_are_refused_with_the_token(server, browser, key):
    base, _, _, tokens = server
    page = screen(browser, f"{base}/{key}?kiosk={tokens['hall']}&case=C000001&center=C02&month=2026-09")
    expect(page.get_by_text(ONLY_HALL)).to_be_visible(timeout=30_000)
    settle(page)
    no_data(page)
    page.close()


@pytest.mark.parametrize("token", ["wrong-token", "revoked", ""])
def test_wrong_or_revoked_token_is_refused(server, browser, token):
    base, _, _, tokens = server
    value = tokens["revoked"] if token == "revoked" else token
    for path in ("", "hall", "overview"):
        page = screen(browser, f"{base}/{path}?kiosk={value}")
        expect(page.get_by_text(REFUSED)).to_be_visible(timeout=30_000)
        settle(page)
        no_data(page)
        page.close()


def test_revoking_blanks_an_open_screen(server, browser):
    """Revocation takes effect at the screen's next refresh, without a reload or restart."""
    base, _, h, _ = server
    token = kiosk.add("tv-to-revoke", h)
    page = screen(browser, f"{base}/?kiosk={token}")
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=30_000)
    kiosk.revoke("tv-to-revoke", h)
    expect(page.get_by_text(REFUSED)).to_be_visible(timeout=40_000)
    no_data(page)
    page.close()


def test_english_switch_and_signed_in_hall_unchanged(server, browser):
    base, _, _, tokens = server
    page = screen(browser, f"{base}/?kiosk={tokens['hall']}&lang=en", locale="en-US")
    expect(page.locator("h1").first).to_contain_text("Satisfaction today", timeout=30_000)
    settle(page)
    body = page.locator("body").inner_text()
    assert "Live satisfaction feed" in body and "Beijing time" in body
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1920
    right = page.evaluate("document.querySelector('[data-testid=\"ww-hall-table\"]').getBoundingClientRect().right")
    assert right <= 1920, right
    assert not re.search(r"[\u4e00-\u9fff]", page.locator("h1").first.inner_text())
    page.close()


def test_feed_markup_on_the_open_screen_stays_text(tmp_path_factory, browser):
    """The kiosk URL is the one page open without an account: window and department names carrying
    Markdown and HTML whose every URL points at a recording server are shown as text — no request,
    no link, no script — and even such long names do not push the screen past 1920 px."""
    recorder = Recorder()
    payloads = corpus(recorder.port)
    home = tmp_path_factory.mktemp("kiosk-markup") / "home"
    home.mkdir()
    old = os.environ.get("WINDOWWATCH_HOME")
    os.environ["WINDOWWATCH_HOME"] = str(home)
    try:
        snap = publish_fixture(home)
        assert poison_snapshot(snap, payloads) >= 6
        token = kiosk.add("hall-tv-1", Home(home))
        log_path = tmp_path_factory.mktemp("kiosk-markup-log") / "serve.log"
        with recorder.running(), dashboard_server(home, log_path, timeout=90) as (base, _pid):
            page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
            requests, dialogs = [], []
            page.on("request", lambda r: requests.append(r.url) if f":{recorder.port}" in r.url else None)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/?kiosk={token}")
            expect(page.locator('[data-testid="ww-hall-feed"] .window').first).to_be_visible(timeout=30_000)
            settle(page)
            page.wait_for_timeout(500)  # an image or script would have fired by now
            page.screenshot(path=str(SHOTS / "zh_hall_kiosk_markup.png"))
            links = page.eval_on_selector_all("[href], [src], [xlink\\:href]",
                                              "els => els.map(e => e.getAttribute('href') || e.getAttribute('src') "
                                              "|| e.getAttribute('xlink:href') || '')")
            assert not [h for h in links if str(recorder.port) in h or h.strip().lower().startswith("javascript:")]
            assert requests == [] and recorder.paths == [] and dialogs == []
            # shown as text, not dropped
            assert "[官网通知](http" in page.locator('[data-testid="ww-hall-table"]').inner_text()
            assert "<script>" in page.locator('[data-testid="ww-hall-feed"] .window').first.text_content()
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 1920
            page.close()
    finally:
        if old is None:
            os.environ.pop("WINDOWWATCH_HOME", None)
        else:
            os.environ["WINDOWWATCH_HOME"] = old

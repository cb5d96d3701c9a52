"""The 大厅运行 and 工作人员 pages and the ranking page's deductions in a real browser (SPEC v2 §4.6, §4.10,
§4.12, §7; issue 25): `windowwatch serve` + Debian chromium on the fixture snapshot, whose hall marts are
tests/support/hall_snapshot.py. The figures on screen are the marts'; a feed never delivered says so; the
staff page is for inspectors and auditors only."""

from __future__ import annotations

import re

import duckdb
import pytest
from playwright.sync_api import Page, expect

from core.paths import REPO_ROOT
from tests.support.browser import assert_clean, click_new_tab
from tests.support.dashboard_server import published_fixture_server
from tests.support.hall_snapshot import ADJUST_EVIDENCE

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
USERS = {"insp": ("inspector", "insp-pass-123"), "boss": ("manager", "boss-pass-123")}
MONTH = "?month=2026-10"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with published_fixture_server(tmp_path_factory, "hall-ops-e2e", USERS) as served:
        yield served


def settle(page: Page) -> None:
    """tests/support/browser.settle with longer waits: the page runs several queries per section."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(el => el.querySelector('.main-svg'))", timeout=90_000)
    page.wait_for_timeout(800)


def _open(browser, base: str, user: str, path: str, title: str) -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
    page.goto(f"{base}/{path}")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(USERS[user][1])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1").first).to_have_text(title, timeout=30_000)
    settle(page)
    return page


def _tab(page: Page, name: str) -> None:
    """Choose a section of the page (a horizontal radio)."""
    page.locator('[data-testid="stRadio"]').get_by_text(name, exact=True).click()
    settle(page)


def _metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _one(snap, sql: str):
    con = duckdb.connect(str(snap), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def test_hall_operations_page_shows_the_marts(server, browser):
    base, snap = server
    page = _open(browser, base, "insp", f"hall_ops{MONTH}", "大厅运行")
    # 考勤在岗 (first tab): the month's figures summed over the windows the feed covers
    staffed, scheduled, covered, absent, late = _one(snap, """
        select sum(days_staffed), sum(days_scheduled), sum(days_covered), sum(absent_days), sum(late_arrivals)
        from marts.fct_window_month where month = '2026-10-01' and days_scheduled is not null""")
    assert _metric(page, "在岗率") == f"{100 * staffed / (scheduled - covered):.1f}%"
    assert _metric(page, "缺岗天数") == str(absent) and _metric(page, "迟到次数") == str(late)
    assert_clean(page, "hall_ops/考勤在岗")
    # 排队叫号: the +1 proposal with its evidence, in words
    _tab(page, "排队叫号")
    expect(page.get_by_text(re.compile("建议增开 1 个窗口：居民身份证换领"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(ADJUST_EVIDENCE).first).to_be_visible()
    expect(page.locator('[data-testid="stPlotlyChart"] .gtitle').first).to_contain_text("各时段平均等候时长")
    # 工单投诉: substantiated complaints counted, channels and categories in Chinese
    _tab(page, "工单投诉")
    expect(page.get_by_text("查实投诉").first).to_be_visible(timeout=30_000)
    assert _metric(page, "查实投诉") == "1" and _metric(page, "本月工单") == "3"
    # 明察暗访: the 一日三查 summary — 2 working days short of three
    _tab(page, "明察暗访")
    short = _one(snap, "select count(*) filter (where not met), count(*) from marts.fct_spot_check_day")
    expect(page.get_by_text(f"本月 {short[1]} 个工作日，每日应抽查 3 次，未达标 {short[0]} 天。")).to_be_visible(timeout=30_000)
    body = page.locator("body").inner_text()
    for english in ("video_spot", "on_site", "hotline_12345", "complaint", "None", "nan"):
        assert not re.search(rf"\b{english}\b", body), english
    assert_clean(page, "hall_ops")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh_hall_ops.png"), full_page=True)


def test_a_centre_without_hall_feeds_says_so(server, browser):
    base, _snap = server
    # W04 is at centre C02, which has no attendance delivery: the attendance tab is empty, not an error
    page = _open(browser, base, "insp", f"hall_ops{MONTH}&center=C02", "大厅运行")
    expect(page.get_by_text("当前筛选条件下没有数据。").first).to_be_visible(timeout=30_000)
    assert_clean(page, "hall_ops C02")


def test_staff_page_ranks_staff_for_inspectors_only(server, browser):
    base, snap = server
    page = _open(browser, base, "insp", f"staff{MONTH}", "星级服务人员")
    expect(page.get_by_text("人员考核数据，仅限督查员和稽核员查看，不对外公布。")).to_be_visible()
    ranked = _one(snap, "select count(*) from marts.fct_staff_month where is_eligible and month = '2026-10-01'")[0]
    assert _metric(page, "参评人数") == str(ranked)
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=30_000)
    cells = grid.locator("td").all_inner_texts()
    assert "王敏" in cells and "★★★★★" in cells and "不参评（样本不足）" in cells, cells
    assert_clean(page, "staff")
    # the manager (statistics, no personnel data) has no such page: the URL lands elsewhere
    boss = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
    boss.goto(f"{base}/staff{MONTH}")
    boss.get_by_label("用户名").fill("boss")
    boss.get_by_label("密码").fill(USERS["boss"][1])
    boss.get_by_role("button", name="登录").click()
    expect(boss.locator("h1").first).not_to_have_text(re.compile("登录|星级服务人员"), timeout=30_000)
    assert "王敏" not in boss.locator("body").inner_text()


def test_rankings_list_each_deduction_with_its_source(server, browser):
    base, snap = server
    page = _open(browser, base, "insp", f"rankings{MONTH}", "星级窗口排名")
    n = _one(snap, "select count(*) from marts.fct_window_deduction where month = '2026-10-01'")[0]
    page.get_by_text(f"扣分明细（{n} 条）").click()
    settle(page)
    expect(page.get_by_text("缺岗 3；查实投诉 2；明察暗访 2；迟到早退 1")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile("建议增开 1 个窗口：居民身份证换领"))).to_be_visible()
    assert_clean(page, "rankings deductions")


def test_one_click_on_a_window_opens_its_window_page(server, browser):
    """Issue 19: a window in 大厅运行's attendance table opens 窗口明细 for that window in one click, the
    page's filters (month, centre) in the URL."""
    base, snap = server
    page = _open(browser, base, "insp", f"hall_ops{MONTH}&center=C01", "大厅运行")
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=30_000)
    first_row = grid.locator("tbody tr").first.inner_text()
    names = dict(zip(*_one(snap, "select list(window_name order by window_id), list(window_id order by window_id) "
                                 "from marts.dim_window")))
    name = next(n for n in sorted(names, key=len, reverse=True) if n in first_row)
    box = grid.bounding_box()
    # the window link column comes first, 75 px wide ("small"); rows 35 px under a 35 px header
    opened = click_new_tab(page, box["x"] + 22, box["y"] + 35 + 18)
    expect(opened).to_have_url(re.compile(rf"/window\?w={names[name]}&month=2026-10&center=C01"), timeout=30_000)
    expect(opened.locator("h1").first).to_have_text("窗口明细", timeout=30_000)
    expect(opened.get_by_text(re.compile(rf"^{re.escape(name)}（.+）· 2026-10$")).first).to_be_visible(timeout=30_000)
    assert_clean(opened, "window from hall_ops")

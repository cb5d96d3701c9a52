"""The 评价真实性 tab of the 满意度 page in a real browser (SPEC §4.9, docs/rules.md#rating-integrity):
`windowwatch serve` + Debian chromium. Each signal of fct_rating_signal is listed with its evidence as a
Chinese sentence (dashboards/evidence.py), and one click opens the window, another the rated case."""

from __future__ import annotations

import re

import duckdb
import pytest
from playwright.sync_api import Page, expect

from core.paths import REPO_ROOT
from tests.support.browser import assert_clean, click_new_tab, settle
from tests.support.browser import login as _login
from tests.support.dashboard_server import published_fixture_server

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "insp-pass-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with published_fixture_server(tmp_path_factory, "ri-e2e", {"insp": ("inspector", PASSWORD)}) as served:
        yield served


def _open_tab(browser, base: str) -> Page:
    page = _login(browser, base, "insp", PASSWORD, "satisfaction")
    expect(page.locator("h1").first).to_have_text("满意度", timeout=30_000)
    page.get_by_role("tab", name="评价真实性").click()
    settle(page)
    return page


def _signals(snap, month: str) -> list[tuple]:
    con = duckdb.connect(str(snap), read_only=True)
    try:
        return con.execute("select s.rule_id, s.evaluation_id, s.window_id, e.case_id from marts.fct_rating_signal s "
                           "left join marts.fct_evaluation e using (evaluation_id) where s.month = ? "
                           "order by s.rule_id", [month]).fetchall()
    finally:
        con.close()


def _grid(page: Page):
    grid = page.locator('.st-key-sat_integrity_box [data-testid="stDataFrame"]')
    expect(grid).to_be_visible(timeout=30_000)
    return grid


def test_each_signal_with_its_evidence_in_chinese(server, browser):
    base, _snap = server
    page = _open_tab(browser, base)
    grid = _grid(page)
    # the grid's accessible table: the rule names and the evidence as sentences, never key=value
    expect(grid.locator("td").filter(has_text=re.compile("^无服务评价$"))).to_have_count(1)
    expect(grid.locator("td").filter(has_text=re.compile("^满意度异常$"))).to_have_count(1)
    expect(grid.locator("td").filter(has_text="前后 30 分钟内没有任何办件记录")).to_have_count(1)
    expect(grid.locator("td").filter(has_text="52 条主动评价全部为「非常满意」")).to_have_count(1)
    cells = grid.locator("td").all_inner_texts()
    assert any("80.0%" in c and "9.13e-06" in c for c in cells), cells
    links = [c for c in cells if c.startswith(("window?w=", "case?case="))]  # the link cells' URLs
    assert any(c.startswith("window?w=W03&month=") for c in links), cells  # with the page's month
    assert not [c for c in cells if c not in links and re.search(r"[a-z_]+=\S", c)], cells
    assert_clean(page, "satisfaction/评价真实性")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh_satisfaction_rating_integrity.png"), full_page=True)


def test_one_click_opens_the_case_and_the_window(server, browser):
    base, snap = server
    page = _open_tab(browser, base)
    grid = _grid(page)
    month = page.get_by_text("统计月份：").first.inner_text().split("：", 1)[1].strip()[:7] + "-01"
    _rule, _evaluation, window_id, case_id = next(r for r in _signals(snap, month) if r[0] == "RI_NO_SERVICE")
    rows = grid.locator("tbody tr").all_inner_texts()
    row = next(i for i, text in enumerate(rows) if "无服务评价" in text)
    box = grid.bounding_box()
    # the two link columns come first, each 75 px wide ("small"); rows 35 px under a 35 px header
    y = box["y"] + 35 + 35 * row + 18
    case_page = click_new_tab(page, box["x"] + 75 + 22, y)
    # the app adds &lang=…&month=… after its first run: match the page and the case, not the whole URL
    expect(case_page).to_have_url(re.compile(rf"^{re.escape(base)}/case\?case={re.escape(case_id)}(&.*)?$"), timeout=30_000)
    expect(case_page.get_by_text(case_id).first).to_be_visible(timeout=30_000)
    window_page = click_new_tab(page, box["x"] + 22, y)
    expect(window_page).to_have_url(re.compile(rf"{re.escape(base)}/window\?w={window_id}&month=\d{{4}}-\d{{2}}"),
                                    timeout=30_000)

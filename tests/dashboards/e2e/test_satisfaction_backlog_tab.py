"""The 差评闭环 tab of the 满意度 page in a real browser (SPEC §4.4 v2, issue 17): `windowwatch serve` +
Debian chromium on the fixture snapshot. An overdue callback is listed with its deadline and days
overdue, one click on it opens the case; appeals show their outcome in Chinese, and no English enum
value (upheld / overturned / default) appears anywhere on the tab."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import assert_clean, settle
from tests.support.browser import login as _login
from tests.support.dashboard_server import published_fixture_server
from tests.support.dashboard_snapshot import AS_OF

PASSWORD = "insp-pass-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with published_fixture_server(tmp_path_factory, "sbl-e2e", {"insp": ("inspector", PASSWORD)}) as served:
        yield served


def _open_tab(browser, base: str) -> Page:
    page = _login(browser, base, "insp", PASSWORD, "satisfaction")
    expect(page.locator("h1").first).to_have_text("满意度", timeout=30_000)
    tab = page.get_by_role("tab", name="差评闭环")
    tab.click(timeout=60_000)
    expect(tab).to_have_attribute("aria-selected", "true", timeout=60_000)
    expect(page.get_by_role("heading", name="待回访差评")).to_be_visible(timeout=60_000)
    settle(page)
    return page


def _grid(page: Page, has_text: str):
    """The tab's grid whose accessible table holds `has_text` (dataframes inside tabs carry no st-key class)."""
    grid = page.get_by_role("tabpanel").locator('[data-testid="stDataFrame"]').filter(has_text=has_text)
    expect(grid).to_have_count(1, timeout=60_000)
    return grid


def _overdue_callbacks(snap) -> list[tuple[str, str, dt.date]]:
    con = duckdb.connect(str(snap), read_only=True)
    try:
        return con.execute("select evaluation_id, case_id, callback_deadline::date from marts.fct_evaluation "
                           "where needs_callback and callback_at is null and callback_deadline::date < ? "
                           "order by callback_deadline, evaluation_id", [AS_OF]).fetchall()
    finally:
        con.close()


def test_overdue_callback_with_its_deadline_and_one_click_to_the_case(server, browser):
    base, snap = server
    overdue = _overdue_callbacks(snap)
    assert overdue, "the fixture has no overdue callback"
    evaluation_id, case_id, deadline = overdue[0]
    page = _open_tab(browser, base)
    grid = _grid(page, evaluation_id)
    rows = grid.locator("tbody tr").all_inner_texts()
    row = next(i for i, text in enumerate(rows) if evaluation_id in text)
    assert deadline.isoformat() in rows[row]
    assert f"已逾期 {(AS_OF - deadline).days} 天" in rows[row]
    assert_clean(page, "satisfaction/差评闭环")
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    # the two link columns come first (window, case), each 75 px wide; rows 35 px under a 35 px header
    x, y = box["x"] + 75 + 22, box["y"] + 35 + 35 * row + 18
    page.mouse.move(x, y)
    page.wait_for_timeout(1000)  # the grid marks the link cell hovered before a click opens it
    with page.context.expect_page(timeout=60_000) as new:
        page.mouse.click(x, y)
    case_page = new.value
    case_page.wait_for_load_state()
    # the case page, then the app mirrors the language and the month into the URL (&lang=zh&month=…) after
    # its first run: an exact URL would only match before that run
    expect(case_page).to_have_url(re.compile(rf"^{re.escape(base)}/case\?case={re.escape(case_id)}(&.*)?$"),
                                  timeout=30_000)
    expect(case_page.get_by_text(case_id).first).to_be_visible(timeout=30_000)


def test_appeal_outcomes_in_chinese_and_no_english_enum(server, browser):
    base, _snap = server
    page = _open_tab(browser, base)
    cells = _grid(page, "复核结果").locator("td").all_inner_texts()
    assert "维持差评" in cells, cells  # the fixture's October appeals are upheld (the overturned one is September's)
    panel = page.get_by_role("tabpanel").filter(has_text="待回访差评")
    texts = panel.inner_text() + "\n".join(panel.locator("td, th").all_inner_texts())
    for word in ("upheld", "overturned", "default", "deadline", "days_left", "sbl.", "sblcol."):
        assert not re.search(rf"\b{re.escape(word)}", texts), word
    assert re.search(r"已逾期 \d+ 天", texts)

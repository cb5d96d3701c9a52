"""Playwright in Debian chromium against `windowwatch serve` (tests/support/dashboard_server.py):
sign in, wait for Streamlit to settle, open a page from the sidebar, check it shows no error."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from dashboards.i18n import t

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
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


def settle(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run (`timeout` ms for each step: a walk of many
    pages on a machine shared with other test runs gives more)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)
    # plotly draws after the run: wait until every chart has its SVG
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(el => el.querySelector('.main-svg'))", timeout=timeout)
    page.wait_for_timeout(1200)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(el => el.querySelector('.main-svg'))", timeout=timeout)


def login(browser, base: str, user: str, password: str, path: str = "", timeout: float = 30_000) -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
    page.goto(f"{base}/{path}")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1").first).not_to_have_text(re.compile("登录"), timeout=timeout)
    settle(page, timeout)
    return page


def click_new_tab(page: Page, x: float, y: float) -> Page:
    """Point at a link cell of a data grid, then one click: the page opens in a new tab (the session cookie
    keeps it signed in)."""
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    with page.context.expect_page() as new:
        page.mouse.click(x, y)
    opened = new.value
    opened.wait_for_load_state()
    return opened


def assert_clean(page: Page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    body = page.locator("body").inner_text()
    for bad in ("Traceback", "Exception:", "Error:", "KeyError", "NoneType"):
        assert bad not in body, f"{where}: {bad!r} on the page"


def go(page: Page, key: str, lang: str) -> None:
    title = PAGES[key][0 if lang == "zh" else 1]
    nav_label = t(f"nav.{key}", lang=lang)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=nav_label, exact=True).click()
    expect(page.locator("h1").first).to_contain_text(title, timeout=30_000)
    settle(page)

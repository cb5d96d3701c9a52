"""Chinese throughout (issue 19): each role walks every page it can reach in a zh-CN browser, and no page
shows an untranslated word — no English word of three letters or more outside a short allow-list,
no "None" / "nan" / "True", no enum value (ai, pending, red, calendar …), no catalogue key. Checked:
the main area and the sidebar as rendered (every tab of a page opened), the cells of every table
(the grid's accessible table) and the text of every chart (axes, legends, annotations).

One server and one browser for all roles (`windowwatch serve` on the published fixture snapshot).
Screenshots of each page at 1440 px wide go to test-artifacts/screenshots/zh_<role>_<page>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.paths import REPO_ROOT
from dashboards.i18n import t
from tests.support.browser import assert_clean, login, settle
from tests.support.dashboard_server import published_fixture_server
from tests.support.dashboard_snapshot import add_test_user
from tests.support.supervision import red_case
from tests.support.untranslated import FORBIDDEN, KEY, english_words, untranslated

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "walk-pass-123"
SLOW = 120_000  # ms a step may take: a cold first run on a machine shared with other test runs
# every page of the app; a page added later joins the walk when its key is added here
WALKED = ("overview", "rankings", "timeliness", "offbook", "satisfaction", "video", "audit", "reports", "supervision",
          "window", "case", "hall", "hall_ops", "staff")
ROLES = {"insp1": "inspector", "aud1": "auditor", "mgr1": "manager", "dept1": "department"}  # names hold a digit: ids


def page_text(page: Page) -> tuple[str, set[str]]:
    """What a person reads on the page: the sidebar and main area as rendered, every grid cell and
    header, every chart's text; and the Material icon names (drawn as icons, not read)."""
    parts = [page.locator('[data-testid="stSidebar"]').inner_text() if page.locator(
        '[data-testid="stSidebar"]').is_visible() else ""]
    main = page.locator('[data-testid="stMain"]').inner_text()
    # st.file_uploader's drop zone ("Drag and drop file here", "Browse files"): Streamlit 1.67 has no
    # parameter to translate it (its label, help and the caption above it are Chinese)
    # and a file shown as its literal text (双随机抽查's plan YAML, a hash): its exact bytes are what is
    # committed and verified, so it is never translated; the form above it says the same in Chinese
    for verbatim in page.locator('[data-testid="stFileUploaderDropzone"], [data-testid="stCode"]').all_inner_texts():
        main = main.replace(verbatim, "")
    parts.append(main)
    parts += page.locator('[data-testid="stDataFrame"]').locator("th, td").all_inner_texts()
    parts += page.evaluate("() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg text')]"
                           ".map(e => e.textContent)")
    icons = set(page.evaluate("() => [...document.querySelectorAll('span, i, div')].filter(e => !e.children.length "
                              "&& getComputedStyle(e).fontFamily.includes('Material')).map(e => e.textContent.trim())"))
    return "\n".join(parts), icons


def check_page(page: Page, where: str) -> dict[str, set[str]]:
    """Every tab of the page opened in turn; the problems found on any of them."""
    assert_clean(page, where)
    found: dict[str, set[str]] = {}
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for i in range(max(1, tabs.count())):
        if tabs.count():
            tabs.nth(i).click()
            settle(page, SLOW)
        for kind, words in untranslated(*page_text(page)).items():
            found.setdefault(kind, set()).update(words)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    users = {name: (role, PASSWORD) for name, role in ROLES.items() if role != "department"}
    with published_fixture_server(tmp_path_factory, "zh-walk", users) as (base, snap):
        add_test_user("dept1", "department", PASSWORD, department_id="D01")
        yield base, snap


def open_page(page: Page, base: str, key: str, case_id: str) -> None:
    """A page from the sidebar (the session goes on: no new sign-in run); the case page on a red card
    (the page with the most words); the hall screen, which has no sidebar, by its URL."""
    if key == "hall":
        page.goto(f"{base}/hall")
    else:
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{key}"]').click()
        expect(page).to_have_url(re.compile(rf"{re.escape(base)}/{key}(\?|$)"), timeout=60_000)
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    settle(page, SLOW)
    if key == "case":
        box = page.get_by_label(t("case.input", lang="zh"))
        box.fill(case_id)
        box.press("Enter")
        expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
        settle(page, SLOW)


def nav_pages(page: Page) -> list[str]:
    """The url paths of the role's pages ("" for its first page, served at /)."""
    return [h.strip("/") for h in page.locator('[data-testid="stSidebarNav"] a').evaluate_all(
        "els => els.map(e => e.pathname)")]


def test_every_page_of_every_role_speaks_chinese(server, browser):
    base, snap = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    red, _dept = red_case(snap)
    problems: dict[str, dict[str, set[str]]] = {}
    visited: dict[str, list[str]] = {}
    for user, role in ROLES.items():
        page = login(browser, base, user, PASSWORD, timeout=SLOW)
        keys = [k for k in nav_pages(page) if k in WALKED or not k]
        visited[role] = keys
        for key in [k for k in keys if k != "hall"] + (["hall"] if "hall" in keys else []):
            # the case page opens on a red card (the page with the most words); the others plain
            open_page(page, base, key, red)
            found = check_page(page, f"{role}/{key or 'home'}")
            if found:
                problems[f"{role}/{key or 'home'}"] = found
            page.screenshot(path=str(SHOTS / f"zh_{role}_{key or 'home'}.png"), full_page=True)
        page.close()
    assert len(visited["inspector"]) >= 14 and "supervision" in visited["department"], visited
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


def test_the_check_catches_english():
    """The check itself: it would fail on what issue 19 found."""
    assert english_words("规则 OB_BACKFILL 命中", set()) == {"BACKFILL"}
    assert english_words("窗口 W01 案件 20261001000000000001 warehouse-fixture-1.duckdb", set()) == set()
    assert english_words("Select all · Choose options", set()) == {"Select", "all", "Choose", "options"}
    assert english_words("flag block 窗口", {"flag", "block"}) == set()
    assert english_words("导出 CSV / XLSX / PDF", set()) == set()
    assert set(FORBIDDEN.findall("来源 ai，状态 pending，延期 None，nan")) == {"ai", "pending", "None", "nan"}
    assert not FORBIDDEN.findall("维持差评 W01 paid-ai2 red_card")
    assert {m.group(0) for m in KEY.finditer("列 col.case_id 未译 /tmp/x/index.html")} == {"col.case_id"}
    assert untranslated("打开 case?case=2026100100001 window?w=W01") == {}

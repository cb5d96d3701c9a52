"""The 双随机抽查 page in a real browser (SPEC §4.7): `windowwatch serve` + Debian chromium.

An auditor fills the plan form, commits, draws with public entropy, records a finding and
publishes: the steps read 1 → 5 in order with their state from the log, the public list on the
page and every download show the finding, inspectors appear by name with their id.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

import windowwatch.audit as audit
from core.paths import REPO_ROOT, Home
from tests.support.browser import assert_clean, settle
from tests.support.browser import login as _login
from tests.support.dashboard_server import dashboard_server
from tests.support.dashboard_snapshot import add_test_user, published_home
from windowwatch.audit.log import AuditLog

SHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "aud-pass-123"
ENTROPY = "2026-11-02 体彩排列五 41907"
STEPS = ("计划", "承诺", "抽取", "检查结果", "公示")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with published_home(tmp_path_factory, "audit-e2e") as (home, _snap):
        add_test_user("aud", "auditor", PASSWORD)
        with dashboard_server(home, tmp_path_factory.mktemp("audit-e2e-log") / "serve.log", timeout=90) as (base, _pid):
            yield base, Home(home)


def _pick(page: Page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def _fill(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page)


def _step(page: Page, n: int):
    """The step indicator's cell of step n (its markdown: icon, number, name, state)."""
    return page.locator('[data-testid="stMarkdown"]').filter(has_text=re.compile(rf"^\S+ {n}\. {STEPS[n - 1]}")).first


def _state(page: Page, n: int, state: str) -> None:
    expect(_step(page, n)).to_contain_text(state, timeout=30_000)


def test_the_audit_flow_from_the_form_to_the_public_list(world, browser):
    base, home = world
    page = _login(browser, base, "aud", PASSWORD, path="audit")
    expect(page.locator("h1").first).to_have_text("双随机抽查")

    # 1. the plan as a form; the YAML it writes is shown read-only
    _fill(page, "计划名称", "2026年10月浏览器稽核")
    _pick(page, "抽查月份", "2026-10")
    _fill(page, "每层抽取件数", "2")
    yaml_block = page.locator('[data-testid="stCode"]').filter(has_text="name: 2026年10月浏览器稽核")
    expect(yaml_block).to_contain_text("per_stratum: 2")
    expect(yaml_block).to_contain_text("month: 2026-10")
    assert "#" not in yaml_block.inner_text()
    _state(page, 1, "已完成")
    _state(page, 2, "进行中")
    expect(page.get_by_label("公开随机数（如见证下的彩票开奖号码）")).to_have_count(0)  # no entropy before the commit

    # 2. commit
    page.get_by_role("button", name="提交计划承诺").click()
    settle(page)
    commit = AuditLog(home).entries()[-1]
    assert commit["kind"] == "commit" and commit["plan"]["name"] == "2026年10月浏览器稽核"
    assert commit["plan"]["sample"] == {"per_stratum": 2}
    expect(page.get_by_text(f"已提交计划承诺 {commit['commit_id']}。")).to_be_visible()
    _state(page, 2, "已完成")
    _state(page, 3, "进行中")

    # 3. draw with public entropy
    _fill(page, "公开随机数（如见证下的彩票开奖号码）", ENTROPY)
    page.get_by_role("button", name="抽取", exact=True).click()
    settle(page)
    drawn = audit.list_draws(home)[-1]
    assert (drawn["entropy"], drawn["plan_hash"]) == (ENTROPY, commit["plan_hash"])
    expect(page.get_by_text(f"已完成抽取 {drawn['draw_id']}")).to_be_visible()
    for n in (1, 2, 3):  # step 2 stays done after the draw: never "commit first" again
        _state(page, n, "已完成")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh_audit_drawn.png"))
    _state(page, 4, "进行中")
    body = page.locator("body").inner_text()
    assert "请先提交计划承诺" not in body
    assert [int(m) for m in re.findall(r"\S+ (\d)\. (?:" + "|".join(STEPS) + ")", body)][:5] == [1, 2, 3, 4, 5]

    # 4. a finding on the first sampled case, its inspectors shown by name with the id beside
    entry = audit.get_draw(drawn["draw_id"], home)
    case = entry["result"]["sample"][0]
    assert case["inspectors"]
    names = audit.inspector_names(home)
    insp = page.locator('[data-testid="stMultiSelect"]').filter(has_text="检查人员（仅限分配到该办件的人员）")
    for i in case["inspectors"]:
        expect(insp).to_contain_text(f"{names[i]}（{i}）")
    codes = page.locator('[data-testid="stMultiSelect"]').filter(has_text="发现问题（不选表示无问题）")
    for code in ("申请材料不全", "超时未说明"):
        codes.click()
        page.get_by_role("option", name=code, exact=True).click()
        settle(page)
    page.keyboard.press("Escape")
    page.get_by_label("说明", exact=True).fill("缺营业执照副本")
    page.get_by_role("button", name="记录检查结果").click()
    settle(page)
    finding = audit.list_findings(drawn["draw_id"], home)[-1]
    assert (finding["case_id"], finding["problem_codes"]) == (case["case_id"], "申请材料不全;超时未说明")
    expect(page.get_by_text(f"已记录检查结果 {finding['finding_id']}")).to_be_visible()
    staffed = sum(1 for s in entry["result"]["sample"] if s["inspectors"])
    expect(page.locator('[data-testid="stColumn"]').filter(has=_step(page, 4))).to_contain_text(f"已记录 1/{staffed} 件")

    # 5. the public list on the page and every download show the finding; its deadline is shown
    public = page.locator('.st-key-audit_public_box [data-testid="stDataFrame"]')
    expect(public).to_be_visible()
    # the grid's accessible table: one row holds the recorded codes, the others still wait
    expect(public.locator("td").filter(has_text=re.compile(r"^申请材料不全;超时未说明$"))).to_have_count(1)
    expect(public.locator("td").filter(has_text=re.compile("^待检查$"))).to_have_count(len(entry["result"]["sample"]) - 1)
    status = audit.publication_statuses(home)[drawn["draw_id"]]
    expect(page.get_by_text(f"公示截止日期：{status.deadline.isoformat()}")).to_be_visible()
    files = {}
    for label, fmt in (("下载 CSV", "csv"), ("下载 Excel", "xlsx"), ("下载 HTML 公示页", "html")):
        with page.expect_download() as dl:
            page.get_by_role("button", name=label, exact=True).click()
        files[fmt] = dl.value.path().read_bytes()
    rows = {r[0]: r for r in csv.reader(io.StringIO(files["csv"].decode("utf-8-sig")))}
    assert rows[case["case_id"]][6] == "申请材料不全;超时未说明"
    assert f"{names[case['inspectors'][0]]}（{case['inspectors'][0]}）" in rows[case["case_id"]][5]
    assert "申请材料不全;超时未说明" in files["html"].decode("utf-8")
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))["抽查名单"]
    assert [r for r in sheet.iter_rows(values_only=True) if r[0] == case["case_id"]][0][6] == "申请材料不全;超时未说明"

    page.get_by_role("button", name="登记公示").click()
    settle(page)
    last = AuditLog(home).entries()[-1]
    assert (last["kind"], last["draw_id"], last["user"]) == ("public_list_published", drawn["draw_id"], "aud")
    _state(page, 5, "已完成")
    expect(page.get_by_text(f"已登记公示 {last['publication_id']}")).to_be_visible()
    assert_clean(page, "audit flow")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "zh_audit_flow.png"), full_page=True)

    # the same audit in English: the steps and their states come from the catalogue
    page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
    settle(page)
    for word in ("1. Plan", "2. Commit", "3. Draw", "4. Findings", "5. Publication"):
        expect(page.get_by_text(word, exact=False).first).to_be_visible()
    assert_clean(page, "audit flow (en)")
    page.close()

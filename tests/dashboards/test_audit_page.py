"""The 双随机抽查 page driven with AppTest against the real audit code on the fixture snapshot:
commit before entropy, draw, verify, findings, public list downloads, role limits, plan errors."""

from __future__ import annotations


import pytest
import yaml
from streamlit.testing.v1 import AppTest

import windowwatch.audit as audit
from tests.support.dashboard_snapshot import add_test_user, published_home
from windowwatch.audit.log import AuditLog
from core.paths import REPO_ROOT, Home

APP = REPO_ROOT / "dashboards" / "app.py"
USERS = {"aud": ("auditor", "aud-pass-123"), "insp": ("inspector", "insp-pass-123"), "view": ("viewer", "view-pass-123")}
ENTROPY = "2026-10-21 体彩排列五 38215"


@pytest.fixture(scope="module")
def audit_home(tmp_path_factory):
    with published_home(tmp_path_factory, "auditpage"):
        for name, (role, pw) in USERS.items():
            add_test_user(name, role, pw)
        yield Home.from_env()


def audit_page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(USERS[name][1])
    at.button[0].click().run()
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def keys(elements) -> set[str]:
    return {e.key for e in elements if e.key}


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def table_with(at: AppTest, column: str):
    """The dataframe holding `column` (AppTest does not expose dataframe keys)."""
    frames = [df.value for df in at.dataframe]
    found = [f for f in frames if column in f.columns]
    assert found, (column, [list(f.columns) for f in frames])
    return found[0]


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def commit_and_draw(at: AppTest, plan_text: str | None = None) -> None:
    if plan_text is not None:
        at.text_area(key="audit_plan_text").input(plan_text)
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    at.text_input(key="audit_entropy").input(ENTROPY)
    at.button(key="audit_draw_btn").click()
    run_ok(at)


def test_auditor_commits_draws_verifies_records_a_finding(audit_home):
    at = audit_page("aud")
    example = audit.EXAMPLE_PLAN.read_text(encoding="utf-8")
    assert at.text_area(key="audit_plan_text").value == example
    # the entropy field does not exist before the plan is committed
    assert "audit_entropy" not in keys(at.text_input) and "audit_draw_btn" not in keys(at.button)

    at.button(key="audit_commit_btn").click()
    run_ok(at)
    plan_hash = audit.parse_plan_text(example).plan_hash()
    assert plan_hash in texts(at.code)
    commits = [e for e in AuditLog(audit_home).entries() if e["kind"] == "commit"]
    assert commits[-1]["plan_hash"] == plan_hash
    before = len(audit.list_draws(audit_home))

    at.text_input(key="audit_entropy").input(ENTROPY)
    at.button(key="audit_draw_btn").click()
    run_ok(at)
    draws = audit.list_draws(audit_home)
    assert len(draws) == before + 1
    d = draws[-1]
    assert (d["plan_hash"], d["entropy"], d["kind"]) == (plan_hash, ENTROPY, "draw")
    assert d["sampled"] > 0
    assert d["draw_id"] in texts(at.success)
    assert at.selectbox(key="audit_pick").value == d["draw_id"]
    # the sample on screen is the logged one, with strata and inspectors
    entry = audit.get_draw(d["draw_id"], audit_home)
    public = table_with(at, "分层 stratum")
    assert sorted(public["办件编号 case"]) == sorted(s["case_id"] for s in entry["result"]["sample"])
    assert set(public["分层 stratum"]) == {s["stratum"] for s in entry["result"]["sample"]}
    staffed = [s for s in entry["result"]["sample"] if s["inspectors"]]
    assert staffed and all(s["inspectors"][0] in " ".join(public["检查人员 inspectors"]) for s in staffed)
    # a new commit is needed for the next draw: the entropy field is gone again
    assert "audit_entropy" not in keys(at.text_input)

    at.button(key="audit_verify").click()
    run_ok(at)
    assert "校验通过" in texts(at.success)
    assert audit.verify(d["draw_id"], audit_home).ok

    # a finding for the first staffed case; inspectors are limited to the case's assigned ones
    case = staffed[0]
    at.selectbox(key=f"audit_case_{d['draw_id']}").set_value(case["case_id"])
    run_ok(at)
    who = at.multiselect(key=f"audit_insp_{d['draw_id']}_{case['case_id']}")
    assert list(who.options) == case["inspectors"]
    at.multiselect(key=f"audit_codes_{d['draw_id']}").set_value(["申请材料不全", "超时未说明"])
    at.text_area(key=f"audit_note_{d['draw_id']}").input("材料缺营业执照副本")
    at.button(key="audit_finding_btn").click()
    run_ok(at)
    findings = audit.list_findings(d["draw_id"], audit_home)
    assert len(findings) == 1
    f = findings[0]
    assert (f["case_id"], f["problem_codes"], f["inspectors"]) == (
        case["case_id"], "申请材料不全;超时未说明", ";".join(case["inspectors"]))
    assert f["finding_id"] in texts(at.success)
    shown = table_with(at, "结果编号")
    assert list(shown["结果编号"]) == [f["finding_id"]]

    # the log names the dashboard login who committed, drew and recorded — not the OS user
    acts = [e for e in AuditLog(audit_home).entries() if e["kind"] in ("commit", "draw", "finding")][-3:]
    assert [(e["kind"], e["user"]) for e in acts] == [("commit", "aud"), ("draw", "aud"), ("finding", "aud")]

    # the public list downloads are offered in the three formats, plus the verification bundle
    downloads = {e.key: e.proto.label for e in at.get("download_button")}
    assert downloads == {"audit_dl_csv": "下载 CSV", "audit_dl_xlsx": "下载 Excel", "audit_dl_html": "下载 HTML 公示页",
                         "audit_dl_json": "下载验证包 JSON"}


def test_unstaffed_cases_are_shown_and_take_no_finding(audit_home):
    plan = yaml.safe_load(audit.EXAMPLE_PLAN.read_text(encoding="utf-8"))
    plan.update(name="人手不足的计划", inspectors_per_case=5)  # 4 eligible per department: nobody is staffed
    at = audit_page("aud")
    commit_and_draw(at, yaml.safe_dump(plan, allow_unicode=True, sort_keys=False))
    d = audit.list_draws(audit_home)[-1]
    assert d["name"] == "人手不足的计划" and d["unstaffed"] == d["sampled"] > 0
    warning = texts(at.warning)
    assert f"{d['unstaffed']} 件未配齐" in warning
    public = table_with(at, "分层 stratum")
    assert public["未配齐"].all()
    assert "audit_finding_btn" not in keys(at.button)
    assert audit.verify(d["draw_id"], audit_home).ok


def test_inspector_reads_but_cannot_commit_draw_or_record(audit_home):
    if not audit.list_draws(audit_home):  # the page's read view needs one draw
        audit.draw(audit.load_plan(audit.EXAMPLE_PLAN), ENTROPY, audit_home)
    at = audit_page("insp")
    buttons = keys(at.button)
    assert not buttons & {"audit_commit_btn", "audit_draw_btn", "audit_finding_btn"}
    assert "audit_plan_text" not in keys(at.text_area) and "audit_entropy" not in keys(at.text_input)
    assert "audit_verify" in buttons and len(table_with(at, "抽查编号"))
    assert "检查员只读" in texts(at.caption)


def test_invalid_plan_yaml_shows_an_error_naming_the_key(audit_home):
    log_before = len(AuditLog(audit_home).entries())
    at = audit_page("aud")
    bad = audit.EXAMPLE_PLAN.read_text(encoding="utf-8").replace("strata: department_id", "strata: county")
    at.text_area(key="audit_plan_text").input(bad)
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    assert "strata" in texts(at.error)
    assert "audit_entropy" not in keys(at.text_input)
    # broken YAML names the line; an unknown key is named too
    at.text_area(key="audit_plan_text").input("name: x\nsample: {per_stratum: 2\n")
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    assert "YAML" in texts(at.error)
    at.text_area(key="audit_plan_text").input(bad.replace("strata: county", "strata: window_id\nsampel: 3"))
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    assert "sampel" in texts(at.error)
    assert len(AuditLog(audit_home).entries()) == log_before  # nothing committed
    # an empty entropy is refused with a message, and no draw is logged
    draws_before = len(audit.list_draws(audit_home))
    at.text_area(key="audit_plan_text").input(audit.EXAMPLE_PLAN.read_text(encoding="utf-8"))
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    at.button(key="audit_draw_btn").click()
    run_ok(at)
    assert "entropy is empty" in texts(at.error) and texts(at.error).startswith("操作未完成")
    assert len(audit.list_draws(audit_home)) == draws_before


def test_a_draw_within_the_commit_wait_is_refused_in_chinese(audit_home, monkeypatch):
    # the page runs in this process: the setting is read at the draw (docs/operations.md)
    monkeypatch.setenv("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "30")
    draws_before = len(audit.list_draws(audit_home))
    at = audit_page("aud")
    commit_and_draw(at)
    err = texts(at.error)
    assert "须满 30 分钟" in err and "之后" in err, err
    assert "refused" not in err and "WINDOWWATCH" not in err  # no English or setting name shows through
    assert len(audit.list_draws(audit_home)) == draws_before
    assert AuditLog(audit_home).entries()[-1]["kind"] == "commit"


def test_viewer_never_reaches_the_audit_page(audit_home):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input(key="login_user").input("view")
    at.text_input(key="login_password").input(USERS["view"][1])
    at.button[0].click().run()
    assert not at.exception
    with pytest.raises(ValueError):
        at.switch_page("app_pages/audit.py")

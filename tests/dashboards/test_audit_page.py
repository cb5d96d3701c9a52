"""The 双随机抽查 page driven with AppTest against the real audit code on the fixture snapshot:
the plan form, commit before entropy, draw, verify, findings, the public list and its publication,
the step flow read from the log, role limits, plan errors."""

from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

import windowwatch.audit as audit
from tests.support.dashboard_snapshot import add_test_user, published_home
from windowwatch.audit.log import AuditLog
from core.paths import REPO_ROOT, Home

APP = REPO_ROOT / "dashboards" / "app.py"
USERS = {"aud": ("auditor", "aud-pass-123"), "insp": ("inspector", "insp-pass-123"), "view": ("viewer", "view-pass-123")}
ENTROPY = "2026-10-21 体彩排列五 38215"
DONE, CURRENT = ":green[:material/check_circle:]", ":blue[:material/radio_button_checked:]"  # the step icons


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


def fill_example(at: AppTest, **overrides) -> None:
    """The plan form set to the example plan (the form's other defaults are the example's)."""
    at.selectbox(key="audit_f_month").set_value("2026-10")
    at.text_input(key="audit_f_name").input(overrides.pop("name", "2026年10月审批稽核"))
    for key, value in overrides.items():
        at.number_input(key=key).set_value(value)
    run_ok(at)


def new_plan(at: AppTest) -> None:
    at.selectbox(key="audit_pick").set_value("__new__")
    run_ok(at)


def steps(at: AppTest) -> str:
    return texts(at.markdown)


def commit_and_draw(at: AppTest, **overrides) -> None:
    new_plan(at)
    fill_example(at, **overrides)
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    at.text_input(key="audit_entropy").input(ENTROPY)
    at.button(key="audit_draw_btn").click()
    run_ok(at)


def test_auditor_fills_the_form_commits_draws_records_and_publishes(audit_home):
    at = audit_page("aud")
    assert at.selectbox(key="audit_pick").value == "__new__"  # nothing drawn yet: a new plan
    fill_example(at)
    example = audit.load_plan(audit.EXAMPLE_PLAN)
    plan_hash = example.plan_hash()
    # the form writes the plan file for the record: the canonical YAML, no comments, the example's hash
    yaml_shown = [e.value for e in at.code if e.language == "yaml"]
    assert yaml_shown == [audit.plan_yaml(example).strip()] and "#" not in yaml_shown[0]
    assert audit.parse_plan_text(yaml_shown[0]).plan_hash() == plan_hash
    assert f"{DONE} **1. 计划**" in steps(at) and f"{CURRENT} **2. 承诺**" in steps(at)
    # the entropy field does not exist before the plan is committed
    assert "audit_entropy" not in keys(at.text_input) and "audit_draw_btn" not in keys(at.button)

    at.button(key="audit_commit_btn").click()
    run_ok(at)
    commits = [e for e in AuditLog(audit_home).entries() if e["kind"] == "commit"]
    assert commits[-1]["plan_hash"] == plan_hash and commits[-1]["plan"] == example.canonical()
    assert at.selectbox(key="audit_pick").value == commits[-1]["commit_id"]
    assert plan_hash in texts(at.code)
    assert f"{DONE} **2. 承诺**" in steps(at) and f"{CURRENT} **3. 抽取**" in steps(at)
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
    # after the draw the steps read 1 2 3 done, 4 in progress — never "commit first"
    for n, label in ((1, "计划"), (2, "承诺"), (3, "抽取")):
        assert f"{DONE} **{n}. {label}**" in steps(at)
    assert f"{CURRENT} **4. 检查结果**" in steps(at)
    assert "请先提交计划承诺" not in texts(at.info) + steps(at)
    # the sample on screen is the logged one, with strata and inspectors by name with the id beside
    entry = audit.get_draw(d["draw_id"], audit_home)
    public = table_with(at, "分层")
    assert sorted(public["办件编号"]) == sorted(s["case_id"] for s in entry["result"]["sample"])
    assert set(public["分层"]) == {s["stratum"] for s in entry["result"]["sample"]}
    names = audit.inspector_names(audit_home)
    staffed = [s for s in entry["result"]["sample"] if s["inspectors"]]
    assert staffed and all(f"{names[s['inspectors'][0]]}（{s['inspectors'][0]}）" in " ".join(public["检查人员"])
                           for s in staffed)
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
    assert list(who.options) == [f"{names[i]}（{i}）" for i in case["inspectors"]]
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
    # the public list on the page shows the finding as every download does
    public = table_with(at, "分层")
    assert public.set_index("办件编号").loc[case["case_id"], "发现问题"] == "申请材料不全;超时未说明"
    # issue 19: in both tables each row's case and window open 办件 / 窗口明细 in one click, with the month
    assert list(shown["办件"]) == [f"case?case={f['case_id']}"]
    assert list(shown["窗口详情"]) == [f"window?w={f['window_id']}&month=2026-10"]
    assert list(public["办件"]) == [f"case?case={v}" for v in public["办件编号"]]
    assert list(public["窗口详情"]) == [f"window?w={v}&month=2026-10" for v in public["窗口编号"]]
    assert f"已记录 1/{len(staffed)} 件" in texts(at.caption)

    # the log names the dashboard login who committed, drew and recorded — not the OS user
    acts = [e for e in AuditLog(audit_home).entries() if e["kind"] in ("commit", "draw", "finding")][-3:]
    assert [(e["kind"], e["user"]) for e in acts] == [("commit", "aud"), ("draw", "aud"), ("finding", "aud")]

    # the public list downloads are offered in the three formats, plus the verification bundle and the plan
    downloads = {e.key: e.proto.label for e in at.get("download_button")}
    assert downloads == {"audit_dl_csv": "下载 CSV", "audit_dl_xlsx": "下载 Excel", "audit_dl_html": "下载 HTML 公示页",
                         "audit_dl_json": "下载验证包 JSON", "audit_dl_plan": "下载计划文件"}

    # its deadline: the 20th working day after October, from the snapshot's calendar; the fixture's
    # clock is past it, so the unpublished list is flagged overdue until it is published
    status = audit.publication_statuses(audit_home)[d["draw_id"]]
    assert status.deadline.isoformat() in texts(at.markdown)
    if status.overdue:
        assert "逾期未公示" in texts(at.warning)
    at.button(key="audit_publish_btn").click()
    run_ok(at)
    last = AuditLog(audit_home).entries()[-1]
    assert (last["kind"], last["draw_id"], last["user"]) == ("public_list_published", d["draw_id"], "aud")
    assert f"{DONE} **5. 公示**" in steps(at)
    assert d["draw_id"] not in texts(at.warning)  # no longer among the overdue lists


def test_unstaffed_cases_are_shown_and_take_no_finding(audit_home):
    at = audit_page("aud")
    commit_and_draw(at, name="人手不足的计划", audit_f_ipc=5)  # 4 eligible per department: nobody is staffed
    d = audit.list_draws(audit_home)[-1]
    assert d["name"] == "人手不足的计划" and d["unstaffed"] == d["sampled"] > 0
    warning = texts(at.warning)
    assert f"{d['unstaffed']} 件未配齐" in warning
    public = table_with(at, "分层")
    assert public["未配齐"].all() and set(public["检查人员"]) == {"未配齐"}
    assert "audit_finding_btn" not in keys(at.button)
    assert audit.verify(d["draw_id"], audit_home).ok


def test_inspector_reads_but_cannot_commit_draw_or_record(audit_home):
    if not audit.list_draws(audit_home):  # the page's read view needs one draw
        audit.draw(audit.load_plan(audit.EXAMPLE_PLAN), ENTROPY, audit_home)
    at = audit_page("insp")
    buttons = keys(at.button)
    assert not buttons & {"audit_commit_btn", "audit_draw_btn", "audit_finding_btn", "audit_publish_btn"}
    assert "audit_f_name" not in keys(at.text_input) and "audit_entropy" not in keys(at.text_input)
    assert "新建抽查计划" not in at.selectbox(key="audit_pick").options and at.selectbox(key="audit_pick").options
    assert "audit_verify" in buttons and len(table_with(at, "抽查编号"))
    assert "检查员只读" in texts(at.caption)


def test_an_invalid_plan_cannot_be_committed_and_an_upload_fills_the_form(audit_home):
    log_before = len(AuditLog(audit_home).entries())
    at = audit_page("aud")
    new_plan(at)
    at.text_input(key="audit_f_name").input("")
    run_ok(at)
    assert "计划名称：不能为空" in texts(at.error) and at.button(key="audit_commit_btn").disabled
    assert "docs/" not in texts(at.error) and "invalid" not in texts(at.error)  # said in Chinese, no internal document
    assert f"{CURRENT} **1. 计划**" in steps(at)
    # an uploaded plan is validated (an unknown key is named) and, when valid, fills the form
    bad = audit.EXAMPLE_PLAN.read_text(encoding="utf-8").replace("strata: department_id", "strata: window_id\nsampel: 3")
    at.file_uploader(key="audit_plan_upload").upload("plan.yaml", bad.encode("utf-8"), "application/yaml")
    run_ok(at)
    assert "sampel：不是抽查计划的字段" in texts(at.error)
    good = audit.EXAMPLE_PLAN.read_text(encoding="utf-8").replace("per_stratum: 5", "per_stratum: 3")
    at.file_uploader(key="audit_plan_upload").set_value(("plan.yaml", good.encode("utf-8"), "application/yaml"))
    run_ok(at)
    assert at.number_input(key="audit_f_k").value == 3 and at.text_input(key="audit_f_name").value == "2026年10月审批稽核"
    assert [e.value for e in at.code if e.language == "yaml"] == [audit.plan_yaml(audit.parse_plan_text(good)).strip()]
    assert len(AuditLog(audit_home).entries()) == log_before  # nothing committed
    # an empty entropy is refused with a message in Chinese, and no draw is logged
    draws_before = len(audit.list_draws(audit_home))
    at.button(key="audit_commit_btn").click()
    run_ok(at)
    at.button(key="audit_draw_btn").click()
    run_ok(at)
    assert "请输入公开随机数" in texts(at.error)
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
    # a new session (a reload) finds the open commit in the log, still at step 3
    again = audit_page("aud")
    assert again.selectbox(key="audit_pick").value == AuditLog(audit_home).entries()[-1]["commit_id"]
    assert f"{CURRENT} **3. 抽取**" in steps(again) and "audit_draw_btn" in keys(again.button)


def test_viewer_never_reaches_the_audit_page(audit_home):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input(key="login_user").input("view")
    at.text_input(key="login_password").input(USERS["view"][1])
    at.button[0].click().run()
    assert not at.exception
    with pytest.raises(ValueError):
        at.switch_page("app_pages/audit.py")


def test_a_callback_list_links_each_evaluation_to_its_case_and_window(audit_home):
    """Issue 19: a 回访 draw's public list on the page — each evaluation opens the case it rates (办件), its
    window 窗口明细, in one click."""
    import duckdb

    from windowwatch.snapshot import current_snapshot

    r = audit.draw_callbacks("2026-10", 0.5, "回访抽取 2026-10", audit_home)
    con = duckdb.connect(str(current_snapshot(audit_home)), read_only=True)
    rated = dict(con.sql("select evaluation_id, case_id from marts.fct_evaluation").fetchall())
    con.close()
    at = audit_page("aud")
    at.selectbox(key="audit_pick").set_value(r.draw_id)
    run_ok(at)
    public = table_with(at, "评价编号")
    assert sorted(public["评价编号"]) == sorted(s["evaluation_id"] for s in r.sample) and len(public)
    assert list(public["办件"]) == [f"case?case={rated[e]}" for e in public["评价编号"]]
    assert list(public["窗口详情"]) == [f"window?w={w}&month=2026-10" for w in public["窗口编号"]]

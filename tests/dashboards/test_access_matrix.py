"""Who may see and do what on the dashboards (SPEC §7, §8; issue 8): the table below IS the
specification, and every cell is observed through the real app with AppTest.

A page counts as reachable only if it is in the role's navigation, opens by `st.switch_page`,
AND opens by its direct URL (/<url_path>); the three must agree. An action counts as refused
only when its widget is absent (or, for a download, its data callable refuses): a refused
action is then also checked to have left no trace (no log entry).

Where SPEC is silent, the table holds what an auditor would expect:
- audit verify is open to everyone who may see the audit page (a draw is "verifiable by anyone",
  SPEC §4.7); viewers see only published reports (§8), so not even that.
- audit plan write / commit / draw are the auditors' (稽核) job; an inspector (检查人员) may
  record findings only on sampled cases the draw assigned to the inspector id their account is
  linked to (`users add --inspector-id`), an auditor on any sampled case.
- exports of dashboard tables (timeliness CSV/XLSX) and of the audit public list
  (CSV/XLSX/HTML, JSON verification bundle) go to inspectors and auditors; the published
  monthly report (PDF/XLSX/HTML) to every signed-in role.
- nobody ever sees a raw ID-card or mobile number (PII is masked even where a feed slipped one
  into a comment or a finding note).
"""

from __future__ import annotations

import ast

import duckdb
import pytest
from streamlit.util import calc_hash

from windowwatch.audit.log import AuditLog
from core.paths import REPO_ROOT
from dashboards.common import DRILL_DOWN_ROLES
from tests.support.security import ENTROPY, PII_ON_SCREEN, downloads, has_widget, screen_text, session

ROLES = ("anon", "viewer", "inspector", "auditor")
Y, N = True, False
# fmt: off
MATRIX: dict[str, tuple[bool, bool, bool, bool]] = {
    #                              anon viewer insp  aud
    "page.overview":               (N,   N,    Y,    Y),
    "page.rankings":               (N,   N,    Y,    Y),
    "page.timeliness":             (N,   N,    Y,    Y),
    "page.offbook":                (N,   N,    Y,    Y),
    "page.satisfaction":           (N,   N,    Y,    Y),
    "page.video":                  (N,   N,    Y,    Y),
    "page.audit":                  (N,   N,    Y,    Y),
    "page.supervision":            (N,   N,    Y,    Y),
    "page.reports":                (N,   Y,    Y,    Y),
    "page.window":                 (N,   N,    Y,    Y),
    "page.case":                   (N,   N,    Y,    Y),
    "page.hall":                   (N,   N,    Y,    Y),
    "page.hall_ops":               (N,   N,    Y,    Y),
    "page.staff":                  (N,   N,    Y,    Y),
    "audit.plan_write":            (N,   N,    N,    Y),
    "audit.commit":                (N,   N,    N,    Y),
    "audit.draw":                  (N,   N,    N,    Y),
    "audit.verify":                (N,   N,    Y,    Y),
    "audit.finding_own_case":      (N,   N,    Y,    Y),
    "audit.finding_other_case":    (N,   N,    N,    Y),
    "export.timeliness_csv":       (N,   N,    Y,    Y),
    "export.timeliness_xlsx":      (N,   N,    Y,    Y),
    "export.audit_csv":            (N,   N,    Y,    Y),
    "export.audit_xlsx":           (N,   N,    Y,    Y),
    "export.audit_html":           (N,   N,    Y,    Y),
    "export.audit_json":           (N,   N,    Y,    Y),
    "report.pdf":                  (N,   Y,    Y,    Y),
    "report.xlsx":                 (N,   Y,    Y,    Y),
    "report.html":                 (N,   Y,    Y,    Y),
    "pii.visible":                 (N,   N,    N,    N),
}
# fmt: on
# page key (its url_path) -> file in app_pages/, words of its zh-CN title
PAGES = {"overview": ("overview.py", "总览"), "rankings": ("rankings.py", "星级窗口排名"),
         "timeliness": ("timeliness.py", "超时监控"), "offbook": ("offbook.py", "体外循环"),
         "satisfaction": ("satisfaction.py", "满意度"), "video": ("video.py", "视频巡查"),
         "audit": ("audit.py", "双随机抽查"), "supervision": ("supervision.py", "督办"),
         "reports": ("reports.py", "月度报告"),
         "window": ("window_detail.py", "窗口明细"), "case": ("case_detail.py", "办件时间线"),
         "hall": ("hall.py", "今日窗口满意度"), "hall_ops": ("hall_ops.py", "大厅运行"),
         "staff": ("staff.py", "星级服务人员")}


def test_the_matrix_covers_every_page_of_the_app():
    """A page added to app.py without a row here fails (app.py runs on import: read it as text)."""
    tree = ast.parse((REPO_ROOT / "dashboards" / "app.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES")
    APP_PAGES = ast.literal_eval(node.value)
    assert {f"page.{k}" for k, *_ in APP_PAGES} == {k for k in MATRIX if k.startswith("page.")}
    assert {f for _, f, *_ in APP_PAGES} == {f for f, _ in PAGES.values()}
    # a drill-down link is drawn for the roles that may open 窗口明细 and 办件, no other
    assert {p[3] for p in APP_PAGES if p[0] in ("window", "case")} == {DRILL_DOWN_ROLES}


def shows(at, title: str) -> bool:
    """The page with that title is on screen, not the login form."""
    return (not has_widget(at.text_input, "login_password") and bool(at.title)
            and title in at.title[0].value)


def nav_files(at) -> set[str]:
    """The page files registered in the session's navigation (login pages are callables)."""
    return {str(info["script_path"]).rsplit("/", 1)[-1] for info in at._registered_pages.values()
            if info.get("script_path")}


def run_ok(at):
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def observe_pages(at, seen: dict, screens: list[str]) -> None:
    registered = nav_files(at)
    for key, (file, title) in PAGES.items():
        in_nav = file in registered
        try:
            at.switch_page(f"app_pages/{file}")
        except ValueError:
            by_switch = False
        else:
            by_switch = shows(run_ok(at), title)
            screens.append(screen_text(at))
        # what the browser asks for when the user types /<key>: the page whose url_path is <key>
        at._page_hash = calc_hash(key)
        by_url = shows(run_ok(at), title)
        screens.append(screen_text(at))
        assert in_nav == by_switch == by_url, f"{key}: navigation {in_nav}, switch_page {by_switch}, URL {by_url}"
        seen[f"page.{key}"] = in_nav


def observe_audit(at, sec, role: str, seen: dict, screens: list[str], made: dict) -> None:
    h, draw_id = sec["home"], sec["draw_id"]
    log = AuditLog(h)
    at.switch_page("app_pages/audit.py")
    run_ok(at)
    if has_widget(at.selectbox, "audit_pick") and "新建抽查计划" in at.selectbox(key="audit_pick").options:
        at.selectbox(key="audit_pick").set_value("__new__")  # the plan form of a new audit
        run_ok(at)
    seen["audit.plan_write"] = has_widget(at.text_input, "audit_f_name")

    def kinds() -> list[str]:
        return [e["kind"] for e in log.entries()]

    before = kinds()
    if has_widget(at.button, "audit_commit_btn"):
        at.button(key="audit_commit_btn").click()
        run_ok(at)
    seen["audit.commit"] = kinds().count("commit") == before.count("commit") + 1
    if has_widget(at.text_input, "audit_entropy") and has_widget(at.button, "audit_draw_btn"):
        at.text_input(key="audit_entropy").input(f"{ENTROPY} {role}")
        at.button(key="audit_draw_btn").click()
        run_ok(at)
    seen["audit.draw"] = kinds().count("draw") == before.count("draw") + 1
    if not seen["audit.commit"] and not seen["audit.draw"]:
        assert kinds() == before, "a refused action left a log entry"

    at.selectbox(key="audit_pick").set_value(draw_id)
    run_ok(at)
    seen["audit.verify"] = False
    if has_widget(at.button, "audit_verify"):
        at.button(key="audit_verify").click()
        seen["audit.verify"] = any("校验通过" in s.value for s in run_ok(at).success)

    case_key = f"audit_case_{draw_id}"
    for cell, case in (("audit.finding_own_case", sec["own_case"]), ("audit.finding_other_case", sec["other_case"])):
        n_before = kinds().count("finding")
        offered = has_widget(at.selectbox, case_key) and any(
            str(o).startswith(case) for o in at.selectbox(key=case_key).options)
        if offered:
            at.selectbox(key=case_key).set_value(case)
            run_ok(at)
            # a phone number in the note: it must be scrubbed before it is stored or shown
            at.text_area(key=f"audit_note_{draw_id}").input(f"{role} 复核，申请人电话 13912345678")
            at.button(key="audit_finding_btn").click()
            run_ok(at)
            assert not at.error, [e.value for e in at.error]
        recorded = [e for e in log.entries() if e["kind"] == "finding"][n_before:]
        assert len(recorded) == kinds().count("finding") - n_before
        seen[cell] = bool(recorded) and recorded[-1]["case_id"] == case and recorded[-1]["user"] == at.session_state["_auth"]["name"]
        if not offered:
            assert not recorded, f"{cell}: refused, yet a finding was logged"
    screens.append(screen_text(at))

    offered = downloads(at)
    for fmt in ("csv", "xlsx", "html", "json"):
        seen[f"export.audit_{fmt}"] = f"audit_dl_{fmt}" in offered
        if seen[f"export.audit_{fmt}"]:  # the data the click produces, the way the download request makes it
            data = made[f"audit-{draw_id}.{fmt}"]()
            assert len(data) > 100
            if fmt in ("csv", "html", "json"):
                screens.append(data.decode("utf-8") if isinstance(data, bytes) else str(data))


def observe_timeliness(at, seen: dict, made: dict) -> None:
    at.switch_page("app_pages/timeliness.py")
    run_ok(at)
    offered = downloads(at)
    seen["export.timeliness_csv"] = "tl_csv" in offered
    seen["export.timeliness_xlsx"] = "tl_xlsx" in offered
    if seen["export.timeliness_csv"]:
        assert next(v for k, v in made.items() if k.startswith("open_cases_") and k.endswith(".csv"))().count(b"\n") > 1


def observe_reports(at, seen: dict, made: dict) -> None:
    at.switch_page("app_pages/reports.py")
    run_ok(at)
    offered = downloads(at)
    for fmt in ("pdf", "xlsx", "html"):
        keys = [k for k in offered if k.startswith("rep_") and k.endswith(f"ranking.{fmt}")]
        seen[f"report.{fmt}"] = bool(keys)
        if keys:
            assert made[f"2026-10-v1-ranking.{fmt}"]().endswith(b"placeholder")


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(sec_home, deferred_downloads, role):
    con = duckdb.connect(str(sec_home["snapshot"]), read_only=True)
    pii_month = con.sql("select strftime(evaluated_at, '%Y-%m') from marts.fct_evaluation "
                        "where comment like '%13912345678%'").fetchall()[0][0]
    con.close()
    seen: dict[str, bool] = {}
    screens: list[str] = []
    # the month whose comments hold a phone number, so the PII cell is tested where it could fail
    at = session(role, query={"month": pii_month})
    observe_pages(at, seen, screens)
    if seen["page.audit"]:
        observe_audit(at, sec_home, role, seen, screens, deferred_downloads)
    else:  # the page cannot be opened, so none of its widgets can exist
        with pytest.raises(ValueError):
            at.switch_page("app_pages/audit.py")
        seen.update({k: False for k in MATRIX if k.startswith(("audit.", "export.audit_"))})
    if seen["page.timeliness"]:
        observe_timeliness(at, seen, deferred_downloads)
    else:
        seen.update({"export.timeliness_csv": False, "export.timeliness_xlsx": False})
    if seen["page.reports"]:
        observe_reports(at, seen, deferred_downloads)
    else:
        seen.update({f"report.{f}": False for f in ("pdf", "xlsx", "html")})
    # where it was seen (masked, and with its surroundings, so the report itself leaks nothing)
    hits = sorted({f"{m.group(0)[:3]}… in «{PII_ON_SCREEN.sub('#', text[max(0, m.start() - 60):m.start()])}»"
                   for text in screens for m in PII_ON_SCREEN.finditer(text)})
    seen["pii.visible"] = bool(hits)
    if role == "inspector":  # guard: the PII check looked at the page that would show the comment
        assert any("139****5678" in s for s in screens)

    column = ROLES.index(role)
    expected = {cell: row[column] for cell, row in MATRIX.items()}
    wrong = {cell: f"expected {'allowed' if expected[cell] else 'refused'}, saw {'allowed' if seen.get(cell) else 'refused'}"
             for cell in MATRIX if seen.get(cell) != expected[cell]}
    assert set(seen) == set(MATRIX), set(MATRIX) ^ set(seen)
    assert wrong == {}, (role, wrong, hits)

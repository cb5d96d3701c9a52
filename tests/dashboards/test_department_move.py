"""Issue 21 finding 5 on the dashboards: the department filter of month-based pages (overview KPIs and
trend, rankings, window detail) uses the month's department (fct_window_month.department_id, the
window version in force on the month's first day), so a window that moved to another department
after September stays under its old department in September; the filter offers the old department
too. And 月度报告's changes expander (changes.md) is in Chinese with names, in English when the
page is switched to English (changes.en.md).

The dashboard fixture snapshot (tests/support/dashboard_snapshot.py, September and October) is
changed here the way the dbt marts show such a move: 公安综合窗口2 (W02) moved from 市公安局 (D01) to a
new 市政务数据局 (D03) on 2026-10-01 — fct_window_month's October row and dim_window carry D03, and
intermediate.int_reference__window_versions holds both versions (macros/reference_versions.sql).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core.paths import REPO_ROOT
from dashboards import queries as q
from tests.support.dashboard_snapshot import WINDOWS, add_test_user, published_home

APP = REPO_ROOT / "dashboards" / "app.py"
SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
NEW_DEPT = ("D03", "市政务数据局")
MOVED = "公安综合窗口2"


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    with published_home(tmp_path_factory, "dash_dept_move") as (home, snap):
        con = duckdb.connect(str(snap))
        try:
            con.execute("update marts.fct_window_month set department_id = ? where window_id = 'W02' and month = ?",
                        [NEW_DEPT[0], OCT])
            con.execute("update marts.dim_window set department_id = ?, department_name = ? where window_id = 'W02'",
                        list(NEW_DEPT))
            # a case (and its signals) belongs to the department of its window on its acceptance date
            # and so does an evaluation or a video flag on its date (issue 19 leftovers)
            for table, day in (("fct_case", "accepted_at"), ("fct_timeliness_signal", "signal_date"),
                               ("fct_off_book_signal", "signal_date"), ("fct_evaluation", "evaluated_at"),
                               ("fct_video_flag", "flagged_at")):
                con.execute(f"update marts.{table} set department_id = ? where window_id = 'W02' and {day} >= ?",
                            [NEW_DEPT[0], OCT])
            con.execute("create schema if not exists intermediate")
            con.execute(
                "create table intermediate.int_reference__window_versions (window_id varchar, version bigint, "
                "valid_from date, valid_to date, window_name varchar, department_id varchar, "
                "department_name varchar, center_id varchar, center_name varchar)"
            )
            begin, end = dt.date(1900, 1, 1), dt.date(9999, 12, 31)
            rows = []
            for wid, name, dept, dept_name, center, center_name, *_ in WINDOWS:
                if wid == "W02":
                    rows += [(wid, 1, begin, OCT, name, dept, dept_name, center, center_name),
                             (wid, 2, OCT, end, name, *NEW_DEPT, center, center_name)]
                else:
                    rows.append((wid, 1, begin, end, name, dept, dept_name, center, center_name))
            con.executemany("insert into intermediate.int_reference__window_versions values "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute("checkpoint")
        finally:
            con.close()
        add_test_user("insp", "inspector", "insp-pass-123")
        add_test_user("view", "viewer", "view-pass-123")
        yield home, str(snap)


def test_queries_filter_on_the_months_department(moved):
    _, snap = moved
    old = q.Filters(dept="D01")
    sep = q.ranking(snap, old, SEP)
    assert set(sep.window_id) == {"W01", "W02"}
    assert set(sep[sep.window_id == "W02"].department_name) == {"市公安局"}
    assert set(q.ranking(snap, old, OCT).window_id) == {"W01"}
    oct_new = q.ranking(snap, q.Filters(dept=NEW_DEPT[0]), OCT)
    assert list(oct_new.window_id) == ["W02"] and list(oct_new.department_name) == [NEW_DEPT[1]]
    assert q.ranking(snap, q.Filters(dept=NEW_DEPT[0]), SEP).empty

    con = duckdb.connect(snap, read_only=True)
    try:
        sep_d01 = con.execute("select sum(cases_accepted) from marts.fct_window_month where month = ? "
                              "and window_id in ('W01', 'W02')", [SEP]).fetchone()[0]
    finally:
        con.close()
    kpis = q.kpis(snap, old, OCT)
    by_month = {dt.date.fromisoformat(str(m)[:10]): n for m, n in zip(kpis.month, kpis.cases_accepted)}
    assert by_month[SEP] == sep_d01  # September under 市公安局 counts the moved window
    trend = q.monthly_trend(snap, old)
    assert {dt.date.fromisoformat(str(m)[:10]): n for m, n in zip(trend.month, trend.cases_accepted)}[SEP] == sep_d01
    w02_sep = q.window_month(snap, "W02", SEP)
    assert list(w02_sep.department_name) == ["市公安局"]

    pairs = q.window_departments(snap)
    w02 = set(pairs[pairs.window_id == "W02"].department_id)
    assert w02 == {"D01", NEW_DEPT[0]}
    names = dict(zip(pairs.department_id, pairs.department_name))
    assert names["D01"] == "市公安局" and names[NEW_DEPT[0]] == NEW_DEPT[1]


def _login(user: str, password: str, query: dict[str, str], lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_rankings_page_filtered_by_the_old_department(moved):
    at = _login("insp", "insp-pass-123", {"month": "2026-09", "dept": "D01"})
    at.switch_page("app_pages/rankings.py").run()
    assert not at.exception, [e.message for e in at.exception]
    dept = at.selectbox(key="flt_dept")
    assert dept.value == "D01" and {"市公安局", NEW_DEPT[1]} <= set(dept.options)  # both departments offered
    table = at.dataframe[0].value
    rows = {r["窗口"]: r for r in table.to_dict("records")}
    assert set(rows) == {"公安综合窗口1", MOVED}
    assert rows[MOVED]["部门"] == "市公安局"

    at.selectbox(key="flt_month").set_value("2026-10").run()
    assert not at.exception, [e.message for e in at.exception]
    assert set(at.dataframe[0].value["窗口"]) == {"公安综合窗口1"}  # moved away in October


def test_report_changes_in_chinese_and_in_english(moved):
    home, _ = moved
    from windowwatch.reports import publish_month

    assert publish_month("2026-10", home).version == 1
    # a later run corrects October: a new snapshot published beside the first
    pub = home / "published"
    new = pub / "warehouse-fixture-2.duckdb"
    shutil.copyfile(pub / (pub / "CURRENT").read_text(encoding="utf-8").strip(), new)
    con = duckdb.connect(str(new))
    try:
        con.execute("update marts.fct_window_month set score = score + 1.5 where window_id = 'W03' and month = ?",
                    [OCT])
        con.execute("checkpoint")
    finally:
        con.close()
    (pub / "CURRENT.tmp").write_text(new.name, encoding="utf-8")
    os.replace(pub / "CURRENT.tmp", pub / "CURRENT")
    v2 = publish_month("2026-10", home)
    assert v2.version == 2
    zh = (v2.path / "changes.md").read_text(encoding="utf-8")
    en = (v2.path / "changes.en.md").read_text(encoding="utf-8")
    assert "市场监管专业窗口" in zh and "得分" in zh and "W03" not in zh
    assert not any(w in zh for w in ("changes", "score", "window", "rank"))  # Chinese only
    assert "市场监管专业窗口" in en and "Score" in en and "changes against version 1" in en

    at = _login("view", "view-pass-123", {"month": "2026-10"})
    assert at.title[0].value == "月度报告"
    codes = [c.value for c in at.code]
    assert any("第 2 版相对第 1 版的变更" in c and "市场监管专业窗口" in c for c in codes), codes
    at = _login("view", "view-pass-123", {"month": "2026-10"}, lang="en")
    codes = [c.value for c in at.code]
    assert any("changes against version 1" in c and "市场监管专业窗口" in c for c in codes), codes


def test_case_and_signal_lists_filter_on_the_department_of_the_acceptance_date(moved):
    """Issue 19: open cases, overdue counts and signals follow the case's department (fct_case.department_id,
    the window version in force on the acceptance date), not today's dim_window: W02's cases accepted
    before its move stay under 市公安局, named as then; those accepted after are under the new department."""
    _, snap = moved
    con = duckdb.connect(snap, read_only=True)
    try:
        before, after = (set(r[0] for r in con.execute(
            f"select case_id from marts.fct_case where window_id = 'W02' and status = 'open' and accepted_at {op} ?",
            [OCT]).fetchall()) for op in ("<", ">="))
    finally:
        con.close()
    assert before and after, "the fixture needs open W02 cases accepted before and after the move"
    cards = ("red", "yellow", "green")
    old = q.open_cases(snap, q.Filters(dept="D01"), cards, None, limit=10_000)
    new = q.open_cases(snap, q.Filters(dept=NEW_DEPT[0]), cards, None, limit=10_000)
    assert before <= set(old.case_id) and not (after & set(old.case_id))
    assert set(new.case_id) == after
    assert set(old[old.case_id.isin(before)].department_name) == {"市公安局"}
    assert set(new.department_name) == {NEW_DEPT[1]}
    assert q.open_cases_count(snap, q.Filters(dept=NEW_DEPT[0]), cards, None) == len(after)
    assert sum(q.open_cards(snap, q.Filters(dept=NEW_DEPT[0])).values()) == len(after)
    signals = q.timeliness_signals(snap, q.Filters(dept="D01"), OCT)
    con = duckdb.connect(snap, read_only=True)
    try:
        moved_oct = {r[0] for r in con.execute(
            "select case_id from marts.fct_timeliness_signal where window_id = 'W02' and signal_date >= ?",
            [OCT]).fetchall()}
    finally:
        con.close()
    assert not (moved_oct & set(signals.case_id))


def _w02(snap: str, sql: str, params: list) -> set[str]:
    con = duckdb.connect(snap, read_only=True)
    try:
        return {r[0] for r in con.execute(sql, params).fetchall()}
    finally:
        con.close()


def test_evaluation_and_video_lists_filter_on_the_department_of_their_date(moved):
    """Issue 19 leftovers: 满意度's bad reviews and 视频巡查's pending flags follow the department of the
    evaluation's / flag's date (fct_evaluation / fct_video_flag.department_id), not today's dim_window: W02's
    September rows stay under 市公安局, named as then; its October rows are the new department's."""
    _, snap = moved
    bad_sep = _w02(snap, "select evaluation_id from marts.fct_evaluation where window_id = 'W02' and is_bad "
                         "and evaluated_at >= ? and evaluated_at < ?", [SEP, OCT])
    bad_oct = _w02(snap, "select evaluation_id from marts.fct_evaluation where window_id = 'W02' and is_bad "
                         "and evaluated_at >= ?", [OCT])
    assert bad_sep and bad_oct, "the fixture needs bad W02 reviews in September and October"
    old = q.bad_reviews(snap, q.Filters(dept="D01"), SEP, False)
    assert bad_sep <= set(old.evaluation_id)
    assert set(old[old.evaluation_id.isin(bad_sep)].department_name) == {"市公安局"}
    assert not q.bad_reviews(snap, q.Filters(dept=NEW_DEPT[0]), SEP, False).evaluation_id.isin(bad_sep).any()
    new = q.bad_reviews(snap, q.Filters(dept=NEW_DEPT[0]), OCT, False)
    assert set(new.evaluation_id) == bad_oct and set(new.department_name) == {NEW_DEPT[1]}
    assert not (bad_oct & set(q.bad_reviews(snap, q.Filters(dept="D01"), OCT, False).evaluation_id))

    flags_before = _w02(snap, "select flag_id from marts.fct_video_flag where window_id = 'W02' "
                              "and review_status = 'pending' and flagged_at < ?", [OCT])
    assert flags_before, "the fixture needs a pending W02 flag before the move"
    pending_old = q.pending_flags(snap, q.Filters(dept="D01"))
    assert flags_before <= set(pending_old.flag_id)
    assert set(pending_old[pending_old.flag_id.isin(flags_before)].department_name) == {"市公安局"}
    assert not (flags_before & set(q.pending_flags(snap, q.Filters(dept=NEW_DEPT[0])).flag_id))


def test_satisfaction_page_lists_an_old_evaluation_under_the_old_department(moved):
    """The same on the 满意度 page: filtered on 市公安局 in September, W02's bad reviews are listed, 部门 市公安局."""
    _, snap = moved
    at = _login("insp", "insp-pass-123", {"month": "2026-09", "dept": "D01"})
    at.switch_page("app_pages/satisfaction.py").run()
    assert not at.exception, [e.message for e in at.exception]
    frames = [df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe]
    bad = next(f for f in frames if "评价编号" in f.columns and "整改期限" in f.columns)
    rows = bad[bad["窗口"] == MOVED]
    assert len(rows) and set(rows["部门"]) == {"市公安局"}


def test_volume_gap_names_the_department_as_in_its_month(moved, tmp_path):
    """Issue 19 leftovers: 体外循环's 应进未进 rows (fct_department_month) name the department as it was named
    in the row's month (the window versions in force on its first day), not by today's dim_window: 市市场监管局
    (D02) renamed 市场监督管理局 from October keeps its old name on its September row."""
    _, snap = moved
    copy = tmp_path / "renamed.duckdb"
    shutil.copyfile(snap, copy)
    renamed = "市场监督管理局"
    con = duckdb.connect(str(copy))
    try:
        con.execute("update marts.dim_window set department_name = ? where department_id = 'D02'", [renamed])
        con.execute("insert into intermediate.int_reference__window_versions "
                    "select window_id, 2, ?, valid_to, window_name, department_id, ?, center_id, center_name "
                    "from intermediate.int_reference__window_versions where department_id = 'D02'", [OCT, renamed])
        con.execute("update intermediate.int_reference__window_versions set valid_to = ? "
                    "where department_id = 'D02' and version = 1", [OCT])
        con.execute("checkpoint")
    finally:
        con.close()
    gap = q.volume_gap(str(copy), q.Filters(dept="D02"))
    names = {dt.date.fromisoformat(str(m)[:10]): n for m, n in zip(gap.month, gap.department_name)}
    assert names == {SEP: "市市场监管局", OCT: renamed}
    assert len(q.volume_gap(str(copy), q.Filters())) == len(q.volume_gap(snap, q.Filters()))  # one row each

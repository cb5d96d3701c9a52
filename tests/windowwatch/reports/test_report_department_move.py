"""Issue 21 finding 5 in the monthly report: a window that moved to another department after month M
is reported under the department it had in M (fct_window_month.department_id, the window version in
force on M's first day), named as that department was named then (intermediate.int_reference__window_versions),
not under today's department from dim_window.

The fixture snapshot (tests/support/audit_snapshot.py) gets a September besides October and the
window versions the dbt project builds (int_reference__window_versions: valid_from / valid_to tiling
time, macros/reference_versions.sql): 出入境窗口 (W02) moved from 市公安局 (D01) to a new 市政务数据局 (D04)
on 2026-10-01, the day 市公安局 was also renamed 市公安局（新名）.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from tests.support.audit_snapshot import CENTER, DEPARTMENTS, WINDOWS, build_snapshot

from core.paths import Home
from windowwatch.reports import publish_month
from windowwatch.reports.data import read_month

SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
MOVED_ON = OCT
NEW_DEPT = ("D04", "市政务数据局")
D01_RENAMED = "市公安局（新名）"


def _move_w02(path, *, with_versions: bool = True) -> None:
    """W02 D01 → D04 from October (and D01 renamed then), the way the dbt marts show it."""
    con = duckdb.connect(str(path))
    try:
        # September: the same rows as October, each window in its September department (W02 still in D01)
        con.execute("insert into marts.fct_window_month select * replace (date '2026-09-01' as month) "
                    "from marts.fct_window_month where month = date '2026-10-01'")
        con.execute("update marts.fct_window_month set department_id = ? where window_id = 'W02' and month = ?",
                    [NEW_DEPT[0], OCT])
        con.execute("delete from marts.fct_department_month")
        con.execute(
            "insert into marts.fct_department_month select month, department_id, sum(cases_accepted), "
            "sum(cases_completed), avg(on_time_rate), avg(satisfaction_rate), avg(off_book_rate), "
            "avg(rectification_rate), round(avg(score), 2), sum(cases_completed) + 5, 0, max(as_of_date) "
            "from marts.fct_window_month group by month, department_id"
        )
        # dim_window: today's versions
        con.execute("update marts.dim_window set department_id = ?, department_name = ? where window_id = 'W02'",
                    list(NEW_DEPT))
        con.execute("update marts.dim_window set department_name = ? where department_id = 'D01'", [D01_RENAMED])
        if with_versions:
            con.execute("create schema intermediate")
            con.execute(
                "create table intermediate.int_reference__window_versions (window_id varchar, version bigint, "
                "valid_from date, valid_to date, delivered_valid_from date, window_name varchar, "
                "department_id varchar, department_name varchar, center_id varchar, center_name varchar)"
            )
            begin, end = dt.date(1900, 1, 1), dt.date(9999, 12, 31)
            rows = []
            for wid, name, dept in WINDOWS:
                if wid == "W01":
                    rows += [(wid, 1, begin, MOVED_ON, None, name, dept, DEPARTMENTS[dept], *CENTER),
                             (wid, 2, MOVED_ON, end, MOVED_ON, name, dept, D01_RENAMED, *CENTER)]
                elif wid == "W02":
                    rows += [(wid, 1, begin, MOVED_ON, None, name, dept, DEPARTMENTS[dept], *CENTER),
                             (wid, 2, MOVED_ON, end, MOVED_ON, name, *NEW_DEPT, *CENTER)]
                else:
                    rows.append((wid, 1, begin, end, None, name, dept, DEPARTMENTS[dept], *CENTER))
            con.executemany("insert into intermediate.int_reference__window_versions values "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("checkpoint")
    finally:
        con.close()


@pytest.fixture(scope="module")
def moved_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("dept_move") / "home"
    root.mkdir()
    _move_w02(build_snapshot(root, "r1"))
    return Home(root)


def _by_window(content):
    return {w["window_id"]: w for w in content["windows"]}


def _by_department(content):
    return {d["department_id"]: d for d in content["departments"]}


def test_earlier_month_lists_the_moved_window_under_its_old_department(moved_home):
    sep, _, _ = read_month("2026-09", moved_home)
    w02 = _by_window(sep)["W02"]
    assert (w02["department_id"], w02["department_name"]) == ("D01", "市公安局")  # not D04, not today's name
    depts = _by_department(sep)
    assert set(depts) == {"D01", "D02", "D03"}  # D04 did not exist in September
    assert depts["D01"]["department_name"] == "市公安局"
    assert depts["D01"]["cases_completed"] == 30 + 28  # W01 + W02

    oct_, _, _ = read_month("2026-10", moved_home)
    w02 = _by_window(oct_)["W02"]
    assert (w02["department_id"], w02["department_name"]) == NEW_DEPT
    assert _by_window(oct_)["W01"]["department_name"] == D01_RENAMED
    depts = _by_department(oct_)
    assert depts["D04"]["department_name"] == "市政务数据局" and depts["D01"]["department_name"] == D01_RENAMED
    assert depts["D01"]["cases_completed"] == 30


def test_published_report_of_the_earlier_month_shows_the_old_department(moved_home):
    v1 = publish_month("2026-09", moved_home)
    html = (v1.path / "ranking.html").read_text(encoding="utf-8")
    row = re.search(r'<td class="l">出入境窗口</td>\s*<td class="l">([^<]*)</td>', html)
    assert row, "出入境窗口's row in the ranking table"
    assert row.group(1) == "市公安局"
    assert "市政务数据局" not in html and D01_RENAMED not in html
    section = html[html.index("五、部门情况"):]
    assert "市公安局" in section


def test_without_versions_the_month_department_keeps_its_current_name(tmp_path):
    """A snapshot built before window versions existed: still the month's department, by today's name."""
    root = tmp_path / "home"
    root.mkdir()
    _move_w02(build_snapshot(root, "r1"), with_versions=False)
    sep, _, _ = read_month("2026-09", Home(root))
    w02 = _by_window(sep)["W02"]
    assert (w02["department_id"], w02["department_name"]) == ("D01", D01_RENAMED)
    assert _by_department(sep)["D01"]["department_name"] == D01_RENAMED

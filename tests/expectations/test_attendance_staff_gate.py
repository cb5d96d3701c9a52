"""The marts gate's suites on fct_attendance_day, the attendance month figures and fct_staff_month (SPEC v2
§4.10, §4.12; docs/rules.md#attendance, #staff-stars): a real GE run on a real DuckDB warehouse holding
those four tables, corrupted one way at a time; each corruption fails its own suite and no other. That the
gate runs them is checked on `suites()`; that they pass on a real build, in
tests/dbt/test_dbt_hall_attendance.py."""

from __future__ import annotations

import duckdb
import pytest

from core.paths import Home
from expectations.gx_run import GateResult, duckdb_config, run_sql_gate
from expectations.marts import attendance_staff_suites, suites

SUITES = {"marts.fct_attendance_day.critical", "marts.fct_staff_month.critical",
          "marts.attendance_window_month.critical", "marts.attendance_department_month.critical"}

GOOD = """
create schema marts;
create schema intermediate;
create table marts.fct_attendance_day as select * from (values
    ('W1', date '2026-10-10', true, true, false, false, 1, 0),
    ('W1', date '2026-10-11', false, false, false, false, 0, 0),
    ('W1', date '2026-10-12', true, false, true, false, 0, 0),
    ('W1', date '2026-10-13', true, false, false, true, 0, 1)
) as t(window_id, date, is_scheduled, is_staffed, is_covered, is_absent, late_arrivals, early_leaves);
create table intermediate.int_hall__attendance_window_month as select * from (values
    (date '2026-10-01', 'W1', 3, 1, 1, 1, 0.5, 1, 1)
) as t(month, window_id, days_scheduled, days_staffed, days_covered, absent_days, in_post_rate, late_arrivals, early_leaves);
create table intermediate.int_hall__attendance_department_month as select * from (values
    (date '2026-10-01', 'D1', 3, 1, 1, 1, 0.5, 1, 1)
) as t(month, department_id, days_scheduled, days_staffed, days_covered, absent_days, in_post_rate, late_arrivals, early_leaves);
create table marts.fct_staff_month as select * from (values
    (date '2026-10-01', 'S1', 'C1', 1.0, 1.0, 0.9, 95.0, 5, 1, true),
    (date '2026-10-01', 'S2', 'C1', 1.0, null, 0.8, 90.0, 4, 2, true),
    (date '2026-10-01', 'S3', 'C1', 1.0, null, 0.8, 90.0, 4, 2, true),
    (date '2026-10-01', 'S4', 'C1', 0.5, null, 0.8, 62.0, 1, 4, true),
    (date '2026-10-01', 'S5', 'C1', 1.0, null, 0.8, 96.0, null, null, false),
    (date '2026-10-01', 'S6', 'C2', 1.0, null, 0.8, 80.0, 2, 1, true)
) as t(month, staff_id, center_id, on_time_rate, satisfaction_rate, adjusted_satisfaction, score, stars, rank, is_eligible);
"""

CORRUPTIONS = {
    "a window-day twice": ("insert into marts.fct_attendance_day select * from marts.fct_attendance_day where date = date '2026-10-12'",
                           "marts.fct_attendance_day.critical"),
    "a scheduled day staffed and absent": ("update marts.fct_attendance_day set is_absent = true where date = date '2026-10-10'",
                                           "marts.fct_attendance_day.critical"),
    "a closed day absent": ("update marts.fct_attendance_day set is_absent = true where date = date '2026-10-11'",
                            "marts.fct_attendance_day.critical"),
    "an in_post_rate above one": ("update intermediate.int_hall__attendance_window_month set in_post_rate = 1.5",
                                  "marts.attendance_window_month.critical"),
    "a department-month twice": ("insert into intermediate.int_hall__attendance_department_month "
                                 "select * from intermediate.int_hall__attendance_department_month",
                                 "marts.attendance_department_month.critical"),
    "a staff-month twice": ("insert into marts.fct_staff_month select * from marts.fct_staff_month where staff_id = 'S4'",
                            "marts.fct_staff_month.critical"),
    "a satisfaction rate above one": ("update marts.fct_staff_month set satisfaction_rate = 1.2 where staff_id = 'S1'",
                                      "marts.fct_staff_month.critical"),
    "a tie that does not share its rank": ("update marts.fct_staff_month set rank = 3 where staff_id = 'S3'",
                                           "marts.fct_staff_month.critical"),
    "stars for an ineligible staff member": ("update marts.fct_staff_month set stars = 5 where staff_id = 'S5'",
                                             "marts.fct_staff_month.critical"),
}


def _gate(h: Home, sql: str | None = None) -> GateResult:
    con = duckdb.connect(str(h.warehouse))
    con.execute(GOOD)
    if sql:
        con.execute(sql)
    con.close()
    gate = GateResult(gate="marts", success=True)
    run_sql_gate(gate, h.warehouse, attendance_staff_suites(), h.data_docs / "marts",
                 duckdb_config=duckdb_config(h.root, threads=1))
    return gate


def test_the_marts_gate_runs_the_attendance_and_staff_suites():
    assert SUITES <= {s.name for s in suites(landing=None, landed_accepted_cases=0)}


def test_attendance_and_staff_suites_pass_good_marts(ww_home):
    gate = _gate(Home(ww_home))
    assert gate.success and not gate.failures, gate.summary()
    assert gate.suites == 4


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_attendance_and_staff_suites_stop_on_bad_marts(ww_home, corruption):
    sql, suite = CORRUPTIONS[corruption]
    gate = _gate(Home(ww_home), sql)
    assert not gate.success
    assert {f.suite for f in gate.critical} == {suite}, gate.summary()

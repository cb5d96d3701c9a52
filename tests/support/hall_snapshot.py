"""SPEC v2 §4.6 / §4.10 / §4.12 marts for the dashboard fixture snapshot (issue 25): attendance, queue,
window adjustment proposals, work orders, inspections, the 一日三查 days, staff stars and deductions.

Applied after the fixture's other marts are built and without its random generator (every other figure of
the fixture stays as it was). Small, hand-written rows whose figures a test can recompute: October 2026
at W01–W03 (centre C01); W04 (C02) has no hall data, as a centre whose feeds were never delivered. The
hall columns of fct_window_month / fct_department_month are aggregated from these rows (its score and
`deductions` are left as the fixture made them: fct_window_deduction only lists).
"""

from __future__ import annotations

import datetime as dt

import duckdb

OCT = dt.date(2026, 10, 1)
HALL_COLUMNS = ("days_scheduled BIGINT", "days_staffed BIGINT", "days_covered BIGINT", "in_post_rate DOUBLE",
                "absent_days BIGINT", "late_arrivals BIGINT", "early_leaves BIGINT", "avg_wait_minutes DOUBLE",
                "p90_wait_minutes DOUBLE", "substantiated_complaints BIGINT",
                "work_orders_closed_on_time_rate DOUBLE", "inspection_findings BIGINT",
                "supervision_items_opened BIGINT", "supervision_acknowledged_on_time BIGINT",
                "supervision_escalated BIGINT")
DDL = {
    "fct_attendance_day": "date DATE, month DATE, window_id VARCHAR, department_id VARCHAR, day_kind VARCHAR, "
                          "is_scheduled BOOLEAN, open_time TIME, close_time TIME, staffed_staff BIGINT, "
                          "excused_staff BIGINT, is_staffed BOOLEAN, is_covered BOOLEAN, is_absent BOOLEAN, "
                          "late_arrivals BIGINT, early_leaves BIGINT",
    "fct_queue_month": "month DATE, scope VARCHAR, window_id VARCHAR, department_id VARCHAR, business_type VARCHAR, "
                       "tickets BIGINT, served BIGINT, no_shows BIGINT, cancelled BIGINT, no_show_rate DOUBLE, "
                       "avg_wait_minutes DOUBLE, p90_wait_minutes DOUBLE, avg_service_minutes DOUBLE",
    "fct_queue_hour": "month DATE, business_type VARCHAR, hour INTEGER, tickets BIGINT, served BIGINT, no_shows BIGINT, "
                      "cancelled BIGINT, no_show_rate DOUBLE, avg_wait_minutes DOUBLE, p90_wait_minutes DOUBLE, "
                      "avg_service_minutes DOUBLE",
    "fct_window_adjustment": "month DATE, business_type VARCHAR, current_windows BIGINT, tickets BIGINT, "
                             "p90_wait_minutes DOUBLE, served_per_window_hour DOUBLE, proposal INTEGER, evidence VARCHAR",
    "fct_work_order": "order_id VARCHAR, channel VARCHAR, category VARCHAR, received_at TIMESTAMP, department_id VARCHAR, "
                      "window_id VARCHAR, due_at TIMESTAMP, responded_at TIMESTAMP, closed_at TIMESTAMP, "
                      "substantiated BOOLEAN, requester_satisfaction VARCHAR, content VARCHAR, recorded_at TIMESTAMP, "
                      "month DATE, due_month DATE, is_complaint BOOLEAN, is_substantiated_complaint BOOLEAN, "
                      "is_closed_on_time BOOLEAN",
    "fct_inspection": "inspection_id VARCHAR, inspector_id VARCHAR, center_id VARCHAR, window_id VARCHAR, "
                      "department_id VARCHAR, inspected_at TIMESTAMP, inspected_date DATE, month DATE, method VARCHAR, "
                      "finding VARCHAR, has_finding BOOLEAN, deduction DOUBLE, note VARCHAR, recorded_at TIMESTAMP",
    "fct_spot_check_day": "center_id VARCHAR, date DATE, done BIGINT, required BIGINT, met BOOLEAN",
    "fct_staff_month": "month DATE, staff_id VARCHAR, window_id VARCHAR, department_id VARCHAR, center_id VARCHAR, "
                       "cases_completed BIGINT, on_time_rate DOUBLE, evaluations BIGINT, good_reviews BIGINT, "
                       "satisfaction_rate DOUBLE, center_satisfaction_rate DOUBLE, adjusted_satisfaction DOUBLE, "
                       "bad_reviews BIGINT, late_arrivals BIGINT, early_leaves BIGINT, absent_days BIGINT, "
                       "score DOUBLE, stars INTEGER, rank BIGINT, is_eligible BOOLEAN",
    "fct_window_deduction": "month DATE, window_id VARCHAR, source VARCHAR, ref_id VARCHAR, points DOUBLE, reason VARCHAR",
    "dim_staff": "staff_id VARCHAR, staff_name VARCHAR, window_id VARCHAR, department_id VARCHAR, "
                 "active_from DATE, active_to DATE",
}
DEPARTMENTS = {"W01": "D01", "W02": "D01", "W03": "D02"}
ADJUST_EVIDENCE = "90%等候 42.0 分钟，超过 30 分钟；本月取号 640 张，1 个窗口办理"


def _rows(con, table: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"insert into marts.{table} values ({marks})", rows)


def _workdays(is_workday, as_of: dt.date) -> list[dt.date]:
    out, d = [], OCT
    while d <= as_of:
        if is_workday(d):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def add_hall_operations(con: duckdb.DuckDBPyConnection, as_of: dt.date, is_workday) -> None:
    for table, ddl in DDL.items():
        con.execute(f"create or replace table marts.{table} ({ddl})")
    days = _workdays(is_workday, as_of)
    open_, close = dt.time(8, 30), dt.time(18, 0)
    attendance = []
    for wid, dept in DEPARTMENTS.items():
        for n, d in enumerate(days):
            absent = wid == "W02" and n == 3  # one absent window-day at W02
            covered = wid == "W03" and n == 5  # nobody signed in, a staff on leave
            late = 1 if (wid == "W01" and n in (1, 7)) else 0
            early = 1 if (wid == "W03" and n == 2) else 0
            attendance.append((d, OCT, wid, dept, "workday", True, open_, close, 0 if absent or covered else 2,
                               1 if covered else 0, not (absent or covered), covered, absent, late, early))
    _rows(con, "fct_attendance_day", attendance)
    _rows(con, "fct_queue_month", [
        (OCT, "window", "W01", "D01", None, 300, 280, 12, 8, 12 / 292, 14.5, 31.0, 9.0),
        (OCT, "window", "W02", "D01", None, 340, 320, 10, 10, 10 / 330, 24.0, 42.0, 8.5),
        (OCT, "window", "W03", "D02", None, 120, 116, 2, 2, 2 / 118, 4.0, 7.5, 12.0),
        (OCT, "business_type", None, None, "I001", 640, 600, 22, 18, 22 / 622, 19.5, 42.0, 8.8),
        (OCT, "business_type", None, None, "I003", 120, 116, 2, 2, 2 / 118, 4.0, 7.5, 12.0),
    ])
    _rows(con, "fct_queue_hour", [
        (OCT, "I001", h, 60, 56, 2, 2, 2 / 58, w, w * 2, 9.0) for h, w in ((9, 12.0), (10, 25.0), (11, 33.0), (14, 18.0))
    ] + [(OCT, "I003", h, 30, 29, 1, 0, 1 / 30, 4.0, 7.0, 12.0) for h in (9, 10, 14, 15)])
    _rows(con, "fct_window_adjustment", [
        (OCT, "I001", 1, 640, 42.0, 3.4, 1, ADJUST_EVIDENCE),
        (OCT, "I003", 1, 120, 7.5, 0.7, 0, "90%等候 7.5 分钟；1 个窗口办理，不撤并"),
    ])
    at = lambda day, h: dt.datetime.combine(dt.date(2026, 10, day), dt.time(h))  # noqa: E731
    _rows(con, "fct_work_order", [
        ("WO1", "hotline_12345", "complaint", at(9, 10), "D01", "W02", at(16, 10), at(10, 9), at(14, 16), True,
         "satisfied", "反映窗口人员态度生硬，电话[已隐去]", at(14, 16), OCT, OCT, True, True, True),
        ("WO2", "cant_get_done", "complaint", at(12, 11), "D02", "W03", at(19, 11), None, at(20, 9), False,
         "basically_satisfied", "材料要求不一致", at(20, 9), OCT, OCT, True, False, False),
        ("WO3", "mailbox", "praise", at(15, 9), "D01", "W01", None, None, None, None, None, "表扬窗口耐心细致",
         at(15, 9), OCT, None, False, False, None),
    ])
    spot = []
    for n, d in enumerate(days):
        done = 2 if n in (2, 6) else 3  # two days short of three
        spot.append(("C01", d, done, 3, done >= 3))
    _rows(con, "fct_spot_check_day", spot)
    _rows(con, "fct_inspection", [
        ("IN1", "INS01", "C01", "W02", "D01", at(13, 10), dt.date(2026, 10, 13), OCT, "on_site", "absent", True, 2.0,
         "检查时窗口无人", at(13, 10)),
        ("IN2", "INS02", "C01", None, None, at(14, 15), dt.date(2026, 10, 14), OCT, "mystery", "environment", True, 0.0,
         "等候区座椅不足", at(14, 15)),
        ("IN3", "INS01", "C01", "W01", "D01", at(15, 9), dt.date(2026, 10, 15), OCT, "video_spot", "none", False, 0.0,
         None, at(15, 9)),
    ])
    _rows(con, "dim_staff", [("S011", "王敏", "W01", "D01", dt.date(2020, 1, 1), None),
                             ("S021", "李强", "W02", "D01", dt.date(2020, 1, 1), None),
                             ("S031", "赵丽", "W03", "D02", dt.date(2020, 1, 1), None)])
    _rows(con, "fct_staff_month", [
        (OCT, "S011", "W01", "D01", "C01", 30, 0.97, 25, 24, 0.96, 0.9, 0.945, 1, 2, 0, 0, 95.5, 5, 1, True),
        (OCT, "S021", "W02", "D01", "C01", 28, 0.9, 20, 17, 0.85, 0.9, 0.875, 3, 0, 0, 1, 85.75, 3, 2, True),
        (OCT, "S031", "W03", "D02", "C01", 6, 1.0, 5, 5, 1.0, 0.9, 0.92, 0, 0, 1, 0, 95.5, None, None, False),
    ])
    _rows(con, "fct_window_deduction", [
        (OCT, "W02", "absent_day", days[3].isoformat(), 3.0, f"{days[3].isoformat()} 窗口缺岗（无人签到，无请假或公务外出）"),
        (OCT, "W02", "complaint", "WO1", 2.0, "查实投诉：反映窗口人员态度生硬"),
        (OCT, "W02", "inspection", "IN1", 2.0, "现场检查：脱岗"),
        (OCT, "W01", "late", "A-W01-2", 0.5, "迟到"),
        (OCT, "W01", "late", "A-W01-8", 0.5, "迟到"),
    ])
    for table in ("fct_window_month", "fct_department_month"):
        for col in HALL_COLUMNS:
            con.execute(f"alter table marts.{table} add column if not exists {col}")
    con.execute("""
        update marts.fct_window_month m set
            days_scheduled = a.scheduled, days_staffed = a.staffed, days_covered = a.covered,
            in_post_rate = a.staffed / (a.scheduled - a.covered), absent_days = a.absent,
            late_arrivals = a.late, early_leaves = a.early
        from (select window_id, month, count(*) as scheduled, count(*) filter (where is_staffed) as staffed,
                     count(*) filter (where is_covered) as covered, count(*) filter (where is_absent) as absent,
                     sum(late_arrivals) as late, sum(early_leaves) as early
              from marts.fct_attendance_day group by window_id, month) a
        where a.window_id = m.window_id and a.month = m.month""")
    con.execute("""
        update marts.fct_window_month m set avg_wait_minutes = q.avg_wait_minutes, p90_wait_minutes = q.p90_wait_minutes
        from marts.fct_queue_month q where q.scope = 'window' and q.window_id = m.window_id and q.month = m.month""")
    con.execute("""
        update marts.fct_window_month m set
            substantiated_complaints = o.substantiated, work_orders_closed_on_time_rate = o.on_time
        from (select window_id, month, count(*) filter (where is_substantiated_complaint) as substantiated,
                     coalesce(avg(case when is_closed_on_time then 1.0 when is_closed_on_time = false then 0.0 end), 1.0)
                         as on_time
              from marts.fct_work_order where window_id is not null group by window_id, month) o
        where o.window_id = m.window_id and o.month = m.month""")
    con.execute("""
        update marts.fct_window_month m set inspection_findings = i.findings
        from (select window_id, month, count(*) filter (where has_finding) as findings
              from marts.fct_inspection where window_id is not null group by window_id, month) i
        where i.window_id = m.window_id and i.month = m.month""")
    con.execute("update marts.fct_window_month set supervision_items_opened = 0, supervision_acknowledged_on_time = 0, "
                "supervision_escalated = 0")
    con.execute("update marts.fct_department_month set supervision_items_opened = 0, "
                "supervision_acknowledged_on_time = 0, supervision_escalated = 0")

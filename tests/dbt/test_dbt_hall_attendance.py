"""SPEC v2 §4.10 考勤 attendance, its §4.6 deductions and §4.12 staff stars, end to end (docs/rules.md#attendance,
#attendance-deductions, #staff-stars): the generated small centre without its generated attendance is
ingested and built (the optional feed never delivered: every attendance figure silent, the build green);
then a small hand-written attendance delivery (Chinese headers and enum labels, as a centre's 考勤机 exports
it) goes through the real ingest into a copy of that home, and the marts and the marts gate are read.

October 2026 (as-of Sat 10-31): 国庆 10-01…10-07 off, Sat 10-10 a 调休 make-up working day. Window
370100W001 keeps the centre's hours (working days 08:30–18:00); 370100W002 has its own (working days
08:30–20:00, other days 09:00–17:00: every day scheduled).
"""

from __future__ import annotations

import math
import shutil

import pytest

from core.paths import Home
from tests.support.warehouse import warehouse_rows

W1, W2 = "370100W001", "370100W002"
S1, S2 = "370100W001S1", "370100W002S1"
MONTH = "2026-10-01"

# the delivery: W1's S1 late on Mon 10-12 (08:47, 17 min), exactly at the grace on Tue 10-13 (in 08:35:00,
# out 17:55:00: neither late nor early), on leave Wed 10-14, 旷岗 Thu 10-15, early on Fri 10-16 (out 17:30,
# the window left empty: the staff feed's W1), at work on Sun 10-11 (W1 closed: not scheduled);
# W2's S2 leaves at 18:00 on Mon 10-12 - two hours before W2 closes.
ATTENDANCE_CSV = "\n".join([
    "考勤编号,工作人员编号,窗口编号,考勤日期,签到时间,签退时间,缺勤类型",
    f"T1,{S1},{W1},2026-10-12,2026-10-12 08:47:00,2026-10-12 18:05:00,正常",
    f"T2,{S1},{W1},2026-10-13,2026-10-13 08:35:00,2026-10-13 17:55:00,正常",
    f"T3,{S1},{W1},2026-10-14,,,请假",
    f"T4,{S1},{W1},2026-10-15,,,旷岗",
    f"T5,{S1},,2026-10-16,2026-10-16 08:20:00,2026-10-16 17:30:00,正常",
    f"T6,{S1},{W1},2026-10-11,2026-10-11 09:00:00,2026-10-11 12:00:00,正常",
    f"T7,{S2},{W2},2026-10-12,2026-10-12 08:30:00,2026-10-12 18:00:00,正常",
]) + "\n"


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict:
    """(no attendance home, with attendance home), both built as of the generated as-of date."""
    from core.config import load_sources
    from ingest.run import ingest_all
    from windowwatch.generate.dataset import generate
    from windowwatch.transform import build

    root = tmp_path_factory.mktemp("hall_attendance")
    mp = pytest.MonkeyPatch()
    mp.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    try:
        feeds = root / "feeds"
        truth = generate(feeds, scale="small", seed=1, progress=False)
        shutil.rmtree(feeds / "attendance", ignore_errors=True)  # the optional feed, never delivered
        silent = Home(root / "silent")
        mp.setenv("WINDOWWATCH_HOME", str(silent.root))
        report = ingest_all(silent, load_sources(), inbox=feeds)
        assert "attendance" not in report.by_feed()
        silent_build = build(silent, as_of=truth["as_of"], exclude="resource_type:unit_test")

        delivered = Home(root / "delivered")
        shutil.copytree(silent.root, delivered.root, symlinks=True)
        inbox = root / "inbox"
        (inbox / "attendance").mkdir(parents=True)
        (inbox / "attendance" / "kaoqin-2026-10.csv").write_text(ATTENDANCE_CSV, encoding="utf-8")
        mp.setenv("WINDOWWATCH_HOME", str(delivered.root))
        att_report = ingest_all(delivered, load_sources(), inbox=inbox).by_feed()["attendance"]
        delivered_build = build(delivered, as_of=truth["as_of"], exclude="resource_type:unit_test")
    finally:
        mp.undo()
    return {"truth": truth, "silent": silent, "silent_build": silent_build, "delivered": delivered,
            "delivered_build": delivered_build, "attendance_report": att_report}


def test_without_attendance_the_build_succeeds_and_every_attendance_figure_is_silent(homes):
    assert homes["silent_build"].success, homes["silent_build"].summary()
    home = homes["silent"]
    for table in ("marts.fct_attendance_day", "intermediate.int_hall__attendance_window_month",
                  "intermediate.int_hall__attendance_department_month", "intermediate.int_hall__attendance_staff_month",
                  "intermediate.int_scoring__deductions_attendance"):
        assert warehouse_rows(home, f"select count(*) as n from {table}")[0]["n"] == 0, table
    staff = warehouse_rows(home, "select * from marts.fct_staff_month")
    assert staff, "staff stars need no attendance: the generated cases and ratings carry staff ids"
    assert all(r["late_arrivals"] is None and r["early_leaves"] is None and r["absent_days"] is None for r in staff)
    # null attendance counts 0: the score is the formula without deductions
    for r in staff:
        if r["on_time_rate"] is not None:
            expected = round(100 * (0.5 * r["on_time_rate"] + 0.5 * r["adjusted_satisfaction"]), 2)
            assert math.isclose(r["score"], expected, abs_tol=0.005), r


def test_a_delivery_through_the_real_ingest_classifies_the_window_days(homes):
    assert homes["attendance_report"]["landed"] == 7 and homes["attendance_report"]["quarantined"] == 0
    assert homes["delivered_build"].success, homes["delivered_build"].summary()
    home = homes["delivered"]
    days = {(r["window_id"], r["date"].isoformat()): r for r in warehouse_rows(home, "select * from marts.fct_attendance_day")}
    assert {w for w, _ in days} == {W1, W2}  # only the covered window-months have rows
    w1 = lambda d: days[(W1, d)]  # noqa: E731
    assert (w1("2026-10-12")["is_staffed"], w1("2026-10-12")["late_arrivals"]) == (True, 1)
    assert (w1("2026-10-13")["is_staffed"], w1("2026-10-13")["late_arrivals"], w1("2026-10-13")["early_leaves"]) == (True, 0, 0)
    assert (w1("2026-10-14")["is_covered"], w1("2026-10-14")["is_absent"]) == (True, False)  # 请假
    assert (w1("2026-10-15")["is_absent"], w1("2026-10-15")["staffed_staff"]) == (True, 0)  # 旷岗 excuses nothing
    assert (w1("2026-10-16")["is_staffed"], w1("2026-10-16")["early_leaves"]) == (True, 1)  # window from the staff feed
    assert w1("2026-10-10")["is_scheduled"] and w1("2026-10-10")["is_absent"]  # 调休 make-up Saturday, nobody there
    sunday = w1("2026-10-11")
    assert (sunday["is_scheduled"], sunday["staffed_staff"], sunday["is_staffed"], sunday["is_absent"]) == (False, 1, False, False)
    assert (W1, "2026-10-03") not in days  # a National Day holiday without a row: W1 closed, no row
    assert days[(W2, "2026-10-03")]["is_scheduled"] and days[(W2, "2026-10-12")]["early_leaves"] == 1  # W2's own hours
    assert all(r["department_id"] == "370100D01" for r in days.values())


def test_window_department_and_staff_months_and_the_deductions(homes):
    home = homes["delivered"]
    workdays = warehouse_rows(home, "select count(*) as n from marts.dim_date where is_workday "
                                    "and date between date '2026-10-01' and date '2026-10-31'")[0]["n"]
    assert workdays == 18  # 10-08, 10-09, 10-10 (调休) and four full weeks
    months = {r["window_id"]: r for r in warehouse_rows(
        home, f"select * from intermediate.int_hall__attendance_window_month where month = date '{MONTH}'")}
    m1 = months[W1]
    assert (m1["days_scheduled"], m1["days_staffed"], m1["days_covered"], m1["absent_days"]) == (18, 3, 1, 14)
    assert math.isclose(m1["in_post_rate"], 3 / 17)  # the covered day is out of the denominator
    assert (m1["late_arrivals"], m1["early_leaves"]) == (1, 1)
    m2 = months[W2]
    assert (m2["days_scheduled"], m2["days_staffed"], m2["absent_days"], m2["early_leaves"]) == (31, 1, 30, 1)
    dept = warehouse_rows(home, "select * from intermediate.int_hall__attendance_department_month "
                                f"where month = date '{MONTH}' and department_id = '370100D01'")[0]
    assert (dept["days_scheduled"], dept["days_staffed"], dept["days_covered"]) == (49, 4, 1)
    assert math.isclose(dept["in_post_rate"], 4 / 48)

    deductions = warehouse_rows(home, "select * from intermediate.int_scoring__deductions_attendance order by window_id, source, ref_id")
    by_source = {}
    for d in deductions:
        by_source.setdefault((d["window_id"], d["source"]), []).append(d)
    assert len(by_source[(W1, "absent_day")]) == 14 and {d["points"] for d in by_source[(W1, "absent_day")]} == {3.0}
    assert "2026-10-15 窗口缺岗（无人签到，无请假或公务外出）" in {d["reason"] for d in by_source[(W1, "absent_day")]}
    late = {d["reason"] for d in by_source[(W1, "late")]}
    assert late == {f"2026-10-12 工作人员 {S1} 迟到 17 分钟（签到 08:47，开放 08:30）",
                    f"2026-10-16 工作人员 {S1} 早退 30 分钟（签退 17:30，关闭 18:00）"}
    assert {d["points"] for d in by_source[(W1, "late")]} == {0.5}

    staff = {r["staff_id"]: r for r in warehouse_rows(home, f"select * from marts.fct_staff_month where month = date '{MONTH}'")}
    s1 = staff[S1]
    assert (s1["late_arrivals"], s1["early_leaves"], s1["absent_days"]) == (1, 1, 1)
    # a colleague at the covered window without a row of their own: 0, not null
    assert staff["370100W001S2"]["late_arrivals"] == 0 and staff["370100W001S2"]["absent_days"] == 0
    assert s1["on_time_rate"] is not None and s1["cases_completed"] > 0
    expected = max(0.0, 100 * (0.5 * s1["on_time_rate"] + 0.5 * s1["adjusted_satisfaction"]) - 3 * 1 - 0.5 * 2)
    assert math.isclose(s1["score"], round(expected, 2), abs_tol=0.005)


def test_staff_stars_rank_only_eligible_staff_by_score(homes):
    rows = warehouse_rows(homes["delivered"], f"select * from marts.fct_staff_month where month = date '{MONTH}'")
    eligible = [r for r in rows if r["is_eligible"]]
    assert eligible and all(r["cases_completed"] >= 20 for r in eligible)
    assert all(r["rank"] is None and r["stars"] is None for r in rows if not r["is_eligible"])
    for r in eligible:
        assert r["rank"] == 1 + sum(1 for o in eligible if o["center_id"] == r["center_id"] and o["score"] > r["score"])


def test_the_marts_gate_passes_the_attendance_and_staff_suites(homes):
    from expectations.marts import check_marts, suites

    home = homes["delivered"]
    ours = {"marts.fct_attendance_day.critical", "marts.fct_staff_month.critical",
            "marts.attendance_window_month.critical", "marts.attendance_department_month.critical"}
    assert ours <= {s.name for s in suites(home.landing, landed_accepted_cases=0)}
    gate = check_marts(home.warehouse, home.landing, home.data_docs / "marts")
    assert gate.suites > 0, gate.summary()  # no mart missing: the suites ran
    assert not {f.suite for f in gate.critical} & ours, gate.summary()

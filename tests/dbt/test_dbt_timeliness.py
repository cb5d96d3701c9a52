"""End-to-end timeliness (SPEC §4.1/4.2): landing fixtures -> transform.build -> marts.fct_case.

Real chinesecalendar dates: National Day 2025 (10-01..10-08, make-up Sun 09-28 and Sat 10-11),
Spring Festival 2026 (02-15..02-23, make-up Sat 02-14 and Sat 02-28); 2027 is outside the
package (assumed Mon–Fri) unless the calendar feed gives it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.support.landing import ITEMS, WINDOWS, case_events, event, write_landing, write_quarantine, write_reference
from core.config import load_scoring
from core.paths import Home
from windowwatch.transform import build

EXTRA_ITEMS = [
    {"item_code": "WD1", "item_name": "一日办结事项", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 5, "promised_limit": 1, "limit_unit": "workday"},
    {"item_code": "WD2", "item_name": "两日办结事项", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 5, "promised_limit": 2, "limit_unit": "workday"},
    {"item_code": "LEG3", "item_name": "仅有法定时限", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 3, "promised_limit": None, "limit_unit": None},
    {"item_code": "NONE", "item_name": "无任何时限", "department_id": "D01", "item_kind": "promised",
     "legal_limit": None, "promised_limit": None, "limit_unit": "workday"},
]


def _cases(home: Home) -> dict[str, dict]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        rel = con.sql("select * from marts.fct_case order by case_id")
        cols = rel.columns
        return {row[0]: dict(zip(cols, row)) for row in rel.fetchall()}
    finally:
        con.close()


def _eod(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + " 23:59:59")


# The timeliness marts and everything upstream (incl. the off-book case signals fct_case counts).
TIMELINESS = "+fct_case +dim_date +dim_window +dim_item +fct_quarantine +run_config"
# the off-book models' own tests belong to their suite (tests/dbt/test_dbt_scoring.py, tests/windowwatch/test_detection.py)
OTHER_TESTS = ("int_off_book__*,test_type:unit int_reference__hall_hours*,test_type:unit "
               "int_off_book__*,test_type:data int_reference__hall_hours*,test_type:data")


def _ok(result) -> None:
    assert result.success, result.summary()


# ---------------------------------------------------------------- autumn 2025, as of Fri 2025-10-17

AUTUMN = (
    # acceptance day not counted: Tue + 1 = Wed
    case_events("K1", [("accept", "2025-10-14 10:00:00"), ("complete", "2025-10-15 18:00:00")], item_code="WD1")
    + case_events("K1L", [("accept", "2025-10-14 10:00:00"), ("complete", "2025-10-16 09:00:00")], item_code="WD1")
    # Fri + 1 = the make-up Saturday 2025-10-11
    + case_events("K2", [("accept", "2025-10-10 16:00:00"), ("complete", "2025-10-11 11:00:00")], item_code="WD1")
    # National Day: Tue 09-30 + 2 = Fri 10-10
    + case_events("K3", [("accept", "2025-09-30 10:00:00"), ("complete", "2025-10-10 17:00:00")], item_code="WD2")
    # calendar-day item: 09-22 + 10 = 10-02 (holiday) -> 10-09
    + case_events("K4", [("accept", "2025-09-22 10:00:00"), ("complete", "2025-10-09 17:00:00")], item_code="CD10")
    # extension: Mon 09-22 + (5 + 3) over the make-up Sunday and National Day = 10-09
    + case_events("K5", [("accept", "2025-09-22 10:00:00"), ("extend", "2025-09-25 10:00:00", {"extend_days": 3}),
                         ("complete", "2025-10-09 16:00:00")])
    # suspend/resume: 10-13 + 5 + 2 paused = 10-22, open and green as of 10-17
    + case_events("K6", [("accept", "2025-10-13 10:00:00"), ("suspend", "2025-10-14 09:00:00"),
                         ("resume", "2025-10-16 15:00:00")])
    # supplement pause (09-30 -> 10-10: 2 working days): 09-29 + 7 = 10-15, completed on time
    + case_events("K6S", [("accept", "2025-09-29 10:00:00"), ("supplement_request", "2025-09-30 10:00:00"),
                          ("supplement_received", "2025-10-10 10:00:00"), ("complete", "2025-10-15 17:00:00")])
    # pause still open at the as-of date: 10-13 -> 10-17 = 4; 10-09 + 9 = 10-21
    + case_events("K8", [("accept", "2025-10-09 10:00:00"), ("supplement_request", "2025-10-13 10:00:00")])
    # immediate item accepted on the make-up Saturday
    + case_events("K7", [("accept", "2025-10-11 09:00:00"), ("complete", "2025-10-11 09:20:00")], "W03", "IMM")
    # cards as of Fri 10-17 (yellow_workdays = 1)
    + case_events("RED", [("accept", "2025-10-15 10:00:00")], item_code="WD1")
    + case_events("YEL0", [("accept", "2025-10-16 10:00:00")], item_code="WD1")
    + case_events("YEL1", [("accept", "2025-10-17 10:00:00")], item_code="WD1")
    + case_events("GRN", [("accept", "2025-10-17 11:00:00")], item_code="WD2")
    # an event after the as-of date is ignored: still open
    + case_events("K9", [("accept", "2025-10-16 10:00:00"), ("complete", "2025-10-20 10:00:00")], item_code="WD5")
    # no accept: not a case
    + case_events("NOACC", [("submit", "2025-10-14 10:00:00")])
    # status precedence and the accept window's department (W03 -> D02)
    + case_events("PREC", [("accept", "2025-10-13 10:00:00"), ("reject", "2025-10-13 11:00:00"),
                           ("complete", "2025-10-14 10:00:00")], "W03", "WD1")
    + case_events("WDR", [("accept", "2025-10-13 10:00:00"), ("withdraw", "2025-10-14 10:00:00")])
    # limits: legal_limit when no promise; none at all -> no deadline, no card
    + case_events("LEG", [("accept", "2025-10-13 10:00:00")], item_code="LEG3")
    + case_events("NOLIM", [("accept", "2025-10-13 10:00:00")], item_code="NONE")
)


@pytest.fixture(scope="module")
def autumn(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("autumn").resolve())
    write_reference(home, WINDOWS, ITEMS + EXTRA_ITEMS)
    write_landing(home, "transactions", AUTUMN, ingested_at="2025-10-17 20:00:00")
    # K10: delivered late, then corrected by a re-delivery with a later recorded_at
    write_landing(home, "transactions", case_events("K10", [
        ("accept", "2025-10-14 10:00:00"),
        ("complete", "2025-10-16 09:00:00", {"recorded_at": "2025-10-16 09:00:00"})], item_code="WD1"),
        ingested_at="2025-10-17 20:00:00")
    write_landing(home, "transactions", [event("K10-2", "K10", "complete", "2025-10-15 17:00:00", item_code="WD1",
                                               recorded_at="2025-10-17 08:00:00")], ingested_at="2025-10-17 21:00:00")
    # reference feeds: a later snapshot renames W02 and lacks W03 (W03 stays, from the delivery that has it)
    write_landing(home, "windows", [{**WINDOWS[0]}, {**WINDOWS[1], "window_name": "综合受理二号窗(新)"}],
                  ingested_at="2025-10-16 08:00:00")
    write_quarantine(home, "transactions", [
        {"source_file": "files:transactions/2025-10-16.csv", "line": 7, "rule": "bad_timestamp",
         "detail": "event_time '2025-13-01' is not a time", "raw": "{}", "quarantined_at": "2025-10-16 08:00:00"}])
    result = build(home, as_of="2025-10-17", select=TIMELINESS, exclude=f"test_type:unit {OTHER_TESTS}")
    _ok(result)
    cases = _cases(home)
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        cases["_windows"] = dict(con.sql("select window_id, window_name from marts.dim_window").fetchall())
        cases["_quarantine"] = con.sql("select feed, source_file, line, rule from marts.fct_quarantine").fetchall()
    finally:
        con.close()
    return cases


def test_acceptance_day_not_counted(autumn):
    assert autumn["K1"]["deadline_at"] == _eod("2025-10-15")
    assert autumn["K1"]["is_on_time"] is True and autumn["K1"]["overdue_workdays"] == 0
    assert autumn["K1L"]["is_on_time"] is False and autumn["K1L"]["overdue_workdays"] == 1


def test_saturday_makeup_working_day(autumn):
    assert autumn["K2"]["deadline_at"] == _eod("2025-10-11")
    assert autumn["K2"]["is_on_time"] is True


def test_national_day_holiday(autumn):
    assert autumn["K3"]["deadline_at"] == _eod("2025-10-10")
    assert autumn["K3"]["limit_workdays"] == 2


def test_calendar_day_item_ending_on_a_holiday(autumn):
    assert autumn["K4"]["limit_unit"] == "calendar_day"
    assert autumn["K4"]["deadline_at"] == _eod("2025-10-09")


def test_extension(autumn):
    assert autumn["K5"]["extend_days"] == 3 and autumn["K5"]["limit_workdays"] == 8
    assert autumn["K5"]["deadline_at"] == _eod("2025-10-09")
    assert autumn["K5"]["is_on_time"] is True


def test_suspend_resume_pause(autumn):
    k6 = autumn["K6"]
    assert (k6["paused_workdays"], k6["limit_workdays"]) == (2, 7)
    assert k6["deadline_at"] == _eod("2025-10-22")
    assert (k6["status"], k6["card"], k6["remaining_workdays"]) == ("open", "green", 3)


def test_supplement_pause(autumn):
    k = autumn["K6S"]
    assert (k["paused_workdays"], k["deadline_at"], k["is_on_time"]) == (2, _eod("2025-10-15"), True)


def test_pause_open_at_as_of(autumn):
    k = autumn["K8"]
    assert (k["paused_workdays"], k["limit_workdays"], k["deadline_at"]) == (4, 9, _eod("2025-10-21"))
    assert k["card"] == "green"


def test_immediate_item_on_makeup_day(autumn):
    k = autumn["K7"]
    assert (k["item_kind"], k["limit_workdays"], k["deadline_at"]) == ("immediate", 0, _eod("2025-10-11"))
    assert k["is_on_time"] is True and k["is_same_day"] is True and k["department_id"] == "D02"


def test_cards_at_their_boundaries(autumn):
    assert (autumn["RED"]["card"], autumn["RED"]["overdue_workdays"]) == ("red", 1)
    assert (autumn["YEL0"]["card"], autumn["YEL0"]["remaining_workdays"]) == ("yellow", 0)
    assert (autumn["YEL1"]["card"], autumn["YEL1"]["remaining_workdays"]) == ("yellow", 1)
    assert (autumn["GRN"]["card"], autumn["GRN"]["remaining_workdays"]) == ("green", 2)
    for cid in ("K1", "K7", "PREC", "WDR"):
        assert autumn[cid]["card"] is None


def test_case_membership_status_and_as_of(autumn):
    assert "NOACC" not in autumn
    assert autumn["K9"]["status"] == "open" and autumn["K9"]["completed_at"] is None
    assert (autumn["PREC"]["status"], autumn["PREC"]["window_id"], autumn["PREC"]["department_id"]) == ("completed", "W03", "D02")
    assert autumn["WDR"]["status"] == "withdrawn" and autumn["WDR"]["is_on_time"] is None
    assert autumn["WDR"]["overdue_workdays"] is None and autumn["WDR"]["is_same_day"] is None
    cases = [c for k, c in autumn.items() if not k.startswith("_")]
    assert all(c["as_of_date"] == dt.date(2025, 10, 17) for c in cases)
    assert not any(c["uses_assumed_calendar"] for c in cases)


def test_missing_limits(autumn):
    assert (autumn["LEG"]["limit_source"], autumn["LEG"]["limit_workdays"]) == ("legal", 3)
    assert autumn["LEG"]["deadline_at"] == _eod("2025-10-16") and autumn["LEG"]["card"] == "red"
    n = autumn["NOLIM"]
    assert (n["limit_source"], n["limit_workdays"], n["deadline_at"], n["card"]) == ("none", None, None, None)


def test_redelivery_with_later_recorded_at_wins(autumn):
    assert autumn["K10"]["completed_at"] == dt.datetime(2025, 10, 15, 17)
    assert autumn["K10"]["is_on_time"] is True


# ---------------------------------------------------------------- Spring Festival 2026, 2027 (assumed / feed)


def test_spring_festival_assumed_days_and_calendar_feed(tmp_path):
    home = Home(tmp_path.resolve())
    write_reference(home, WINDOWS, ITEMS + EXTRA_ITEMS)
    write_landing(home, "transactions",
                  # Fri 2026-02-13 + 2: the make-up Sat 02-14, then after the festival Tue 02-24
                  case_events("SF", [("accept", "2026-02-13 10:00:00"), ("complete", "2026-02-24 17:00:00")], item_code="WD2")
                  # 2027 is outside chinesecalendar: Fri 01-08 + 1 = Mon 01-11, assumed
                  + case_events("ASSUMED", [("accept", "2027-01-08 10:00:00"), ("complete", "2027-01-11 10:00:00")], item_code="WD1")
                  # the calendar feed gives 2027-02-01..05 with Tue 02-02 a holiday: Mon + 2 = Thu 02-04
                  + case_events("FEED", [("accept", "2027-02-01 10:00:00"), ("complete", "2027-02-04 10:00:00")], item_code="WD2"))
    write_landing(home, "calendar", [
        {"date": f"2027-02-0{d}", "is_workday": d != 2, "note": "测试假日" if d == 2 else None} for d in range(1, 6)])
    result = build(home, as_of="2027-03-31", select="+fct_case +dim_date", exclude="test_type:unit test_type:data")
    _ok(result)
    cases = _cases(home)
    assert cases["SF"]["deadline_at"] == _eod("2026-02-24") and cases["SF"]["is_on_time"] is True
    assert cases["SF"]["uses_assumed_calendar"] is False
    assert cases["ASSUMED"]["deadline_at"] == _eod("2027-01-11") and cases["ASSUMED"]["uses_assumed_calendar"] is True
    assert cases["FEED"]["deadline_at"] == _eod("2027-02-04") and cases["FEED"]["uses_assumed_calendar"] is False
    assert result.assumed_calendar_cases == 1 and "outside the official calendar" in result.summary()
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        days = dict(((str(d), (w, a, s, n)) for d, w, a, s, n in con.sql(
            "select date, is_workday, is_assumed, source, holiday_name from marts.dim_date "
            "where date in ('2025-10-01', '2025-10-11', '2027-01-11', '2027-02-02')").fetchall()))
    finally:
        con.close()
    assert days["2025-10-01"] == (False, False, "official", "国庆节")
    assert days["2025-10-11"] == (True, False, "official", "国庆节")
    assert days["2027-01-11"] == (True, True, "assumed", None)
    assert days["2027-02-02"] == (False, False, "feed", "测试假日")


def test_empty_landing_builds_and_unit_tests_pass(tmp_path):
    home = Home(tmp_path.resolve())
    result = build(home, as_of="2025-10-31", select=TIMELINESS, exclude=OTHER_TESTS, unit_tests=True)
    _ok(result)
    assert any(n.name == "fct_case" and n.status == "success" for n in result.nodes)
    # the dbt unit tests of the timeliness rules ran in the same build
    passed = {n.name for n in result.nodes if n.resource_type == "unit_test" and n.status == "pass"}
    assert {"deadlines_on_the_official_calendar", "cards_at_their_boundaries", "pauses_pair_and_run_to_as_of",
            "spring_festival_2026"} <= passed
    assert (home.landing / "transactions" / "_empty.parquet").exists()
    assert (home.state / "scoring-used.yaml").exists()
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.sql("select count(*) from marts.fct_case").fetchall()[0][0] == 0
        assert con.sql("select count(*) from marts.dim_date where date = '2025-10-31'").fetchall()[0][0] == 1
        run = con.sql("select as_of_date, scoring_hash, cases from marts.run_config").fetchall()
    finally:
        con.close()
    assert run == [(dt.date(2025, 10, 31), load_scoring().content_hash(), 0)]
    assert load_scoring(home.state / "scoring-used.yaml").content_hash() == result.scoring_hash
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        pass
    finally:
        con.close()


def test_reference_latest_delivery_and_quarantine(autumn):
    assert autumn["_windows"] == {"W01": "综合受理一号窗", "W02": "综合受理二号窗(新)", "W03": "公安即办窗"}
    assert autumn["_quarantine"] == [("transactions", "files:transactions/2025-10-16.csv", 7, "bad_timestamp")]


def test_build_reports_the_failing_test(tmp_path):
    home = Home(tmp_path.resolve())
    write_landing(home, "items", [{**ITEMS[1], "limit_unit": "fortnight"}])  # not an enum value
    # the feed's column checks run on its landed rows (source landing.items), not on the view
    result = build(home, as_of="2025-10-31", select=["source:landing.items", "stg_landing__items"])
    assert not result.success
    failed = [n for n in result.failures if n.resource_type == "test"]
    assert [n.name for n in failed] == ["landing_items__column_checks"]
    assert failed[0].failures == 1
    assert "dbt build FAILED" in result.summary() and "limit_unit = 'fortnight'" in result.summary()
    with pytest.raises(ValueError):
        build(home, as_of="2025-13-01")

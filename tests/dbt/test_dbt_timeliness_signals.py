"""Legal compliance of the clock (docs/rules.md#timeliness-signals): landing fixtures -> a real dbt build
-> fct_case, fct_timeliness_signal and the monthly columns.

The v1 pin: on v1-shaped data (no pause_reason / approval_mode, no step_limits / extended_service) the
default thresholds keep v1's clock. The expected values come from an independent reference of the v1
rules (docs/rules.md#timeliness: N = limit + Σ extend_days + Σ paused working days, counted from the
acceptance date) over chinesecalendar, not from the warehouse.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from tests.support.landing import ITEMS, WINDOWS, case_events, write_landing, write_reference
from tests.support.warehouse import warehouse_rows
from core.paths import Home
from windowwatch.transform import build

AS_OF = "2025-10-31"
MORE_ITEMS = [
    {"item_code": "LEG3", "item_name": "仅有法定时限", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 3, "promised_limit": None, "limit_unit": None},
    {"item_code": "STEP", "item_name": "环节时限事项", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 20, "promised_limit": 10, "limit_unit": "workday"},
]


def _built(home: Home, transactions: list[dict], **feeds: list[dict]) -> None:
    write_reference(home, WINDOWS, ITEMS + MORE_ITEMS)
    write_landing(home, "transactions", transactions)
    for feed, rows in feeds.items():
        write_landing(home, feed, rows)
    result = build(home, as_of=AS_OF)
    assert result.success, result.summary()


# ---------------------------------------------------------------- the v1 reference

def _workdays_between(a: dt.date, b: dt.date) -> int:
    """Working days d with a < d <= b."""
    return sum(chinese_calendar.is_workday(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


def _nth_workday_after(a: dt.date, n: int) -> dt.date:
    d = a
    while n > 0:
        d += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(d)
    return d


def _v1_clock(events: list[dict], promised_limit: int) -> dict:
    """v1's clock of one workday case: every extension and every pause counted."""
    at = {e["event_type"]: dt.datetime.fromisoformat(e["event_time"]) for e in events}
    accepted = at["accept"].date()
    completed = at.get("complete")
    end = completed.date() if completed else dt.date.fromisoformat(AS_OF)
    paused = sum(_workdays_between(at[start].date(), at[stop].date() if stop in at else end)
                 for start, stop in (("suspend", "resume"), ("supplement_request", "supplement_received"))
                 if start in at)
    limit = promised_limit + sum(e.get("extend_days") or 0 for e in events if e["event_type"] == "extend")
    limit += paused
    deadline = _nth_workday_after(accepted, limit)
    return {"limit_workdays": limit, "paused_workdays": paused,
            "deadline_at": dt.datetime.combine(deadline, dt.time(23, 59, 59)),
            "is_on_time": (completed <= dt.datetime.combine(deadline, dt.time(23, 59, 59))) if completed else None,
            "overdue_workdays": _workdays_between(deadline, end)}


V1_CASES = {
    # one extension within the cap, before the deadline
    "V1": [("accept", "2025-10-13 10:00:00"), ("extend", "2025-10-15 10:00:00", {"extend_days": 3}),
           ("complete", "2025-10-22 10:00:00")],
    # one notice 3 working days after receipt
    "V2": [("submit", "2025-10-09 09:00:00"), ("accept", "2025-10-09 10:00:00"),
           ("supplement_request", "2025-10-13 10:00:00"), ("supplement_received", "2025-10-16 10:00:00"),
           ("complete", "2025-10-24 10:00:00")],
    # a suspend without a reason (v1 systems never recorded one)
    "V3": [("accept", "2025-10-14 10:00:00"), ("suspend", "2025-10-15 10:00:00"), ("resume", "2025-10-20 10:00:00"),
           ("complete", "2025-10-28 10:00:00")],
    # over National Day, late
    "V4": [("accept", "2025-09-29 10:00:00"), ("complete", "2025-10-15 10:00:00")],
    # open, with a pause still open at the as-of date
    "V5": [("accept", "2025-10-20 10:00:00"), ("suspend", "2025-10-22 10:00:00")],
}
# v1-shaped cases where the law's clock differs from v1's (docs/rules.md#timeliness-signals)
V2_CHANGES = {
    # an extension asked after the deadline (10-20): v1 counted it, TL_EXTENSION_LATE does not
    "V6": [("accept", "2025-10-13 10:00:00"), ("extend", "2025-10-24 10:00:00", {"extend_days": 3}),
           ("complete", "2025-10-27 10:00:00")],
    # a second extension: v1 counted both, TL_EXTENSION_REPEAT only the first
    "V7": [("accept", "2025-10-13 10:00:00"), ("extend", "2025-10-14 10:00:00", {"extend_days": 2}),
           ("extend", "2025-10-15 10:00:00", {"extend_days": 2}), ("complete", "2025-10-22 10:00:00")],
}


@pytest.fixture(scope="module")
def v1_shaped(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("v1_shaped").resolve())
    events = {case: case_events(case, steps) for case, steps in {**V1_CASES, **V2_CHANGES}.items()}
    _built(home, [e for rows in events.values() for e in rows])
    cases = {r["case_id"]: r for r in warehouse_rows(home, "select * from marts.fct_case")}
    signals = warehouse_rows(home, "select case_id, rule_id from marts.fct_timeliness_signal")
    return events, cases, signals


def test_v1_shaped_data_keeps_v1_numbers(v1_shaped):
    events, cases, signals = v1_shaped
    for case in V1_CASES:
        expected = _v1_clock(events[case], promised_limit=5)
        assert {k: cases[case][k] for k in expected} == expected, case
        assert cases[case]["clock_start_date"] == cases[case]["accepted_at"].date()
        assert cases[case]["is_legal_overdue"] is False
    # the only signals on those cases: their reasonless suspends, still counted by default
    assert sorted((s["case_id"], s["rule_id"]) for s in signals if s["case_id"] in V1_CASES) == [
        ("V3", "TL_PAUSE_NO_REASON"), ("V5", "TL_PAUSE_NO_REASON")]


def test_v1_shaped_late_or_repeated_extensions_get_the_laws_clock(v1_shaped):
    events, cases, signals = v1_shaped
    for case, not_counted in (("V6", 3), ("V7", 2)):
        v1 = _v1_clock(events[case], promised_limit=5)
        assert cases[case]["limit_workdays"] == v1["limit_workdays"] - not_counted, case
    assert {(s["case_id"], s["rule_id"]) for s in signals if s["case_id"] in V2_CHANGES} == {
        ("V6", "TL_EXTENSION_LATE"), ("V7", "TL_EXTENSION_REPEAT")}
    assert cases["V6"]["is_on_time"] is False and cases["V7"]["is_on_time"] is True


# ---------------------------------------------------------------- every rule on one small centre

SIGNAL_CASES = {
    # first notice 9 working days after the submit: clock from 10-09, its pause not counted
    "LN": ([("submit", "2025-10-09 09:00:00"), ("accept", "2025-10-20 10:00:00"),
            ("supplement_request", "2025-10-21 10:00:00"), ("supplement_received", "2025-10-22 10:00:00"),
            ("complete", "2025-10-23 10:00:00")], "WD5"),
    # a second notice: its pause (10-17) is not counted, the first (10-15) is
    "RN": ([("accept", "2025-10-13 10:00:00"), ("supplement_request", "2025-10-14 10:00:00"),
            ("supplement_received", "2025-10-15 10:00:00"), ("supplement_request", "2025-10-16 10:00:00"),
            ("supplement_received", "2025-10-17 10:00:00"), ("complete", "2025-10-24 10:00:00")], "WD5"),
    # a suspend for `other`: not counted
    "PR": ([("accept", "2025-10-13 10:00:00"), ("suspend", "2025-10-14 10:00:00", {"pause_reason": "other"}),
            ("resume", "2025-10-16 10:00:00"), ("complete", "2025-10-20 10:00:00")], "WD5"),
    # a hearing: counted, no signal
    "PH": ([("accept", "2025-10-13 10:00:00"), ("suspend", "2025-10-14 10:00:00", {"pause_reason": "hearing"}),
            ("resume", "2025-10-16 10:00:00"), ("complete", "2025-10-21 10:00:00")], "WD5"),
    # legal limit 3 from 10-13 ends 10-16: open past it
    "LO": ([("accept", "2025-10-13 10:00:00")], "LEG3"),
    # accept -> approve in 5 working days, the step limit is 2
    "SD": ([("accept", "2025-10-13 10:00:00"), ("approve", "2025-10-20 10:00:00"), ("deliver", "2025-10-21 10:00:00"),
            ("complete", "2025-10-21 11:00:00")], "STEP"),
    # approve -> deliver in 11 working days
    "DL": ([("accept", "2025-10-13 10:00:00"), ("approve", "2025-10-14 10:00:00"), ("deliver", "2025-10-29 10:00:00"),
            ("complete", "2025-10-29 11:00:00")], "STEP"),
    # a second extension
    "XR": ([("accept", "2025-10-13 10:00:00"), ("extend", "2025-10-14 10:00:00", {"extend_days": 2}),
            ("extend", "2025-10-15 10:00:00", {"extend_days": 1}), ("complete", "2025-10-22 10:00:00")], "WD5"),
}


@pytest.fixture(scope="module")
def signalled(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("signalled").resolve())
    tx = [e for case, (steps, item) in SIGNAL_CASES.items() for e in case_events(case, steps, item_code=item)]
    _built(home, tx, step_limits=[
        {"item_code": "STEP", "from_event": "accept", "to_event": "approve", "limit_workdays": 2},
        {"item_code": "*", "from_event": "accept", "to_event": "approve", "limit_workdays": 30}])
    return home


def test_each_rule_signals_its_case_with_its_date(signalled):
    signals = warehouse_rows(signalled, "select * from marts.fct_timeliness_signal")
    assert {(s["case_id"], s["rule_id"], s["signal_date"].isoformat()) for s in signals} == {
        ("LN", "TL_LATE_NOTICE", "2025-10-21"), ("RN", "TL_REPEAT_NOTICE", "2025-10-16"),
        ("PR", "TL_PAUSE_REASON", "2025-10-14"), ("LO", "TL_LEGAL_OVERDUE", "2025-10-17"),
        ("SD", "TL_STEP_OVERDUE", "2025-10-16"), ("DL", "TL_LATE_DELIVERY", "2025-10-29"),
        ("XR", "TL_EXTENSION_REPEAT", "2025-10-15")}
    assert all(s["window_id"] == "W01" and s["department_id"] == "D01" and s["evidence"] for s in signals)


def test_the_counted_clock_in_fct_case(signalled):
    cases = {r["case_id"]: r for r in warehouse_rows(signalled, "select * from marts.fct_case")}
    got = {c: (str(cases[c]["clock_start_date"]), cases[c]["limit_workdays"], cases[c]["paused_workdays"],
               str(cases[c]["deadline_at"].date()), cases[c]["is_on_time"]) for c in ("LN", "RN", "PR", "PH", "XR")}
    assert got == {
        "LN": ("2025-10-09", 5, 0, "2025-10-15", False),
        "RN": ("2025-10-13", 6, 1, "2025-10-21", False),
        "PR": ("2025-10-13", 5, 0, "2025-10-20", True),
        "PH": ("2025-10-13", 7, 2, "2025-10-22", True),
        "XR": ("2025-10-13", 7, 0, "2025-10-22", True),
    }
    assert cases["LO"]["is_legal_overdue"] is True and cases["LO"]["card"] == "red"
    assert str(cases["LO"]["legal_deadline_at"]) == "2025-10-16 23:59:59"
    assert [c for c in cases if cases[c]["is_legal_overdue"]] == ["LO"]
    assert {c: cases[c]["timeliness_signals"] for c in cases} == {c: int(c not in ("PH",)) for c in cases}


def test_clock_parts_add_up_to_the_counted_clock(signalled):
    """fct_case_clock_part (what the case page explains a deadline from) agrees with fct_case."""
    parts = warehouse_rows(signalled, "select * from marts.fct_case_clock_part order by case_id, start_date, event_id")
    by_case = {}
    for p in parts:
        by_case.setdefault(p["case_id"], []).append((p["part"], p["workdays"], p["counted_workdays"], p["rule_id"]))
    assert [x for x in by_case["PR"] if x[0] == "pause_suspend"] and all(
        x[3] == "TL_PAUSE_REASON" and x[2] == 0 and x[1] > 0 for x in by_case["PR"] if x[0] == "pause_suspend"), by_case["PR"]
    assert any(x[0] == "extension" and x[3] == "TL_EXTENSION_REPEAT" and x[2] == 0 for x in by_case["XR"]), by_case["XR"]
    cases = {r["case_id"]: r for r in warehouse_rows(signalled, "select * from marts.fct_case")}
    for case_id, rows in by_case.items():
        paused = sum(c for part, _, c, _ in rows if part.startswith("pause_"))
        extended = sum(c for part, _, c, _ in rows if part == "extension")
        assert (paused, extended) == (cases[case_id]["paused_workdays"], cases[case_id]["extend_days"]), case_id


def test_monthly_legal_overdue_and_signal_cases(signalled):
    window = warehouse_rows(signalled, "select legal_overdue_cases, timeliness_signal_cases from marts.fct_window_month "
                              "where window_id = 'W01' and month = date '2025-10-01'")
    department = warehouse_rows(signalled, "select legal_overdue_cases, timeliness_signal_cases from marts.fct_department_month "
                                  "where department_id = 'D01' and month = date '2025-10-01'")
    assert window == department == [{"legal_overdue_cases": 1, "timeliness_signal_cases": 7}]

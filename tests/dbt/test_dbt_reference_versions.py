"""Reference versions (docs/rules.md#reference-versions; SPEC §3 v2 valid_from 生效日期): landing
fixtures -> real dbt builds -> fct_case, fct_window_month, fct_department_month, dim_*.

A 减时限 reform delivered for an item with valid_from changes the cases accepted from that date only;
a window moved to another department with valid_from keeps its earlier cases and months in the old
department; a row without valid_from keeps v1's meaning (the latest delivery wins, for all time).
Each build after a delivery is incremental and must equal a full build of the same landing.
"""

from __future__ import annotations

import datetime as dt

from core.paths import Home
from tests.dbt.test_dbt_incremental import _assert_equals_full_build
from tests.support.landing import ITEMS, WINDOWS, case_events, write_landing, write_reference
from tests.support.warehouse import warehouse_rows
from windowwatch.transform import build

AS_OF = "2025-10-31"
# promised 20 working days; the reform (减时限) brings it to 5 from 2025-10-09
R20 = {
    "item_code": "R20",
    "item_name": "建设工程规划许可",
    "department_id": "D01",
    "item_kind": "promised",
    "legal_limit": 20,
    "promised_limit": 20,
    "limit_unit": "workday",
    "fee_required": False,
}
REFORM = "2025-10-09"
MOVE = "2025-10-01"  # W01 moves from D01 to D02

TRANSACTIONS = (
    # accepted before the reform: on time under 20 working days, late under 5
    case_events("E1", [("accept", "2025-09-15 10:00:00"), ("complete", "2025-09-26 10:00:00")], "W01", "R20")
    + case_events("E2", [("accept", "2025-09-22 10:00:00"), ("complete", "2025-10-20 10:00:00")], "W01", "R20")
    # still open at the as-of date: green under 20 working days (deadline 2025-11-04), red under 5
    + case_events("E3", [("accept", "2025-10-03 10:00:00")], "W02", "R20")
    # accepted on and after the reform's first day: 5 working days
    + case_events("L1", [("accept", "2025-10-09 09:00:00"), ("complete", "2025-10-17 10:00:00")], "W01", "R20")
    + case_events("L2", [("accept", "2025-10-13 10:00:00"), ("complete", "2025-10-16 10:00:00")], "W01", "R20")
    + case_events("L3", [("accept", "2025-10-13 10:00:00"), ("complete", "2025-10-22 10:00:00")], "W01", "R20")
)
CASE_COLUMNS = (
    "case_id, department_id, limit_workdays, deadline_at, is_on_time, overdue_workdays, card, legal_deadline_at"
)


def _build(home: Home) -> None:
    result = build(home, as_of=AS_OF)
    assert result.success, result.summary()


def _cases(home: Home) -> dict[str, dict]:
    return {
        r["case_id"]: r for r in warehouse_rows(home, f"select {CASE_COLUMNS} from marts.fct_case order by case_id")
    }


def _window_months(home: Home) -> dict[tuple[str, str], str]:
    rows = warehouse_rows(
        home, "select month, window_id, department_id from marts.fct_window_month where window_id = 'W01'"
    )
    return {(r["month"].isoformat()[:7], r["window_id"]): r["department_id"] for r in rows}


def _department_months(home: Home) -> dict[tuple[str, str], int]:
    rows = warehouse_rows(home, "select month, department_id, cases_accepted from marts.fct_department_month")
    return {(r["month"].isoformat()[:7], r["department_id"]): r["cases_accepted"] for r in rows}


def _end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59))


def test_reform_with_valid_from_keeps_earlier_cases_and_a_moved_window_keeps_its_history(ww_home):
    home = Home(ww_home)
    write_reference(home, WINDOWS, [*ITEMS, R20])
    write_landing(home, "transactions", TRANSACTIONS)
    _build(home)
    before = _cases(home)
    # v1: 20 working days for every case of R20 (the make-up days 28 Sep and 11 Oct count)
    assert before["E1"]["deadline_at"] == _end_of("2025-10-17") and before["E1"]["is_on_time"] is True
    assert before["E2"]["deadline_at"] == _end_of("2025-10-24") and before["E2"]["is_on_time"] is True
    assert before["E3"]["card"] == "green"
    assert {c: r["department_id"] for c, r in before.items()} == {
        "E1": "D01",
        "E2": "D01",
        "E3": "D01",
        "L1": "D01",
        "L2": "D01",
        "L3": "D01",
    }
    assert _window_months(home) == {("2025-09", "W01"): "D01", ("2025-10", "W01"): "D01"}

    # the reform and the move, each delivered with valid_from (生效日期)
    write_landing(home, "items", [{**R20, "promised_limit": 5, "valid_from": REFORM}])
    moved = {**WINDOWS[0], "department_id": "D02", "department_name": "公安局", "valid_from": MOVE}
    write_landing(home, "windows", [moved])
    _build(home)
    after = _cases(home)

    # cases accepted before valid_from: deadline, verdict, overdue days and card unchanged
    for case_id in ("E1", "E2", "E3"):
        assert after[case_id] == before[case_id], case_id
    # cases accepted from valid_from on: the new limit (5 working days; the 11 Oct make-up day counts)
    assert (
        after["L1"]["limit_workdays"],
        after["L1"]["deadline_at"],
        after["L1"]["is_on_time"],
        after["L1"]["overdue_workdays"],
    ) == (5, _end_of("2025-10-15"), False, 2)
    assert (after["L2"]["limit_workdays"], after["L2"]["deadline_at"], after["L2"]["is_on_time"]) == (
        5,
        _end_of("2025-10-20"),
        True,
    )
    assert (after["L3"]["deadline_at"], after["L3"]["is_on_time"], after["L3"]["overdue_workdays"]) == (
        _end_of("2025-10-20"),
        False,
        2,
    )
    # the legal limit did not change: neither did the legal deadline
    assert all(after[c]["legal_deadline_at"] == before[c]["legal_deadline_at"] for c in after)

    # the moved window: its cases by acceptance date, its months by their first day
    assert {c: r["department_id"] for c, r in after.items()} == {
        "E1": "D01",
        "E2": "D01",
        "E3": "D01",
        "L1": "D02",
        "L2": "D02",
        "L3": "D02",
    }
    assert _window_months(home) == {("2025-09", "W01"): "D01", ("2025-10", "W01"): "D02"}
    departments = _department_months(home)
    assert departments[("2025-09", "D01")] == 2  # E1, E2 stay with D01's September
    assert departments[("2025-10", "D02")] >= 3  # L1..L3 (W03 is D02's too)
    # the dimensions show the versions in force on the as-of date
    assert warehouse_rows(home, "select department_id from marts.dim_window where window_id = 'W01'") == [
        {"department_id": "D02"}
    ]
    assert warehouse_rows(home, "select promised_limit from marts.dim_item where item_code = 'R20'") == [
        {"promised_limit": 5}
    ]
    # deterministic: the incremental build equals a full refresh of the same landing
    _assert_equals_full_build(home, AS_OF)


def test_rows_without_valid_from_keep_v1_meaning(ww_home):
    """The latest undated delivery wins for all time (v1); a dated version delivered earlier
    still applies from its date."""
    home = Home(ww_home)
    write_reference(home, WINDOWS, [*ITEMS, R20])
    write_landing(home, "transactions", TRANSACTIONS)
    write_landing(home, "items", [{**R20, "promised_limit": 10, "valid_from": REFORM}])
    write_landing(home, "items", [{**R20, "promised_limit": 5}])  # undated: every case before the reform
    _build(home)
    cases = _cases(home)
    assert {c: r["limit_workdays"] for c, r in cases.items()} == {
        "E1": 5,
        "E2": 5,
        "E3": 5,
        "L1": 10,
        "L2": 10,
        "L3": 10,
    }
    assert cases["E1"]["is_on_time"] is False
    assert warehouse_rows(
        home,
        "select item_code, version, valid_from, valid_to, promised_limit "
        "from intermediate.int_reference__item_versions where item_code = 'R20' order by version",
    ) == [
        {
            "item_code": "R20",
            "version": 1,
            "valid_from": dt.date(1900, 1, 1),
            "valid_to": dt.date(2025, 10, 9),
            "promised_limit": 5,
        },
        {
            "item_code": "R20",
            "version": 2,
            "valid_from": dt.date(2025, 10, 9),
            "valid_to": dt.date(9999, 12, 31),
            "promised_limit": 10,
        },
    ]

"""Incremental event layer (issues 3, 7): after more deliveries, an incremental build gives the
same marts as a --full-refresh build, row for row (content hash per mart).

int_cases__events_latest is the incremental model: a run reads only the deliveries it has not
seen (a constant `_delivery_id in (…)` filter), ranks their rows against the current row of the
same event_ids and replaces those (delete+insert by event_id); everything that depends on the
as-of date is rebuilt.
"""

from __future__ import annotations

import pytest

import datetime as dt
import hashlib

import duckdb

from tests.support.landing import ITEMS, case_events, event, write_dataset, write_landing
from core.paths import Home
from windowwatch.transform import build



AS_OF = "2025-10-31"
INCREMENTAL = "int_cases__events_latest"


def _mart_hashes(home: Home) -> dict[str, str]:
    """sha256 of each mart's rows, sorted on every column (order-free, exact)."""
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.sql("select table_name from information_schema.tables "
                                        "where table_schema = 'marts' order by table_name").fetchall()]
        out = {}
        for t in tables:
            df = con.sql(f'select * from marts."{t}"').pl()
            df = df.sort(df.columns, nulls_last=True)
            out[t] = hashlib.sha256(df.write_csv().encode()).hexdigest() + f" ({df.height} rows)"
        return out
    finally:
        con.close()


def _sql(home: Home, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _compiled_select(home: Home) -> str:
    """The SELECT the last build ran for the incremental model (target/compiled)."""
    return next((home.root / "dbt" / "target" / "compiled").rglob(f"models/**/{INCREMENTAL}.sql")).read_text()


def _second_delivery(home: Home) -> None:
    write_landing(home, "transactions", [
        # an open case completes
        event("K-WD5-2-9", "K-WD5-2", "complete", "2025-10-22 15:00:00", "W02"),
        # a correction of an event landed before: a later recorded_at wins (moves the completion)
        event("K-WD5-1-2", "K-WD5-1", "complete", "2025-10-10 16:00:00", recorded_at="2025-10-13 17:00:00"),
        # a stale re-send of an event with an earlier recorded_at loses
        event("K-IMM-1-3", "K-IMM-1", "complete", "2025-10-09 18:00:00", "W03", "IMM",
              recorded_at="2025-10-09 08:00:00"),
        # a new case, with a late recording (OB_BACKFILL)
        *case_events("K-NEW", [("accept", "2025-10-21 09:00:00"),
                                ("complete", "2025-10-21 10:00:00", {"recorded_at": "2025-10-23 10:00:00"})]),
        # a late event for an old, completed case: an extension granted back then (limit + 2)
        event("K-WD5-1-X", "K-WD5-1", "extend", "2025-10-01 10:00:00", extend_days=2,
              recorded_at="2025-10-20 09:00:00"),
    ])


def _third_delivery(home: Home) -> None:
    """A day later: events added to an open case, and a re-delivered update that moves an event
    to another case (the old case must lose it)."""
    write_landing(home, "transactions", [
        # the open new case K-OPEN (accepted in this delivery) and a pause on it
        *case_events("K-OPEN", [("accept", "2025-10-27 09:00:00"),
                                 ("supplement_request", "2025-10-28 09:00:00")], "W02"),
        # K-NEW's completion was keyed to the wrong case: re-delivered, later recorded_at, for K-OPEN
        event("K-NEW-2", "K-OPEN", "complete", "2025-10-30 10:00:00", "W02", recorded_at="2025-10-30 11:00:00"),
    ])


def test_incremental_build_equals_full_refresh(ww_home):
    home = Home(ww_home)
    write_dataset(home)
    first = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert first.success, first.summary()
    before = _mart_hashes(home)

    _second_delivery(home)
    incremental = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert incremental.success, incremental.summary()
    compiled = next((home.root / "dbt" / "target" / "run").rglob(f"{INCREMENTAL}.sql")).read_text()
    assert "delete from" in compiled.lower(), "the second build must run the model incrementally"
    after_incremental = _mart_hashes(home)
    # the second delivery reached the marts
    assert after_incremental["fct_case"] != before["fct_case"]
    assert _sql(home, "select status, completed_at from marts.fct_case where case_id in ('K-WD5-2', 'K-WD5-1', 'K-IMM-1') "
                      "order by case_id") == [
        ("completed", dt.datetime(2025, 10, 9, 9, 30)),
        ("completed", dt.datetime(2025, 10, 10, 16, 0)),
        ("completed", dt.datetime(2025, 10, 22, 15, 0)),
    ]
    assert _sql(home, "select count(*) from marts.fct_off_book_signal where case_id = 'K-NEW' "
                      "and rule_id = 'OB_BACKFILL'") == [(1,)]

    assert _sql(home, "select extend_days, limit_workdays from marts.fct_case where case_id = 'K-WD5-1'") == [(2, 7)]

    # the run reads only the new delivery: a constant filter on _delivery_id
    assert "_delivery_id in ('" in _compiled_select(home)
    full = build(home, as_of=AS_OF, full_refresh=True, exclude="resource_type:unit_test")
    assert full.success, full.summary()
    after_full = _mart_hashes(home)
    assert after_incremental == after_full

    # a run with no new delivery at the same as-of date changes nothing: the event table is not
    # run (windowwatch/unchanged_nodes.py). It runs without a new delivery only when something
    # else it depends on changed (the scoring file, the project): test_dbt_increment_inputs.py's
    # rounds, each compared with a full build.
    again = build(home, as_of=AS_OF)
    assert again.success, again.summary()
    assert {n.name: n.status for n in again.nodes}[INCREMENTAL] == "reused"
    assert _mart_hashes(home) == after_full

    _third_delivery(home)
    incremental = build(home, as_of=AS_OF)
    assert incremental.success, incremental.summary()
    after_incremental = _mart_hashes(home)
    assert _sql(home, "select case_id, status, completed_at, paused_workdays from marts.fct_case "
                      "where case_id in ('K-NEW', 'K-OPEN') order by case_id") == [
        ("K-NEW", "open", None, 0),
        ("K-OPEN", "completed", dt.datetime(2025, 10, 30, 10, 0), 2),
    ]
    full = build(home, as_of=AS_OF, full_refresh=True)
    assert full.success, full.summary()
    assert after_incremental == _mart_hashes(home)


def test_a_warehouse_built_by_other_model_code_is_rebuilt_in_full(ww_home):
    """An upgrade that adds a column to an incremental model (on_schema_change='fail') or changes
    how its kept rows are computed: the next build rebuilds everything, once, by itself."""
    from windowwatch.transform import model_code_fingerprint

    home = Home(ww_home)
    write_dataset(home)
    first = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert first.success, first.summary()
    marker = home.warehouse.with_name(home.warehouse.name + ".models")
    assert marker.read_text().strip() == model_code_fingerprint()
    before = _mart_hashes(home)

    # the warehouse of an older release: a column the current code adds is missing, other code built it
    con = duckdb.connect(str(home.warehouse))
    try:
        con.sql("alter table intermediate.int_cases__events_latest drop column approval_mode")
    finally:
        con.close()
    marker.write_text("0123456789abcdef\n")
    _second_delivery(home)
    upgraded = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert upgraded.success, upgraded.summary()
    assert upgraded.full_refresh_reason and "0123456789abcdef" in upgraded.full_refresh_reason
    assert "full refresh: the dbt models changed" in upgraded.summary()
    assert marker.read_text().strip() == model_code_fingerprint()
    assert _mart_hashes(home) != before

    # the same code again: incremental, nothing forced
    again = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert again.success and again.full_refresh_reason is None, again.summary()
    # nothing new since the upgrade's build: the event table is kept (windowwatch/unchanged_nodes.py)
    assert {n.name: n.status for n in again.nodes}[INCREMENTAL] == "reused"


def _assert_equals_full_refresh(home: Home, as_of: str) -> dict[str, str]:
    """Hash the marts the last (incremental) build left, rebuild with --full-refresh at the same
    as-of date, and assert every mart is the same; returns the hashes."""
    incremental = _mart_hashes(home)
    full = build(home, as_of=as_of, full_refresh=True)
    assert full.success, full.summary()
    rebuilt = _mart_hashes(home)
    assert incremental == rebuilt, {k: (incremental.get(k), rebuilt.get(k)) for k in rebuilt
                                    if incremental.get(k) != rebuilt[k]}
    return rebuilt


def test_incremental_day_and_as_of_advance_equal_full_refresh(ww_home):
    """A day touching open and closed cases, with a re-delivered correction and an event after the
    as-of date; then a build at a later as-of date with no new rows: each equals a full rebuild.
    A step limit (accept → complete in 2 working days) makes TL_STEP_OVERDUE, incremental by case,
    measure the open case to each as-of date."""
    home = Home(ww_home)
    write_dataset(home)
    write_landing(home, "step_limits", [{"item_code": "*", "from_event": "accept", "to_event": "complete", "limit_workdays": 2}])
    first = build(home, as_of="2025-10-24")
    assert first.success, first.summary()
    before = _mart_hashes(home)

    write_landing(home, "transactions", [
        # the open case K-WD5-2 (accepted Mon 10-20) is paused for a supplement: 10-23, 10-24
        event("K-WD5-2-S1", "K-WD5-2", "supplement_request", "2025-10-22 09:00:00", "W02"),
        event("K-WD5-2-S2", "K-WD5-2", "supplement_received", "2025-10-24 09:00:00", "W02"),
        # ... and completed after the as-of date: ignored until the as-of date passes it
        event("K-WD5-2-C", "K-WD5-2", "complete", "2025-10-28 10:00:00", "W02"),
        # a late pause of the closed case K-WD5-1 (completed 10-13): 10-02 -> 10-09 over National
        # Day holds one working day (10-09), so its limit becomes 5 + 1
        event("K-WD5-1-P1", "K-WD5-1", "suspend", "2025-10-02 10:00:00", recorded_at="2025-10-23 09:00:00"),
        event("K-WD5-1-P2", "K-WD5-1", "resume", "2025-10-09 10:00:00", recorded_at="2025-10-23 09:00:00"),
        # a re-delivered correction of the rejected case's accept (later recorded_at wins)
        event("K-CD10-1-1", "K-CD10-1", "accept", "2025-10-13 11:00:00", "W02", "CD10",
              recorded_at="2025-10-23 12:00:00"),
    ])
    day = build(home, as_of="2025-10-24")
    assert day.success, day.summary()
    assert _mart_hashes(home)["fct_case"] != before["fct_case"]
    assert _sql(home, "select case_id, status, paused_workdays, limit_workdays, accepted_at, card from marts.fct_case "
                      "where case_id in ('K-WD5-1', 'K-WD5-2', 'K-CD10-1') order by case_id") == [
        ("K-CD10-1", "rejected", 0, 10, dt.datetime(2025, 10, 13, 11, 0), None),
        ("K-WD5-1", "completed", 1, 6, dt.datetime(2025, 9, 29, 10, 0), None),
        ("K-WD5-2", "open", 2, 7, dt.datetime(2025, 10, 20, 10, 0), "green"),
    ]
    assert _sql(home, "select count(*) from marts.fct_case_event where event_id = 'K-WD5-2-C'") == [(0,)]
    at_day = _assert_equals_full_refresh(home, "2025-10-24")

    # the as-of date advances with no new rows: the completion of K-WD5-2 on 10-28 now counts
    later = build(home, as_of="2025-10-31")
    assert later.success, later.summary()
    status = {n.name: n.status for n in later.nodes}
    # no new delivery, and the event table does not read the as-of date: kept as it is
    # (windowwatch/unchanged_nodes.py); the models reading the date rebuild
    assert status[INCREMENTAL] == "reused" and status["stg_landing__queue_tickets"] == "reused", later.summary()
    assert status["int_timeliness__step_overdue"] == "success" and status["fct_case"] == "success"
    assert "__recompute" in _compiled(home, "int_timeliness__step_overdue"), "step overruns: only the cases in scope"
    assert _sql(home, "select status, completed_at, as_of_date from marts.fct_case where case_id = 'K-WD5-2'") == [
        ("completed", dt.datetime(2025, 10, 28, 10, 0), dt.date(2025, 10, 31))]
    assert _sql(home, "select count(*) from marts.fct_case_event where event_id = 'K-WD5-2-C'") == [(1,)]
    assert _mart_hashes(home)["fct_case"] != at_day["fct_case"]
    # K-WD5-2: wd(10-20, 10-28] = 6, minus the 2 paused days, is over the step's 2 (not yet at 10-24: 4 - 2)
    assert _sql(home, "select case_id from marts.fct_timeliness_signal where rule_id = 'TL_STEP_OVERDUE' "
                      "and case_id = 'K-WD5-2'") == [("K-WD5-2",)]
    _assert_equals_full_refresh(home, "2025-10-31")


# --- Evaluations (issue 7, Q3): stg_landing__evaluations merges only new deliveries,
# int_satisfaction__evaluations (published as fct_evaluation) rebuilds only the ids a new delivery or
# a moved as-of date can change (macros/incremental/README.md); every mart must still equal a full rebuild.

EVALUATION_MODEL = "int_satisfaction__evaluations"  # the incremental model behind fct_evaluation


def _evaluation(evaluation_id: str, case_id: str | None, rating: int, evaluated_at: str, **extra) -> dict:
    return {"evaluation_id": evaluation_id, "case_id": case_id, "window_id": extra.pop("window_id", "W01"),
            "staff_id": "SW01", "rating": rating, "channel": "pad", "evaluated_at": evaluated_at,
            "round": 1, "is_real_name": True, **extra}


def _compiled(home: Home, model: str) -> str:
    return next((home.root / "dbt" / "target" / "compiled").rglob(f"models/**/{model}.sql")).read_text()


def _full_refresh_hashes(home: Home, as_of: str) -> dict[str, str]:
    full = build(home, as_of=as_of, full_refresh=True)
    assert full.success, full.summary()
    return _mart_hashes(home)


@pytest.mark.slow  # make test-slow (CI time, session 9: see the closing note)
def test_incremental_evaluations_equal_full_refresh_across_as_of_dates(ww_home):
    home = Home(ww_home)
    write_dataset(home)
    write_landing(home, "evaluations", [
        # a bad review: its deadline (15 working days) is 2025-11-04, after the first as-of date
        _evaluation("V2", "K-WD5-1", 1, "2025-10-14 10:00:00"),
        # a bad review due 2025-10-30 (the 11 Oct make-up day counts), rectified late on 2025-11-05;
        # v2: called back on 2025-11-11, before its callback deadline 2025-11-12, both after the first as-of date
        _evaluation("V3", "K-WD5-2", 2, "2025-10-10 10:00:00", rectified_at="2025-11-05 10:00:00",
                    callback_at="2025-11-11 10:00:00", window_id="W02"),
        # evaluated after the first as-of date; OB_RUNAROUND once it is in
        _evaluation("V4", "K-WD5-2", 1, "2025-11-10 10:00:00", reason_codes="multiple_trips", window_id="W02"),
    ])
    first = build(home, as_of="2025-10-31")
    assert first.success, first.summary()
    assert _sql(home, "select evaluation_id, is_rectification_due, is_rectification_late from marts.fct_evaluation "
                      "where needs_rectification order by 1") == [("V2", False, False), ("V3", True, True)]

    write_landing(home, "evaluations", [
        # an update of V2 (later recorded_at): rectified in time, 2025-11-03
        _evaluation("V2", "K-WD5-1", 1, "2025-10-14 10:00:00", recorded_at="2025-11-03 12:00:00",
                    rectified_at="2025-11-03 11:00:00", verdict="valid"),
        # a stale re-send of V1 (earlier recorded_at) loses
        _evaluation("V1", "K-IMM-1", 1, "2025-10-09 09:35:00", recorded_at="2025-10-01 00:00:00", window_id="W03"),
        # a new bad review, never rectified
        _evaluation("V5", "K-WD5-1", 2, "2025-11-12 10:00:00"),
    ])
    incremental = build(home, as_of="2025-11-20")
    assert incremental.success, incremental.summary()
    assert "_delivery_id in ('" in _compiled(home, "stg_landing__evaluations")
    assert "scope" in _compiled(home, EVALUATION_MODEL), "the evaluations must rebuild only the ids in scope"
    after_incremental = _mart_hashes(home)
    assert _sql(home, "select evaluation_id, rating, is_rectification_due, is_rectified_on_time, is_rectification_late "
                      "from marts.fct_evaluation order by 1") == [
        ("V1", 5, False, None, False),
        ("V2", 1, True, True, False),
        ("V3", 2, True, False, False),
        ("V4", 1, False, False, False),
        ("V5", 2, False, False, False),
    ]
    assert _sql(home, "select case_id from marts.fct_off_book_signal where rule_id = 'OB_RUNAROUND'") == [("K-WD5-2",)]
    assert _sql(home, "select evaluation_id, is_callback_due, is_called_back_on_time from marts.fct_evaluation "
                      "where needs_callback order by 1") == [("V2", True, False), ("V3", True, True)]
    assert after_incremental == _full_refresh_hashes(home, "2025-11-20")

    # the as-of date moves back: evaluations after it leave, due/late flags flip back
    back = build(home, as_of="2025-10-20")
    assert back.success, back.summary()
    assert "scope" in _compiled(home, EVALUATION_MODEL)
    after_back = _mart_hashes(home)
    assert _sql(home, "select evaluation_id from marts.fct_evaluation order by 1") == [("V1",), ("V2",), ("V3",)]
    assert after_back == _full_refresh_hashes(home, "2025-10-20")

    # and forward again from the full refresh's state, with no new delivery
    forward = build(home, as_of="2025-11-20")
    assert forward.success, forward.summary()
    assert _mart_hashes(home) == after_incremental


# --- Cases (issue 7): int_cases__case_facts, int_cases__pauses, int_cases__accepted and fct_case
# rebuild only the cases a new delivery touched, whose events cross the moved as-of date, or whose
# row depends on the as-of date (not completed, open pauses); a changed calendar or reference
# rebuilds them all (macros/incremental/README.md). Compared here with a full build into another
# warehouse file, so the incremental chain goes on without a --full-refresh in between.

CASE_MODELS = ("int_cases__case_facts", "int_cases__pauses", "int_cases__accepted", "int_timeliness__step_overdue",
               "int_timeliness__notices", "int_timeliness__late_delivery")


def _hashes(warehouse, schema: str, tables) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if tables is None:
            tables = [r[0] for r in con.sql("select table_name from information_schema.tables "
                                            f"where table_schema = '{schema}' order by table_name").fetchall()]
        out = {}
        for t in tables:
            df = con.sql(f'select * from {schema}."{t}"').pl()
            df = df.sort(df.columns, nulls_last=True)
            out[f"{schema}.{t}"] = hashlib.sha256(df.write_csv().encode()).hexdigest() + f" ({df.height} rows)"
        return out
    finally:
        con.close()


def _all_hashes(warehouse) -> dict[str, str]:
    return {**_hashes(warehouse, "marts", None), **_hashes(warehouse, "intermediate", CASE_MODELS)}


def _assert_equals_full_build(home: Home, as_of: str, **build_options) -> None:
    """The marts and case tables the last (incremental) build left equal a full build of the same
    landing at the same as-of date, built into another warehouse file (`build_options`: more
    arguments of that build, e.g. the scoring file)."""
    incremental = _all_hashes(home.warehouse)
    other = home.root / "full-build.duckdb"
    other.unlink(missing_ok=True)
    full = build(home, as_of=as_of, full_refresh=True, warehouse=other, **build_options)
    assert full.success, full.summary()
    rebuilt = _all_hashes(other)
    assert incremental == rebuilt, {k: (incremental.get(k), rebuilt.get(k)) for k in rebuilt
                                    if incremental.get(k) != rebuilt[k]}


def _paused(home: Home) -> list[tuple]:
    return _sql(home, "select case_id, status, paused_workdays, limit_workdays, card from marts.fct_case "
                      "where case_id in ('K-P', 'K-R', 'K-WD5-2') order by case_id")


# In `make test` (~2 min): the proof that the incremental case models equal a full build.
@pytest.mark.slow  # make test-slow (CI time, session 9: see the closing note)
def test_incremental_cases_pauses_calendar_and_references_equal_full_build(ww_home):
    home = Home(ww_home)
    write_dataset(home)
    first = build(home, as_of="2025-10-24")
    assert first.success, first.summary()

    write_landing(home, "transactions", [
        # the open case K-WD5-2 completes on the new day
        event("K-WD5-2-C", "K-WD5-2", "complete", "2025-10-27 10:00:00", "W02"),
        # an open case with a pause still open: it runs to the as-of date
        *case_events("K-P", [("accept", "2025-10-22 09:00:00"), ("suspend", "2025-10-23 09:00:00")]),
        # a rejected case with an open pause: it runs to the as-of date too
        *case_events("K-R", [("accept", "2025-10-21 09:00:00"), ("supplement_request", "2025-10-22 09:00:00"),
                             ("reject", "2025-10-23 10:00:00")]),
    ])
    day = build(home, as_of="2025-10-27")
    assert day.success, day.summary()
    for model in (*CASE_MODELS, "fct_case"):
        assert "__recompute" in _compiled(home, model), f"{model} must rebuild only the cases in scope"
    # paused working days d with start < d <= as-of: K-P 10-24, 10-27; K-R 10-23, 10-24, 10-27
    assert _paused(home) == [("K-P", "open", 2, 7, "green"), ("K-R", "rejected", 3, 8, None),
                             ("K-WD5-2", "completed", 0, 5, None)]
    _assert_equals_full_build(home, "2025-10-27")

    # the as-of date advances with nothing new: the open pauses grow (10-28, 10-29)
    later = build(home, as_of="2025-10-29")
    assert later.success, later.summary()
    assert "__recompute" in _compiled(home, "int_cases__accepted")
    assert _paused(home) == [("K-P", "open", 4, 9, "green"), ("K-R", "rejected", 5, 10, None),
                             ("K-WD5-2", "completed", 0, 5, None)]
    _assert_equals_full_build(home, "2025-10-29")

    # a calendar delivery makes 10-28 a day off: every case is rebuilt (a stored deadline may move)
    write_landing(home, "calendar", [{"date": "2025-10-28", "is_workday": False, "note": "测试停工"}])
    calendar = build(home, as_of="2025-10-29")
    assert calendar.success, calendar.summary()
    assert "__recompute" not in _compiled(home, "int_cases__accepted"), "a changed calendar rebuilds every case"
    assert _paused(home) == [("K-P", "open", 3, 8, "green"), ("K-R", "rejected", 4, 9, None),
                             ("K-WD5-2", "completed", 0, 5, None)]
    _assert_equals_full_build(home, "2025-10-29")

    # a re-delivered item changes the promised limit of WD5: every case is rebuilt
    items = [dict(i, promised_limit=3) if i["item_code"] == "WD5" else i for i in ITEMS]
    write_landing(home, "items", items)
    reference = build(home, as_of="2025-10-29")
    assert reference.success, reference.summary()
    assert "__recompute" not in _compiled(home, "int_cases__case_facts"), "a changed item rebuilds every case"
    assert _paused(home) == [("K-P", "open", 3, 6, "green"), ("K-R", "rejected", 4, 7, None),
                             ("K-WD5-2", "completed", 0, 3, None)]
    _assert_equals_full_build(home, "2025-10-29")

    # and a quiet day after that: incremental again, still equal
    quiet = build(home, as_of="2025-10-30")
    assert quiet.success, quiet.summary()
    assert "__recompute" in _compiled(home, "fct_case")
    _assert_equals_full_build(home, "2025-10-30")

    # a warehouse built before the case models were incremental has no state: they rebuild in full
    con = duckdb.connect(str(home.warehouse))
    try:
        con.sql("drop table intermediate.int_cases__build_state")
    finally:
        con.close()
    write_landing(home, "transactions", [event("K-P-3", "K-P", "resume", "2025-10-30 09:00:00")])
    stateless = build(home, as_of="2025-10-31")
    assert stateless.success, stateless.summary()
    assert "__recompute" not in _compiled(home, "int_cases__accepted")
    assert _paused(home)[0] == ("K-P", "open", 4, 7, "yellow")
    _assert_equals_full_build(home, "2025-10-31")

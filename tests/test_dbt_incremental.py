"""Incremental event layer (issues 3, 7): after more deliveries, an incremental build gives the
same marts as a --full-refresh build, row for row (content hash per mart).

int_cases__events_latest is the incremental model: a run reads only the deliveries it has not
seen (a constant `_delivery_id in (…)` filter), ranks their rows against the current row of the
same event_ids and replaces those (delete+insert by event_id); everything that depends on the
as-of date is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb

from tests.landing_fixtures import case_events, event, write_dataset, write_landing
from windowwatch.paths import Home
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

    # a run with no new delivery merges nothing and changes nothing
    again = build(home, as_of=AS_OF)
    assert again.success, again.summary()
    assert "and false" in _compiled_select(home)
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

"""Incremental event layer (issue 3): after a second delivery, an incremental build gives the
same marts as a --full-refresh build, row for row (content hash per mart).

int_cases__events_latest is the only incremental model (delete+insert by event_id of the events
that occur in deliveries it has not seen); everything that depends on the as-of date is rebuilt.
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

    full = build(home, as_of=AS_OF, full_refresh=True, exclude="resource_type:unit_test")
    assert full.success, full.summary()
    after_full = _mart_hashes(home)
    assert after_incremental == after_full

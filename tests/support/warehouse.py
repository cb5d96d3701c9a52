"""Reading a built warehouse in tests: the rows of a query as dicts, read-only."""

from __future__ import annotations

import duckdb

from core.paths import Home


def warehouse_rows(home: Home, sql: str) -> list[dict]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        rel = con.sql(sql)
        return [dict(zip(rel.columns, r)) for r in rel.fetchall()]
    finally:
        con.close()

"""The two pools of 一单两库, read from the published snapshot (never from the work warehouse).

- object pool: marts.fct_case filtered by the plan's population, with each case's stratum;
  plus the risk flags of the population month's windows (fct_window_month).
- inspector pool: marts.dim_inspector of the same snapshot (the `inspectors` feed, latest row
  per inspector_id, built by dbt), so a draw is a function of one snapshot file. `active` null
  counts as active (the 名录库 lists serving inspectors; only an explicit false retires one).
  A snapshot without dim_inspector cannot be drawn from (PoolError); verify re-derives an old
  draw from such a snapshot with an empty inspector pool and compares only the case pool.
Every user value reaches SQL as a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from core.paths import Home
from windowwatch.audit.hashing import file_sha256
from windowwatch.audit.plan import Plan
from windowwatch.snapshot import NoSnapshot, current_snapshot


class PoolError(NoSnapshot):
    """The published snapshot lacks a pool (the CLI reports it like a missing snapshot)."""


@dataclass
class Pools:
    cases: list[dict[str, Any]]  # case_id, stratum, window_id, department_id
    inspectors: list[dict[str, Any]]  # inspector_id, department_id, active
    boosted_windows: dict[str, dict[str, Any]]  # window_id -> {bottom, off_book, multiplier}
    snapshot: dict[str, str]  # file, sha256

    def as_log(self) -> dict[str, Any]:
        return {"cases": self.cases, "inspectors": self.inspectors, "boosted_windows": self.boosted_windows}


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = (int(x) for x in month.split("-"))
    start = dt.date(y, m, 1)
    end = dt.date(y + (m == 12), m % 12 + 1, 1)
    return start, end


def open_snapshot(h: Home | None = None) -> tuple[duckdb.DuckDBPyConnection, Path]:
    path = current_snapshot(h)
    return duckdb.connect(str(path), read_only=True), path


def snapshot_identity(path: Path) -> dict[str, str]:
    return {"file": path.name, "sha256": file_sha256(path)}


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _rows(con, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def read_case_pool(con, plan: Plan) -> list[dict[str, Any]]:
    pop = plan.population
    start, end = month_bounds(pop.month)
    # completed cases by completion month, other statuses by acceptance month (docs/rules.md)
    time_col = "completed_at" if pop.status == "completed" else "accepted_at"
    sql = (
        "select case_id, window_id, department_id from marts.fct_case "
        f"where status = ? and {time_col} >= ? and {time_col} < ?"
    )
    params: list[Any] = [pop.status, start, end]
    for col, values in (
        ("department_id", pop.department_ids),
        ("window_id", pop.window_ids),
        ("item_code", pop.item_codes),
    ):
        if values:
            sql += f" and {col} in ({', '.join('?' for _ in values)})"
            params.extend(values)
    sql += " order by case_id"
    rows = _rows(con, sql, params)
    for r in rows:
        r["stratum"] = "all" if plan.strata == "none" else r[plan.strata]
    return [{"case_id": r["case_id"], "stratum": r["stratum"], "window_id": r["window_id"],
             "department_id": r["department_id"]} for r in rows]


def read_boosted_windows(con, plan: Plan) -> dict[str, dict[str, Any]]:
    boost = plan.risk_boost
    if boost is None or (boost.bottom_windows == 1 and boost.off_book_windows == 1):
        return {}
    start, _ = month_bounds(plan.population.month)
    rows = _rows(
        con,
        "select window_id, coalesce(is_bottom, false) as bottom, coalesce(off_book_cases, 0) > 0 as off_book "
        "from marts.fct_window_month where month = ? order by window_id",
        [start],
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        m = 1.0
        if r["bottom"]:
            m *= boost.bottom_windows
        if r["off_book"]:
            m *= boost.off_book_windows
        if m > 1:
            out[r["window_id"]] = {"bottom": bool(r["bottom"]), "off_book": bool(r["off_book"]), "multiplier": m}
    return out


def read_inspector_pool(con, path: Path) -> list[dict[str, Any]]:
    if not _has_table(con, "marts", "dim_inspector"):
        raise PoolError(
            f"{path}: the published snapshot has no marts.dim_inspector (the inspector pool 名录库): "
            "deliver the `inspectors` feed, run the pipeline (`windowwatch run`) so a new snapshot is "
            "published, then draw again"
        )
    rows = _rows(con, "select inspector_id, inspector_name, department_id, active from marts.dim_inspector", [])
    out = []
    for r in sorted(rows, key=lambda r: r["inspector_id"]):
        out.append(
            {
                "inspector_id": r["inspector_id"],
                "department_id": r["department_id"],
                "active": r["active"] is not False,
            }
        )
    return out


def read_pools(plan: Plan, h: Home | None = None, snapshot: Path | None = None) -> Pools:
    """The pools of the current snapshot (or of a given snapshot file, for re-derivation)."""
    if snapshot is None:
        con, path = open_snapshot(h)
    else:
        con, path = duckdb.connect(str(snapshot), read_only=True), snapshot
    try:
        cases = read_case_pool(con, plan)
        boosted = read_boosted_windows(con, plan)
        try:
            inspectors = read_inspector_pool(con, path)
        except PoolError:
            if snapshot is None:  # a new draw needs the inspector pool
                raise
            inspectors = []  # re-deriving a draw made before snapshots carried dim_inspector
    finally:
        con.close()
    return Pools(cases=cases, inspectors=inspectors, boosted_windows=boosted, snapshot=snapshot_identity(path))


def snapshot_has_inspectors(snapshot: Path) -> bool:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return _has_table(con, "marts", "dim_inspector")
    finally:
        con.close()


def read_evaluation_pool(month: str, h: Home | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Evaluations for the callback draw: id, window, rating. On a snapshot with the SPEC §4.4 v2 columns
    (needs_callback, callback_deadline, is_default), the month's evaluations (by evaluated_at) and the
    real-name bad reviews whose callback deadline falls in the month, each with is_default,
    needs_callback, callback_deadline (text) and in_month (evaluated in the month); before v2, the
    month's evaluations only (windowwatch/audit/callback.py)."""
    con, path = open_snapshot(h)
    start, end = month_bounds(month)
    try:
        have = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_evaluation'").fetchall()}
        if {"needs_callback", "callback_deadline", "is_default"} <= have:
            rows = _rows(
                con,
                "select evaluation_id, window_id, cast(rating as integer) as rating, coalesce(is_default, false) "
                "as is_default, coalesce(needs_callback, false) as needs_callback, "
                "strftime(callback_deadline, '%Y-%m-%d %H:%M:%S') as callback_deadline, "
                "(evaluated_at >= ? and evaluated_at < ?) as in_month from marts.fct_evaluation "
                "where (evaluated_at >= ? and evaluated_at < ?) "
                "or (needs_callback and callback_deadline >= ? and callback_deadline < ?) order by evaluation_id",
                [start, end] * 3,
            )
            return rows, snapshot_identity(path)
        rows = _rows(
            con,
            "select evaluation_id, window_id, cast(rating as integer) as rating from marts.fct_evaluation "
            "where evaluated_at >= ? and evaluated_at < ? order by evaluation_id",
            [start, end],
        )
    finally:
        con.close()
    return rows, snapshot_identity(path)

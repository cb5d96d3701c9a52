"""What a monthly publication freezes (docs/rules.md), read from the published snapshot.

The *content* of a version — the month's fct_window_month rows (with window and centre names from
dim_window; the department is the month's, fct_window_month.department_id, named as it was named on
the month's first day when the snapshot holds the window versions, else by its current name), its fct_department_month rows and the scoring file in force —
is what its content hash covers. The data watermark (the snapshot's as-of date and latest
event time) is stored with the version but is not content: a later daily run that leaves the
month unchanged must not create a new version.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

import duckdb

from core.config import load_scoring
from core.paths import Home
from windowwatch.audit.hashing import H, canonical_json
from windowwatch.snapshot import current_snapshot, scoring_copy


class ReportError(RuntimeError):
    pass


# Columns that move with every daily run without being a change of the month's ranking: they
# belong to the watermark, not to the frozen content.
VOLATILE = frozenset({"as_of_date"})


def _json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _rows(con, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [{c: _json_value(v) for c, v in zip(cols, r)} for r in cur.fetchall()]


def _columns(con, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
            "order by ordinal_position",
            [table],
        ).fetchall()
    ]


def month_start(month: str) -> dt.date:
    y, m = (int(x) for x in month.split("-"))
    return dt.date(y, m, 1)


def snapshot_scoring_file(snapshot: Path) -> Path | None:
    """The scoring file the snapshot was computed with (kept beside it at publish), else None:
    the file in force (a snapshot published before copies were kept; `publish_month` checks its
    hash against the snapshot's)."""
    copy = scoring_copy(snapshot)
    return copy if copy.is_file() else None


def _window_versions(con) -> bool:
    """Whether the snapshot holds the window versions with their department names
    (intermediate.int_reference__window_versions; not in a snapshot built before versions existed)."""
    cols = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'intermediate' "
            "and table_name = 'int_reference__window_versions'"
        ).fetchall()
    }
    return {"window_id", "department_id", "department_name", "valid_from", "valid_to"} <= cols


def _month_department_name(f: str, v: str | None) -> str:
    """SQL of the department name of window-month row `f`: the name its department had in the window
    version in force on the month's first day (`v`, joined on the month's department), else the
    department's current name in dim_window."""
    current = f"(select min(d.department_name) from marts.dim_window d where d.department_id = {f}.department_id)"
    return f"coalesce({v}.department_name, {current}) as department_name" if v else f"{current} as department_name"


def read_month(month: str, h: Home | None = None) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """(content, watermark, snapshot path) of the month."""
    path = current_snapshot(h)
    start = month_start(month)
    con = duckdb.connect(str(path), read_only=True)
    try:
        dim_cols = set(_columns(con, "dim_window"))
        fact_cols = [c for c in _columns(con, "fct_window_month") if c not in VOLATILE]
        names = [
            c for c in ("window_name", "department_name", "center_id", "center_name")
            if c in dim_cols and c not in fact_cols
        ]
        versions = _window_versions(con)
        month_dept = "department_name" in names and "department_id" in fact_cols
        sel = ", ".join(
            [f'f."{c}"' for c in fact_cols]
            + [_month_department_name("f", "v" if versions else None) if c == "department_name" and month_dept
               else f"w.{c}" for c in names]
        )
        # the window's department is the month's (fct_window_month.department_id, the version in force on
        # the month's first day), named as it was named then (docs/rules.md#reference-versions)
        version_join = (
            "left join intermediate.int_reference__window_versions v on v.window_id = f.window_id "
            "and v.department_id = f.department_id and v.valid_from <= f.month and f.month < v.valid_to "
            if versions and month_dept else ""
        )
        windows = _rows(
            con,
            f"select {sel} from marts.fct_window_month f "
            f"left join marts.dim_window w on w.window_id = f.window_id {version_join}where f.month = ? "
            "order by f.rank nulls last, f.score desc nulls last, f.window_id",
            [start],
        )
        if not windows:
            raise ReportError(
                f"{path.name}: marts.fct_window_month has no rows for {month}: run the pipeline "
                "(`windowwatch run`) for that month before publishing"
            )
        dept_names = ""
        if {"department_id", "department_name"} <= dim_cols:
            current = "(select min(w.department_name) from marts.dim_window w where w.department_id = d.department_id)"
            dept_names = f", {current} as department_name"
            if versions:  # the name the department had on the month's first day, else today's
                dept_names = (
                    ", coalesce((select min(v.department_name) from intermediate.int_reference__window_versions v "
                    "where v.department_id = d.department_id and v.valid_from <= d.month and d.month < v.valid_to), "
                    f"{current}) as department_name"
                )
        dept_cols = ", ".join(f'd."{c}"' for c in _columns(con, "fct_department_month") if c not in VOLATILE)
        departments = _rows(
            con,
            f"select {dept_cols}{dept_names} from marts.fct_department_month d where d.month = ? "
            "order by d.department_id",
            [start],
        )
        wm = con.execute(
            "select max(as_of_date), max(greatest(accepted_at, coalesce(completed_at, accepted_at))) from marts.fct_case"
        ).fetchone()
        extras = _month_extras(con, start)
    finally:
        con.close()
    for r in departments:
        r.setdefault("department_name", None)
    scoring = load_scoring(snapshot_scoring_file(path))
    content = {
        "month": month,
        "windows": windows,
        "departments": departments,
        "scoring": scoring.model_dump(mode="json"),
        **extras,
    }
    watermark = {"as_of_date": _json_value(wm[0]), "max_event_time": _json_value(wm[1])}
    return content, watermark, path


def _month_extras(con, start: dt.date) -> dict[str, Any]:
    """What the 通报 states beside the window rows, from the snapshot's marts when it has them (a
    snapshot published before a mart existed gives nothing, so its content is unchanged):
    - satisfaction_loop: the month's 好差评 follow-up counts (SPEC v2 §4.4; by the month of each
      deadline, as fct_window_month's rates);
    - deductions: points per window and source (SPEC v2 §4.6, fct_window_deduction), when any;
    - adjustments: the month's window adjustment proposals ≠ 0 (SPEC v2 §4.10, fct_window_adjustment), when any."""
    out: dict[str, Any] = {}
    if {"is_verification_due", "is_callback_due", "is_default", "is_overturned", "evaluated_month",
            "verification_month", "callback_month"} <= set(_columns(con, "fct_evaluation")):
        row = con.execute(
            "select count(*) filter (where evaluated_month = $1 and is_default), "
            "count(*) filter (where evaluated_month = $1 and is_overturned), "
            "count(*) filter (where verification_month = $1 and is_verification_due), "
            "count(*) filter (where verification_month = $1 and is_verification_due and is_verified_on_time), "
            "count(*) filter (where callback_month = $1 and is_callback_due), "
            "count(*) filter (where callback_month = $1 and is_callback_due and is_called_back_on_time) "
            "from marts.fct_evaluation", [start]).fetchone()
        out["satisfaction_loop"] = dict(zip(
            ("default_ratings", "appeals_overturned", "verification_due", "verified_on_time", "callback_due",
             "called_back_on_time"), row))
    if _columns(con, "fct_window_deduction"):
        deductions = _rows(con, "select window_id, source, count(*) as items, sum(points) as points "
                                "from marts.fct_window_deduction where month = ? group by window_id, source "
                                "order by window_id, source", [start])
        if deductions:
            out["deductions"] = deductions
    if _columns(con, "fct_window_adjustment"):
        adjustments = _rows(con, "select business_type, current_windows, tickets, p90_wait_minutes, served_per_window_hour, "
                                 "proposal, evidence from marts.fct_window_adjustment "
                                 "where month = ? and proposal <> 0 order by proposal desc, business_type", [start])
        if adjustments:
            out["adjustments"] = adjustments
    return out


def content_hash(content: dict[str, Any]) -> str:
    return H(canonical_json(content))

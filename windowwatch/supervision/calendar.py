"""Working days for the supervision deadlines, from the published snapshot's `marts.dim_date`.

One working-day definition: the one dbt built into the snapshot (official calendar, overridden by
the `calendar` feed, docs/rules.md#working-days). A date the snapshot's dim_date does not hold is
taken as SPEC §4.1 takes it — a working day iff Monday–Friday — and the result says it assumed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

END_OF_DAY = dt.time(23, 59, 59)


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime  # the end (23:59:59) of the n-th working day after the start day
    assumed: bool  # some day beyond the snapshot's calendar was assumed Monday–Friday


def nth_workday_after(snapshot: Path, start: dt.date, n: int) -> Deadline:
    """The end of the n-th working day after `start` (the start day itself not counted)."""
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = con.execute(
            "select date from marts.dim_date where date > ? and is_workday order by date limit ?", [start, n]
        ).fetchall()
        last_known = con.execute("select max(date) from marts.dim_date").fetchall()[0][0]
    finally:
        con.close()
    days = [r[0] for r in rows]
    if len(days) == n:
        return Deadline(dt.datetime.combine(days[-1], END_OF_DAY), assumed=False)
    d = max(start, last_known) if last_known else start
    while len(days) < n:  # beyond the calendar the snapshot holds: SPEC §4.1's Monday–Friday rule
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return Deadline(dt.datetime.combine(days[-1], END_OF_DAY), assumed=True)

"""Monthly supervision figures per department (SPEC §4.11: "items opened, acknowledged on time,
rectified on time, escalated, open at month end"), computed from the store.

For a month M and each department (the item's department_id):

    opened            items whose opened_at falls in M
    ack_due           items whose reply_by falls in M (the reply-by month, as the late-acknowledgement
                      deduction counts them, SPEC §4.6)
    ack_on_time       of those, acknowledged on or before the reply_by date
    fix_due           items whose fix_by falls in M
    fix_on_time       of those, rectified on or before the fix_by date
    escalated         items with an escalation (by hand or by sync) in M, counted once each
    open_at_month_end items opened before M ended whose last transition before M ended does not
                      leave them closed (from the transitions, so a later close does not change a
                      past month)

Deadlines and acknowledgement times are the item's current ones (a reopened item starts over).

The published figures are the warehouse's (SPEC §4.11: the store is exported at the start of each
run and dbt computes them — int_supervision__window_month / __department_month, the deadline rule
in macros/supervision.sql; docs/rules.md#supervision-marts): they are the source of truth. This
module counts opened, ack_on_time and escalated by the same rule from the live store, for the 督办
page between runs; tests/windowwatch/supervision/test_export.py checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from windowwatch.supervision.model import CLOSED, ESCALATED, items, transitions
from windowwatch.supervision.store import Store

FIELDS = ("opened", "ack_due", "ack_on_time", "fix_due", "fix_on_time", "escalated", "open_at_month_end")


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(month.year, month.month, 1)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, end


def _by_deadline_date(done_at: dt.datetime | None, deadline: dt.datetime) -> bool:
    """Done on or before the deadline's date (macros/supervision.sql: "after its reply-by date" is late)."""
    return done_at is not None and done_at.date() <= deadline.date()


def monthly_by_department(store: Store, month: dt.date, department_id: str | None = None) -> list[dict]:
    """One dict per department with any figure in `month` (FIELDS, plus department_id), sorted by
    department; `department_id` limits it to one department (the department role)."""
    start, end = month_bounds(month)
    out: dict[str | None, dict] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    cond = [items.c.opened_at < end]
    if department_id is not None:
        cond.append(items.c.department_id == department_id)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(items.c.item_id, items.c.department_id, items.c.opened_at, items.c.reply_by,
                                      items.c.acknowledged_at, items.c.fix_by, items.c.rectified_at)
                            .where(*cond)).mappings().all()
        dept_of = {r["item_id"]: r["department_id"] for r in rows}
        last_state: dict[int, tuple[int, str]] = {}
        escalated: set[int] = set()
        for item_id, seq, at, to_state in conn.execute(
                sa.select(transitions.c.item_id, transitions.c.seq, transitions.c.at, transitions.c.to_state)
                .join(items, items.c.item_id == transitions.c.item_id).where(*cond, transitions.c.at < end)):
            if item_id not in last_state or seq > last_state[item_id][0]:
                last_state[item_id] = (seq, to_state)
            if to_state == ESCALATED and at >= start:
                escalated.add(item_id)
    for r in rows:
        d = out[r["department_id"]]
        if r["opened_at"] >= start:
            d["opened"] += 1
        if r["reply_by"] is not None and start <= r["reply_by"] < end:
            d["ack_due"] += 1
            if _by_deadline_date(r["acknowledged_at"], r["reply_by"]):
                d["ack_on_time"] += 1
        if r["fix_by"] is not None and start <= r["fix_by"] < end:
            d["fix_due"] += 1
            if _by_deadline_date(r["rectified_at"], r["fix_by"]):
                d["fix_on_time"] += 1
        state = last_state.get(r["item_id"], (0, None))[1]
        if state is not None and state != CLOSED:
            d["open_at_month_end"] += 1
    for item_id in escalated:
        out[dept_of[item_id]]["escalated"] += 1
    return [{"department_id": k, **v} for k, v in sorted(out.items(), key=lambda kv: str(kv[0] or ""))
            if any(v.values())]

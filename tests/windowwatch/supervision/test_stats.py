"""Monthly supervision figures per department (SPEC §4.11), from the store's items and transitions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from windowwatch.supervision.model import items
from windowwatch.supervision.stats import monthly_by_department
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import act, actor_for

NOW = dt.datetime(2026, 10, 21, 9, 0)


def _ids(sup, department: str, n: int) -> list[int]:
    with sup.store.engine.connect() as conn:
        return list(conn.execute(sa.select(items.c.item_id).where(items.c.department_id == department,
                                                                    items.c.state == "open")
                                 .order_by(items.c.item_id).limit(n)).scalars())


def _opened(sup) -> dict[str, int]:
    with sup.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(items.c.department_id, sa.func.count()).group_by(items.c.department_id)).all())


def test_monthly_figures_per_department(sup):
    sync(sup.store, now=NOW, send=False)
    insp, d01 = actor_for("insp", sup.home), actor_for("d01", sup.home)
    on_time, late, closed = _ids(sup, "D01", 3)
    for i in (on_time, late, closed):
        act(sup.store, i, "notify", insp, "督办", now=NOW)
    # on time: acknowledged and rectified the same day; late: acknowledged after its reply-by
    act(sup.store, on_time, "acknowledge", d01, "原因与计划", now=NOW + dt.timedelta(hours=2))
    act(sup.store, on_time, "rectify", d01, "已整改", now=NOW + dt.timedelta(hours=3))
    act(sup.store, late, "acknowledge", d01, "迟到的回告", now=NOW + dt.timedelta(days=6))
    act(sup.store, closed, "escalate", insp, "拒不回告", now=NOW + dt.timedelta(days=1))
    act(sup.store, closed, "close", insp, "已移送纪检", "handled", now=NOW + dt.timedelta(days=2))
    # a close in November does not change October's open-at-month-end
    act(sup.store, on_time, "close", insp, "整改到位", "rectified", now=dt.datetime(2026, 11, 2, 10))

    october = {r["department_id"]: r for r in monthly_by_department(sup.store, dt.date(2026, 10, 1))}
    opened = _opened(sup)
    d = october["D01"]
    assert d["opened"] == opened["D01"]
    assert d["ack_due"] == 3 and d["ack_on_time"] == 1  # reply-by 2026-10-23 for all three
    assert d["fix_due"] == 3 and d["fix_on_time"] == 1
    legal = sum(1 for r in _all(sup) if r["department_id"] == "D01" and r["kind"] == "legal_overdue")
    assert d["escalated"] == 1 + legal  # by hand, plus the legal-overdue items that start escalated
    assert d["open_at_month_end"] == opened["D01"] - 1  # only `closed` was closed by October's end
    assert october["D02"]["ack_due"] == 0 and october["D02"]["open_at_month_end"] == opened["D02"]

    november = {r["department_id"]: r for r in monthly_by_department(sup.store, dt.date(2026, 11, 1))}
    assert november["D01"]["opened"] == 0 and november["D01"]["open_at_month_end"] == opened["D01"] - 2
    assert monthly_by_department(sup.store, dt.date(2026, 9, 1)) == []
    only = monthly_by_department(sup.store, dt.date(2026, 10, 1), department_id="D02")
    assert [r["department_id"] for r in only] == ["D02"]


def _all(sup) -> list[dict]:
    with sup.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(items)).mappings()]

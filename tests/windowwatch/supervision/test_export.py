"""The supervision store exported to landing at the start of a run (windowwatch/supervision/export.py) and
the 督办 marts dbt builds from it (SPEC §4.11, §4.6, §5; docs/rules.md#supervision-marts): a real store on
SQLite and on a real PostgreSQL, items walked through the real workflow, a real dbt build into the home."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from core.paths import Home
from tests.support.supervision import query
from windowwatch.pipeline import step_supervision_export
from windowwatch.runs import RunRecord
from windowwatch.supervision.export import export, export_path
from windowwatch.supervision.model import items, transitions
from windowwatch.supervision.stats import monthly_by_department
from windowwatch.supervision.store import StoreError, open_store
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import act, actor_for
from windowwatch.transform import build

NOW = dt.datetime(2026, 10, 21, 9, 0)  # a Wednesday: reply-by 2026-10-23 (2 working days)
AS_OF = "2026-11-05"
SELECT = ["+fct_supervision_item", "+fct_supervision_transition", "+int_supervision__window_month",
          "+int_supervision__department_month", "+int_scoring__deductions_late_ack"]
PHONE = "13912345678"


def _open_ids(store, department: str, n: int) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(items.c.item_id).where(items.c.department_id == department,
                                                                    items.c.state == "open", items.c.window_id.isnot(None))
                                 .order_by(items.c.item_id).limit(n)).scalars())


def _walk(sup) -> dict[str, int]:
    """Items through the workflow: one acknowledged on time, one a day after its reply-by date, one never
    (escalated, then closed), one acknowledged on its reply-by day in the evening."""
    sync(sup.store, now=NOW, send=False)
    insp, d01 = actor_for("insp", sup.home), actor_for("d01", sup.home)
    on_time, late, never, evening = _open_ids(sup.store, "D01", 4)
    for i in (on_time, late, never, evening):
        act(sup.store, i, "notify", insp, "督办", now=NOW)
    act(sup.store, on_time, "acknowledge", d01, f"原因与计划，联系电话 {PHONE}", now=NOW + dt.timedelta(hours=2))
    act(sup.store, late, "acknowledge", d01, "迟到的回告", now=dt.datetime(2026, 10, 24, 8, 30))
    act(sup.store, evening, "acknowledge", d01, "当天晚上回告", now=dt.datetime(2026, 10, 23, 23, 50))
    act(sup.store, never, "escalate", insp, "拒不回告", now=NOW + dt.timedelta(days=1))
    act(sup.store, never, "close", insp, "已移送纪检", "handled", now=dt.datetime(2026, 11, 2, 10))
    return {"on_time": on_time, "late": late, "never": never, "evening": evening}


def _q(warehouse, sql: str) -> list[tuple]:
    return query(warehouse, sql)


def _store_rows(store, table) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_marts_agree_with_the_store_and_its_monthly_figures(sup):
    ids = _walk(sup)
    counts = step_supervision_export(sup.home, "manual__export-1")
    store_items, store_transitions = _store_rows(sup.store, items), _store_rows(sup.store, transitions)
    assert counts["items"] == len(store_items) > 4 and counts["transitions"] == len(store_transitions)

    # idempotent: a second export of the same store rewrites nothing, the files keep their bytes
    before = {n: export_path(sup.home, n).read_bytes() for n in ("items", "transitions")}
    again = export(sup.store)
    assert again.written == [] and (again.rows["items"], again.rows["transitions"]) == (len(store_items),
                                                                                       len(store_transitions))
    assert {n: export_path(sup.home, n).read_bytes() for n in before} == before
    # no trigger evidence, no outbox leaves the store; staff's notes are scrubbed of phone numbers
    exported = pl.read_parquet(export_path(sup.home, "items"))
    assert "evidence" not in exported.columns and exported.height == len(store_items)
    notes = pl.read_parquet(export_path(sup.home, "transitions"))["note"].to_list()
    assert not any(PHONE in (n or "") for n in notes) and any("[已脱敏]" in (n or "") for n in notes)

    result = build(sup.home, as_of=AS_OF, select=SELECT)
    assert result.success, result.summary()
    wh = result.warehouse

    mart = {r[0]: r[1:] for r in _q(wh, "select item_id, state, window_id, acknowledged_at, is_acknowledged_on_time "
                                        "from marts.fct_supervision_item")}
    assert {i["item_id"]: (i["state"], i["window_id"], i["acknowledged_at"]) for i in store_items} == {
        k: v[:3] for k, v in mart.items()}
    assert mart[ids["on_time"]][3] is True and mart[ids["evening"]][3] is True  # on the reply-by day: on time
    assert mart[ids["late"]][3] is False and mart[ids["never"]][3] is False
    (n_transitions, n_scrubbed), = _q(wh, "select count(*), count(*) filter (where note like '%[已脱敏]%') "
                                         "from marts.fct_supervision_transition")
    assert n_transitions == len(store_transitions) and n_scrubbed == 1

    # the monthly figures per department are stats.monthly_by_department's (the 督办 page)
    for month in (dt.date(2026, 10, 1), dt.date(2026, 11, 1)):
        stats = {r["department_id"]: (r["opened"], r["ack_on_time"], r["escalated"])
                 for r in monthly_by_department(sup.store, month) if r["department_id"] is not None
                 and (r["opened"] or r["ack_on_time"] or r["escalated"])}
        marts = {r[0]: r[1:] for r in _q(wh, "select department_id, supervision_items_opened, "
                                             "supervision_acknowledged_on_time, supervision_escalated "
                                             f"from intermediate.int_supervision__department_month where month = '{month}'")}
        assert marts == stats, month
    october = {r[0]: r[1:] for r in _q(wh, "select department_id, supervision_items_opened, "
                                           "supervision_acknowledged_on_time from "
                                           "intermediate.int_supervision__department_month where month = '2026-10-01'")}
    assert october["D01"][1] == 2  # on time, and on the evening of the reply-by day

    # per window: the same counts by the item's window
    by_window: dict[str, int] = {}
    for i in store_items:
        if i["window_id"] is not None:
            by_window[i["window_id"]] = by_window.get(i["window_id"], 0) + 1
    assert dict(_q(wh, "select window_id, sum(supervision_items_opened) from intermediate.int_supervision__window_month "
                       "group by window_id")) == by_window

    # late acknowledgement: one deduction per late item of a window, in the reply-by month
    deductions = {r[0]: r[1:] for r in _q(wh, "select ref_id, month, window_id, points, reason "
                                              "from intermediate.int_scoring__deductions_late_ack")}
    assert set(deductions) == {str(ids["late"]), str(ids["never"])}
    late = deductions[str(ids["late"])]
    assert late[0] == dt.date(2026, 10, 1) and late[2] == 1.0
    assert late[3] == f"督办 #{ids['late']} 回告期限 2026-10-23，10-24 回告（逾期）"
    assert deductions[str(ids["never"])][3] == f"督办 #{ids['never']} 回告期限 2026-10-23，逾期未回告"

    # a change in the store is exported on the next run
    act(sup.store, ids["late"], "rectify", actor_for("d01", sup.home), "已整改", now=dt.datetime(2026, 11, 3, 9))
    assert set(export(sup.store).written) == {"items", "transitions"}


def test_a_fresh_store_exports_empty_files_and_the_build_succeeds(ww_home, monkeypatch):
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    h = Home(ww_home)
    counts = step_supervision_export(h, "manual__fresh")
    assert counts["items"] == counts["transitions"] == 0 and counts["files_rewritten"] >= 2
    assert RunRecord(h, "manual__fresh").read_step("supervision_export")["status"] == "succeeded"
    assert export_path(h, "items").is_file() and export_path(h, "transitions").is_file()
    assert pl.read_parquet(export_path(h, "transitions")).columns[:4] == ["item_id", "seq", "actor", "transitioned_at"]
    result = build(h, as_of=AS_OF, select=SELECT)
    assert result.success, result.summary()
    assert _q(result.warehouse, "select (select count(*) from marts.fct_supervision_item), "
                                "(select count(*) from marts.fct_supervision_transition), "
                                "(select count(*) from intermediate.int_scoring__deductions_late_ack)") == [(0, 0, 0)]
    store = open_store(h)
    try:  # the files a build writes for a home that never exported have the export's very schema
        assert export(store).written == []
    finally:
        store.dispose()


def test_a_store_that_cannot_be_read_fails_the_step_and_keeps_the_last_export(ww_home, monkeypatch):
    """The DAG's dbt build waits for the export: a failed one is recorded, and the files of the last
    export stay as they were (no half-written snapshot)."""

    h = Home(ww_home)
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    step_supervision_export(h, "manual__first")
    before = export_path(h, "items").read_bytes()
    monkeypatch.setenv("WINDOWWATCH_SUPERVISION_URL", "postgresql+psycopg://u:fakepw@127.0.0.1:1/nope")
    with pytest.raises(StoreError):
        step_supervision_export(h, "manual__second")
    step = RunRecord(h, "manual__second").read_step("supervision_export")
    assert step["status"] == "failed" and "cannot open it" in step["reason"] and "fakepw" not in step["reason"]
    assert export_path(h, "items").read_bytes() == before
    assert not list(export_path(h, "items").parent.glob(".*.tmp"))

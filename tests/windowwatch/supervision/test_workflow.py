"""The transitions of a supervision item with their role checks, optimistic concurrency, the
reply-by date in working days and the audit log (SPEC §4.11, §8). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from tests.support.dashboard_snapshot import add_workdays
from windowwatch.audit.log import AuditLog
from windowwatch.supervision.model import outbox
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import Refused, Stale, act, actor_for, get_item, history

NOW = dt.datetime(2026, 10, 21, 9, 0)


def _item(sup, kind="red_card", department="D01") -> dict:
    sync(sup.store, now=NOW, send=False)
    with sup.store.engine.connect() as conn:
        from windowwatch.supervision.model import items

        row = conn.execute(sa.select(items).where(items.c.kind == kind, items.c.department_id == department)
                           .order_by(items.c.item_id)).mappings().first()
    return dict(row)


def _as(sup, name):
    return actor_for(name, sup.home)


def test_the_whole_way_from_open_to_closed(sup):
    item = _item(sup)
    i = item["item_id"]
    assert item["state"] == "open" and item["version"] == 1
    t = NOW + dt.timedelta(hours=1)
    a = act(sup.store, i, "notify", _as(sup, "insp"), "请核查超期原因", now=t)
    assert a["state"] == "notified" and a["version"] == 2
    assert a["reply_by"] == dt.datetime.combine(add_workdays(t.date(), 2), dt.time(23, 59, 59))
    assert a["fix_by"] == dt.datetime.combine(add_workdays(t.date(), 5), dt.time(23, 59, 59))
    a = act(sup.store, i, "acknowledge", _as(sup, "d01"), "原因：系统故障；计划：本周内补办", now=t + dt.timedelta(hours=2))
    assert a["state"] == "acknowledged"
    a = act(sup.store, i, "rectify", _as(sup, "d01"), "已办结并通报窗口人员", now=t + dt.timedelta(days=1))
    assert a["state"] == "rectified"
    a = act(sup.store, i, "close", _as(sup, "insp"), "核实整改到位", "rectified", now=t + dt.timedelta(days=2))
    assert a["state"] == "closed" and a["close_reason"] == "rectified" and a["version"] == 5
    a = act(sup.store, i, "reopen", _as(sup, "insp"), "回访发现问题仍在", now=t + dt.timedelta(days=3))
    assert a["state"] == "open" and a["closed_at"] is None and a["reply_by"] is None
    steps = [(h["action"], h["from_state"], h["to_state"], h["actor"]) for h in history(sup.store, i)]
    assert steps == [("open", None, "open", "system"), ("notify", "open", "notified", "insp"),
                     ("acknowledge", "notified", "acknowledged", "d01"), ("rectify", "acknowledged", "rectified", "d01"),
                     ("close", "rectified", "closed", "insp"), ("reopen", "closed", "open", "insp")]
    assert [h["seq"] for h in history(sup.store, i)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("user, action, match", [
    ("d01", "notify", "only the inspector"),
    ("mgr", "notify", "manager .*read-only"),
    ("aud", "notify", "only the inspector"),
    ("insp", "acknowledge", "only the department liaison"),
    ("mgr", "close", "read-only"),
    ("d01", "escalate", "only the inspector"),
    ("d01", "reopen", "only the inspector"),
])
def test_roles_are_checked(sup, user, action, match):
    i = _item(sup)["item_id"]
    with pytest.raises(Refused, match=match):
        act(sup.store, i, action, _as(sup, user), "a note", "handled", now=NOW)
    assert get_item(sup.store, i)["version"] == 1


def test_a_department_acts_only_on_its_own_items(sup):
    i = _item(sup, department="D01")["item_id"]
    act(sup.store, i, "notify", _as(sup, "insp"), "督办", now=NOW)
    with pytest.raises(Refused, match="liaison of department D02; item .* belongs to department D01"):
        act(sup.store, i, "acknowledge", _as(sup, "d02"), "not ours", now=NOW)
    act(sup.store, i, "acknowledge", _as(sup, "d01"), "原因与计划", now=NOW)


def test_states_are_checked(sup):
    i = _item(sup)["item_id"]
    insp, d01 = _as(sup, "insp"), _as(sup, "d01")
    with pytest.raises(Refused, match="is open .*acknowledge applies to notified"):
        act(sup.store, i, "acknowledge", d01, "too early", now=NOW)
    with pytest.raises(Refused, match="reopen applies to closed"):
        act(sup.store, i, "reopen", insp, "not closed", now=NOW)
    with pytest.raises(Refused, match="close needs --reason"):
        act(sup.store, i, "close", insp, "no reason", now=NOW)
    with pytest.raises(Refused, match="reason rectified .* needs a rectified item"):
        act(sup.store, i, "close", insp, "not rectified yet", "rectified", now=NOW)
    with pytest.raises(Refused, match="a note is required"):
        act(sup.store, i, "notify", insp, "  ", now=NOW)
    act(sup.store, i, "escalate", insp, "部门拒不整改", now=NOW)
    with pytest.raises(Refused, match="is escalated"):
        act(sup.store, i, "notify", insp, "again", now=NOW)
    act(sup.store, i, "close", insp, "已移送纪检", "handled", now=NOW)
    with pytest.raises(Refused, match="no supervision item 999999"):
        act(sup.store, 999999, "notify", insp, "x", now=NOW)
    with pytest.raises(Refused, match="has no account"):
        actor_for("nobody", sup.home)


def test_a_stale_actor_is_told_who_changed_the_item_and_nothing_is_lost(sup):
    i = _item(sup)["item_id"]
    seen_by_both = get_item(sup.store, i)["version"]
    act(sup.store, i, "notify", _as(sup, "insp"), "first", now=NOW, expected_version=seen_by_both)
    with pytest.raises(Stale, match=r"changed by insp at 2026-10-21 09:00 \(now notified 已督办, version 2; you read "
                                    r"version 1\)"):
        act(sup.store, i, "close", _as(sup, "insp2"), "second", "false_alarm", now=NOW, expected_version=seen_by_both)
    item = get_item(sup.store, i)
    assert item["state"] == "notified" and item["version"] == 2 and item["updated_by"] == "insp"
    assert [h["note"] for h in history(sup.store, i)][1:] == ["first"]


def test_two_actors_at_once_one_wins_the_other_is_told(sup):
    i = _item(sup)["item_id"]
    barrier, results = threading.Barrier(2), {}

    def worker(name, action, reason):
        barrier.wait()
        try:
            results[name] = act(sup.store, i, action, _as(sup, name), f"by {name}", reason, expected_version=1,
                                now=NOW)["state"]
        except Stale as exc:
            results[name] = str(exc)

    threads = [threading.Thread(target=worker, args=("insp", "notify", None)),
               threading.Thread(target=worker, args=("insp2", "close", "false_alarm"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [n for n, r in results.items() if r in ("notified", "closed")]
    assert len(winners) == 1, results
    loser = ({"insp", "insp2"} - set(winners)).pop()
    assert f"changed by {winners[0]}" in results[loser]
    assert get_item(sup.store, i)["version"] == 2 and len(history(sup.store, i)) == 2


def test_every_transition_is_in_the_hash_chained_audit_log(sup):
    i = _item(sup)["item_id"]
    act(sup.store, i, "notify", _as(sup, "insp"), "督办意见", now=NOW)
    act(sup.store, i, "acknowledge", _as(sup, "d01"), "回告内容", now=NOW + dt.timedelta(hours=1))
    entries = AuditLog(sup.home).entries()  # checks the chain
    sync_entry = next(e for e in entries if e["kind"] == "supervision_sync")
    assert sync_entry["counts"]["opened"] == sync_entry["transitions"] > 0 and len(sync_entry["transitions_hash"]) == 64
    mine = [e for e in entries if e["kind"] == "supervision_transition" and e["item_id"] == i]
    assert [(e["transition_seq"], e["action"], e["from_state"], e["to_state"], e["user"], e["note"]) for e in mine] == [
        (2, "notify", "open", "notified", "insp", "督办意见"),
        (3, "acknowledge", "notified", "acknowledged", "d01", "回告内容")]
    assert mine[0]["at"] == "2026-10-21T09:00:00+08:00"
    with pytest.raises(Refused):
        act(sup.store, i, "notify", _as(sup, "insp"), "refused ones are not logged", now=NOW)
    assert len(AuditLog(sup.home).entries()) == len(entries)


def test_transitions_that_wait_on_someone_write_the_outbox(sup):
    i = _item(sup)["item_id"]
    act(sup.store, i, "notify", _as(sup, "insp"), "请于期限内回告", now=NOW)
    act(sup.store, i, "acknowledge", _as(sup, "d01"), "原因与计划", now=NOW)
    act(sup.store, i, "rectify", _as(sup, "d01"), "已整改", now=NOW)
    act(sup.store, i, "close", _as(sup, "insp"), "整改到位", "rectified", now=NOW)
    with sup.store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.item_id == i).order_by(outbox.c.message_id)).mappings().all()
    assert [(r["recipient_role"], r["department_id"]) for r in rows] == [
        ("department", "D01"), ("inspector", "D01"), ("inspector", "D01")]
    assert rows[0]["subject"].startswith("督办通知") and "请于 2026-10-23 23:59 前回告" in rows[0]["body"]
    assert all(r["link"] == f"/supervision?item={i}" and r["sent_at"] is None for r in rows)

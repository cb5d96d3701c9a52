"""`supervise sync`: one item per trigger, idempotent, trigger cleared, reopen on recurrence,
escalation by working days (across a holiday). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import sqlalchemy as sa

from tests.support.dashboard_snapshot import add_workdays
from tests.support.supervision import edit_snapshot, liaison, query, red_case
from windowwatch.supervision import notices
from windowwatch.supervision.model import items, transitions
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import act, actor_for, get_item, history

NOW = dt.datetime(2026, 10, 21, 9, 0)


def _rows(sup, *cols):
    with sup.store.engine.connect() as conn:
        return conn.execute(sa.select(*(items.c[c] for c in cols)).order_by(items.c.item_id)).all()


def _find(sup, kind, subject, rule=None):
    with sup.store.engine.connect() as conn:
        q = sa.select(items).where(items.c.kind == kind, items.c.subject_id == subject)
        if rule:
            q = q.where(items.c.rule == rule)
        return dict(conn.execute(q).mappings().one())


def _expected_triggers(snapshot) -> set[tuple[str, str, str]]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        q = """select 'red_card', case_id, 'RED_CARD' from marts.fct_case where status = 'open' and card = 'red'
               union all select 'legal_overdue', case_id, 'LEGAL_OVERDUE' from marts.fct_case
                         where status = 'open' and is_legal_overdue
               union all select 'off_book', case_id, rule_id from marts.fct_off_book_signal where case_id is not null
               union all select 'timeliness', case_id, rule_id from marts.fct_timeliness_signal
                         where case_id is not null and rule_id <> 'TL_LEGAL_OVERDUE'
               union all select 'video_flag', flag_id, upper(flag_type) from marts.fct_video_flag
                         where review_status = 'confirmed'
               union all select 'rating_integrity', coalesce(evaluation_id, window_id || ' ' || strftime(month, '%Y-%m')),
                                rule_id from marts.fct_rating_signal
               union all select 'substantiated_complaint', order_id, 'SUBSTANTIATED_COMPLAINT' from marts.fct_work_order
                         where is_substantiated_complaint"""
        return set(con.execute(q).fetchall())
    finally:
        con.close()


def test_one_item_per_trigger_and_rerunning_changes_nothing(sup):
    first = sync(sup.store, now=NOW)
    keys = _rows(sup, "kind", "subject_id", "rule")
    assert set(keys) == _expected_triggers(sup.snapshot) and len(keys) == len(set(keys)) == first.opened > 0
    states = dict(((k, s), n) for k, s, n in _rows(sup, "kind", "state", "version"))
    assert states[("legal_overdue", "escalated")] == 1  # legal overdue starts escalated
    assert {s for k, s, _ in _rows(sup, "kind", "state", "version") if k != "legal_overdue"} == {"open"}
    before = _rows(sup, "item_id", "state", "version", "trigger_cleared")
    with sup.store.engine.connect() as conn:
        n_transitions = conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar_one()
    again = sync(sup.store, now=NOW + dt.timedelta(days=1))
    assert (again.opened, again.cleared, again.recurred, again.escalated) == (0, 0, 0, 0)
    assert _rows(sup, "item_id", "state", "version", "trigger_cleared") == before
    with sup.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar_one() == n_transitions


def test_a_trigger_that_disappears_leaves_its_item_open_marked_cleared(sup):
    case_id, _ = red_case(sup.snapshot)
    sync(sup.store, now=NOW)
    edit_snapshot(sup.snapshot, "update marts.fct_case set status = 'completed', card = null, "
                                "completed_at = timestamp '2026-10-20 15:00' where case_id = ?", [case_id])
    res = sync(sup.store, now=NOW + dt.timedelta(days=1))
    assert res.cleared == 1 and res.opened == 0
    item = _find(sup, "red_card", case_id)
    assert item["state"] == "open" and item["trigger_cleared"] and item["trigger_cleared_at"] == NOW + dt.timedelta(days=1)
    assert sync(sup.store, now=NOW + dt.timedelta(days=2)).cleared == 0  # marked once


def test_a_closed_item_opens_again_only_when_its_trigger_recurs_after_closing(sup):
    case_id, _ = red_case(sup.snapshot)
    sync(sup.store, now=NOW)
    i = _find(sup, "red_card", case_id)["item_id"]
    act(sup.store, i, "close", actor_for("insp", sup.home), "误报", "false_alarm", now=NOW + dt.timedelta(hours=1))
    # the trigger is still there: closing stands, nothing opens
    res = sync(sup.store, now=NOW + dt.timedelta(days=1))
    assert (res.opened, res.recurred) == (0, 0) and get_item(sup.store, i)["state"] == "closed"
    # it goes away ...
    edit_snapshot(sup.snapshot, "update marts.fct_case set card = 'yellow' where case_id = ?", [case_id])
    assert sync(sup.store, now=NOW + dt.timedelta(days=2)).cleared == 1
    assert get_item(sup.store, i)["state"] == "closed"
    # ... and comes back: the same item opens again (no second item)
    edit_snapshot(sup.snapshot, "update marts.fct_case set card = 'red' where case_id = ?", [case_id])
    res = sync(sup.store, now=NOW + dt.timedelta(days=3))
    assert (res.recurred, res.opened) == (1, 0)
    item = get_item(sup.store, i)
    assert item["state"] == "open" and not item["trigger_cleared"] and item["closed_at"] is None
    assert history(sup.store, i)[-1]["action"] == "recur"
    assert len([r for r in _rows(sup, "kind", "subject_id") if r == ("red_card", case_id)]) == 1


def test_an_open_item_whose_trigger_returns_is_unmarked(sup):
    case_id, _ = red_case(sup.snapshot)
    sync(sup.store, now=NOW)
    edit_snapshot(sup.snapshot, "update marts.fct_case set card = 'yellow' where case_id = ?", [case_id])
    sync(sup.store, now=NOW + dt.timedelta(days=1))
    edit_snapshot(sup.snapshot, "update marts.fct_case set card = 'red' where case_id = ?", [case_id])
    res = sync(sup.store, now=NOW + dt.timedelta(days=2))
    assert (res.uncleared, res.recurred) == (1, 0)
    assert not _find(sup, "red_card", case_id)["trigger_cleared"]


def test_escalation_counts_working_days_across_the_national_day_holiday(sup):
    sync(sup.store, now=NOW)
    case_id, _ = red_case(sup.snapshot)
    i = _find(sup, "red_card", case_id)["item_id"]
    notified = dt.datetime(2026, 9, 30, 16, 0)  # the eve of 国庆节 2026
    item = act(sup.store, i, "notify", actor_for("insp", sup.home), "节前督办", now=notified)
    reply_day = add_workdays(notified.date(), 2)
    assert item["reply_by"] == dt.datetime.combine(reply_day, dt.time(23, 59, 59))
    assert reply_day > dt.date(2026, 10, 8)  # not Oct 2 (Mon–Fri counting): the holiday is not counted
    assert sync(sup.store, now=item["reply_by"]).escalated == 0  # still on time at 23:59:59
    res = sync(sup.store, now=item["reply_by"] + dt.timedelta(seconds=1))
    assert res.escalated == 1
    after = get_item(sup.store, i)
    assert after["state"] == "escalated" and after["updated_by"] == "system" and after["version"] == 3
    last = history(sup.store, i)[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("auto_escalate", "notified", "escalated")
    assert "回告逾期" in last["note"]


def test_acknowledged_but_not_rectified_by_fix_by_escalates(sup):
    sync(sup.store, now=NOW)
    case_id, dept = red_case(sup.snapshot)
    i = _find(sup, "red_card", case_id)["item_id"]
    item = act(sup.store, i, "notify", actor_for("insp", sup.home), "督办", now=NOW)
    act(sup.store, i, "acknowledge", actor_for(liaison(dept), sup.home), "原因与计划", now=NOW + dt.timedelta(hours=3))
    assert item["fix_by"] == dt.datetime.combine(add_workdays(NOW.date(), 5), dt.time(23, 59, 59))
    assert sync(sup.store, now=item["reply_by"] + dt.timedelta(days=1)).escalated == 0  # acknowledged in time
    res = sync(sup.store, now=item["fix_by"] + dt.timedelta(minutes=1))
    assert res.escalated == 1 and get_item(sup.store, i)["state"] == "escalated"
    assert "整改逾期" in history(sup.store, i)[-1]["note"]


def test_a_bad_review_past_its_rectification_deadline_opens_an_item(sup):
    edit_snapshot(sup.snapshot, """insert into marts.fct_evaluation (evaluation_id, case_id, window_id, rating,
        evaluated_at, is_good, is_bad, verdict, rectification_deadline, rectified_at)
        values ('EVLATE', null, 'W03', 1, timestamp '2026-09-01 10:00', false, true, 'valid',
                timestamp '2026-09-22 23:59:59', null),
               ('EVINVALID', null, 'W03', 1, timestamp '2026-09-01 10:00', false, true, 'invalid',
                timestamp '2026-09-22 23:59:59', null),
               ('EVNOTYET', null, 'W03', 1, timestamp '2026-10-19 10:00', false, true, 'valid',
                timestamp '2026-11-09 23:59:59', null)""")
    sync(sup.store, now=NOW)
    late = [r for r in _rows(sup, "kind", "subject_id", "department_id") if r[0] == "bad_review_late"]
    assert ("bad_review_late", "EVLATE", "D02") in late
    assert not {r[1] for r in late} & {"EVINVALID", "EVNOTYET"}


def test_a_trigger_switched_off_opens_nothing(sup, tmp_path, monkeypatch):
    import yaml

    from core.config import DEFAULT_SCORING

    data = yaml.safe_load(DEFAULT_SCORING.read_text(encoding="utf-8"))
    data["supervision"]["triggers"]["video_flag"] = False
    path = tmp_path / "scoring.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("WINDOWWATCH_SCORING", str(path))
    res = sync(sup.store, now=NOW)
    assert "video_flag: switched off (supervision.triggers)" in res.skipped
    assert not [r for r in _rows(sup, "kind") if r[0] == "video_flag"]


def test_a_rating_integrity_signal_opens_one_item_and_its_going_clears_it(sup):
    from dashboards.evidence import explain

    signals = query(sup.snapshot, "select evaluation_id, window_id, strftime(month, '%Y-%m'), rule_id, "
                                           "department_id, signal_date, evidence from marts.fct_rating_signal")
    assert {r[3] for r in signals} >= {"RI_TOO_PERFECT", "RI_NO_SERVICE"}  # the fixture has both shapes
    first = sync(sup.store, now=NOW)
    opened = {(r[2], r[3]): r for r in _rows(sup, "kind", "item_id", "subject_id", "rule", "department_id",
                                             "window_id", "trigger_at", "evidence") if r[0] == "rating_integrity"}
    assert len(opened) == len(signals) and first.opened >= len(signals)
    for evaluation_id, window_id, month, rule_id, department_id, signal_date, evidence in signals:
        subject = evaluation_id if rule_id != "RI_TOO_PERFECT" else f"{window_id} {month}"  # a window-month
        item = opened[(subject, rule_id)]
        assert (item[4], item[5], item[6], item[7]) == (department_id, window_id, dt.datetime.combine(signal_date,
                                                                                                     dt.time()), evidence)
        assert not re.search(r"\w+=", explain(rule_id, item[7]))  # the page says the codes as the catalogue's sentence
    assert sync(sup.store, now=NOW + dt.timedelta(days=1)).opened == 0
    gone = next(s for s in signals if s[3] == "RI_TOO_PERFECT")
    edit_snapshot(sup.snapshot, "delete from marts.fct_rating_signal where rule_id = 'RI_TOO_PERFECT' and window_id = ? "
                                "and strftime(month, '%Y-%m') = ?", [gone[1], gone[2]])
    res = sync(sup.store, now=NOW + dt.timedelta(days=2))
    assert (res.opened, res.cleared) == (0, 1)
    item = _find(sup, "rating_integrity", f"{gone[1]} {gone[2]}", "RI_TOO_PERFECT")
    assert item["trigger_cleared"] and item["state"] == "open"


def test_a_substantiated_complaint_opens_one_item_and_its_going_clears_it(sup):
    from dashboards.evidence import explain

    orders = query(sup.snapshot, "select order_id, department_id, window_id, received_at, channel "
                                          "from marts.fct_work_order where is_substantiated_complaint")
    assert len(orders) == 1  # the fixture: one 12345 complaint found true, one not, one praise
    order_id, department_id, window_id, received_at, channel = orders[0]
    sync(sup.store, now=NOW)
    rows = [r for r in _rows(sup, "kind", "subject_id", "rule", "department_id", "window_id", "trigger_at", "evidence")
            if r[0] == "substantiated_complaint"]
    assert rows == [("substantiated_complaint", order_id, "SUBSTANTIATED_COMPLAINT", department_id, window_id,
                     received_at, f"order={order_id} channel={channel} received={received_at:%Y-%m-%d %H:%M:%S}"
                     f" window={window_id}")]
    text = explain("SUBSTANTIATED_COMPLAINT", rows[0][6])
    assert "12345 热线" in text and order_id in text and "查实投诉" in text and not re.search(r"\w+=", text)
    assert channel not in text
    item = _find(sup, "substantiated_complaint", order_id)  # the PDFs `supervise act` makes say it in Chinese too
    assert notices.evidence_zh(item) == f"12345热线工单 {order_id} 于 {received_at:%Y-%m-%d %H:%M:%S} 受理，经核查投诉属实（查实投诉）。"
    assert notices.rule_label_zh(item) == "查实投诉"
    assert sync(sup.store, now=NOW + dt.timedelta(days=1)).opened == 0
    edit_snapshot(sup.snapshot, "update marts.fct_work_order set substantiated = false, is_substantiated_complaint = "
                                "false where order_id = ?", [order_id])
    res = sync(sup.store, now=NOW + dt.timedelta(days=2))
    assert (res.opened, res.cleared) == (0, 1)
    assert _find(sup, "substantiated_complaint", order_id)["trigger_cleared"]


def test_a_snapshot_without_the_tables_skips_the_new_triggers_and_says_why(sup):
    edit_snapshot(sup.snapshot, "drop table marts.fct_work_order; drop table marts.fct_rating_signal")
    res = sync(sup.store, now=NOW)
    assert any(s.startswith("substantiated_complaint: the snapshot lacks fct_work_order.order_id") for s in res.skipped)
    assert any(s.startswith("rating_integrity: the snapshot lacks fct_rating_signal.") for s in res.skipped)
    assert res.opened > 0 and not [r for r in _rows(sup, "kind") if r[0] in ("rating_integrity", "substantiated_complaint")]

"""The outbox is e-mailed through WINDOWWATCH_SMTP_URL to a real SMTP server on localhost; a failed
send is retried and never blocks the transition (SPEC §4.11)."""

from __future__ import annotations

import datetime as dt
import socket

import sqlalchemy as sa

from tests.support.smtp_server import smtp_server
from windowwatch.supervision.model import outbox
from windowwatch.supervision.notify import send_pending
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import act, actor_for

NOW = dt.datetime(2026, 10, 21, 9, 0)


def _d01_item(sup) -> int:
    from windowwatch.supervision.model import items

    sync(sup.store, now=NOW, send=False)
    with sup.store.engine.connect() as conn:
        return conn.execute(sa.select(items.c.item_id).where(items.c.department_id == "D01", items.c.state == "open")
                            .order_by(items.c.item_id)).scalars().first()


def _messages(sup):
    with sup.store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(outbox).order_by(outbox.c.message_id)).mappings()]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_messages_are_mailed_to_the_department_and_the_inspectors(sup, monkeypatch):
    i = _d01_item(sup)
    act(sup.store, i, "notify", actor_for("insp", sup.home), "请核查", now=NOW)
    with smtp_server() as srv:
        monkeypatch.setenv("WINDOWWATCH_SMTP_URL", srv.url + "?from=dbzx@centre.example")
        res = send_pending(sup.store.engine, sup.home, NOW)
        assert (res.sent, res.failed) == (2, 0)  # the sync digest to the inspectors, the notice to D01
        got = {tuple(rcpts): msg for _, rcpts, msg in srv.messages}
    notice = got[("liaison@d01.example",)]
    assert notice["Subject"].startswith("督办通知：督办件") and notice["From"] == "dbzx@centre.example"
    assert "请于 2026-10-23 23:59 前回告" in notice.get_content() and f"/supervision?item={i}" in notice.get_content()
    assert got[("insp@centre.example",)]["Subject"].startswith("督办同步：新立督办件")
    assert all(m["sent_at"] == NOW and m["attempts"] == 1 and m["last_error"] is None for m in _messages(sup))
    with smtp_server() as srv:  # sent once only
        monkeypatch.setenv("WINDOWWATCH_SMTP_URL", srv.url)
        assert send_pending(sup.store.engine, sup.home, NOW).sent == 0 and srv.messages == []


def test_a_failed_send_is_retried_and_never_blocks_the_transition(sup, monkeypatch):
    i = _d01_item(sup)
    monkeypatch.setenv("WINDOWWATCH_SMTP_URL", f"smtp://127.0.0.1:{_closed_port()}")  # nobody listens
    act(sup.store, i, "notify", actor_for("insp", sup.home), "请核查", now=NOW)
    res = sync(sup.store, now=NOW + dt.timedelta(minutes=5))  # the sync's own send step fails
    assert res.send_failed == 2 and res.sent == 0
    msgs = _messages(sup)
    assert all(m["sent_at"] is None and m["attempts"] == 1 and "Connection" in m["last_error"] for m in msgs)
    with smtp_server() as srv:
        srv.fail_next = 1  # a temporary 451 on the first message
        monkeypatch.setenv("WINDOWWATCH_SMTP_URL", srv.url)
        first = send_pending(sup.store.engine, sup.home, NOW + dt.timedelta(hours=1))
        assert (first.sent, first.failed) == (1, 1) and "451" in first.errors[0]
        second = send_pending(sup.store.engine, sup.home, NOW + dt.timedelta(hours=2))
        assert (second.sent, second.failed) == (1, 0)
        assert len(srv.messages) == 2
    msgs = _messages(sup)
    assert all(m["sent_at"] is not None for m in msgs)
    assert sorted(m["attempts"] for m in msgs) == [2, 3]


def test_a_message_without_an_address_waits_and_says_why(sup, monkeypatch):
    from windowwatch.supervision.model import items

    sync(sup.store, now=NOW, send=False)
    with sup.store.engine.connect() as conn:
        i = conn.execute(sa.select(items.c.item_id).where(items.c.department_id == "D02", items.c.state == "open")
                         ).scalars().first()
    act(sup.store, i, "notify", actor_for("insp", sup.home), "请核查", now=NOW)
    with smtp_server() as srv:
        monkeypatch.setenv("WINDOWWATCH_SMTP_URL", srv.url)
        res = send_pending(sup.store.engine, sup.home, NOW)
    assert res.no_address == 1
    d02 = next(m for m in _messages(sup) if m["department_id"] == "D02")
    assert d02["sent_at"] is None and d02["attempts"] == 0 and "department D02 has an e-mail" in d02["last_error"]


def test_without_smtp_messages_stay_in_the_outbox(sup):
    i = _d01_item(sup)
    act(sup.store, i, "notify", actor_for("insp", sup.home), "请核查", now=NOW)
    assert send_pending(sup.store.engine, sup.home, NOW).sent == 0
    assert all(m["sent_at"] is None and m["attempts"] == 0 for m in _messages(sup))

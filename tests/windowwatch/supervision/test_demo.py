"""The supervision step of `windowwatch demo` (windowwatch/supervision/demo.py): after the sync, a
few items walked through the workflow by demo users, so a newcomer sees every state."""

from __future__ import annotations

import datetime as dt

from windowwatch.audit.log import AuditLog
from windowwatch.supervision import demo
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import history

NOW = dt.datetime(2026, 10, 21, 9, 0)


def test_the_demo_walks_items_into_every_state_once(sup):
    sync(sup.store, now=NOW, send=False)
    states = demo.walk(sup.store)
    assert {"notified", "acknowledged", "rectified", "closed", "escalated"} <= set(states), states
    assert len([s for s, n in states.items() if n]) >= 4
    assert demo.walked(sup.store)
    from windowwatch.supervision.cli import list_items

    closed = list_items(sup.store, "closed")[0]
    steps = history(sup.store, closed["item_id"])
    assert [(h["action"], h["actor"]) for h in steps][1:] == [
        ("notify", "demo"), ("acknowledge", f"demo_{closed['department_id']}"),
        ("rectify", f"demo_{closed['department_id']}"), ("close", "demo")]
    logged = [e for e in AuditLog(sup.home).entries() if e.get("kind") == "supervision_transition"]
    assert len(logged) == 1 + 2 + 3 + 4 + 2
    assert demo.walk(sup.store) == states  # a second demo leaves the store be
    assert len([e for e in AuditLog(sup.home).entries() if e.get("kind") == "supervision_transition"]) == len(logged)

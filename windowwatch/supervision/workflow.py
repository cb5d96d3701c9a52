"""The transitions of a supervision item (SPEC §4.11, docs/rules.md#supervision-督办).

    open 待督办 --notify (inspector)--> notified 已督办   reply_by = notified + ack_workdays working days,
                                                      fix_by = notified + fix_workdays working days
    notified --acknowledge (that department's liaison: reason and plan)--> acknowledged 已回告
    acknowledged --rectify (the liaison: what was done)--> rectified 已整改
    any but closed --close (inspector; reason rectified|handled|false_alarm)--> closed 已销号
    open|notified|acknowledged --escalate (inspector, or `supervise sync` past reply_by/fix_by)--> escalated 已升级
    closed --reopen (inspector, with a note saying why)--> open

The manager role (管理办公室) reads only. A department account acts only on items of its own
department. Every change is one transaction guarded by the item's `version` (optimistic
concurrency): an actor who read an older version is refused with who changed the item and when,
and the change already made stands. Each transition is appended to the hash-chained audit log
(windowwatch/audit/log.py) inside that transaction, after the guarded update succeeded, and writes
an outbox message when it waits on someone (notify.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from core.localtime import now_local
from windowwatch.supervision import notify
from windowwatch.supervision.model import (
    ACKNOWLEDGED, ACTION_ZH, ACTIONS, CLOSE_REASONS, CLOSED, ESCALATED, KIND_ZH, NOTIFIED, OPEN, RECTIFIED, STATE_ZH,
    items, transitions)
from windowwatch.supervision.store import Store

AUDIT_KIND = "supervision_transition"

# action -> (role that may take it, states it may start from, state it leads to)
RULES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "notify": ("inspector", (OPEN,), NOTIFIED),
    "acknowledge": ("department", (NOTIFIED,), ACKNOWLEDGED),
    "rectify": ("department", (ACKNOWLEDGED,), RECTIFIED),
    "close": ("inspector", (OPEN, NOTIFIED, ACKNOWLEDGED, RECTIFIED, ESCALATED), CLOSED),
    "escalate": ("inspector", (OPEN, NOTIFIED, ACKNOWLEDGED), ESCALATED),
    "reopen": ("inspector", (CLOSED,), OPEN),
}


class Refused(ValueError):
    """The action is not allowed (role, department, state, missing note); the message says why."""


class Stale(Refused):
    """The item changed since the actor read it; the message names who changed it and when."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    department_id: str | None = None


def actor_for(name: str, h) -> Actor:  # noqa: ANN001
    """The account `name` (windowwatch/accounts.py) as an actor; refused when it does not exist."""
    from windowwatch.accounts import load_accounts

    entry = load_accounts(h).get(name)
    if entry is None:
        raise Refused(f"user {name!r} has no account (windowwatch users add {name} --role …)")
    return Actor(name=name, role=entry["role"], department_id=entry.get("department_id"))


def _fmt(t: dt.datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else "—"


def check_allowed(actor: Actor, action: str, item: dict) -> None:
    """Raise Refused unless `actor` may take `action` on `item` in its current state."""
    if action not in RULES:
        raise Refused(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    role, from_states, _ = RULES[action]
    if actor.role == "manager":
        raise Refused(f"user {actor.name} is a manager (管理办公室): supervision is read-only for that role")
    if actor.role != role:
        raise Refused(f"user {actor.name} ({actor.role}) may not {action} an item: only the "
                      + ("department liaison (部门联络员) of the item's department" if role == "department" else role)
                      + f" may {ACTION_ZH[action]}")
    if role == "department" and actor.department_id != item["department_id"]:
        raise Refused(f"user {actor.name} is the liaison of department {actor.department_id}; item {item['item_id']} "
                      f"belongs to department {item['department_id']}")
    if item["state"] not in from_states:
        raise Refused(f"item {item['item_id']} is {item['state']} ({STATE_ZH[item['state']]}): {action} applies to "
                      f"{', '.join(from_states)} items only")


def _next_seq(conn: sa.Connection, item_id: int) -> int:
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(transitions.c.seq), 0) + 1)
                        .where(transitions.c.item_id == item_id)).scalar_one()


def _stale(item: dict, read_version: int) -> Stale:
    return Stale(f"item {item['item_id']} was changed by {item['updated_by']} at {_fmt(item['updated_at'])} "
                 f"(now {item['state']} {STATE_ZH[item['state']]}, version {item['version']}; you read version "
                 f"{read_version}): nothing was changed by you — look at it again and act on the current version")


def get_item(store: Store, item_id: int) -> dict | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(items).where(items.c.item_id == item_id)).mappings().first()
    return dict(row) if row else None


def history(store: Store, item_id: int) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(transitions).where(transitions.c.item_id == item_id)
                                              .order_by(transitions.c.seq)).mappings()]


def act(store: Store, item_id: int, action: str, actor: Actor, note: str, reason: str | None = None, *,
        expected_version: int | None = None, now: dt.datetime | None = None, ack_workdays: int | None = None,
        fix_workdays: int | None = None) -> dict:
    """Take `action` on the item as `actor`; returns the item after it. Raises Refused / Stale."""
    now = now or now_local()
    note = (note or "").strip()
    if not note:
        raise Refused("a note is required (--note): " + {
            "acknowledge": "the reason and the plan (回告)", "rectify": "what was done (整改情况)",
            "reopen": "why the item is opened again"}.get(action, "what you did and why"))
    if action == "close" and reason not in CLOSE_REASONS:
        raise Refused(f"close needs --reason, one of {', '.join(f'{k} ({v})' for k, v in CLOSE_REASONS.items())}")
    with store.engine.begin() as conn:
        q = sa.select(items).where(items.c.item_id == item_id)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            raise Refused(f"no supervision item {item_id}")
        item = dict(row)
        if expected_version is not None and item["version"] != expected_version:
            raise _stale(item, expected_version)
        check_allowed(actor, action, item)
        if action == "close" and reason == "rectified" and item["state"] != RECTIFIED:
            raise Refused(f"item {item_id} is {item['state']}: reason rectified (整改到位) needs a rectified item; "
                          "use handled or false_alarm")
        to_state = RULES[action][2]
        values: dict = {"state": to_state, "updated_at": now, "updated_by": actor.name,
                        "version": item["version"] + 1}
        if action == "notify":
            values.update(_deadlines(store, now, ack_workdays, fix_workdays), notified_at=now)
        elif action == "acknowledge":
            values["acknowledged_at"] = now
        elif action == "rectify":
            values["rectified_at"] = now
        elif action == "escalate":
            values["escalated_at"] = now
        elif action == "close":
            values.update(closed_at=now, close_reason=reason)
        elif action == "reopen":
            values.update(closed_at=None, close_reason=None, notified_at=None, reply_by=None, fix_by=None,
                          acknowledged_at=None, rectified_at=None, escalated_at=None)
        done = conn.execute(sa.update(items).where(items.c.item_id == item_id, items.c.version == item["version"])
                            .values(**values))
        if done.rowcount != 1:  # changed between our read and our update (SQLite without row locks)
            latest = conn.execute(sa.select(items).where(items.c.item_id == item_id)).mappings().first()
            raise _stale(dict(latest), item["version"])
        seq = _next_seq(conn, item_id)
        conn.execute(sa.insert(transitions).values(item_id=item_id, seq=seq, actor=actor.name, at=now,
                                                   from_state=item["state"], to_state=to_state, action=action,
                                                   note=note, reason=reason))
        after = {**item, **values}
        _message(conn, action, after, actor, note, now)
        _audit(store, item_id, seq, action, item["state"], to_state, actor.name, now, note, reason)
    return after


def _deadlines(store: Store, now: dt.datetime, ack: int | None, fix: int | None) -> dict:
    from core.config import load_scoring
    from windowwatch.snapshot import NoSnapshot, current_snapshot
    from windowwatch.supervision.calendar import nth_workday_after

    cfg = load_scoring().supervision
    try:
        snap = current_snapshot(store.home)
    except NoSnapshot as exc:
        raise Refused(f"cannot set the reply-by date: {exc}") from None
    reply = nth_workday_after(snap, now.date(), ack or cfg.ack_workdays)
    fix_by = nth_workday_after(snap, now.date(), fix or cfg.fix_workdays)
    return {"reply_by": reply.at, "fix_by": fix_by.at}


def _message(conn: sa.Connection, action: str, item: dict, actor: Actor, note: str, now: dt.datetime) -> None:
    """The outbox message of a transition that waits on someone (none for close and reopen)."""
    what = f"督办件 {item['item_id']}（{KIND_ZH.get(item['kind'], item['kind'])} {item['subject_id']} {item['rule']}）"
    if action == "notify":
        notify.enqueue(conn, item_id=item["item_id"], recipient_role="department", department_id=item["department_id"],
                       subject=f"督办通知：{what}",
                       body=f"{what} 已由 {actor.name} 督办，请于 {_fmt(item['reply_by'])} 前回告原因及整改计划，"
                            f"于 {_fmt(item['fix_by'])} 前整改到位。\n督办意见：{note}", now=now)
    elif action in ("acknowledge", "rectify"):
        verb = "回告" if action == "acknowledge" else "整改"
        notify.enqueue(conn, item_id=item["item_id"], recipient_role="inspector", department_id=item["department_id"],
                       subject=f"部门已{verb}：{what}",
                       body=f"部门 {item['department_id']} 的 {actor.name} 已{verb}{what}：{note}\n"
                            + ("请核实整改情况并销号。" if action == "rectify" else "请跟进整改。"), now=now)
    elif action == "escalate":
        notify.enqueue(conn, item_id=item["item_id"], recipient_role="inspector", department_id=item["department_id"],
                       subject=f"督办件已升级：{what}",
                       body=f"{what} 已由 {actor.name} 升级，请研究效能告诫或移送纪检。\n说明：{note}", now=now)


def _audit(store: Store, item_id: int, seq: int, action: str, from_state: str | None, to_state: str, actor: str,
           now: dt.datetime, note: str, reason: str | None) -> None:
    from core.localtime import LOCAL_TZ
    from windowwatch.audit.log import AuditLog

    AuditLog(store.home).append({
        "kind": AUDIT_KIND, "item_id": item_id, "transition_seq": seq, "action": action, "from_state": from_state,
        "to_state": to_state, "note": note, "reason": reason, "user": actor,
        "at": now.replace(tzinfo=LOCAL_TZ).isoformat(timespec="seconds"), "store": store.url,
    })

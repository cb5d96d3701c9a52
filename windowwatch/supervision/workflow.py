"""The transitions of a supervision item (SPEC §4.11, docs/rules.md#supervision-督办).

    open 待督办 --notify (inspector)--> notified 已督办   reply_by = notified + ack_workdays working days,
                                                      fix_by = notified + fix_workdays working days
    notified --acknowledge (that department's liaison: reason and plan)--> acknowledged 已回告
    acknowledged --rectify (the liaison: what was done)--> rectified 已整改
    any but closed --close (inspector; reason rectified|handled|false_alarm)--> closed 已销号
    open|notified|acknowledged --escalate (inspector, or `supervise sync` past reply_by/fix_by)--> escalated 已升级
    closed --reopen (inspector, with a note saying why)--> open

An inspector may also open an item by hand (`open_manual`: kind manual, a window, optionally one of its
cases, a reason); it then follows the same states.

The manager role (管理办公室) reads only. A department account acts only on items of its own
department. Every change is one transaction guarded by the item's `version` (optimistic
concurrency): an actor who read an older version is refused with who changed the item and when,
and the change already made stands. Each transition is appended to the hash-chained audit log
(windowwatch/audit/log.py): staged inside that transaction, after the guarded update succeeded, and
appended once it committed (journal.py: a kill -9 in between leaves no entry for a change that did not
happen, and the next change appends a committed one's missing entry); it writes an outbox message
when it waits on someone (notify.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from core.faults import checkpoint
from core.localtime import now_local
from windowwatch.supervision import journal, notify
from windowwatch.supervision.model import (
    ACKNOWLEDGED, ACTION_ZH, ACTIONS, CLOSE_REASONS, CLOSED, ESCALATED, KIND_ZH, MANUAL, MANUAL_RULE, NOTIFIED, OPEN,
    RECTIFIED, STATE_ZH, items, transitions)
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
    journal.flush(store)  # what a change killed after its commit left unlogged
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
        _audit(store, conn, item_id, seq, action, item["state"], to_state, actor.name, now, note, reason)
        checkpoint("supervision.before_commit")
    checkpoint("supervision.after_commit")
    journal.flush(store)
    return after


def _window_department(store: Store, window_id: str, case_id: str | None) -> str | None:
    """The window's department in the published snapshot; refused when the snapshot does not know the
    window, or the case (when one is named) is not a case of that window."""
    import duckdb

    from windowwatch.snapshot import NoSnapshot, current_snapshot

    try:
        snap = current_snapshot(store.home)
    except NoSnapshot as exc:
        raise Refused(f"cannot check the window: {exc}") from None
    con = duckdb.connect(str(snap), read_only=True)
    try:
        row = con.execute("select department_id from marts.dim_window where window_id = ? limit 1",
                          [window_id]).fetchall()
        if not row:
            raise Refused(f"window {window_id!r} is not in the published data (marts.dim_window)")
        if case_id is not None:
            seen = con.execute("select window_id from marts.fct_case where case_id = ? limit 1", [case_id]).fetchall()
            if not seen:
                raise Refused(f"case {case_id!r} is not in the published data (marts.fct_case)")
            if seen[0][0] != window_id:
                raise Refused(f"case {case_id!r} was handled at window {seen[0][0]}, not {window_id}")
    finally:
        con.close()
    return row[0][0]


def insert_item(conn: sa.Connection, key: tuple[str, str, str], department_id: str | None, window_id: str | None, *,
                evidence: str, trigger_at: dt.datetime | None, actor: Actor, note: str, now: dt.datetime) -> int:
    """An item a person opens (by hand, or by confirming a video flag), with its opening transition; the
    caller's transaction. Returns its id. `supervise sync` opens its items set-based (sync.py)."""
    kind, subject_id, rule = key
    item_id = conn.execute(sa.insert(items).values(
        kind=kind, subject_id=subject_id, rule=rule, state=OPEN, department_id=department_id, window_id=window_id,
        evidence=evidence, trigger_at=trigger_at, opened_at=now, trigger_cleared=False, version=1, updated_at=now,
        updated_by=actor.name).returning(items.c.item_id)).scalar_one()
    conn.execute(sa.insert(transitions).values(item_id=item_id, seq=1, actor=actor.name, at=now, from_state=None,
                                               to_state=OPEN, action="open", note=note))
    return item_id


def open_manual(store: Store, actor: Actor, window_id: str, reason: str, case_id: str | None = None, *,
                now: dt.datetime | None = None) -> dict:
    """An item an inspector opens by hand (kind manual, SPEC §4.11): about a window and, optionally, one of
    its cases, with the reason as its evidence; recorded like every transition (history, audit log).
    Returns the new item. Raises Refused."""
    now = now or now_local()
    reason = (reason or "").strip()
    window_id = (window_id or "").strip()
    case_id = (case_id or "").strip() or None
    if actor.role != "inspector":
        raise Refused(f"user {actor.name} ({actor.role}) may not open an item: only an inspector may open one by hand")
    if not window_id:
        raise Refused("a manual item needs its window (--window)")
    if not reason:
        raise Refused("a manual item needs its reason (--reason): what was found and why it is supervised")
    department_id = _window_department(store, window_id, case_id)
    subject = case_id or window_id
    for _attempt in range(3):  # PostgreSQL: a concurrent open of the same subject takes the number first
        try:
            with store.engine.begin() as conn:
                n = conn.execute(sa.select(sa.func.count()).select_from(items).where(
                    items.c.kind == MANUAL, items.c.subject_id == subject)).scalar_one()
                item_id = insert_item(conn, (MANUAL, subject, f"{MANUAL_RULE}-{n + 1}"), department_id, window_id,
                                      evidence=reason, trigger_at=now, actor=actor, note=reason, now=now)
                _audit(store, conn, item_id, 1, "open", None, OPEN, actor.name, now, reason, None)
            break
        except sa.exc.IntegrityError:
            continue
    else:
        raise Refused(f"could not number the manual item of {subject}: others are opening items on it now; try again")
    journal.flush(store)
    return get_item(store, item_id)


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


def _audit(store: Store, conn: sa.Connection, item_id: int, seq: int, action: str, from_state: str | None,
           to_state: str, actor: str, now: dt.datetime, note: str, reason: str | None) -> None:
    """Stage the transition's audit entry in its transaction (journal.py), keyed by item and transition number."""
    from core.localtime import LOCAL_TZ

    journal.stage(conn, f"transition:{item_id}:{seq}", {
        "kind": AUDIT_KIND, "item_id": item_id, "transition_seq": seq, "action": action, "from_state": from_state,
        "to_state": to_state, "note": note, "reason": reason, "user": actor,
        "at": now.replace(tzinfo=LOCAL_TZ).isoformat(timespec="seconds"), "store": store.url,
    }, now)

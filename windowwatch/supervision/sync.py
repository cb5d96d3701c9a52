"""`windowwatch supervise sync`: the published snapshot's triggers -> supervision items.

One item per trigger (kind, subject id, rule) — a unique key of the items table, so a trigger can
never get two items, and re-running changes nothing. In one transaction:

- a trigger no item covers opens one (open 待督办; legal overdue starts escalated 已升级);
- an item whose trigger is gone from the snapshot is marked trigger_cleared (left in its state
  for an inspector to close); one whose trigger comes back is unmarked;
- a closed item whose trigger had cleared and is present again is opened again (recurred);
- a notified item past its reply_by, or a notified/acknowledged one past its fix_by, escalates.

The triggers are computed by one set-based query inside DuckDB over the snapshot (`TRIGGERS`), and
compared there with the store's keys (an Arrow table): no Python loop over cases. A trigger
switched off in the scoring file (`supervision.triggers`) or whose table the snapshot lacks
neither opens nor clears anything. Sync-made transitions go to the audit log as one
`supervision_sync` entry holding their count and hash, staged in the transaction and appended after
its commit (journal.py); then the outbox is sent (notify.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from core.faults import checkpoint
from core.localtime import now_local
from windowwatch.supervision import journal, notify
from windowwatch.supervision.model import (
    ACKNOWLEDGED, CLOSED, ESCALATED, NOTIFIED, OPEN, SYSTEM_ACTOR, items, transitions, video_reviews)
from windowwatch.supervision.store import Store

AUDIT_KIND = "supervision_sync"
EVIDENCE_MAX = 2000

# kind -> (tables and columns it needs, its SELECT of kind, subject_id, rule, department_id, window_id, trigger_at, evidence)
TRIGGERS: dict[str, tuple[dict[str, tuple[str, ...]], str]] = {
    "red_card": ({"fct_case": ("case_id", "status", "card", "deadline_at")}, """
        select 'red_card', case_id, 'RED_CARD', department_id, window_id, deadline_at,
               '红牌：超承诺时限 ' || coalesce(overdue_workdays::varchar, '?') || ' 个工作日（期限 ' || deadline_at::varchar || '）'
        from marts.fct_case where status = 'open' and card = 'red'"""),
    "legal_overdue": ({"fct_case": ("case_id", "status", "is_legal_overdue", "legal_deadline_at")}, """
        select 'legal_overdue', case_id, 'LEGAL_OVERDUE', department_id, window_id, legal_deadline_at,
               '超法定时限：法定期限 ' || legal_deadline_at::varchar || '，截至 ' || as_of_date::varchar || ' 仍未办结'
        from marts.fct_case where status = 'open' and is_legal_overdue"""),
    "off_book": ({"fct_off_book_signal": ("case_id", "rule_id", "signal_date", "evidence")}, """
        select 'off_book', case_id, rule_id, department_id, window_id, signal_date::timestamp, evidence
        from marts.fct_off_book_signal where case_id is not null"""),
    # TL_LEGAL_OVERDUE of an open case is the legal_overdue trigger above
    "timeliness": ({"fct_timeliness_signal": ("case_id", "rule_id", "signal_date", "evidence")}, """
        select 'timeliness', case_id, rule_id, department_id, window_id, signal_date::timestamp, evidence
        from marts.fct_timeliness_signal where case_id is not null and rule_id <> 'TL_LEGAL_OVERDUE'"""),
    "bad_review_late": ({"fct_evaluation": ("evaluation_id", "is_bad", "verdict", "rectification_deadline",
                                            "rectified_at"), "dim_window": ("window_id", "department_id")}, """
        select 'bad_review_late', e.evaluation_id, 'BAD_REVIEW_LATE', w.department_id, e.window_id,
               e.rectification_deadline,
               '差评整改超期：整改期限 ' || e.rectification_deadline::varchar || '，截至 ' || $as_of::varchar || ' 未整改'
        from marts.fct_evaluation e left join marts.dim_window w using (window_id)
        where e.is_bad and coalesce(e.verdict, '') <> 'invalid' {not_overturned}
          and e.rectification_deadline is not null and e.rectification_deadline::date < $as_of
          and e.rectified_at is null"""),
    "video_flag": ({"fct_video_flag": ("flag_id", "review_status", "flag_type", "flagged_at"),
                    "dim_window": ("window_id", "department_id")}, """
        select 'video_flag', f.flag_id, upper(f.flag_type), w.department_id, f.window_id, f.flagged_at,
               '视频巡查确认：' || f.flag_type || ' 于 ' || f.flagged_at::varchar || coalesce('（' || f.clip_ref || '）', '')
        from marts.fct_video_flag f left join marts.dim_window w using (window_id)
        where f.review_status = 'confirmed'"""),
    # 评价真实性: a rating's signal is about that rating; RI_TOO_PERFECT (no rating) about the window-month
    "rating_integrity": ({"fct_rating_signal": ("evaluation_id", "window_id", "department_id", "month", "rule_id",
                                                "signal_date", "evidence")}, """
        select 'rating_integrity', coalesce(evaluation_id, window_id || ' ' || strftime(month, '%Y-%m')), rule_id,
               department_id, window_id, signal_date::timestamp, evidence
        from marts.fct_rating_signal"""),
    # 查实投诉: a 12345 / 办不成事 complaint found true (docs/rules.md#work-orders); its evidence as codes the
    # catalogue's evidence.SUBSTANTIATED_COMPLAINT says (dashboards/evidence.py)
    "substantiated_complaint": ({"fct_work_order": ("order_id", "channel", "received_at", "department_id", "window_id",
                                                    "is_substantiated_complaint")}, """
        select 'substantiated_complaint', order_id, 'SUBSTANTIATED_COMPLAINT', department_id, window_id, received_at,
               'order=' || order_id || ' channel=' || coalesce(channel, 'other') || ' received='
               || strftime(received_at, '%Y-%m-%d %H:%M:%S') || coalesce(' window=' || window_id, '')
        from marts.fct_work_order where is_substantiated_complaint"""),
}


@dataclass
class SyncResult:
    opened: int = 0
    escalated_on_open: int = 0
    cleared: int = 0
    uncleared: int = 0
    recurred: int = 0
    escalated: int = 0
    triggers: int = 0
    skipped: list[str] = field(default_factory=list)
    sent: int = 0
    send_failed: int = 0
    snapshot: str = ""

    def counts(self) -> dict:
        return {k: getattr(self, k) for k in ("triggers", "opened", "escalated_on_open", "cleared", "uncleared",
                                              "recurred", "escalated", "sent", "send_failed")}


def _columns(con) -> dict[str, set[str]]:  # noqa: ANN001
    out: dict[str, set[str]] = {}
    for table, column in con.sql("select table_name, column_name from information_schema.columns "
                                 "where table_schema = 'marts'").fetchall():
        out.setdefault(table, set()).add(column)
    return out


def _as_of(con, cols: dict[str, set[str]]) -> dt.date:  # noqa: ANN001
    if "as_of_date" in cols.get("run_config", set()):
        v = con.sql("select max(as_of_date) from marts.run_config").fetchall()[0][0]
        if v is not None:
            return v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else dt.date.fromisoformat(str(v)[:10])
    return con.sql("select max(as_of_date) from marts.fct_case").fetchall()[0][0]


def trigger_query(cols: dict[str, set[str]], enabled: dict[str, bool]) -> tuple[str, list[str], list[str]]:
    """(the union of the enabled triggers the snapshot can compute, kinds in it, kinds skipped with why)."""
    parts, kinds, skipped = [], [], []
    for kind, (needs, sql) in TRIGGERS.items():
        if not enabled.get(kind, True):
            skipped.append(f"{kind}: switched off (supervision.triggers)")
            continue
        missing = [f"{t}.{c}" for t, cs in needs.items() for c in cs if c not in cols.get(t, set())]
        if missing:
            skipped.append(f"{kind}: the snapshot lacks {', '.join(missing)}")
            continue
        if kind == "bad_review_late":
            sql = sql.replace("{not_overturned}", "and not coalesce(e.is_overturned, false)"
                              if "is_overturned" in cols["fct_evaluation"] else "")
        parts.append(sql)
        kinds.append(kind)
    if not parts:
        return "", kinds, skipped
    union = "\n union all \n".join(parts)
    query = f"""
        select kind, subject_id, rule, any_value(department_id) as department_id, any_value(window_id) as window_id,
               min(trigger_at) as trigger_at, left(string_agg(distinct evidence, '; '), {EVIDENCE_MAX}) as evidence
        from ({union}) t(kind, subject_id, rule, department_id, window_id, trigger_at, evidence)
        group by kind, subject_id, rule"""
    return query, kinds, skipped


def sync(store: Store, snapshot: Path | None = None, now: dt.datetime | None = None, send: bool = True) -> SyncResult:
    import duckdb
    import pyarrow as pa

    from core.config import load_scoring
    from windowwatch.snapshot import current_snapshot

    now = now or now_local()
    cfg = load_scoring().supervision
    snapshot = snapshot or current_snapshot(store.home)
    res = SyncResult(snapshot=Path(snapshot).name)

    with store.engine.begin() as conn:
        existing = conn.execute(sa.select(items.c.item_id, items.c.kind, items.c.subject_id, items.c.rule,
                                          items.c.state, items.c.trigger_cleared)).all()
        keys = pa.table({  # noqa: F841 (read by DuckDB below)
            "item_id": pa.array([r[0] for r in existing], pa.int64()),
            "kind": pa.array([r[1] for r in existing], pa.string()),
            "subject_id": pa.array([r[2] for r in existing], pa.string()),
            "rule": pa.array([r[3] for r in existing], pa.string()),
            "state": pa.array([r[4] for r in existing], pa.string()),
            "trigger_cleared": pa.array([bool(r[5]) for r in existing], pa.bool_()),
        })
        con = duckdb.connect(str(snapshot), read_only=True)
        try:
            cols = _columns(con)
            as_of = _as_of(con, cols)
            query, kinds, res.skipped = trigger_query(cols, cfg.triggers.model_dump())
            if query:
                con.execute(f"create temp table trig as {query}", {"as_of": as_of} if "$as_of" in query else None)
            else:
                con.execute("create temp table trig (kind varchar, subject_id varchar, rule varchar, "
                            "department_id varchar, window_id varchar, trigger_at timestamp, evidence varchar)")
            con.register("keys", keys)
            res.triggers = con.sql("select count(*) from trig").fetchall()[0][0]
            new = con.sql("""select t.* from trig t anti join keys k using (kind, subject_id, rule)
                             order by t.kind, t.subject_id, t.rule""").fetchall()
            kind_list = ", ".join(f"'{k}'" for k in kinds) or "''"
            gone = [r[0] for r in con.sql(f"""select k.item_id from keys k anti join trig t using (kind, subject_id, rule)
                                              where not k.trigger_cleared and k.kind in ({kind_list})""").fetchall()]
            back = con.sql("""select k.item_id, k.state from keys k semi join trig t using (kind, subject_id, rule)
                              where k.trigger_cleared""").fetchall()
        finally:
            con.close()

        # an item a 视频复核 confirmation opened (video.py) keeps its trigger: the published data shows the
        # flag confirmed only from the next run on, and then for good (the decision wins over the feed)
        reviewed = set(conn.execute(sa.select(video_reviews.c.item_id).where(video_reviews.c.item_id.is_not(None)))
                       .scalars())
        gone = [i for i in gone if i not in reviewed]
        if new:
            conn.execute(sa.insert(items), [
                {"kind": k, "subject_id": s, "rule": r, "department_id": d, "window_id": w, "trigger_at": t,
                 "evidence": e, "state": ESCALATED if k == "legal_overdue" else OPEN, "opened_at": now,
                 "escalated_at": now if k == "legal_overdue" else None, "trigger_cleared": False, "version": 1,
                 "updated_at": now, "updated_by": SYSTEM_ACTOR}
                for k, s, r, d, w, t, e in new])
            # every item without a transition is one opened just now (this transaction)
            conn.execute(sa.insert(transitions).from_select(
                ["item_id", "seq", "actor", "at", "from_state", "to_state", "action", "note"],
                sa.select(items.c.item_id, sa.literal(1), sa.literal(SYSTEM_ACTOR), sa.literal(now, sa.DateTime),
                          sa.null(), items.c.state, sa.literal("open"),
                          sa.literal(f"supervise sync: trigger in snapshot {res.snapshot}"))
                .where(~sa.exists().where(transitions.c.item_id == items.c.item_id))))
            res.opened = len(new)
            res.escalated_on_open = sum(1 for r in new if r[0] == "legal_overdue")
        for chunk in _chunks(gone):
            conn.execute(sa.update(items).where(items.c.item_id.in_(chunk)).values(
                trigger_cleared=True, trigger_cleared_at=now))
        res.cleared = len(gone)
        recur = [i for i, state in back if state == CLOSED]
        still = [i for i, state in back if state != CLOSED]
        for chunk in _chunks(still):
            conn.execute(sa.update(items).where(items.c.item_id.in_(chunk)).values(trigger_cleared=False,
                                                                                   trigger_cleared_at=None))
        res.uncleared = len(still)
        for chunk in _chunks(recur):
            _transition_many(conn, chunk, CLOSED, "recur", now, "supervise sync: the trigger recurred after closing")
            conn.execute(sa.update(items).where(items.c.item_id.in_(chunk), items.c.state == CLOSED).values(
                state=OPEN, trigger_cleared=False, trigger_cleared_at=None, closed_at=None, close_reason=None,
                notified_at=None, reply_by=None, fix_by=None, acknowledged_at=None, rectified_at=None,
                escalated_at=None, version=items.c.version + 1, updated_at=now, updated_by=SYSTEM_ACTOR))
        res.recurred = len(recur)
        res.escalated = _escalate_overdue(conn, now)
        if res.opened or res.recurred or res.escalated:
            _digest(conn, res, now)
        if res.opened or res.cleared or res.uncleared or res.recurred or res.escalated:
            _audit(store, conn, res, now)
        checkpoint("supervision.sync_before_commit")
    journal.flush(store)

    if send:
        sent = notify.send_pending(store.engine, store.home, now)
        res.sent, res.send_failed = sent.sent, sent.failed
    return res


def _chunks(ids: list[int], n: int = 5000):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _transition_many(conn: sa.Connection, ids: list[int], from_state: str | None, action: str, now: dt.datetime,
                     note: str, to_state: str = OPEN) -> None:
    t2 = transitions.alias("t2")
    conn.execute(sa.insert(transitions).from_select(
        ["item_id", "seq", "actor", "at", "from_state", "to_state", "action", "note"],
        sa.select(items.c.item_id,
                  sa.select(sa.func.coalesce(sa.func.max(t2.c.seq), 0) + 1).where(t2.c.item_id == items.c.item_id)
                  .scalar_subquery(),
                  sa.literal(SYSTEM_ACTOR), sa.literal(now, sa.DateTime), items.c.state, sa.literal(to_state),
                  sa.literal(action), sa.literal(note))
        .where(items.c.item_id.in_(ids), items.c.state == from_state if from_state else sa.true())))


def _escalate_overdue(conn: sa.Connection, now: dt.datetime) -> int:
    """Escalate notified items past reply_by and notified/acknowledged items past fix_by."""
    late_reply = sa.and_(items.c.state == NOTIFIED, items.c.reply_by < now)
    late_fix = sa.and_(items.c.state.in_([NOTIFIED, ACKNOWLEDGED]), items.c.fix_by < now)
    q = sa.select(items.c.item_id, items.c.state, late_reply.label("late_reply")).where(sa.or_(late_reply, late_fix))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    rows = conn.execute(q).all()
    for late, note in ((True, "回告逾期：过了回告期限仍未回告（reply_by）"), (False, "整改逾期：过了整改期限仍未整改（fix_by）")):
        ids = [r[0] for r in rows if bool(r[2]) == late]
        for chunk in _chunks(ids):
            for state in (NOTIFIED, ACKNOWLEDGED):
                _transition_many(conn, chunk, state, "auto_escalate", now, note, to_state=ESCALATED)
            conn.execute(sa.update(items).where(items.c.item_id.in_(chunk)).values(
                state=ESCALATED, escalated_at=now, version=items.c.version + 1, updated_at=now,
                updated_by=SYSTEM_ACTOR))
    return len(rows)


def _digest(conn: sa.Connection, res: SyncResult, now: dt.datetime) -> None:
    parts = []
    if res.opened:
        parts.append(f"新立督办件 {res.opened} 件（其中超法定时限直接升级 {res.escalated_on_open} 件）")
    if res.recurred:
        parts.append(f"销号后再次触发、重新打开 {res.recurred} 件")
    if res.escalated:
        parts.append(f"逾期未回告或未整改、自动升级 {res.escalated} 件")
    notify.enqueue(conn, item_id=None, recipient_role="inspector", department_id=None,
                   subject=f"督办同步：{'；'.join(parts)}", body=f"快照 {res.snapshot} 同步结果：\n" + "\n".join(parts)
                   + "\n请在督办页面处理。", now=now, link="/supervision")


def _audit(store: Store, conn: sa.Connection, res: SyncResult, now: dt.datetime) -> None:
    import uuid

    from core.localtime import LOCAL_TZ
    from windowwatch.audit.hashing import H, canonical_json

    made = conn.execute(sa.select(transitions.c.item_id, transitions.c.seq, transitions.c.from_state,
                                  transitions.c.to_state, transitions.c.action)
                        .where(transitions.c.actor == SYSTEM_ACTOR, transitions.c.at == now)
                        .order_by(transitions.c.item_id, transitions.c.seq)).all()
    journal.stage(conn, f"sync:{uuid.uuid4().hex}", {
        "kind": AUDIT_KIND, "user": SYSTEM_ACTOR, "at": now.replace(tzinfo=LOCAL_TZ).isoformat(timespec="seconds"),
        "snapshot": res.snapshot, "store": store.url, "counts": res.counts(), "transitions": len(made),
        "transitions_hash": H(canonical_json([list(r) for r in made])),
    }, now)

"""视频复核 video review (SPEC §4.11, docs/rules.md#video): an inspector confirms or dismisses a
pending video flag with a note, on the 视频巡查 page.

The decision is stored in the supervision store (`video_reviews`, one row per flag, final once made:
a second reviewer is told who decided and when), appended to the hash-chained audit log, and
exported to landing with the items (export.py), where int_video__flags prefers it over the feed's
review_status from the next run on. A confirmation opens the flag's supervision item at once, under
the key `supervise sync` would give it (video_flag, flag_id, FLAG_TYPE), so the sync never opens it
twice. Clips: a clip_ref is played when it names a file under WINDOWWATCH_CLIP_ROOT (default
`$WINDOWWATCH_HOME/clips`) or an http(s) URL (`clip_source`); otherwise it is shown as text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from core.localtime import now_local
from core.settings import settings
from windowwatch.supervision import journal
from windowwatch.supervision.model import REVIEW_DECISIONS, items, video_reviews
from windowwatch.supervision.store import Store
from windowwatch.supervision.workflow import Actor, Refused, insert_item

AUDIT_KIND = "video_review"
CLIP_ROOT_ENV = "WINDOWWATCH_CLIP_ROOT"


def decision_of(store: Store, flag_id: str) -> dict | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(video_reviews).where(video_reviews.c.flag_id == flag_id)).mappings().first()
    return dict(row) if row else None


def reviewed_ids(store: Store, flag_ids: list[str]) -> set[str]:
    """Which of these flags have a decision in the store (the page leaves them out of the backlog)."""
    if not flag_ids:
        return set()
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(video_reviews.c.flag_id).where(video_reviews.c.flag_id.in_(flag_ids)))
                   .scalars())


def _pending_flag(snapshot: Path, flag_id: str) -> dict:
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = con.execute("""select f.flag_id, f.window_id, f.flag_type, f.flagged_at, f.clip_ref, f.review_status,
                                     w.department_id
                              from marts.fct_video_flag f left join marts.dim_window w using (window_id)
                              where f.flag_id = ? limit 1""", [flag_id]).fetchall()
    finally:
        con.close()
    if not rows:
        raise Refused(f"video flag {flag_id!r} is not in the published data (marts.fct_video_flag)")
    keys = ("flag_id", "window_id", "flag_type", "flagged_at", "clip_ref", "review_status", "department_id")
    flag = dict(zip(keys, rows[0]))
    if flag["review_status"] != "pending":
        raise Refused(f"video flag {flag_id} is {flag['review_status']} in the published data: only pending flags "
                      "are reviewed")
    return flag


def review(store: Store, actor: Actor, flag_id: str, decision: str, note: str, *, now: dt.datetime | None = None,
           snapshot: Path | None = None) -> dict:
    """Record `actor`'s decision on a pending flag; a confirmation opens its supervision item. Returns
    the stored review. Raises Refused (role, decision, note, flag not pending, already decided)."""
    from windowwatch.snapshot import NoSnapshot, current_snapshot

    now = now or now_local()
    note = (note or "").strip()
    if actor.role != "inspector":
        raise Refused(f"user {actor.name} ({actor.role}) may not review video flags: only an inspector may")
    if decision not in REVIEW_DECISIONS:
        raise Refused(f"decision {decision!r}: one of {', '.join(REVIEW_DECISIONS)}")
    if not note:
        raise Refused("a note is required: what the clip shows")
    try:
        flag = _pending_flag(snapshot or current_snapshot(store.home), flag_id)
    except NoSnapshot as exc:
        raise Refused(str(exc)) from None
    try:
        with store.engine.begin() as conn:
            item_id = _open_item(conn, flag, actor, note, now) if decision == "confirmed" else None
            conn.execute(sa.insert(video_reviews).values(
                flag_id=flag_id, decision=decision, note=note, reviewer=actor.name, reviewed_at=now,
                window_id=flag["window_id"], flag_type=flag["flag_type"], item_id=item_id))
            _audit(store, conn, flag_id, decision, note, actor.name, now, item_id)
    except sa.exc.IntegrityError:
        earlier = decision_of(store, flag_id)
        if earlier is None:
            raise
        raise Refused(f"video flag {flag_id} was already {earlier['decision']} by {earlier['reviewer']} at "
                      f"{earlier['reviewed_at']:%Y-%m-%d %H:%M}: nothing was changed by you") from None
    journal.flush(store)
    return decision_of(store, flag_id)


def _open_item(conn: sa.Connection, flag: dict, actor: Actor, note: str, now: dt.datetime) -> int:
    """The flag's supervision item (the key and evidence `supervise sync` gives a confirmed flag), opened
    now, or the one that already exists."""
    key = ("video_flag", flag["flag_id"], str(flag["flag_type"]).upper())
    found = conn.execute(sa.select(items.c.item_id).where(items.c.kind == key[0], items.c.subject_id == key[1],
                                                          items.c.rule == key[2])).scalar()
    if found is not None:
        return found
    evidence = (f"视频巡查确认：{flag['flag_type']} 于 {flag['flagged_at']}"
                + (f"（{flag['clip_ref']}）" if flag.get("clip_ref") else ""))
    return insert_item(conn, key, flag["department_id"], flag["window_id"], evidence=evidence,
                       trigger_at=flag["flagged_at"], actor=actor, note=note, now=now)


def _audit(store: Store, conn: sa.Connection, flag_id: str, decision: str, note: str, user: str, now: dt.datetime,
           item_id: int | None) -> None:
    """Stage the decision's audit entry in its transaction (journal.py), keyed by the flag (decided once)."""
    from core.localtime import LOCAL_TZ

    journal.stage(conn, f"video_review:{flag_id}", {
        "kind": AUDIT_KIND, "flag_id": flag_id, "decision": decision, "note": note, "user": user,
        "at": now.replace(tzinfo=LOCAL_TZ).isoformat(timespec="seconds"), "item_id": item_id, "store": store.url,
    }, now)


def clip_source(clip_ref: str | None, home) -> str | Path | None:  # noqa: ANN001
    """What st.video can play for a clip_ref: an http(s) URL as is, or a file under the clip root
    (WINDOWWATCH_CLIP_ROOT, default `$WINDOWWATCH_HOME/clips`; never outside it); None when it resolves to
    neither (the page shows the reference as text)."""
    ref = str(clip_ref or "").strip()
    if not ref:
        return None
    if ref.startswith(("http://", "https://")):
        return ref
    base = Path(settings().clip_root or home.root / "clips").resolve()
    path = (base / ref.removeprefix("file://").lstrip("/")).resolve()
    return path if path.is_file() and path.is_relative_to(base) else None

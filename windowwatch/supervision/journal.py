"""The audit entries of supervision changes: staged in the change's store transaction, appended to
the hash-chained log (windowwatch/audit/log.py) after it commits.

The store and the log are two files, so no one transaction holds both. A change writes its entry
into the store's `audit_pending` table inside its own transaction, keyed by what it did (`txn`: the
item and transition number of a transition, the flag of a 视频复核, a sync's own id), and commits;
then `flush` appends every pending entry to the log and deletes it from the table. A kill -9

- before the commit leaves neither the change nor its entry (the log never names an attempt that did
  not happen);
- after the commit and before the append leaves the entry pending: the next change, sync or `act`
  (even one refused) appends it;
- after the append and before the delete leaves it pending but already logged: `flush` finds its
  `txn` in the log and only deletes it (appends are idempotent by `txn`).

`flush` holds the log's lock while it reads the log and appends, so two processes flushing at once
write each entry once.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from core.faults import checkpoint
from windowwatch.supervision.model import audit_pending
from windowwatch.supervision.store import Store


def stage(conn: sa.Connection, txn: str, entry: dict, now: dt.datetime) -> None:
    """Stage `entry` (the log's fields but seq and hashes) in the caller's transaction, keyed by `txn`."""
    conn.execute(sa.insert(audit_pending).values(txn=txn, entry=json.dumps({**entry, "txn": txn}, ensure_ascii=False,
                                                                           default=str), created_at=now))


def flush(store: Store) -> int:
    """Append the pending entries the log does not hold yet (by txn) and clear them; returns how many
    were appended. Cheap when nothing is pending (one query of an empty table)."""
    from windowwatch.audit.log import AuditLog

    with store.engine.connect() as conn:
        pending = conn.execute(sa.select(audit_pending.c.txn, audit_pending.c.entry)
                               .order_by(audit_pending.c.created_at, audit_pending.c.txn)).all()
    if not pending:
        return 0
    log = AuditLog(store.home)
    appended = 0
    with log.locked():
        logged = {e.get("txn") for e in log.entries() if e.get("txn") and e.get("store") == store.url}
        for txn, entry in pending:
            if txn not in logged:
                log.append_locked(json.loads(entry))
                appended += 1
    checkpoint("supervision.audit_before_clear")
    with store.engine.begin() as conn:
        conn.execute(sa.delete(audit_pending).where(audit_pending.c.txn.in_([t for t, _ in pending])))
    return appended

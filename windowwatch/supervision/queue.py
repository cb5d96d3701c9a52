"""The 督办 page's reads of the supervision store (dashboards/supervision_view.py shows them): the
department and window pickers, the filtered queue and the inbox. Filters, order, the row limit and
the count are SQL (indexed: state, department), never pandas over every item; only the rows shown
(at most ROW_LIMIT) become a DataFrame. Here, below the dashboards, so that `supervise bench`
(bench.py) times exactly what the page runs."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from core.localtime import now_local
from windowwatch.supervision.model import NOTIFIED, items, outbox
from windowwatch.supervision.store import Store
from windowwatch.supervision.workflow import Actor

ROW_LIMIT = 500


def _choices(s: Store, col: sa.Column, department_id: str | None) -> list[str]:
    """The distinct non-empty values of an items column (of one department's items when given)."""
    q = sa.select(col).distinct().order_by(col)
    if department_id:
        q = q.where(items.c.department_id == department_id)
    with s.engine.connect() as conn:
        return [v for v in conn.execute(q).scalars() if v]


def department_choices(s: Store, department_id: str | None) -> list[str]:
    return _choices(s, items.c.department_id, department_id)


def window_choices(s: Store, department_id: str | None) -> list[str]:
    return _choices(s, items.c.window_id, department_id)


def queue(s: Store, *, state: str | None, department: str | None, window: str | None, kind: str | None
          ) -> tuple[pd.DataFrame, int]:
    """The items matching the filters (at most ROW_LIMIT, overdue replies first) and how many match."""
    cond = []
    for col, v in (("state", state), ("department_id", department), ("window_id", window), ("kind", kind)):
        if v:
            cond.append(items.c[col] == v)
    now = now_local()
    overdue = sa.and_(items.c.state == NOTIFIED, items.c.reply_by < now)
    cols = [items.c[n] for n in ("item_id", "state", "kind", "subject_id", "rule", "department_id", "window_id",
                                 "opened_at", "reply_by", "fix_by", "trigger_cleared", "version")]
    q = (sa.select(*cols, overdue.label("overdue")).where(*cond)
         .order_by(sa.case((overdue, 0), else_=1), items.c.item_id).limit(ROW_LIMIT))
    with s.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[*(col.name for col in cols), "overdue"])
        n = conn.execute(sa.select(sa.func.count()).select_from(items).where(*cond)).scalar_one()
    return df, int(n)


def inbox(s: Store, a: Actor, limit: int = 50) -> pd.DataFrame:
    """The outbox messages addressed to the user's role (a department's: to its department only)."""
    q = sa.select(outbox.c.message_id, outbox.c.item_id, outbox.c.subject, outbox.c.created_at,
                  items.c.kind, items.c.rule, items.c.state).select_from(
        outbox.outerjoin(items, items.c.item_id == outbox.c.item_id)).where(outbox.c.recipient_role == a.role)
    if a.role == "department":
        q = q.where(outbox.c.department_id == a.department_id)
    q = q.order_by(outbox.c.message_id.desc()).limit(limit)
    with s.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).mappings().all(),
                            columns=["message_id", "item_id", "subject", "created_at", "kind", "rule", "state"])

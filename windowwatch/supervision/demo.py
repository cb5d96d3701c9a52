"""The supervision step of `windowwatch demo` (windowwatch/demo.py): after the pipeline's
`supervise sync` opened items, a few are walked through the workflow by named demo users, so a
newcomer opening the 督办 page sees every state and its history, PDFs and inbox messages:

    notified 已督办 · acknowledged 已回告 · rectified 已整改 · closed 已销号 · escalated 已升级

The inspector is `demo` (the account the demo creates to sign in with); each department's liaison is
`demo_<department_id>` (actors, no accounts: add one with `windowwatch users add … --role department`
to act as them). Everything goes through workflow.act, as a person would (role checks, history, audit
log, outbox). It walks once per store: a second demo finds the demo's transitions and leaves it be.
"""

from __future__ import annotations

import sqlalchemy as sa

from windowwatch.supervision.model import OPEN, items, transitions
from windowwatch.supervision.store import Store
from windowwatch.supervision.workflow import Actor, act, get_item, history

INSPECTOR = "demo"

# how far each demo item goes: (action, note, close reason)
WALKS: tuple[tuple[tuple[str, str, str | None], ...], ...] = (
    (("notify", "请于期限内回告原因及整改计划。", None),),
    (("notify", "请核查超期原因。", None),
     ("acknowledge", "原因：材料流转延误；计划：本周内办结并通知申请人。", None)),
    (("notify", "请核查并限期整改。", None),
     ("acknowledge", "原因：窗口人员不足；计划：增派人员。", None),
     ("rectify", "已增派 1 名工作人员，积压办件已清理。", None)),
    (("notify", "请核查并限期整改。", None),
     ("acknowledge", "原因：系统故障导致补录；计划：规范录入。", None),
     ("rectify", "已组织窗口人员培训，规范实时录入。", None),
     ("close", "经核实整改到位，予以销号。", "rectified")),
    (("notify", "请限期整改。", None),
     ("escalate", "问题反复出现，提请效能告诫。", None)),
)


def walked(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(transitions)
                            .where(transitions.c.actor == INSPECTOR)).scalar_one() > 0


def walk(store: Store) -> dict[str, int]:
    """Walk open items of distinct departments' windows through WALKS; returns {state: items} of the
    store after. Does nothing when the demo has walked this store before, or nothing is open."""
    if not walked(store):
        with store.engine.connect() as conn:
            open_ids = list(conn.execute(sa.select(items.c.item_id).where(
                items.c.state == OPEN, items.c.department_id.is_not(None), items.c.kind != "manual")
                .order_by(items.c.item_id).limit(len(WALKS))).scalars())
        for item_id, steps in zip(open_ids, WALKS):
            for action, note, reason in steps:
                item = get_item(store, item_id)
                who = (Actor(f"demo_{item['department_id']}", "department", item["department_id"])
                       if action in ("acknowledge", "rectify") else Actor(INSPECTOR, "inspector"))
                after = act(store, item_id, action, who, note, reason, expected_version=item["version"])
            _documents(store, after)
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(items.c.state, sa.func.count()).group_by(items.c.state)).all())


def _documents(store: Store, item: dict) -> None:
    """The item's PDFs, made at its transitions as the CLI and the page make them."""
    from windowwatch.supervision import notices

    try:
        notices.issue(store.home, item, history(store, item["item_id"]))
    except Exception:  # noqa: BLE001 — the 督办 page renders them when the item is shown
        pass

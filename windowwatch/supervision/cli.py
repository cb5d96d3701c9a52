"""`windowwatch supervise sync | list | act | send | open | bench` (SPEC §6)."""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

from windowwatch.supervision.model import STATE_ZH, STATES, items

LIST_FIELDS = ("item_id", "kind", "subject_id", "rule", "state", "department_id", "window_id", "opened_at", "reply_by",
               "version")


def _err(cmd: str, msg: str) -> int:
    print(f"windowwatch supervise {cmd}: {msg}", file=sys.stderr)
    return 2


def _open():
    from windowwatch.supervision.store import open_store

    return open_store()


def sync_main(args) -> int:  # noqa: ANN001
    from windowwatch.snapshot import NoSnapshot
    from windowwatch.supervision.store import StoreError
    from windowwatch.supervision.sync import sync

    try:
        store = _open()
        try:
            res = sync(store)
        finally:
            store.dispose()
    except (StoreError, NoSnapshot) as exc:
        return _err("sync", str(exc))
    print(f"supervise sync ({res.snapshot}): " + ", ".join(f"{k}={v}" for k, v in res.counts().items()))
    for s in res.skipped:
        print(f"  trigger skipped — {s}")
    return 0


def send_main(args) -> int:  # noqa: ANN001
    from windowwatch.supervision.notify import send_pending
    from windowwatch.supervision.store import StoreError

    try:
        store = _open()
        try:
            res = send_pending(store.engine, store.home)
        finally:
            store.dispose()
    except (StoreError, ValueError) as exc:
        return _err("send", str(exc))
    print(f"supervise send: sent={res.sent}, failed={res.failed}, no_address={res.no_address}")
    for e in res.errors[:20]:
        print(f"  {e}", file=sys.stderr)
    return 1 if res.failed else 0


def list_items(store, state: str | None = None, department: str | None = None) -> list[dict]:  # noqa: ANN001
    q = sa.select(*(items.c[f] for f in LIST_FIELDS)).order_by(items.c.item_id)
    if state:
        q = q.where(items.c.state == state)
    if department:
        q = q.where(items.c.department_id == department)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def list_main(args) -> int:  # noqa: ANN001
    from windowwatch.supervision.store import StoreError

    if args.state and args.state not in STATES:
        return _err("list", f"--state {args.state!r}: one of {', '.join(STATES)}")
    try:
        store = _open()
        try:
            rows = list_items(store, args.state, args.department)
        finally:
            store.dispose()
    except StoreError as exc:
        return _err("list", str(exc))
    if args.json:
        print(json.dumps([{k: (v.isoformat(timespec="seconds") if hasattr(v, "isoformat") else v) for k, v in r.items()}
                          for r in rows], ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['item_id']:>7}  {r['state']:<12} {STATE_ZH[r['state']]:<4} {r['kind']:<16} {r['subject_id']:<20} "
              f"{r['rule']:<18} {r['department_id'] or '-':<8} reply_by {r['reply_by'] or '-'}  v{r['version']}")
    print(f"{len(rows)} item(s)")
    return 0


def act_main(args) -> int:  # noqa: ANN001
    from windowwatch.accounts import AccountError
    from windowwatch.supervision.store import StoreError
    from windowwatch.supervision.workflow import Refused, act, actor_for

    try:
        store = _open()
        try:
            actor = actor_for(args.user, store.home)
            after = act(store, args.item, args.action, actor, args.note, args.reason,
                        expected_version=args.expect_version)
            files = _issue(store, after)
        finally:
            store.dispose()
    except (Refused, StoreError, AccountError) as exc:
        return _err("act", f"refused — {exc}")
    print(f"item {after['item_id']}: {args.action} → {after['state']} ({STATE_ZH[after['state']]}), version "
          f"{after['version']}" + (f", reply by {after['reply_by']:%Y-%m-%d %H:%M}" if after.get("reply_by") else ""))
    for kind, path in files.items():
        print(f"  {kind}: {path}")
    return 0


def _issue(store, item: dict) -> dict:  # noqa: ANN001
    """The PDFs of the transition just made (notices.issue). The transition stands when a PDF cannot be
    made: it is said on stderr, and the 督办 page renders the PDF when the item is next shown."""
    from windowwatch.supervision import notices
    from windowwatch.supervision.workflow import history

    try:
        return notices.issue(store.home, item, history(store, item["item_id"]))
    except Exception as exc:  # noqa: BLE001 — a document must never undo or hide a committed transition
        print(f"windowwatch supervise act: item {item['item_id']} changed, but its PDF could not be made ({exc}); "
              "it is made when the item is next shown on the 督办 page", file=sys.stderr)
        return {}


def bench_main(args) -> int:  # noqa: ANN001
    """`supervise bench --items N [--url URL]`: sync and the 督办 page's queries timed on N synthetic items."""
    from windowwatch.supervision.bench import run
    from windowwatch.supervision.store import StoreError

    if args.items < 1:
        return _err("bench", "--items must be at least 1")
    try:
        res = run(args.items, url=args.url)
    except StoreError as exc:
        return _err("bench", str(exc))
    print(res.table())
    return 0


def open_main(args) -> int:  # noqa: ANN001
    """`supervise open --window W [--case C] --reason TEXT --user NAME`: an item opened by hand (inspector)."""
    from windowwatch.accounts import AccountError
    from windowwatch.supervision.store import StoreError
    from windowwatch.supervision.workflow import Refused, actor_for, open_manual

    try:
        store = _open()
        try:
            item = open_manual(store, actor_for(args.user, store.home), args.window, args.reason, args.case)
        finally:
            store.dispose()
    except (Refused, StoreError, AccountError) as exc:
        return _err("open", f"refused — {exc}")
    print(f"item {item['item_id']}: opened by hand ({item['rule']}, window {item['window_id']}, department "
          f"{item['department_id'] or '-'}) → {item['state']} ({STATE_ZH[item['state']]}), version {item['version']}")
    return 0

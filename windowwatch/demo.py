"""`windowwatch demo`: demo feeds (if absent) → the pipeline through Airflow → the latest full
month's report → a few supervision items walked through the 督办 workflow by demo users → the
dashboards.

The demo feeds are generated once into `$WINDOWWATCH_HOME/demo_feeds` (scale small, fixed
seed), so a second `windowwatch demo` re-runs on the same data (landing is idempotent).
`--no-serve` stops after publishing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from core.paths import Home

DEMO_SEED = 20251101
DEMO_SCALE = "small"


def ensure_demo_feeds(h: Home) -> tuple[Path, str | None]:
    """Generate the demo feeds unless present; returns (folder, last generated day)."""
    out = h.demo_feeds
    truth = out / "_truth" / "ground_truth.json"
    if not truth.exists():
        from windowwatch.generate.dataset import generate

        print(f"demo: generating {DEMO_SCALE} demo feeds (seed {DEMO_SEED}) into {out} …", flush=True)
        generate(str(out), scale=DEMO_SCALE, seed=DEMO_SEED, as_of=None)
    else:
        print(f"demo: using the demo feeds in {out}", flush=True)
    try:
        end = json.loads(truth.read_text(encoding="utf-8"))["period"]["end"]
    except (OSError, KeyError, json.JSONDecodeError):
        end = None
    return out, end


def latest_full_month(as_of: dt.date) -> str:
    """The last month that ended on or before as_of."""
    first = as_of.replace(day=1)
    nxt = (as_of + dt.timedelta(days=1))
    if nxt.month != as_of.month:  # as_of is the last day of its month
        return as_of.strftime("%Y-%m")
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def walk_supervision(h: Home) -> None:
    """A few of the items the pipeline's `supervise sync` opened, walked through the workflow by demo
    users (windowwatch/supervision/demo.py), so the 督办 page shows every state. Never stops the demo."""
    from windowwatch.supervision.demo import walk
    from windowwatch.supervision.store import StoreError, open_store
    from windowwatch.supervision.workflow import Refused

    try:
        store = open_store(h)
        try:
            states = walk(store)
        finally:
            store.dispose()
    except (StoreError, Refused) as exc:
        print(f"demo: supervision walk skipped ({exc})", flush=True)
        return
    print("demo: supervision items by state: " + ", ".join(f"{k}={v}" for k, v in sorted(states.items())), flush=True)


def main(args) -> int:
    from core.localtime import today_local
    from windowwatch.pipeline import run_dag
    from windowwatch.runs import format_summary

    h = Home.from_env()
    h.ensure()
    # the demo draws at once on the 双随机 page: no wait between commit and draw (docs/configuration.md)
    os.environ.setdefault("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "0")
    try:
        feeds, end = ensure_demo_feeds(h)
    except RuntimeError as exc:
        print(f"windowwatch demo: {exc}", file=sys.stderr)
        return 3
    # Build as of the end of the generated period, so the demo looks the same on any day.
    as_of = end or today_local().isoformat()
    print(f"demo: running the daily pipeline through Airflow as of {as_of} …", flush=True)
    from windowwatch.run_lock import HomeBusy

    try:
        rc, record = run_dag(h, str(feeds), as_of)
    except HomeBusy as exc:
        print(f"windowwatch demo: {exc}", file=sys.stderr)
        return 3
    if record is not None:
        print(format_summary(record))
    if rc or record is None or record["status"] == "failed":
        print("windowwatch demo: the pipeline failed (see above); nothing new was published.", file=sys.stderr)
        return rc or 1

    month = latest_full_month(dt.date.fromisoformat(as_of))
    from windowwatch.reports.publication import publish_month

    r = publish_month(month, h)
    state = "published" if r.created else "unchanged"
    print(f"demo: monthly report {month} v{r.version} {state}: {r.path}")
    walk_supervision(h)

    if getattr(args, "no_serve", False):
        print("demo: --no-serve: stopping before the dashboards. Start them with `windowwatch serve`.")
        return 0
    import windowwatch.serve as serve
    from windowwatch.accounts import ensure_demo_user

    created = ensure_demo_user(h)
    if created:
        name, password = created
        print(f"demo: created the inspector account {name!r} with password {password!r} (shown once; "
              f"add your own with `windowwatch users add NAME --role inspector`)", flush=True)
    print(f"demo: serving the dashboards on http://localhost:{args.port}/ (Ctrl-C stops)", flush=True)
    return int(serve.main(args) or 0)

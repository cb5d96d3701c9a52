"""`windowwatch supervise bench --items N`: issue 18's figures for a city-scale queue — "a 10,000-item
queue lists and filters in under 1 s on the page and syncs in under 10 s".

It publishes a synthetic snapshot whose marts hold exactly N triggers (open red-card cases, and one in
ten legal overdue, which opens escalated), spread over 40 departments and 400 windows, into a home
of its own, and times through the real code paths:

- `supervise sync` (sync.sync) the first time (opens N items) and again (the daily re-run: opens nothing);
- the 督办 page's queries (queue.py: the functions dashboards/supervision_view.py hands the page): the
  department and window pickers, the queue unfiltered and filtered (state, department, window, kind;
  the page loads at most ROW_LIMIT rows into pandas and counts the rest in SQL) and the inbox.

The store is a SQLite file in that home, or the PostgreSQL `url` names (an empty database).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DEPARTMENTS = 40
WINDOWS_PER_DEPARTMENT = 10
LEGAL_EVERY = 10  # one trigger in ten is a legal-overdue case (opened escalated)
AS_OF = dt.date(2026, 11, 2)


@dataclass
class Step:
    name: str
    seconds: float
    rows: int  # items opened / rows the step returned
    matching: int | None = None  # the queue: how many items match its filters


@dataclass
class BenchResult:
    items: int
    store: str
    steps: list[Step] = field(default_factory=list)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def table(self) -> str:
        lines = [f"supervise bench: {self.items} items, store {self.store}",
                 f"{'step':<34} {'seconds':>8} {'rows':>8} {'matching':>9}"]
        lines += [f"{s.name:<34} {s.seconds:>8.3f} {s.rows:>8} {'' if s.matching is None else s.matching:>9}"
                  for s in self.steps]
        return "\n".join(lines)


def build_snapshot(path: Path, n: int) -> None:
    """A snapshot whose marts hold exactly n supervision triggers (fct_case only: the other triggers'
    tables are absent, and sync skips them saying so)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(f"""
            create table marts.fct_case as
            select 'BENCH-' || lpad(i::varchar, 8, '0') as case_id,
                   'D' || lpad((i % {DEPARTMENTS})::varchar, 2, '0') as department_id,
                   'W' || lpad((i % {DEPARTMENTS * WINDOWS_PER_DEPARTMENT})::varchar, 3, '0') as window_id,
                   'open' as status,
                   case when i % {LEGAL_EVERY} = 0 then null else 'red' end as card,
                   i % {LEGAL_EVERY} = 0 as is_legal_overdue,
                   timestamp '2026-10-01 17:00' + to_days((i % 30)::int) as deadline_at,
                   timestamp '2026-10-10 17:00' + to_days((i % 20)::int) as legal_deadline_at,
                   (1 + i % 9)::int as overdue_workdays,
                   date '{AS_OF}' as as_of_date
            from range({int(n)}) t(i)""")
        con.execute("checkpoint")
    finally:
        con.close()


def run(items: int = 10_000, url: str | None = None, workdir: Path | None = None) -> BenchResult:
    """Build the store from a synthetic snapshot of `items` triggers and time sync and the page's queries."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="ww-sup-bench-") as tmp:
            return run(items, url, Path(tmp))
    return _run(items, url, Path(workdir))


def _run(n: int, url: str | None, workdir: Path) -> BenchResult:
    from core.paths import Home
    from windowwatch.supervision import queue as sv
    from windowwatch.supervision.model import ESCALATED, OPEN
    from windowwatch.supervision.store import open_store
    from windowwatch.supervision.sync import sync
    from windowwatch.supervision.workflow import Actor

    home = Home(workdir / "home")
    home.published.mkdir(parents=True, exist_ok=True)
    build_snapshot(home.published / "warehouse-bench.duckdb", n)
    (home.published / "CURRENT").write_text("warehouse-bench.duckdb", encoding="utf-8")
    store = open_store(home, url or f"sqlite:///{home.root / 'supervision.sqlite'}")
    res = BenchResult(items=n, store=store.url)
    now = dt.datetime.combine(AS_OF, dt.time(9, 0))
    try:
        def timed(name: str, fn, count=len, matching=None):  # noqa: ANN001, ANN202
            t0 = time.perf_counter()
            out = fn()
            res.steps.append(Step(name, time.perf_counter() - t0, count(out), matching(out) if matching else None))
            return out

        timed("sync (first: opens every item)", lambda: sync(store, now=now, send=False), lambda r: r.opened)
        timed("sync (again: opens nothing)", lambda: sync(store, now=now + dt.timedelta(days=1), send=False),
              lambda r: r.opened)
        dept, window = "D07", "W047"
        timed("page: department picker", lambda: sv.department_choices(store, None))
        timed("page: window picker (department)", lambda: sv.window_choices(store, dept))
        for name, filters in (("page: queue, no filter", {}),
                              ("page: queue, state open", {"state": OPEN}),
                              ("page: queue, department", {"department": dept}),
                              ("page: queue, department + window", {"department": dept, "window": window}),
                              ("page: queue, escalated + kind", {"state": ESCALATED, "kind": "legal_overdue"})):
            f = {"state": None, "department": None, "window": None, "kind": None, **filters}
            timed(name, lambda f=f: sv.queue(store, **f), lambda r: len(r[0]), lambda r: r[1])
        timed("page: inbox (inspector)", lambda: sv.inbox(store, Actor("bench", "inspector")))
    finally:
        store.dispose()
    return res


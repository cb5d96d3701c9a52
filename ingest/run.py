"""`windowwatch ingest`: land every configured source and print the reconciliation.

    ingest_all(home, sources_file, inbox)   every source (reference feeds land first)
    ingest_source(home, source, inbox)      one source (Airflow maps one task per source)

Reconciliation: per delivery and per feed, rows in = rows landed + rows quarantined. It is
printed and stored as runs/ingest-<timestamp>.json and runs/ingest-latest.json. Exit code 0
when every row landed or was quarantined; 1 when a file was unreadable, a folder named no
feed, or a source failed (the rest still lands).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.config import ConfigError, Source, SourcesFile, load_sources
from core.feeds import FEEDS
from core.localtime import now_local
from core.paths import Home
from ingest.delivery import Delivery
from ingest.landing import DEFERRED, DeliveryResult, Lander
from ingest.privacy import PiiKeyError
from ingest.landing_files import (
    DiskFullError,
    ensure_empty_files,
    is_disk_full,
    remove_leftovers,
    remove_own_temp_files,
    staging_root,
)
from ingest.sources.files import FileDelivery, PendingFile, scan_inbox
from ingest.stage_pool import worker_count

FEED_ORDER = {name: i for i, name in enumerate(FEEDS)}  # reference feeds first


@dataclass
class SourceProblem:
    source: str
    problem: str  # "unknown feed folder", "source failed", "not in a feed folder"
    detail: str
    fails_run: bool = True


COUNTS = ("deliveries", "rows_in", "landed", "quarantined", "already_landed", "unreadable", "deferred")  # per feed and in total


@dataclass
class RunReport:
    started_at: str
    deliveries: list[DeliveryResult] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    finished_at: str | None = None
    saved_to: str | None = None  # runs/ingest-<timestamp>.json
    stage_workers: int = 0  # worker processes that staged file deliveries (ingest/stage_pool.py)

    @property
    def exit_code(self) -> int:
        if any(d.status == "unreadable" for d in self.deliveries) or any(p.fails_run for p in self.problems):
            return 1
        return 0

    def by_feed(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for d in self.deliveries:
            row = out.setdefault(d.feed, dict.fromkeys(COUNTS, 0))
            row["deliveries"] += 1
            row["rows_in"] += d.rows_in
            row["landed"] += d.landed
            row["quarantined"] += d.quarantined
            row["already_landed"] += d.status == "already landed"
            row["unreadable"] += d.status == "unreadable"
            row["deferred"] += d.status == DEFERRED
        return dict(sorted(out.items(), key=lambda kv: FEED_ORDER.get(kv[0], 99)))

    def totals(self) -> dict[str, int]:
        """The counts of `by_feed`, summed over every feed."""
        return {k: sum(row[k] for row in self.by_feed().values()) for k in COUNTS}

    def as_dict(self) -> dict:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "exit_code": self.exit_code,
            "stage_workers": self.stage_workers,
            "by_feed": self.by_feed(),
            "deliveries": [d.as_dict() for d in self.deliveries],
            "problems": [p.__dict__ for p in self.problems],
        }

    def extend(self, other: "RunReport") -> None:
        self.deliveries += other.deliveries
        self.problems += other.problems


# ------------------------------------------------------------------ sources -> deliveries


def _connector_deliveries(source: Source, home: Home) -> Iterator[Delivery]:
    """The deliveries of a sql or http source. Each connector is imported when used: SQLAlchemy
    and httpx cost start-up time that a files-only run does not pay."""
    if source.kind == "sql":
        from ingest.sources.sql import fetch_deliveries
    else:
        from ingest.sources.http import fetch_deliveries
    return fetch_deliveries(source, home)


def _file_deliveries(home: Home, source: Source, inbox: Path | None, report: RunReport) -> list:
    folder = Path(source.path) if source.path else inbox
    if folder is None:
        report.problems.append(SourceProblem(source.name, "no inbox", "a files source needs `path` or the run's --feeds DIR"))
        return []
    try:
        scan = scan_inbox(folder, source.options, staging_root(home), source.name, lazy=True)
    except FileNotFoundError as exc:
        report.problems.append(SourceProblem(source.name, "no inbox", str(exc)))
        return []
    for name in scan.unknown_folders:
        report.problems.append(SourceProblem(source.name, "unknown feed folder",
                                             f"{folder / name}: not a feed (known: {', '.join(FEEDS)}); rename it or move its files"))
    for name in scan.loose_files:
        report.problems.append(SourceProblem(source.name, "not in a feed folder",
                                             f"{folder / name}: put the file in <inbox>/<feed>/ to land it", fails_run=False))
    return scan.deliveries


def _deliveries(home: Home, source: Source, inbox: Path | None, report: RunReport) -> list[tuple[str, Iterable]]:
    """(feed, deliveries) groups of one source; iterators of sql/http stay lazy."""
    if source.kind == "files":
        groups: dict[str, list] = {}
        for d in _file_deliveries(home, source, inbox, report):
            groups.setdefault(d.feed, []).append(d)
        return list(groups.items())
    assert source.feed is not None
    return [(source.feed, _guarded(_connector_deliveries(source, home), source, report))]


def _guarded(it: Iterator[Delivery], source: Source, report: RunReport) -> Iterator[Delivery]:
    """A connector failing mid-way is reported; what it delivered before stays landed."""
    try:
        yield from it
    except Exception as exc:  # the connectors scrub credentials from their messages
        report.problems.append(SourceProblem(source.name, "source failed", f"{type(exc).__name__}: {str(exc)[:300]}"))


def _land_groups(lander: Lander, groups: list[tuple[str, Iterable]], report: RunReport) -> None:
    """Groups in feed order. Consecutive file groups form one sequence whose deliveries are
    staged ahead in worker processes (`_land_files`); a sql/http group is landed on its own."""
    ordered = sorted(groups, key=lambda g: FEED_ORDER.get(g[0], 99))
    files = [d for _, ds in ordered if isinstance(ds, list) for d in ds]
    lander.start_workers(_workers_for(lander, files))
    report.stage_workers = max(report.stage_workers, lander.workers)
    try:
        run: list = []
        for _, deliveries in ordered:
            if isinstance(deliveries, list):
                run += deliveries
                continue
            _land_files(lander, run, report)
            run = []
            for d in deliveries:  # sql/http: lazy, and a connector may depend on the previous delivery's callback
                report.deliveries.append(lander.land(d))
        _land_files(lander, run, report)
    finally:
        lander.close()


def _workers_for(lander: Lander, files: list) -> int:
    """`worker_count` of the file deliveries not landed yet, decided as soon as the files
    scanned so far (in delivery order) settle it: both counts only grow, so the answer is the
    one a complete scan gives, and the workers start while later files are still hashed."""
    todo_bytes = 0
    todo: set[str] = set()
    for i, d in enumerate(files):
        n = worker_count(todo_bytes, len(todo))
        if n:
            return n
        d = _resolved(files, i)
        if isinstance(d, FileDelivery) and not lander.ledger_path(d.content_id).exists():
            todo_bytes += _size(d)
            todo.add(d.content_id)
    return worker_count(todo_bytes, len(todo))


def _resolved(deliveries: list, i: int):
    """deliveries[i], opened (waiting for its scan) if it is still a PendingFile; replaced in place."""
    d = deliveries[i]
    if isinstance(d, PendingFile):
        d = deliveries[i] = d.resolve()
    return d


def _size(d: FileDelivery) -> int:
    try:
        return d.path.stat().st_size if d.path else 0
    except OSError:
        return 0


def _referenced_feeds(feed: str) -> set[str]:
    return {c.references for c in FEEDS[feed].columns if c.references} if feed in FEEDS else set()


def _land_files(lander: Lander, deliveries: list, report: RunReport) -> None:
    """File deliveries in order (reference feeds first). With worker processes, the next ones
    are staged while the current one is finished; the duplicate check, landing write, key
    index and ledger stay one after the other, in delivery order (`ingest/stage_pool.py`).

    A delivery is staged ahead only once every delivery of the feeds it references
    (`window_id` -> windows, ...) is finished, and a content id is staged once: its second
    copy is "already landed"."""
    ahead = lander.workers
    started: set[str | None] = set()
    staged: dict[int, object] = {}
    for i in range(len(deliveries)):
        d = _resolved(deliveries, i)
        started.add(getattr(d, "content_id", None))
        for j in range(i + 1, min(i + 1 + ahead, len(deliveries))):
            nxt = _resolved(deliveries, j)
            cid = getattr(nxt, "content_id", None)
            if j in staged or cid in started:
                continue
            refs = _referenced_feeds(nxt.feed)
            if any(deliveries[k].feed in refs for k in range(i, j)):
                break  # its reference data is not landed yet; neither may any later one start (order)
            started.add(cid)
            staged[j] = lander.prestage(nxt)
        report.deliveries.append(lander.land(d, staged.pop(i, None)))


def _prepare(home: Home | str | Path) -> tuple[Home, Lander]:
    h = home if isinstance(home, Home) else Home(Path(home).resolve())
    lander = Lander(h)
    lander.key()  # a key other than the landing's refuses here, before anything is touched
    remove_leftovers(h)
    ensure_empty_files(h)
    return h, lander


def ingest_source(home: Home | str | Path, source: Source, inbox: str | Path | None = None) -> RunReport:
    h, lander = _prepare(home)
    report = RunReport(started_at=now_local().isoformat())
    _land_groups(lander, _deliveries(h, source, Path(inbox) if inbox else None, report), report)
    report.finished_at = now_local().isoformat()
    report.saved_to = str(save_report(h, report))
    shutil.rmtree(staging_root(h), ignore_errors=True)
    return report


def ingest_all(home: Home | str | Path, sources_file: SourcesFile | str | Path | None, inbox: str | Path | None = None,
               only: list[str] | None = None) -> RunReport:
    cfg = sources_file if isinstance(sources_file, SourcesFile) else load_sources(sources_file)
    selected = [s for s in cfg.sources if not only or s.name in only]
    if only:
        unknown = sorted(set(only) - {s.name for s in cfg.sources})
        if unknown:
            raise ConfigError(f"--source: no source named {', '.join(unknown)} (configured: {', '.join(s.name for s in cfg.sources)})")
    h, lander = _prepare(home)
    report = RunReport(started_at=now_local().isoformat())
    groups: list[tuple[str, Iterable]] = []
    for source in selected:
        groups += _deliveries(h, source, Path(inbox) if inbox else None, report)
    _land_groups(lander, groups, report)
    report.finished_at = now_local().isoformat()
    report.saved_to = str(save_report(h, report))
    shutil.rmtree(staging_root(h), ignore_errors=True)
    return report


# ------------------------------------------------------------------ output


def save_report(home: Home, report: RunReport) -> Path:
    from ingest.landing_files import atomic_write_bytes

    data = json.dumps(report.as_dict(), ensure_ascii=False, indent=1).encode("utf-8")
    stamp = (report.finished_at or report.started_at).replace(":", "").replace("-", "")
    path = home.runs / f"ingest-{stamp}-{os.getpid()}.json"  # two runs in one second must not collide
    atomic_write_bytes(path, data)
    atomic_write_bytes(home.runs / "ingest-latest.json", data)
    return path


def format_report(report: RunReport) -> str:
    lines = ["对账 Reconciliation (rows in = landed + quarantined)", ""]
    head = f"{'feed':<14}{'deliveries':>11}{'rows in':>12}{'landed':>12}{'quarantined':>13}  note"
    lines += [head, "-" * len(head)]
    for feed, row in report.by_feed().items():
        notes = []
        if row["already_landed"]:
            notes.append(f"{row['already_landed']} already landed")
        if row["unreadable"]:
            notes.append(f"{row['unreadable']} unreadable")
        if row["deferred"]:
            notes.append(f"{row['deferred']} still being written (left in the inbox)")
        lines.append(f"{feed:<14}{row['deliveries']:>11}{row['rows_in']:>12}{row['landed']:>12}{row['quarantined']:>13}  {', '.join(notes)}")
    lines += ["", "per delivery:"]
    for d in report.deliveries:
        rules = ", ".join(f"{r} {n}" for r, n in d.by_rule.items())
        extra = f"  [{rules}]" if rules else ""
        if d.status == "landed":
            lines.append(f"  {d.source}: {d.rows_in} in = {d.landed} landed + {d.quarantined} quarantined{extra}")
        else:
            lines.append(f"  {d.source}: {d.status.upper()} — {d.reason}")
        if d.ignored_columns:
            lines.append(f"    ignored columns (not in the {d.feed} contract): {', '.join(d.ignored_columns)}")
    if report.problems:
        lines += ["", "problems:"]
        lines += [f"  {p.source}: {p.problem} — {p.detail}" for p in report.problems]
    return "\n".join(lines)


def main(args) -> int:
    home = Home.from_env()
    try:
        report = ingest_all(home, args.config, args.feeds, only=args.source)
    except PiiKeyError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        remove_own_temp_files(home)
        where = str(exc) if isinstance(exc, DiskFullError) else f"{home.root}: No space left on device"
        print(f"ingest: {where}.\nNothing partial was recorded as landed (the ledger is written last). "
              f"Free space on that disk (or point WINDOWWATCH_HOME elsewhere) and re-run: deliveries already landed are not repeated.",
              file=sys.stderr)
        return 1
    print(format_report(report))
    print(f"\nreport: {report.saved_to}")
    if report.exit_code:
        print("ingest: some inputs could not be landed (see above); fix them and re-run — landed deliveries are not repeated.", file=sys.stderr)
    return report.exit_code

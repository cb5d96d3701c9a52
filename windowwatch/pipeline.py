"""The daily pipeline: the steps the Airflow DAG runs, and `windowwatch run`.

dags/windowwatch_daily.py is thin: each task calls one `step_*` function here, which calls
ingest/, expectations/, windowwatch.transform and windowwatch.snapshot_publish and records what it did
in the run record (windowwatch/runs.py). `windowwatch run` runs that DAG through Airflow
(`airflow dags test` with conf) — the same tasks a scheduler runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from core.localtime import today_local
from core.paths import REPO_ROOT, Home
from core.settings import settings
from windowwatch import deliveries
from windowwatch.runs import RunRecord, format_summary, latest

DAG_ID = "windowwatch_daily"
MONTHLY_DAG_ID = "windowwatch_monthly"
POOL = "windowwatch_duckdb"
DAGS_FOLDER = REPO_ROOT / "dags"


class GateFailed(RuntimeError):
    pass


class MissingInbox(ValueError):
    """A files source has no inbox: no retry can fix it (the DAG fails the task at once)."""


def daily_cron() -> str:
    """The daily DAG's cron line, in Asia/Shanghai (WINDOWWATCH_DAILY_AT, docs/operations.md)."""
    hour, minute = settings().daily_at.split(":")
    return f"{int(minute)} {int(hour)} * * *"


def run_as_of(logical_date: dt.datetime | None, run_after: dt.datetime | None = None) -> str:
    """The local day a run covers: its logical date (the scheduled 21:00 of that day, or the
    date a manual trigger gave) in Asia/Shanghai; a manual run without one covers today."""
    from core.localtime import LOCAL_TZ

    when = logical_date or run_after
    return (when.astimezone(LOCAL_TZ).date() if when else today_local()).isoformat()


def _missing_inbox(source_name: str, sources_file: str) -> MissingInbox:
    return MissingInbox(
        f"source {source_name}: a files source needs an inbox and this run has none — set `path: /srv/windowwatch/inbox` "
        f"under it in {sources_file} (a scheduled run has no --feeds), or trigger with conf {{\"feeds\": \"DIR\"}}; "
        "`windowwatch doctor` checks this before the first run"
    )


def _sources_file() -> str:
    from core.config import DEFAULT_SOURCES

    return str(settings().sources or DEFAULT_SOURCES)


# ---------------------------------------------------------------------------- steps


def step_list_sources(home: Home, run_id: str, conf: dict, dag_id: str = DAG_ID) -> list[str]:
    from core.config import load_sources

    home.ensure()
    rec = RunRecord(home, run_id)
    rec.set_meta(
        dag_id=dag_id,
        as_of=conf.get("as_of"),
        feeds=conf.get("feeds"),
        invocation=conf.get("invocation"),
        allow_older=bool(conf.get("allow_older")),
        started_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        started_epoch=time.time(),
    )
    with rec.step("list_sources") as out:
        if not settings().run_cli:
            # under a scheduler: a `windowwatch run` (or a take-back) holding the home would be
            # corrupted by this run (windowwatch/run_lock.py); `windowwatch run`'s own tasks skip
            # this — their parent holds the lock
            from windowwatch.run_lock import check_free

            check_free(home)
        sources = load_sources().sources
        names = [s.name for s in sources]
        if not names:
            raise ValueError("the sources file lists no source: nothing to run")
        for s in sources:
            if s.kind == "files" and not (s.path or conf.get("feeds")):
                raise _missing_inbox(s.name, _sources_file())
        out["counts"] = {"sources": len(names)}
        out["sources"] = names
    return names


def step_ingest(home: Home, run_id: str, source_name: str, inbox: str | None, try_number: int = 1) -> dict:
    """Land one source. Raises when the source cannot be landed (Airflow retries it)."""
    from core.config import load_sources

    rec = RunRecord(home, run_id)
    with rec.step(f"ingest.{source_name}", try_number=try_number) as out:
        from ingest.landing import DEFERRED
        from ingest.run import ingest_source

        source = next((s for s in load_sources().sources if s.name == source_name), None)
        if source is None:
            raise ValueError(f"source {source_name!r} is no longer in the sources file")
        inbox = source.path or inbox
        if source.kind == "files" and not inbox:
            raise _missing_inbox(source_name, _sources_file())
        report = ingest_source(home, source, inbox)
        totals = report.totals()
        files: list[str] = []
        for d in report.deliveries:
            if d.status == "landed" and d.content_id:
                files += [str(p) for p in sorted((home.landing / d.feed).glob(f"part_date=*/{d.content_id}.parquet"))]
        out["counts"] = totals
        out["landed_files"] = files
        out["problems"] = [f"{p.source}: {p.problem} — {p.detail}" for p in report.problems]
        out["unreadable"] = [f"{d.source}: {d.reason}" for d in report.deliveries if d.status == "unreadable"]
        out["deferred"] = [f"{d.source}: {d.reason}" for d in report.deliveries if d.status == DEFERRED]
        # An unreadable file is reported (counts, run record) but does not fail the source:
        # a retry cannot fix it, and the other deliveries landed. A source that could not be
        # read at all (connector error, missing connector, bad folder) fails and is retried.
        failing = [f"{p.source}: {p.problem} — {p.detail}" for p in report.problems if p.fails_run]
        if failing:
            raise RuntimeError(f"source {source_name} failed: {'; '.join(failing)[:1500]}")
    return out["counts"]


def step_supervision_export(home: Home, run_id: str) -> dict:
    """At the start of a run (beside ingest; the dbt build waits for it): the supervision store's items
    and transitions as a full snapshot to landing/_supervision/ (windowwatch/supervision/export.py),
    so dbt computes the 督办 marts, monthly figures and late-acknowledgement deductions from them.
    A store that cannot be read fails the step, and the DAG then builds nothing: scores with
    deductions from an older export would be published as if current."""
    from windowwatch.supervision.export import export
    from windowwatch.supervision.store import open_store

    rec = RunRecord(home, run_id)
    with rec.step("supervision_export") as out:
        store = open_store(home)
        try:
            res = export(store)
        finally:
            store.dispose()
        out["counts"] = res.counts()
        out["store"] = store.url
    return out["counts"]


def landed_this_run(home: Home, rec: RunRecord) -> list[Path]:
    """This run's landed delivery files, as reported by its ingest tasks.

    A failed source may have landed some deliveries before failing; they are in its step file
    only if it got that far, so files modified since the run started are added as well.
    """
    files: set[Path] = set()
    for name, s in rec.steps().items():
        if name.startswith("ingest."):
            files |= {Path(p) for p in s.get("landed_files") or []}
    started = rec.meta().get("started_epoch")
    if started is not None:
        for p in home.landing.glob("*/part_date=*/*.parquet"):
            if p.stat().st_mtime >= started - 1:
                files.add(p)
    return sorted(f for f in files if f.exists())


def step_raw_gate(home: Home, run_id: str) -> dict:
    from expectations.raw import check_raw

    rec = RunRecord(home, run_id)
    with rec.step("raw_gate") as out:
        listed = rec.read_step("list_sources") or {}
        if listed.get("status") != "succeeded":
            raise GateFailed("the sources could not be listed (see list_sources): nothing was ingested")
        sources = {k: v for k, v in rec.steps().items() if k.startswith("ingest.")}
        ok = [k for k, v in sources.items() if v.get("status") == "succeeded"]
        if sources and not ok:
            raise GateFailed(f"every source failed ({', '.join(k.split('.', 1)[1] for k in sources)}): nothing to build on")
        # Every landed delivery whose gate has not passed, not only this run's: a delivery a
        # critical expectation rejected is gated again until it passes or is taken back.
        gated = deliveries.ungated(home)
        files = sorted(f for fs in gated.values() for f in fs)
        gate = check_raw(files, home.landing, home.data_docs / "raw", batch_dir=rec.dir)
        _store_gate(rec, gate)
        failed_feeds = {f.suite.split(".")[1] for f in gate.critical if f.suite.count(".") >= 2}
        if gate.critical and not failed_feeds:  # a failure not tied to one feed: nothing passed
            failed_feeds = {deliveries.feed_of(home, fs) for fs in gated.values()}
        rejected = deliveries.describe(home, gated, failed_feeds)  # before the verdicts: "failed before" or not
        deliveries.record_gate(home, run_id, gated, failed_feeds, dt.datetime.now().astimezone().isoformat(timespec="seconds"))
        this_run = set(landed_this_run(home, rec))
        out["counts"] = {"files": len(files), "deliveries": len(gated),
                         "earlier_deliveries": sum(1 for fs in gated.values() if not this_run & set(fs)),
                         "expectations": gate.expectations, "critical_failures": len(gate.critical), "warnings": len(gate.warnings)}
        out["data_docs_index"] = gate.data_docs_index
        out["failures"] = [f.line() for f in gate.failures]
        out["deliveries_not_passed"] = [p.content_id for p in rejected]
        print(gate.summary())
        if not gate.success:
            listed = "\n".join(
                f"  delivery {p.content_id} ({p.feed}, {p.source or 'source unknown'}; "
                f"{'failed before' if p.status == deliveries.FAILED else 'first gated now'})" for p in rejected[:20]
            ) + (f"\n  … and {len(rejected) - 20} more (run record: raw_gate.deliveries_not_passed)" if len(rejected) > 20 else "")
            raise GateFailed(
                "raw data failed critical expectations — the run stops before dbt and the last published snapshot "
                "stays live, and every later run gates these deliveries again until they pass. Fix the source feeds "
                "named below and deliver a correction, or take a delivery back with "
                "`windowwatch quarantine delivery ID --user NAME --reason TEXT`:\n"
                + "\n".join(f.line() for f in gate.critical)
                + ("\ndeliveries not passed:\n" + listed if listed else "")
            )
    return out["counts"]


def _store_gate(rec: RunRecord, gate) -> None:
    path = rec.dir / f"gate-{gate.gate}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gate.to_json(), ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def step_build(home: Home, run_id: str, as_of: str | None) -> dict:
    rec = RunRecord(home, run_id)
    with rec.step("dbt_build", as_of=as_of) as out:
        from windowwatch.transform import build

        result = build(home, as_of or today_local().isoformat())
        counts: dict[str, int] = {}
        for n in result.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        out["counts"] = {"nodes": len(result.nodes), **counts, "seconds": round(result.elapsed, 1)}
        out["summary"] = result.summary()
        print(result.summary())
        if not result.success:
            raise RuntimeError(f"dbt build failed — the last published snapshot stays live:\n{result.summary()[:3000]}")
        # SPEC §3: a reference delivery without valid_from that changes published months is said (a warning)
        from windowwatch.reference_changes import check as reference_changes

        out["warnings"] = reference_changes(home, result.warehouse)
        for line in out["warnings"]:
            print(f"warning: {line}")
    return out["counts"]


def step_marts_gate(home: Home, run_id: str) -> dict:
    from expectations.marts import check_marts

    rec = RunRecord(home, run_id)
    warehouse = Path(settings().warehouse or home.warehouse)
    with rec.step("marts_gate") as out:
        gate = check_marts(warehouse, home.landing, home.data_docs / "marts")
        _store_gate(rec, gate)
        out["counts"] = {"expectations": gate.expectations, "critical_failures": len(gate.critical), "warnings": len(gate.warnings)}
        out["data_docs_index"] = gate.data_docs_index
        out["failures"] = [f.line() for f in gate.failures] + gate.notes
        print(gate.summary())
        if not gate.success:
            raise GateFailed(
                "marts failed critical expectations — nothing is published, the last snapshot stays live:\n"
                + "\n".join([*(f.line() for f in gate.critical), *gate.notes])
            )
    return out["counts"]


class DiskFull(RuntimeError):
    """A write failed for want of space (ENOSPC): one line naming the path."""


def live_as_of(home: Home) -> str | None:
    """The as-of date of the live snapshot (its `marts.run_config`), None without one."""
    from windowwatch.snapshot import NoSnapshot, current_snapshot, run_config

    try:
        value = run_config(current_snapshot(home)).get("as_of_date")
    except NoSnapshot:
        return None
    return str(value)[:10] if value is not None else None


def step_publish(home: Home, run_id: str) -> str | None:
    """Publish the build, unless its as-of date is older than the live snapshot's and the run
    was not given `--allow-older` (then it built and gated, and the live snapshot stays)."""
    import errno

    from windowwatch.snapshot_publish import publish

    rec = RunRecord(home, run_id)
    meta = rec.meta()
    with rec.step("publish") as out:
        as_of, live = meta.get("as_of"), live_as_of(home)
        if as_of and live and as_of < live and not meta.get("allow_older"):
            out["kept_live"] = (
                f"as of {as_of} is older than the live snapshot's {live}: built and gated, not published — "
                "the live snapshot stays (run with --allow-older to replace it)"
            )
            out["counts"] = {"published": 0}
            print(out["kept_live"])
            return None
        try:
            res = publish(run_id, home)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise DiskFull(
                f"no space left on device writing {exc.filename or home.published}: free space on that disk and "
                "re-run — nothing was published, the last snapshot stays live"
            ) from None
        out["snapshot"] = res.path.name
        out["previous"] = res.previous
        out["counts"] = {"bytes": res.path.stat().st_size, "pruned": len(res.pruned)}
    return res.path.name


def step_supervise_sync(home: Home, run_id: str) -> dict:
    """After publish: open supervision items for the live snapshot's triggers, mark cleared ones,
    escalate overdue ones, send the outbox (windowwatch/supervision/sync.py). Not a critical step:
    a failure is recorded and shown, the snapshot stays published, and the next sync catches up."""
    from windowwatch.supervision.store import open_store
    from windowwatch.supervision.sync import sync

    rec = RunRecord(home, run_id)
    with rec.step("supervise_sync") as out:
        store = open_store(home)
        try:
            res = sync(store)
        finally:
            store.dispose()
        out["snapshot"] = res.snapshot
        out["counts"] = res.counts()
        if res.skipped:
            out["warnings"] = [f"trigger skipped — {s}" for s in res.skipped if "switched off" not in s]
    return out["counts"]


def step_summary(home: Home, run_id: str) -> dict:
    rec = RunRecord(home, run_id)
    record = rec.assemble(final=True)
    if not settings().run_cli:  # `windowwatch run` prints it itself, with the wall time
        print(format_summary(record))
    return record


# ---------------------------------------------------------------------------- Airflow


def airflow_env(home: Home, base: dict | None = None) -> dict[str, str]:
    """Environment for the airflow CLI: its home under WINDOWWATCH_HOME, our DAG folder."""
    env = dict(base if base is not None else os.environ)
    env["WINDOWWATCH_HOME"] = str(home.root)
    env["AIRFLOW_HOME"] = str(home.airflow_home)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "120")
    # Airflow's default is 32 task processes: on a small box they only compete for memory.
    env.setdefault("AIRFLOW__CORE__PARALLELISM", str(sensible_parallelism()))
    # SQLite metadata by default; AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (e.g. PostgreSQL) wins.
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home.airflow_home / 'airflow.db'}")
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if conn.startswith("postgresql+psycopg://"):
        # Airflow derives its async URL with asyncpg, which we do not ship; psycopg 3 is async too.
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", conn)
    # The repo must be importable by tasks (ingest/, expectations/, windowwatch/).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    # Byte-compile caches make each Airflow/GE process start in seconds instead of tens of seconds.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def sensible_parallelism(cores: int | None = None) -> int:
    """Task processes a LocalExecutor may start: the tasks that write DuckDB run one at a time
    (the pool), so more than one per core only competes for memory (docs/operations.md)."""
    return max(2, cores or os.cpu_count() or 2)


def _airflow_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("airflow")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "airflow"]


def _run_airflow(args: list[str], env: dict, log: Path | None = None, stream: bool = False) -> int:
    cmd = _airflow_cmd() + args
    if stream:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout
        with open(log, "a", encoding="utf-8") if log else open(os.devnull, "w") as fh:
            for line in proc.stdout:
                fh.write(line)
                if _interesting(line):
                    sys.stdout.write(line)
                    sys.stdout.flush()
        return proc.wait()
    with open(log, "a", encoding="utf-8") if log else open(os.devnull, "w") as fh:
        return subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode


def _interesting(line: str) -> bool:
    """Stream what a person follows (task starts/ends, our prints, errors), not Airflow's debug chatter."""
    if "[DAG TEST]" in line or "DagRun Finished" in line:
        return True
    if line.startswith("20") and ("[info " in line or "[debug " in line) and "loc=" in line:
        return False
    if "[warning  ]" in line and "py.warnings" in line:
        return False
    noise = ("Skipping registering", "nanobind:", " - leaked ", " - ... skipped", "You might need to install the graphviz",
             "Run `pip install graphviz`")
    return not any(n in line for n in noise)


def ensure_airflow(home: Home, env: dict, log: Path) -> None:
    """Migrate the metadata DB (idempotent; skipped when already current) and create the pool."""
    home.airflow_home.mkdir(parents=True, exist_ok=True)
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    marker = migrated_marker(home, conn)
    stamp = migration_stamp(conn)
    if not marker.exists() or marker.read_text() != stamp:
        rc = _run_airflow(["db", "migrate"], env, log)
        if rc:
            raise RuntimeError(f"`airflow db migrate` failed (exit {rc}) on {_redact(conn)}: see {log}")
        rc = _run_airflow(["pools", "set", POOL, "1", "WindowWatch: one DuckDB writer at a time"], env, log)
        if rc:
            raise RuntimeError(f"`airflow pools set {POOL}` failed (exit {rc}): see {log}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(stamp)


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def migration_stamp(conn: str) -> str:
    """What the marker holds: the Airflow version and the URL's hash (the URL may hold a password)."""
    return f"{_airflow_version()} {hashlib.sha256(conn.encode()).hexdigest()}"


def migrated_marker(home: Home, conn: str) -> Path:
    """Where we note that a metadata DB is migrated and has our pool (skips a slow CLI call).

    Next to a SQLite file (so runs sharing one DB share the note), else in the Airflow home
    keyed by the URL."""
    if conn.startswith("sqlite:///"):
        return Path(conn[len("sqlite:///"):] + ".windowwatch-migrated")
    return home.airflow_home / f".migrated-{hashlib.sha256(conn.encode()).hexdigest()[:16]}"


def _redact(url: str) -> str:
    import re

    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def run_dag(home: Home, feeds: str | None, as_of: str, stream: bool = True,
            allow_older: bool = False) -> tuple[int, dict | None]:
    """Run the daily DAG once through Airflow; returns (exit code, run record).

    Holds the home for the whole run (windowwatch/run_lock.py): raises HomeBusy at once, before
    touching anything, when another run holds it. The Airflow child and its tasks run under
    this process's lock and never take it themselves."""
    from windowwatch.run_lock import hold

    home.ensure()
    invocation = uuid.uuid4().hex
    with hold(home, what="windowwatch run", as_of=as_of, invocation=invocation):
        env = airflow_env(home)
        log = home.airflow_home / "logs" / f"windowwatch-run-{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        ensure_airflow(home, env, log)
        env["WINDOWWATCH_RUN_CLI"] = "1"
        conf = {"feeds": str(Path(feeds).resolve()) if feeds else None, "as_of": as_of, "invocation": invocation,
                "allow_older": allow_older}
        rc = _run_airflow(["dags", "test", DAG_ID, as_of, "--conf", json.dumps(conf)], env, log, stream=stream)
        record = latest(home)
        if record and record.get("invocation") == invocation:
            if record.get("status") == "running":  # the summary task never ran: finish the record
                record = RunRecord(home, record["run_id"]).assemble(final=True)
        else:
            record = None
    return rc, record


def run_main(args) -> int:
    home = Home.from_env()
    as_of = args.as_of or today_local().isoformat()
    feeds = args.feeds
    if feeds and not Path(feeds).is_dir():
        print(f"windowwatch run: --feeds {feeds}: no such folder (it should hold one sub-folder per feed)", file=sys.stderr)
        return 2
    import errno

    from windowwatch.run_lock import HomeBusy

    started = time.monotonic()
    try:
        rc, record = run_dag(home, feeds, as_of, allow_older=bool(getattr(args, "allow_older", False)))
    except HomeBusy as exc:
        print(f"windowwatch run: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        print(f"windowwatch run: no space left on device writing {exc.filename or home.root}: free space on that disk "
              "and re-run (the last published snapshot stays live)", file=sys.stderr)
        return 1
    wall = time.monotonic() - started
    print()
    if record is None:
        print(
            f"windowwatch run: Airflow exited {rc} before the run recorded anything — see the log under "
            f"{home.airflow_home / 'logs'}",
            file=sys.stderr,
        )
        return rc or 1
    print(format_summary(record))
    print(f"wall time {wall:.1f}s; run record {home.runs / (record['run_key'] + '.json')}")
    if record["status"] == "failed":
        return rc or 1
    if record["status"] == "partial":
        print("windowwatch run: some sources failed (see above); the others were published.", file=sys.stderr)
    kept = ((record.get("steps") or {}).get("publish") or {}).get("kept_live")
    if kept:
        print(f"windowwatch run: {kept}", file=sys.stderr)
    return rc

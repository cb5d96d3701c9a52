"""`windowwatch bench --scale small|city|province`: time every stage of the pipeline (performance, docs/scaling.md).

1. Generate the scale's feeds once into `$WINDOWWATCH_HOME/bench/<scale>/feeds` (not timed;
   reused while `feeds/.bench-seed.json` matches the scale and seed).
2. Full rebuild in a fresh bench home (`bench/<scale>/home`, deleted first): ingest, GE raw,
   dbt build, GE marts, publish.
3. An incremental day on top: the last working day's transactions and evaluations, copied to
   the next working day with new ids, dropped in a fresh inbox and run through the same stages
   (only the event dedup merges incrementally; the models downstream of it rebuild).
4. A bare DuckDB baseline: one scan-and-aggregate of the same landed Parquet.
5. Every dashboard page through Streamlit's AppTest on the published snapshot, cold and warm.
6. End to end, what a user runs: `windowwatch run` through Airflow in another fresh home, the
   full rebuild and then the same incremental day (Airflow start-up, task processes and
   `list_sources` included; the metadata DB is migrated once beforehand, as at installation).
   The run record's own task durations say how much of the wall time is Airflow's.

Each stage runs in its own Python process (as an Airflow task does), so its peak RSS is its
own: the parent samples the child's process tree with psutil every 50 ms. A stage reports its
inner time (the call itself, without interpreter start and imports) next to the wall time.
Results are appended to `bench/results.md` in the repo and saved as JSON under the bench root.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import psutil

from core import atomic
from core.paths import REPO_ROOT, Home
from core.settings import settings

RESULTS_MD = REPO_ROOT / "bench" / "results.md"
GB = 1024**3

# DuckDB memory_limit per scale (dbt profile reads WINDOWWATCH_DUCKDB_MEMORY). It stays below
# the RSS targets with room for Python, Arrow buffers and dbt; beyond it DuckDB spills to
# $WINDOWWATCH_HOME/duckdb_tmp (the profile's temp_directory). City: 3GB keeps `windowwatch run`
# (Airflow's process tree with the dbt task) under issue 23's 4 GB; measured on the city feeds,
# full dbt build 44.1 s / 3.90 GiB at 4GB, 45.4 s / 3.56 GiB at 3.5GB, 45.7 s / 3.21 GiB at 3GB
# (2026-12-07, quiet machine).
DUCKDB_MEMORY = {"small": "2GB", "city": "3GB", "province": "8GB"}

# Targets of the performance work (docs/scaling.md) (seconds, bytes).
TARGETS = {
    "city": {"full_s": 120, "full_rss": 6 * GB, "incremental_s": 20,
             # issue 23: what a user sees, `windowwatch run` end to end through Airflow
             "run_full_s": 60, "run_incremental_s": 10, "run_rss": 4 * GB, "ingest_rows_s": 1_500_000},
    "province": {"full_s": 15 * 60, "full_rss": 12 * GB, "incremental_s": None, "run_full_s": 8 * 60},
}
# Phases of the end-to-end measurement (one stage each: the `windowwatch run` process tree).
E2E_PHASES = {"full": "run_full", "incremental": "run_incremental"}
E2E_STAGE = "windowwatch_run"
DBT_BASELINE_RATIO = 5.0
PAGE_WARM_S = 1.5
PAGES = ["overview", "rankings", "timeliness", "offbook", "satisfaction", "video", "window_detail",
         "case_detail", "hall", "audit", "reports"]
STAGES = ["ingest", "ge_raw", "dbt", "ge_marts", "publish"]
EVENT_FEEDS_SHIFTED = {
    # feed: id columns to make new (every timestamp column moves by the same days)
    "transactions": ("event_id", "case_id"),
    "evaluations": ("evaluation_id", "case_id"),
}


@dataclass
class StageResult:
    stage: str
    phase: str  # full | incremental | baseline | pages
    ok: bool
    wall_s: float
    inner_s: float | None = None  # the call itself, from inside the child
    peak_rss: int = 0  # bytes, child process tree
    rows: int | None = None
    rows_what: str = ""
    detail: dict = field(default_factory=dict)
    error: str | None = None
    cpu_s: float | None = None  # user + system CPU seconds of the child and its descendants

    @property
    def rows_per_s(self) -> float | None:
        if not self.rows or not self.wall_s:
            return None
        return self.rows / self.wall_s


@dataclass
class BenchResult:
    scale: str
    seed: int
    started_at: str
    machine: dict
    versions: dict
    settings: dict
    stages: list[StageResult] = field(default_factory=list)
    pages: dict = field(default_factory=dict)  # page -> {"cold": s, "warm": s}
    generate_s: float | None = None
    landed_rows: dict = field(default_factory=dict)

    def phase(self, name: str) -> list[StageResult]:
        return [s for s in self.stages if s.phase == name]

    def total(self, phase: str) -> float:
        return sum(s.wall_s for s in self.phase(phase))

    def peak(self, phase: str) -> int:
        return max((s.peak_rss for s in self.phase(phase)), default=0)

    def stage(self, phase: str, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.phase == phase and s.stage == name), None)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)

    def dbt_ratio(self) -> tuple[float | None, float | None]:
        """(dbt wall / baseline wall, dbt inner / baseline inner)."""
        d, b = self.stage("full", "dbt"), self.stage("baseline", "duckdb_scan")
        if not d or not b or not b.wall_s:
            return None, None
        inner = d.inner_s / b.inner_s if d.inner_s and b.inner_s else None
        return d.wall_s / b.wall_s, inner

    def to_json(self) -> dict:
        out = asdict(self)
        for s, src in zip(out["stages"], self.stages):
            s["rows_per_s"] = src.rows_per_s
        return out


# ------------------------------------------------------------------ measuring a child


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants (bytes)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_measured(cmd: list[str], env: dict, cwd: Path, log: Path, interval: float = 0.05) -> tuple[int, float, int, float]:
    """Run `cmd`, sampling its process tree's RSS; returns (exit code, wall s, peak bytes, CPU s).

    CPU seconds (user + system of the child and the descendants it waited for) do not grow when
    other jobs share the machine, unlike wall time: they tell what the stage costs on its own.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        cpu0 = _children_cpu()
        started = time.monotonic()
        popen = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
        proc = psutil.Process(popen.pid)
        peak = 0
        while popen.poll() is None:
            peak = max(peak, tree_rss(proc))
            time.sleep(interval)
        wall = time.monotonic() - started
    return popen.returncode, wall, peak, _children_cpu() - cpu0


def run_stage(stage: str, phase: str, params: dict, root: Path, env: dict) -> StageResult:
    out = root / "stages" / f"{phase}-{stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    # Parameters travel in a file: a city's list of landed files is longer than a command line may be.
    params_file = out.with_suffix(".params.json")
    params_file.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
    cmd = [sys.executable, "-m", "windowwatch.bench", "--stage", stage, "--params", str(params_file), "--out", str(out)]
    rc, wall, peak, cpu = run_measured(cmd, env, REPO_ROOT, root / "logs" / f"{phase}-{stage}.log")
    child = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    error = child.get("error")
    if rc != 0 and not error:
        error = f"exit {rc}: see {root / 'logs' / f'{phase}-{stage}.log'}"
    return StageResult(
        stage=stage, phase=phase, ok=rc == 0 and child.get("ok", False), wall_s=round(wall, 3),
        inner_s=child.get("inner_s"), peak_rss=peak, cpu_s=round(cpu, 2), rows=child.get("rows"), rows_what=child.get("rows_what", ""),
        detail=child.get("detail", {}), error=error,
    )


def run_end_to_end(phase: str, home: Path, inbox: Path, as_of: dt.date, root: Path, env: dict) -> StageResult:
    """`windowwatch run --feeds INBOX --as-of D` in `home`, measured as a whole (process tree).

    The run record's task durations are kept in `detail["tasks"]`; what the wall time holds
    beyond them (Airflow's own start-up, parsing the DAG, starting each task) is
    `detail["outside_tasks_s"]`."""
    from windowwatch.runs import latest

    exe = Path(sys.executable).with_name("windowwatch")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "windowwatch.cli"]
    cmd += ["run", "--feeds", str(inbox), "--as-of", as_of.isoformat()]
    run_env = {**env, "WINDOWWATCH_HOME": str(home)}
    rc, wall, peak, cpu = run_measured(cmd, run_env, REPO_ROOT, root / "logs" / f"{phase}-{E2E_STAGE}.log")
    record = latest(Home(home)) or {}
    tasks: dict[str, float] = {}
    for name, step in (record.get("steps") or {}).items():
        if isinstance(step.get("duration_s"), (int, float)):
            tasks[name] = round(step["duration_s"], 2)
    for name, src in (record.get("sources") or {}).items():
        if isinstance(src.get("duration_s"), (int, float)):
            tasks[f"ingest[{name}]"] = round(src["duration_s"], 2)
    rows_in = sum(int((src.get("counts") or {}).get("rows_in", 0) or 0) for src in (record.get("sources") or {}).values())
    ok = rc == 0 and record.get("status") == "succeeded"
    return StageResult(
        stage=E2E_STAGE, phase=phase, ok=ok, wall_s=round(wall, 3), peak_rss=peak, cpu_s=round(cpu, 2),
        rows=rows_in or None, rows_what="rows in",
        detail={"tasks": tasks, "outside_tasks_s": round(wall - sum(tasks.values()), 2),
                "status": record.get("status"), "run_id": record.get("run_id")},
        error=None if ok else f"exit {rc}, run status {record.get('status')}: see {root / 'logs' / f'{phase}-{E2E_STAGE}.log'}",
    )


def prepare_airflow(home: Path, root: Path, env: dict) -> float:
    """Migrate the end-to-end home's Airflow metadata DB once (installation, not a daily run's cost)."""
    from windowwatch.pipeline import airflow_env, ensure_airflow

    h = Home(home).ensure()
    log = root / "logs" / "airflow-migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ensure_airflow(h, airflow_env(h, env), log)
    return time.perf_counter() - t0


# ------------------------------------------------------------------ what each child does


def _stage_ingest(h: Home, p: dict) -> dict:
    from ingest.run import ingest_all

    report = ingest_all(h, None, p["inbox"])
    landed = []
    for d in report.deliveries:
        if d.status == "landed" and d.content_id:
            landed += [str(x) for x in sorted((h.landing / d.feed).glob(f"part_date=*/{d.content_id}.parquet"))]
    by_feed = report.by_feed()
    problems = [f"{x.source}: {x.problem} — {x.detail}" for x in report.problems if x.fails_run]
    unreadable = [f"{d.source}: {d.reason}" for d in report.deliveries if d.status == "unreadable"]
    # As in the daily pipeline (windowwatch.pipeline.step_ingest), an unreadable file is reported
    # but does not fail the stage: the generator drops one on purpose (a truncated Parquet).
    return {
        "ok": not problems,
        "rows": sum(r["rows_in"] for r in by_feed.values()),
        "rows_what": "rows in",
        "detail": {"by_feed": by_feed, "landed_files": landed, "problems": problems[:20], "unreadable": unreadable[:20]},
        "error": "; ".join(problems)[:2000] or None,
    }


def _stage_ge_raw(h: Home, p: dict) -> dict:
    from expectations.raw import check_raw

    files = [Path(f) for f in p["files"]]
    tmp = h.root / "gx_batches"
    tmp.mkdir(parents=True, exist_ok=True)
    gate = check_raw(files, h.landing, h.data_docs / "raw", batch_dir=tmp)
    return {
        "ok": gate.success, "rows": p.get("rows"), "rows_what": "landed rows checked",
        "detail": {"expectations": gate.expectations, "critical": [f.line() for f in gate.critical][:20],
                   "warnings": len(gate.warnings), "notes": gate.notes[:30]},
        "error": None if gate.success else "raw gate failed: " + "; ".join(f.line() for f in gate.critical)[:2000],
    }


def _stage_dbt(h: Home, p: dict) -> dict:
    from windowwatch.transform import build

    res = build(h, p["as_of"])
    counts: dict[str, int] = {}
    for n in res.nodes:
        counts[n.status] = counts.get(n.status, 0) + 1
    slowest = sorted(res.nodes, key=lambda n: -n.seconds)[:8]
    return {
        "ok": res.success, "rows": p.get("rows"), "rows_what": "landed rows read",
        "inner_s": res.elapsed,
        "detail": {"nodes": counts, "slowest": [[n.name, round(n.seconds, 2)] for n in slowest]},
        "error": None if res.success else res.summary()[:3000],
    }


def _stage_ge_marts(h: Home, p: dict) -> dict:
    import duckdb

    from expectations.marts import MARTS, check_marts

    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    con = duckdb.connect(str(h.warehouse), read_only=True)
    try:
        rows = sum(con.sql(f"select count(*) from marts.{m}").fetchall()[0][0] for m in MARTS)
    finally:
        con.close()
    return {
        "ok": gate.success, "rows": rows, "rows_what": "mart rows",
        "detail": {"expectations": gate.expectations, "critical": [f.line() for f in gate.critical][:20],
                   "notes": gate.notes[:20]},
        "error": None if gate.success else "marts gate failed: " + "; ".join([*(f.line() for f in gate.critical), *gate.notes])[:2000],
    }


def _stage_publish(h: Home, p: dict) -> dict:
    from windowwatch.snapshot_publish import publish

    res = publish(p["run_id"], h)
    size = res.path.stat().st_size
    return {"ok": True, "rows": size, "rows_what": "bytes", "detail": {"snapshot": res.path.name, "bytes": size}}


BASELINE_QUERIES = {
    # One scan and aggregate per event feed: the work any build has to do at least once.
    "transactions": """
        select window_id, date_trunc('month', event_time) as month, event_type,
               count(*) as events, count(distinct case_id) as cases,
               min(event_time) as first_at, max(recorded_at) as last_recorded
        from read_parquet('{landing}/transactions/**/*.parquet', union_by_name=true, hive_partitioning=false)
        group by all""",
    "evaluations": """
        select window_id, date_trunc('month', evaluated_at) as month,
               count(*) as ratings, avg(rating) as mean_rating, count(*) filter (where rating <= 2) as bad
        from read_parquet('{landing}/evaluations/**/*.parquet', union_by_name=true, hive_partitioning=false)
        group by all""",
    "video_flags": """
        select window_id, flag_type, review_status, count(*) as flags
        from read_parquet('{landing}/video_flags/**/*.parquet', union_by_name=true, hive_partitioning=false)
        group by all""",
}


def _stage_baseline(h: Home, p: dict) -> dict:
    import duckdb

    con = duckdb.connect(config={"memory_limit": p["memory_limit"], "threads": 2,
                                 "temp_directory": str(h.root / "duckdb_tmp")})
    groups = {}
    t0 = time.perf_counter()
    for feed, q in BASELINE_QUERIES.items():
        groups[feed] = len(con.sql(q.format(landing=h.landing)).fetchall())
    inner = time.perf_counter() - t0
    con.close()
    return {"ok": True, "inner_s": inner, "rows": p.get("rows"), "rows_what": "landed rows scanned", "detail": {"groups": groups}}


def _stage_pages(h: Home, p: dict) -> dict:
    from argon2 import PasswordHasher
    from streamlit.testing.v1 import AppTest

    from windowwatch import accounts

    # Cheap argon2 parameters for the throwaway bench account (they travel in the hash).
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts.add_user("bench", "auditor", "bench-pass-123")
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=300)
    if p.get("month"):
        at.query_params["month"] = p["month"]
    at.run()
    at.text_input(key="login_user").input("bench")
    at.text_input(key="login_password").input("bench-pass-123")
    at.button[0].click().run()
    times, errors = {}, {}
    for page in p["pages"]:
        t = time.perf_counter()
        at.switch_page(f"app_pages/{page}.py").run()
        cold = time.perf_counter() - t
        if at.exception:
            errors[page] = [e.message for e in at.exception][:3]
        t = time.perf_counter()
        at.run()  # warm: the same view again, as after an interaction on the page
        warm = time.perf_counter() - t
        times[page] = {"cold": round(cold, 3), "warm": round(warm, 3)}
    return {"ok": not errors, "detail": {"pages": times, "errors": errors},
            "error": f"pages raised: {errors}"[:2000] if errors else None}


CHILD_STAGES = {
    "ingest": _stage_ingest,
    "ge_raw": _stage_ge_raw,
    "dbt": _stage_dbt,
    "ge_marts": _stage_ge_marts,
    "publish": _stage_publish,
    "baseline": _stage_baseline,
    "pages": _stage_pages,
}


def child_main(argv: list[str]) -> int:
    import argparse
    import traceback

    ap = argparse.ArgumentParser(prog="python -m windowwatch.bench")
    ap.add_argument("--stage", required=True, choices=sorted(CHILD_STAGES))
    ap.add_argument("--params", required=True, help="a JSON file of the stage's parameters")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    h = Home.from_env()
    t0 = time.perf_counter()
    try:
        res = CHILD_STAGES[a.stage](h, json.loads(Path(a.params).read_text(encoding="utf-8")))
    except Exception as exc:  # reported to the parent, which records the stage as failed
        traceback.print_exc()
        res = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:3000]}
    res.setdefault("inner_s", time.perf_counter() - t0)
    Path(a.out).write_text(json.dumps(res, ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if res.get("ok") else 1


# ------------------------------------------------------------------ the incremental day


def _is_workday(d: dt.date) -> bool:
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # beyond the package: Mon–Fri (docs/rules.md)
        return d.weekday() < 5


def landed_event_days(landing: Path) -> dt.date | None:
    import duckdb

    glob = f"{landing}/transactions/**/*.parquet"
    con = duckdb.connect()
    try:
        day = con.sql(f"""select max(cast(event_time as date)) from read_parquet('{glob}', union_by_name=true,
                          hive_partitioning=false) where event_type = 'accept'""").fetchall()[0][0]
    finally:
        con.close()
    return day


def make_incremental_inbox(landing: Path, inbox: Path, last_day: dt.date | None = None) -> tuple[dt.date, dict]:
    """One more working day of events: the last working day's transactions and evaluations,
    moved to the next working day with new ids (prefix `N<yyyymmdd>-`), as Parquet deliveries.

    Returns (the new day, rows per feed). PII columns were hashed on landing and are left out
    (they are optional); landing metadata is dropped so ingest treats the rows as a delivery.
    """
    import polars as pl

    from core.feeds import FEEDS, LANDING_METADATA

    last_day = last_day or landed_event_days(landing)
    if last_day is None:
        raise ValueError(f"{landing}/transactions: no accept events landed — nothing to base an incremental day on")
    src_day = last_day
    while not _is_workday(src_day):
        src_day -= dt.timedelta(days=1)
    new_day = last_day + dt.timedelta(days=1)
    while not _is_workday(new_day):
        new_day += dt.timedelta(days=1)
    shift = new_day - src_day
    prefix = f"N{new_day:%Y%m%d}-"
    counts = {}
    for feed, id_cols in EVENT_FEEDS_SHIFTED.items():
        files = [f for f in (landing / feed).glob("**/*.parquet") if f.name != "_empty.parquet"]
        if not files:
            continue
        tcol = FEEDS[feed].time_column
        lf = pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")
        day = lf.filter(pl.col(tcol).dt.date() == src_day).collect()
        if day.is_empty():
            continue
        keep = [c for c in day.columns if c not in LANDING_METADATA and not c.endswith("_hmac")]
        day = day.select(keep).with_columns(
            *[(pl.lit(prefix) + pl.col(c)).alias(c) for c in id_cols if c in day.columns],
            *[(pl.col(c) + shift).alias(c) for c, t in day.schema.items() if isinstance(t, pl.Datetime) and c in keep],
        )
        path = inbox / feed / f"{new_day.isoformat()}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        day.write_parquet(path)
        counts[feed] = day.height
    return new_day, counts


# ------------------------------------------------------------------ the run


def _machine() -> dict:
    vm = psutil.virtual_memory()
    return {"nproc": os.cpu_count(), "memory_gib": round(vm.total / GB, 1), "platform": platform.platform(),
            "python": platform.python_version(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _versions() -> dict:
    out = {}
    for pkg in ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "polars", "streamlit", "apache-airflow"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = "?"
    return out


def ensure_feeds(root: Path, scale: str, seed: int) -> tuple[Path, float | None]:
    """Generate the scale's feeds once; reuse them while the seed marker matches."""
    feeds = root / "feeds"
    marker = feeds / ".bench-seed.json"
    want = {"scale": scale, "seed": seed}
    if marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == want:
                return feeds, None
        except ValueError:
            pass
    from windowwatch.generate.dataset import generate

    t0 = time.perf_counter()
    if feeds.exists():
        shutil.rmtree(feeds)
    generate(feeds, scale=scale, seed=seed, progress=False)
    marker.write_text(json.dumps(want), encoding="utf-8")
    return feeds, time.perf_counter() - t0


def _landed_rows(landing: Path) -> dict[str, int]:
    import polars as pl

    out = {}
    for d in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith("_")):
        files = [f for f in d.glob("**/*.parquet") if f.name != "_empty.parquet"]
        out[d.name] = sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
    return out


def _full_month(as_of: dt.date) -> str:
    """The month the dashboards open on: as_of's month if as_of is its last day, else the one before."""
    nxt = as_of + dt.timedelta(days=1)
    if nxt.month != as_of.month:
        return as_of.strftime("%Y-%m")
    return (as_of.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def run_bench(scale: str, seed: int = 1, root: Path | None = None, feeds: Path | None = None,
              as_of: dt.date | None = None, results_md: Path | None = RESULTS_MD, pages: list[str] | None = None,
              echo=print, end_to_end: bool = True) -> BenchResult:
    """Run the benchmark; `feeds` (an inbox) skips generation, `as_of` defaults to the last landed event day;
    `end_to_end` adds `windowwatch run` through Airflow (full, then the incremental day)."""
    home = Home.from_env()
    root = (root or home.root / "bench" / scale).resolve()
    root.mkdir(parents=True, exist_ok=True)
    env_settings = settings()  # a memory limit set in the environment wins over the scale's
    memory = (env_settings.duckdb_memory if "duckdb_memory" in env_settings.model_fields_set
              else DUCKDB_MEMORY.get(scale, "4GB"))
    result = BenchResult(scale=scale, seed=seed, started_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                         machine=_machine(), versions=_versions(),
                         settings={"duckdb_memory_limit": memory, "duckdb_threads": 2, "stage_isolation": "one process per stage",
                                   "gx_duckdb_memory_limit": env_settings.gx_duckdb_memory if "gx_duckdb_memory" in env_settings.model_fields_set else memory})
    if feeds is None:
        echo(f"bench {scale}: feeds under {root / 'feeds'} (generated once, not timed)")
        feeds, result.generate_s = ensure_feeds(root, scale, seed)
        if result.generate_s is not None:
            echo(f"  generated in {result.generate_s:.1f} s")
    bench_home = root / "home"
    if bench_home.exists():
        shutil.rmtree(bench_home)
    h = Home(bench_home).ensure()
    env = {**os.environ, "WINDOWWATCH_HOME": str(h.root), "WINDOWWATCH_DUCKDB_MEMORY": memory,
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("WINDOWWATCH_WAREHOUSE", None)
    env.setdefault("WINDOWWATCH_PII_KEY", "bench-key-not-secret")
    # The gates' own DuckDB limit (expectations.gx_run.duckdb_config, 1GB by default) follows the
    # scale too: at province the raw gate's distinct count over 91 M event ids needs several GB.
    env.setdefault("WINDOWWATCH_GX_DUCKDB_MEMORY", memory)
    for stale in root.glob("stages/*.json"):
        stale.unlink()

    def stage(name: str, phase: str, params: dict) -> StageResult:
        s = run_stage(name, phase, params, root, env)
        result.stages.append(s)
        rss = s.peak_rss / GB
        echo(f"  {phase:11s} {name:9s} {s.wall_s:8.1f} s  cpu {s.cpu_s or 0:7.1f} s  peak {rss:5.2f} GiB  {'ok' if s.ok else 'FAILED'}"
             + (f"  {s.error[:300]}" if s.error else ""))
        return s

    def phase_run(phase: str, inbox: Path, day: dt.date | None, run_id: str) -> bool:
        ing = stage("ingest", phase, {"inbox": str(inbox)})
        if not ing.ok and not ing.detail.get("landed_files"):
            return False
        files = ing.detail.get("landed_files", [])
        landed = sum(v["landed"] for v in ing.detail.get("by_feed", {}).values())
        if not stage("ge_raw", phase, {"files": files, "rows": landed}).ok:
            return False  # as in the pipeline: a failed raw gate stops the run before dbt
        nonlocal_as_of = day or landed_event_days(h.landing)
        rows_all = sum(_landed_rows(h.landing).values())
        if not stage("dbt", phase, {"as_of": nonlocal_as_of.isoformat(), "rows": rows_all}).ok:
            return False
        if not stage("ge_marts", phase, {}).ok:
            return False  # as in the pipeline: a failed marts gate publishes nothing
        return stage("publish", phase, {"run_id": run_id}).ok

    echo(f"bench {scale}: full rebuild in {h.root}")
    ok = phase_run("full", feeds, as_of, "bench-full")
    result.landed_rows = _landed_rows(h.landing)
    full_as_of = as_of or landed_event_days(h.landing)
    result.settings["as_of_full"] = full_as_of.isoformat() if full_as_of else None
    if ok:
        base = stage("baseline", "baseline", {"memory_limit": memory, "rows": sum(
            v for k, v in result.landed_rows.items() if k in BASELINE_QUERIES)})
        base.stage = "duckdb_scan"
        if not pages == []:
            pg = stage("pages", "pages", {"pages": pages or PAGES, "month": _full_month(full_as_of)})
            result.pages = pg.detail.get("pages", {})
        inc_inbox = root / "incremental_inbox"
        if inc_inbox.exists():
            shutil.rmtree(inc_inbox)
        new_day, counts = make_incremental_inbox(h.landing, inc_inbox, full_as_of)
        result.settings["incremental_day"] = new_day.isoformat()
        result.settings["incremental_rows"] = counts
        echo(f"bench {scale}: incremental day {new_day} ({counts})")
        phase_run("incremental", inc_inbox, new_day, "bench-incremental")
        if end_to_end:
            e2e_home = root / "home_run"
            if e2e_home.exists():
                shutil.rmtree(e2e_home)
            result.settings["airflow_migrate_s"] = round(prepare_airflow(e2e_home, root, env), 1)
            for phase, (inbox, day) in {"full": (feeds, full_as_of), "incremental": (inc_inbox, new_day)}.items():
                s = run_end_to_end(E2E_PHASES[phase], e2e_home, inbox, day, root, env)
                result.stages.append(s)
                echo(f"  windowwatch run ({phase}) {s.wall_s:8.1f} s  cpu {s.cpu_s or 0:7.1f} s  peak {s.peak_rss / GB:5.2f} GiB  "
                     f"{'ok' if s.ok else 'FAILED'}  tasks {s.detail.get('tasks')}" + (f"  {s.error[:300]}" if s.error else ""))
                if not s.ok:
                    break
    result.machine["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    (root / f"result-{dt.datetime.now():%Y%m%dT%H%M%S}.json").write_text(
        json.dumps(result.to_json(), ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if results_md is not None:
        append_results(results_md, result)
    return result


# ------------------------------------------------------------------ results.md


def _fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} s"


def _fmt_gib(v: int) -> str:
    return f"{v / GB:.2f} GiB"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**missed**")


def targets_table(r: BenchResult) -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) rows."""
    t = TARGETS.get(r.scale, {})
    rows = []
    full, inc = r.total("full"), r.total("incremental")
    full_ok = bool(r.phase("full")) and all(s.ok for s in r.phase("full"))
    rows.append(("full rebuild wall (sum of stages)", _fmt_s(full) + ("" if full_ok else " (a stage failed)"),
                 _fmt_s(t.get("full_s")) if t.get("full_s") else "– (no target at this scale)",
                 _verdict(full_ok and full <= t["full_s"]) if t.get("full_s") else "–"))
    rows.append(("full rebuild peak RSS (any stage)", _fmt_gib(r.peak("full")),
                 _fmt_gib(t["full_rss"]) if t.get("full_rss") else "–",
                 _verdict(r.peak("full") <= t["full_rss"]) if t.get("full_rss") else "–"))
    inc_ok = bool(r.phase("incremental")) and all(s.ok for s in r.phase("incremental"))
    rows.append(("incremental day wall (sum of stages)", _fmt_s(inc) if r.phase("incremental") else "not run",
                 _fmt_s(t.get("incremental_s")) if t.get("incremental_s") else "–",
                 _verdict(inc_ok and inc <= t["incremental_s"]) if t.get("incremental_s") and r.phase("incremental") else "–"))
    wall_ratio, inner_ratio = r.dbt_ratio()
    rows.append(("dbt stage / bare DuckDB scan (wall)", "–" if wall_ratio is None else f"{wall_ratio:.1f}×",
                 f"≤ {DBT_BASELINE_RATIO:.0f}×", "–" if wall_ratio is None else _verdict(wall_ratio <= DBT_BASELINE_RATIO)))
    rows.append(("dbt stage / bare DuckDB scan (inner: dbt invoke vs queries)", "–" if inner_ratio is None else f"{inner_ratio:.1f}×",
                 f"≤ {DBT_BASELINE_RATIO:.0f}×", "–" if inner_ratio is None else _verdict(inner_ratio <= DBT_BASELINE_RATIO)))
    ing = r.stage("full", "ingest")
    if t.get("ingest_rows_s") and ing and ing.rows_per_s:
        rows.append(("ingest rows/s (full rebuild)", f"{ing.rows_per_s:,.0f}", f"≥ {t['ingest_rows_s']:,.0f}",
                     _verdict(ing.ok and ing.rows_per_s >= t["ingest_rows_s"])))
    for phase, key, what in (("run_full", "run_full_s", "full rebuild"), ("run_incremental", "run_incremental_s", "incremental day")):
        run = r.stage(phase, E2E_STAGE)
        if run is None or not t.get(key):
            continue
        rows.append((f"`windowwatch run` {what}, end to end through Airflow", _fmt_s(run.wall_s) + ("" if run.ok else " (failed)"),
                     _fmt_s(t[key]), _verdict(run.ok and run.wall_s <= t[key])))
    runs = r.phase("run_full") + r.phase("run_incremental")
    if runs and t.get("run_rss"):
        peak = max(x.peak_rss for x in runs)
        rows.append(("`windowwatch run` peak RSS (process tree)", _fmt_gib(peak), _fmt_gib(t["run_rss"]), _verdict(peak <= t["run_rss"])))
    if r.pages:
        worst = max(r.pages.items(), key=lambda kv: kv[1]["warm"])
        rows.append((f"slowest dashboard page warm ({worst[0]})", f"{worst[1]['warm']:.2f} s", f"≤ {PAGE_WARM_S} s"
                     + ("" if r.scale == "city" else " (target at city scale)"), _verdict(worst[1]["warm"] <= PAGE_WARM_S)))
    return rows


def render_section(r: BenchResult) -> str:
    m, v = r.machine, r.versions
    lines = [f"## {r.scale} — {r.started_at}", ""]
    lines.append(f"Machine: {m['nproc']} cores, {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}; "
                 f"load average at start {m['load_avg_at_start']}, at end {m.get('load_avg_at_end', '–')} "
                 "(the machine is shared: with a load above 2, wall times stretch; CPU seconds do not).  ")
    lines.append("Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".  ")
    lines.append(f"Settings: seed {r.seed}; DuckDB memory_limit {r.settings['duckdb_memory_limit']}, "
                 f"threads {r.settings['duckdb_threads']}, temp_directory `$WINDOWWATCH_HOME/duckdb_tmp`; "
                 f"GE gates' DuckDB memory_limit {r.settings.get('gx_duckdb_memory_limit', '1GB')}; "
                 f"as of {r.settings.get('as_of_full')}; one process per stage (imports included in wall time).  ")
    if r.generate_s is not None:
        lines.append(f"Generation (not timed in the totals): {r.generate_s:.1f} s.  ")
    if r.landed_rows:
        lines.append("Landed rows: " + ", ".join(f"{k} {n:,}" for k, n in r.landed_rows.items() if n) + ".")
    lines += ["", "| target | measured | target | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets_table(r)]
    lines += ["", "| phase | stage | wall | inner | CPU | peak RSS | rows | rows/s | status |", "|---|---|---|---|---|---|---|---|---|"]
    for s in r.stages:
        if s.phase == "pages":
            continue
        rps = s.rows_per_s
        lines.append(f"| {s.phase} | {s.stage} | {s.wall_s:.1f} s | {_fmt_s(s.inner_s)} | {_fmt_s(s.cpu_s)} | {_fmt_gib(s.peak_rss)} | "
                     f"{'' if s.rows is None else f'{s.rows:,} {s.rows_what}'} | {'' if rps is None else f'{rps:,.0f}'} | "
                     f"{'ok' if s.ok else 'FAILED: ' + (s.error or '')[:200].replace('|', '/').replace(chr(10), ' ')} |")
    if r.pages:
        lines += ["", "| page | first render | warm |", "|---|---|---|"]
        lines += [f"| {p} | {t['cold']:.2f} s | {t['warm']:.2f} s |" for p, t in r.pages.items()]
    d = r.stage("full", "dbt")
    if d and d.detail.get("slowest"):
        lines += ["", "Slowest dbt nodes (full): " + ", ".join(f"{n} {s:.1f} s" for n, s in d.detail["slowest"]) + "."]
    d = r.stage("incremental", "dbt")
    if d and d.detail.get("slowest"):
        lines += ["Slowest dbt nodes (incremental day): " + ", ".join(f"{n} {s:.1f} s" for n, s in d.detail["slowest"]) + "."]
    for phase in ("run_full", "run_incremental"):
        run = r.stage(phase, E2E_STAGE)
        if run and run.detail.get("tasks"):
            tasks = ", ".join(f"{n} {v:.1f} s" for n, v in run.detail["tasks"].items())
            lines.append(f"`windowwatch run` ({phase.removeprefix('run_')}): {run.wall_s:.1f} s wall, CPU {_fmt_s(run.cpu_s)}, "
                         f"peak {_fmt_gib(run.peak_rss)}; tasks as the run record times them: {tasks}; outside the tasks "
                         f"(Airflow start-up, DAG parsing, task processes): {run.detail.get('outside_tasks_s', 0):.1f} s.")
    if r.settings.get("airflow_migrate_s") is not None:
        lines.append(f"The end-to-end home's Airflow metadata DB was migrated once beforehand ({r.settings['airflow_migrate_s']:.1f} s, "
                     "not counted: an installation's cost, not a run's).")
    if r.settings.get("incremental_day"):
        lines.append(f"Incremental day: {r.settings['incremental_day']} with {r.settings.get('incremental_rows')} new rows "
                     "(the last working day's events copied with new ids).")
    return "\n".join(lines) + "\n"


RESULTS_HEADER = """# Benchmark results

Appended by `windowwatch bench --scale small|city|province` (windowwatch/bench.py): one section per
run, newest last. Targets (performance, docs/scaling.md, on a 2-core, 24 GB machine): city full rebuild ≤ 120 s and
≤ 6 GB peak RSS; incremental day ≤ 20 s; province full rebuild ≤ 15 min and ≤ 12 GB; dbt stage ≤
5× a bare DuckDB scan of the same landed data; every dashboard page ≤ 1.5 s warm at city scale.
End to end (issue 23, `windowwatch run` through Airflow, measured after the stages): city full
rebuild ≤ 60 s, incremental day ≤ 10 s, peak RSS ≤ 4 GB, ingest ≥ 1.5 M rows/s; province ≤ 8 min.
"wall" is the stage's process from start to exit (interpreter start and imports included, as an
Airflow task pays them); "inner" is the call itself; peak RSS is the stage's process tree,
sampled every 50 ms.
"""


def append_results(path: Path, r: BenchResult, notes: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    text = text.rstrip("\n") + "\n\n" + render_section(r) + (("\n" + notes.strip() + "\n") if notes else "")
    atomic.write_text(path, text)


def main(args) -> int:
    """CLI: `windowwatch bench --scale S`."""
    scale = args.scale
    r = run_bench(scale, seed=settings().bench_seed, end_to_end=getattr(args, "end_to_end", True))
    print()
    for a, b, c, d in targets_table(r):
        print(f"{a:58s} {b:>14s}  target {c:<28s} {d}")
    print(f"results appended to {RESULTS_MD}")
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))

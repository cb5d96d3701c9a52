"""`windowwatch doctor`: what a deployment needs before its first scheduled run
(docs/operations.md#before-the-first-run-windowwatch-doctor).

One line per check, OK or FAIL with what to do; exit 0 only when every check holds. The checks
read the environment the scheduler would be started from (this shell's `AIRFLOW_*` and
`WINDOWWATCH_*`), with the defaults of docs/operations.md where a variable is unset: the Airflow
home `$WINDOWWATCH_HOME/airflow` and SQLite metadata in it. Airflow's own settings are read by
Airflow itself, in a child process, so airflow.cfg and the environment count as they would for
the scheduler.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.localtime import today_local
from core.paths import REPO_ROOT, Home
from core.settings import settings

# Airflow's own log servers (worker and triggerer): the API server cannot share their ports.
AIRFLOW_LOG_PORTS = {8793: "[logging] worker_log_server_port", 8794: "[logging] trigger_log_server_port"}
# The State Council publishes next year's arrangement around November: from then on the doctor
# wants it (docs/rules.md#working-days).
NEXT_YEAR_DUE_MONTH = 11
MIN_FREE_BYTES = 1 << 30


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'OK  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"
        return text + (f" — fix: {self.fix}" if self.fix and not self.ok else "")


def parallelism_bound(cores: int | None = None) -> int:
    return max(4, 2 * (cores or os.cpu_count() or 2))


# ---------------------------------------------------------------------------- checks


def check_sources() -> list[Check]:
    from core.config import DEFAULT_SOURCES, ConfigError, load_sources

    chosen = settings().sources
    path = Path(chosen or DEFAULT_SOURCES)
    origin = "WINDOWWATCH_SOURCES" if chosen else "the default; WINDOWWATCH_SOURCES names another file"
    try:
        sources = load_sources(path).sources
    except ConfigError as exc:
        return [Check("sources file", False, f"{path} ({origin}): {exc}", f"correct {path}")]
    checks = [Check("sources file", True, f"{path} ({origin}), {len(sources)} source(s)")]
    for s in sources:
        if s.kind != "files":
            checks.append(Check(f"source {s.name}", True, f"{s.kind} source of feed {s.feed} (reached at run time)"))
            continue
        name = f"source {s.name} inbox"
        if not s.path:
            checks.append(Check(name, False, f"files source with no `path:` in {path}: a scheduled run has no --feeds, so it "
                                "would fail at once", f"add `path: /srv/windowwatch/inbox` (the folder the centre's "
                                f"feeds are dropped in, one sub-folder per feed) under source {s.name}"))
        elif not Path(s.path).is_dir():
            checks.append(Check(name, False, f"{s.path} does not exist or is not a folder",
                                f"create {s.path} (one sub-folder per feed) or correct `path:` in {path}"))
        elif not os.access(s.path, os.R_OK | os.X_OK):
            checks.append(Check(name, False, f"{s.path} is not readable by this user",
                                f"let the user that runs the scheduler read {s.path}"))
        else:
            checks.append(Check(name, True, f"{s.path}"))
    return checks


def check_pii_key(home: Home) -> list[Check]:
    from ingest import privacy

    key = settings().pii_key
    if key is not None and key.get_secret_value():
        checks = [Check("PII key", True, "set (WINDOWWATCH_PII_KEY)")]
    elif privacy.key_file_path().is_file():
        checks = [Check("PII key", True, f"key file {privacy.key_file_path()}")]
    else:
        return [Check("PII key", False, f"WINDOWWATCH_PII_KEY is unset and there is no key file at {privacy.key_file_path()}",
                      "set WINDOWWATCH_PII_KEY (or WINDOWWATCH_PII_KEY_FILE) in the scheduler's environment to the "
                      "centre's key, kept outside the repository and backed up")]
    # The fingerprint of the key in use against the one recorded with the landed data, when
    # ingest/privacy.py records one: another key would hash the same applicant differently.
    fingerprint = getattr(privacy, "key_fingerprint", None)
    recorded = getattr(privacy, "recorded_fingerprint", None)
    if fingerprint and recorded:
        now, before = fingerprint(), recorded(home)
        if before and before != now:
            checks.append(Check("PII key fingerprint", False, f"the key in use ({now}) is not the key the landed data was "
                                f"hashed with ({before})", "set the original key, or rotate it with `windowwatch pii rotate`"))
        else:
            checks.append(Check("PII key fingerprint", True, now + ("" if before else " (none recorded yet: the first run records it)")))
    return checks


def scheduler_env(home: Home) -> dict[str, str]:
    """The environment an Airflow scheduler started from this shell would have, with the
    defaults docs/operations.md gives for what is unset."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(home.airflow_home))
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{Path(env['AIRFLOW_HOME']) / 'airflow.db'}")
    return env


# Run by Airflow's own Python in a child process: its configuration as the scheduler resolves it.
_AIRFLOW_PROBE = r"""
import json, sys
from airflow.configuration import conf
out = {
    "parallelism": conf.getint("core", "parallelism"),
    "executor": conf.get("core", "executor"),
    "dags_folder": conf.get("core", "dags_folder"),
    "api_port": conf.getint("api", "port"),
    "base_url": conf.get("api", "base_url", fallback=None),
    "execution_api_server_url": conf.get("core", "execution_api_server_url", fallback=None),
    "conn": conf.get("database", "sql_alchemy_conn"),
}
conn = out["conn"]
if conn.startswith("sqlite:///") and not __import__("os").path.exists(conn[len("sqlite:///"):]):
    out["db_error"] = "the SQLite file does not exist (not migrated)"
else:
    import sqlalchemy as sa
    try:
        engine = sa.create_engine(conn)
        with engine.connect() as c:
            out["db_ok"] = True
            try:
                out["pool_slots"] = c.execute(sa.text("select slots from slot_pool where pool = :p"), {"p": sys.argv[1]}).scalar()
            except Exception as exc:
                out["pool_error"] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
        engine.dispose()
    except Exception as exc:
        out["db_error"] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
print("WINDOWWATCH-DOCTOR " + json.dumps(out))
"""


def airflow_config(env: dict[str, str], pool: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _AIRFLOW_PROBE, pool], env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("WINDOWWATCH-DOCTOR "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"could not read Airflow's configuration (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")


def _port_of(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def check_airflow(home: Home) -> list[Check]:
    from windowwatch.pipeline import POOL, _redact, sensible_parallelism

    env = scheduler_env(home)
    try:
        cfg = airflow_config(env, POOL)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return [Check("Airflow", False, str(exc), "fix the Airflow installation or its configuration named above")]
    checks = [Check("Airflow home", True, f"{env['AIRFLOW_HOME']} (executor {cfg['executor']})")]
    conn = _redact(cfg["conn"])
    migrate = ("run `airflow db migrate` and `airflow pools set windowwatch_duckdb 1 'WindowWatch: one DuckDB writer "
               "at a time'` with this environment")
    if "db_error" in cfg:
        checks.append(Check("Airflow metadata DB", False, f"{conn}: {cfg['db_error']}",
                            f"check AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (server up, password, database exists), then {migrate}"))
    else:
        checks.append(Check("Airflow metadata DB", True, f"{conn} reachable"))
        if cfg.get("pool_slots") is None:
            why = cfg.get("pool_error") or f"pool {POOL} missing"
            checks.append(Check(f"Airflow pool {POOL}", False, why.split(" [SQL")[0], migrate))
        elif cfg["pool_slots"] != 1:
            checks.append(Check(f"Airflow pool {POOL}", False, f"{cfg['pool_slots']} slots: two DuckDB writers could run at once",
                                f"`airflow pools set {POOL} 1 'WindowWatch: one DuckDB writer at a time'`"))
        else:
            checks.append(Check(f"Airflow pool {POOL}", True, "1 slot"))
    dags = Path(cfg["dags_folder"]).resolve()
    if dags != (REPO_ROOT / "dags").resolve():
        checks.append(Check("Airflow DAGs folder", False, f"{dags}: not the WindowWatch DAGs",
                            f"export AIRFLOW__CORE__DAGS_FOLDER={REPO_ROOT / 'dags'}"))
    else:
        checks.append(Check("Airflow DAGs folder", True, str(dags)))
    url = cfg["execution_api_server_url"] or cfg["base_url"] or "http://localhost:8080"
    which = "AIRFLOW__CORE__EXECUTION_API_SERVER_URL" if cfg["execution_api_server_url"] else "AIRFLOW__API__BASE_URL"
    port = cfg["api_port"]
    if port in AIRFLOW_LOG_PORTS:
        checks.append(Check("Airflow API port", False, f"{port} is Airflow's own log server port ({AIRFLOW_LOG_PORTS[port]})",
                            "choose another AIRFLOW__API__PORT (and AIRFLOW__API__BASE_URL with it)"))
    elif _port_of(url) != port:
        checks.append(Check("Airflow API base URL", False, f"{which} {url} does not name the API server's port {port} "
                            "(AIRFLOW__API__PORT): every task would fail with 'Connection refused'",
                            f"export AIRFLOW__API__BASE_URL=http://localhost:{port}"))
    else:
        checks.append(Check("Airflow API base URL", True, f"{url} (port {port})"))
    bound, cores = parallelism_bound(), os.cpu_count() or 1
    if cfg["parallelism"] > bound:
        checks.append(Check("Airflow parallelism", False, f"{cfg['parallelism']} task processes on {cores} core(s)",
                            f"export AIRFLOW__CORE__PARALLELISM={sensible_parallelism()} (at most {bound} here)"))
    else:
        checks.append(Check("Airflow parallelism", True, f"{cfg['parallelism']} on {cores} core(s)"))
    return checks


def check_calendar(home: Home, today: dt.date | None = None) -> list[Check]:
    from core.config import ConfigError
    from windowwatch.calendar_feed import files_inboxes, home_coverage

    today = today or today_local()
    try:
        inboxes = files_inboxes()
    except ConfigError:  # reported by the sources check
        inboxes = []
    checks = []
    for cov in home_coverage(home, [today.year, today.year + 1], inboxes):
        name = f"calendar {cov.year}"
        if cov.complete:
            checks.append(Check(name, True, f"official {cov.counts['official']} days, feed {cov.counts['feed']} days"))
        elif cov.year > today.year and today.month < NEXT_YEAR_DUE_MONTH:
            checks.append(Check(name, True, f"not published yet ({cov.counts['assumed']} days would be assumed "
                                "Monday–Friday); the State Council publishes it around November"))
        else:
            checks.append(Check(name, False, f"{cov.counts['assumed']} days assumed Monday–Friday (holidays and 调休 "
                                "unknown: deadlines over them are wrong)", "write the State Council's notice as YAML and run "
                                f"`windowwatch calendar add-year FILE` (docs/operations.md#working-day-calendar)"))
    return checks


def check_disk(home: Home) -> list[Check]:
    warehouse = Path(settings().warehouse or home.warehouse)
    size = warehouse.stat().st_size if warehouse.exists() else 0
    where = home.root if home.root.exists() else home.root.parent
    return [disk_check(shutil.disk_usage(where).free, size, where)]


def disk_check(free: int, warehouse_bytes: int, where: Path) -> Check:
    """A build writes a new warehouse beside the old one and publishes a copy: twice its size."""
    need = max(2 * warehouse_bytes, MIN_FREE_BYTES)
    gb = 1 << 30
    detail = f"{free / gb:.1f} GB free at {where}, the warehouse twice over needs {need / gb:.1f} GB"
    return Check("free disk", free >= need, detail, f"free {(need - free) / gb:.1f} GB at {where} or move WINDOWWATCH_HOME")


# ---------------------------------------------------------------------------- command


def run_checks(home: Home) -> list[Check]:
    return [*check_sources(), *check_pii_key(home), *check_airflow(home), *check_calendar(home), *check_disk(home)]


def main(args) -> int:
    home = Home.from_env()
    print(f"windowwatch doctor — WINDOWWATCH_HOME {home.root}")
    checks = run_checks(home)
    for c in checks:
        print(c.line())
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"\n{len(failed)} of {len(checks)} checks failed: fix them before the first scheduled run.", file=sys.stderr)
        return 1
    print(f"\nall {len(checks)} checks hold.")
    return 0

"""Every `WINDOWWATCH_*` environment setting, in one validated object.

`settings()` reads the environment each time it is called (cheap: a few dozen variables), so a
test's `monkeypatch.setenv` or a pipeline step that sets a variable for a child process takes
effect without reloading any module. A wrong value fails with the variable's name:

    WINDOWWATCH_KEEP_SNAPSHOTS=abc  ->  windowwatch: WINDOWWATCH_KEEP_SNAPSHOTS: ... not a valid integer

docs/configuration.md lists the same settings; tests/core/test_settings.py keeps the table,
this class and the code that reads the environment in step. Some are read by dbt itself
(`env_var(...)` in dbt_project/profiles.yml and macros): they are declared here all the same,
so there is one list of knobs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "WINDOWWATCH_"


class SettingsError(ValueError):
    """An environment setting is invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    # -- where things are
    home: Path = Field(Path("var"), description="all state: landing, quarantine, warehouse, snapshots, reports, audit log, Airflow home")
    warehouse: Path | None = Field(None, description="the dbt build's DuckDB file (default `$WINDOWWATCH_HOME/warehouse.duckdb`)")
    sources: Path | None = Field(None, description="the sources file (default `windowwatch.yaml` in the repository)")
    scoring: Path | None = Field(None, description="the scoring file (default `core/config/scoring.yaml`)")

    # -- applicant privacy
    pii_key: SecretStr | None = Field(None, description="the HMAC key for applicant ids and phones (keep it outside the repository)")
    pii_key_file: Path | None = Field(None, description="where the key file lives when `WINDOWWATCH_PII_KEY` is unset (default `~/.config/windowwatch/pii.key`)")

    # -- pipeline and scheduling
    as_of: dt.date | None = Field(None, description="the as-of date of a dbt build (set by `windowwatch.transform.build` for dbt; read by `macros/as_of.sql`)")
    source_retries: int = Field(2, ge=0, description="Airflow retries of a failed source's ingest task")
    source_retry_delay_s: float = Field(30, ge=0, description="first retry delay of a source, doubled per retry (seconds)")
    daily_at: str = Field("21:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time (Asia/Shanghai, HH:MM) of the scheduled daily run: after the hall closes; the run covers that local day")
    publish_day: int = Field(3, ge=1, le=28, description="day of the month the monthly DAG publishes last month's ranking")
    keep_snapshots: int = Field(5, ge=1, description="published snapshots kept (older ones are pruned)")
    clock_skew_seconds: int = Field(600, ge=0, description="tolerance of the raw gate's time checks (seconds)")
    run_cli: bool = Field(False, description="internal: set by `windowwatch run` for its Airflow child, which then leaves the summary to the parent")

    # -- engines and resources
    duckdb_memory: str = Field("6GB", description="DuckDB `memory_limit` of the dbt build (read by dbt_project/profiles.yml)")
    dbt_threads: int = Field(2, ge=1, description="dbt threads (read by dbt_project/profiles.yml)")
    dbt_log_level: Literal["debug", "info", "warn", "error", "none"] = Field("info", description="dbt's file log level (`debug` writes every statement to dbt/logs/dbt.log)")
    gx_duckdb_memory: str = Field("1GB", description="DuckDB `memory_limit` of the Great Expectations gates")
    gx_duckdb_threads: int | None = Field(None, ge=1, description="DuckDB threads of the gates (default: the gate's own, else DuckDB's)")
    ingest_workers: str = Field("auto", description="ingest staging worker processes: `auto`, `0` (in the main process) or a number")
    ingest_worker_threads: Literal["default"] | None = Field(None, description="`default`: leave a staging worker's polars/DuckDB thread pools at their defaults (for measuring)")
    ingest_duckdb_threads: int = Field(2, ge=1, description="DuckDB threads per ingest connection (a worker gets cores // workers)")
    ingest_worker_memory_mb: int | None = Field(None, ge=0, description="address space (MiB) an ingest staging worker may use; a delivery that needs more is refused by name and the rest lands (default: 3/4 of the machine's memory shared by the workers; `0`: no limit)")
    bench_seed: int = Field(1, description="seed of the feeds `windowwatch bench` generates")

    # -- audit
    audit_commit_min_minutes: float = Field(30, ge=0, description="minutes a plan's commit must precede its draw (`audit draw` refuses sooner; 0, the demo's and tests' value, lets a draw commit its plan itself)")

    # -- supervision (督办, docs/architecture.md#supervision)
    supervision_url: str | None = Field(None, description="SQLAlchemy URL of the supervision store, e.g. `postgresql+psycopg://user:pw@host/db` (default: SQLite `$WINDOWWATCH_HOME/supervision.sqlite`, WAL)")
    smtp_url: str | None = Field(None, description="`smtp://host:port` (optionally `smtp://user:password@host:port`) through which the supervision outbox is e-mailed (default: messages stay in the outbox, shown on the 督办 page)")
    clip_root: str | None = Field(None, description="folder of the video clips: a video flag's clip_ref naming a file under it is played on the 视频巡查 page (an http(s) clip_ref as is; anything else is shown as text) (default: `$WINDOWWATCH_HOME/clips`)")

    # -- dashboards
    session_minutes: float = Field(30, ge=0, description="a dashboard session ends after this many minutes without activity")
    login_max_failures: int = Field(5, ge=1, description="failed sign-ins that lock an account")
    serve_address: str = Field("127.0.0.1", min_length=1, description="the address `windowwatch serve` listens on (`0.0.0.0` for every interface; put a TLS reverse proxy in front, docs/operations.md)")
    login_lock_minutes: float = Field(15, gt=0, description="how long a locked account stays locked (minutes)")
    hall_page_rows: int = Field(8, ge=1, le=20, description="windows per page of the hall screen (大屏), whose chart and table turn to the next page every 10 s (docs/operations.md#the-hall-screen-kiosk)")

    # -- tests
    fault_at: str | None = Field(None, description="tests only: the fault point at which the process kills itself, or at a disk-full point gets ENOSPC (core/faults.py)")


def env_name(field: str) -> str:
    return PREFIX + field.upper()


_last: tuple[tuple, Settings] | None = None  # (the WINDOWWATCH_* variables, the Settings built from them)


def settings() -> Settings:
    """The settings as the environment holds them now. Built again only when a `WINDOWWATCH_*`
    variable changed: pydantic-settings spends ~1 ms per build, and ingest asks at every fault
    point (issue 23: a tenth of ingest's CPU). Settings are frozen, so sharing one is safe."""
    global _last
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))  # names are case-insensitive
    if _last is not None and _last[0] == env:
        return _last[1]
    try:
        built = Settings()
        _last = (env, built)
        return built
    except ValidationError as err:
        problems = "; ".join(f"{env_name(str(e['loc'][0]))}: {e['msg']}" for e in err.errors())
        raise SettingsError(problems) from None

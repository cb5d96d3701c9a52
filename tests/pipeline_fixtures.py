"""Airflow fixtures for the pipeline tests: one migrated PostgreSQL metadata DB per test session,
and a tiny inbox of feed files (CSV, as a centre would drop them)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from core.paths import Home
from windowwatch.pipeline import airflow_env, ensure_airflow, migrated_marker, migration_stamp

WINDOWS = [
    ("W01", "综合受理一号窗", "D01", "市场监管局", "C01", "市政务服务中心", "综合", "2020-01-01"),
    ("W02", "综合受理二号窗", "D01", "市场监管局", "C01", "市政务服务中心", "comprehensive", "2020-01-01"),
]
ITEMS = [("WD5", "食品经营许可", "D01", "承诺件", 20, 5, "工作日", "否")]


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_tiny_inbox(inbox: Path) -> Path:
    """Two windows, one item, a handful of cases in October 2025."""
    _write_csv(inbox / "windows" / "windows.csv",
               ["window_id", "window_name", "department_id", "department_name", "center_id", "center_name", "window_kind", "opened_on"],
               WINDOWS)
    _write_csv(inbox / "items" / "items.csv",
               ["item_code", "item_name", "department_id", "item_kind", "legal_limit", "promised_limit", "limit_unit", "fee_required"],
               ITEMS)
    rows = []
    for i in range(1, 7):
        win = "W01" if i % 2 else "W02"
        rows.append((f"E{i}a", f"C{i}", "accept", f"2025-10-{10 + i:02d} 09:30:00", win, "WD5"))
        if i < 5:
            rows.append((f"E{i}c", f"C{i}", "complete", f"2025-10-{12 + i:02d} 15:00:00", win, "WD5"))
    _write_csv(inbox / "transactions" / "2025-10.csv", ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"], rows)
    return inbox


def corrupt_inbox(inbox: Path) -> Path:
    """A new delivery whose events lie in the future of their delivery (a broken source clock):
    parseable, so it lands — only the Great Expectations raw gate can stop it."""
    _write_csv(inbox / "transactions" / "2025-11-broken-clock.csv",
               ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"],
               [("X1", "C90", "accept", "2099-11-03 09:30:00", "W01", "WD5"),
                ("X2", "C90", "complete", "2099-11-04 09:30:00", "W01", "WD5")])
    return inbox


@pytest.fixture(scope="session")
def airflow_pg_db(postgres_url, tmp_path_factory) -> str:
    """A migrated Airflow metadata DB (with the pool) on the session's real PostgreSQL 15."""
    from pg_server import new_database

    url = new_database(postgres_url, "airflow_meta")
    root = tmp_path_factory.mktemp("airflow-pg")
    h = Home(root / "home")
    env = airflow_env(h, {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url})
    ensure_airflow(h, env, root / "migrate.log")
    return url


@pytest.fixture()
def airflow_pg_home(ww_home, airflow_pg_db, monkeypatch) -> Home:
    """WINDOWWATCH_HOME of the test, Airflow metadata on the session's PostgreSQL DB."""
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", airflow_pg_db)
    monkeypatch.setenv("WINDOWWATCH_SOURCE_RETRY_DELAY_S", "1")
    monkeypatch.setenv("WINDOWWATCH_SOURCE_RETRIES", "1")
    h = Home(ww_home)
    marker = migrated_marker(h, airflow_pg_db)  # migrated once per session, not per test
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(migration_stamp(airflow_pg_db))
    return h

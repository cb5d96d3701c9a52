"""The Airflow metadata DB of the DAG runs (`airflow_pg_db`, tests/conftest.py: migrated once per
session on the real PostgreSQL 15), given to a test's WINDOWWATCH_HOME."""

from __future__ import annotations

import pytest

from core.paths import Home
from windowwatch.pipeline import migrated_marker, migration_stamp


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

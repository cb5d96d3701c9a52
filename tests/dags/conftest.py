"""The Airflow metadata DB of the DAG runs: migrated once per session on the real PostgreSQL 15."""

from __future__ import annotations

import os

import pytest

from core.paths import Home
from tests.support.pg_server import new_database
from windowwatch.pipeline import airflow_env, ensure_airflow, migrated_marker, migration_stamp


@pytest.fixture(scope="session")
def airflow_pg_db(postgres_url, tmp_path_factory) -> str:
    """A migrated Airflow metadata DB (with the pool) on the session's real PostgreSQL 15."""
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

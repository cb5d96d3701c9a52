"""Fixtures that tests in several folders use. Every test gets its own WINDOWWATCH_HOME.

Request a fixture by name; never import one into a test module (a second registration of a
session fixture would, for instance, start a second PostgreSQL server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.faults import FaultWorld, build_fault_world
from tests.support.pg_server import PostgresUnavailable, running_postgres
from tests.support.small_pipeline import SmallPipeline, build_small_pipeline

# Draws in tests follow their commit at once (and commit the plan themselves); the tests of the
# commit wait set it back (tests/windowwatch/audit/test_grinding.py). Set before any fixture,
# so session fixtures and the servers and CLIs they start inherit it.
os.environ["WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES"] = "0"


@pytest.fixture()
def ww_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    return home


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL 15 server, one per pytest process (per xdist worker),
    started on first request (tests/support/pg_server.py; `new_database` gives a test a database
    of its own)."""
    try:
        cm = running_postgres()
        url = cm.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield url
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture(scope="session")
def airflow_pg_db(postgres_url, tmp_path_factory) -> str:
    """A migrated Airflow metadata DB (with the pool) on the session's real PostgreSQL 15."""
    import os

    from core.paths import Home
    from tests.support.pg_server import new_database
    from windowwatch.pipeline import airflow_env, ensure_airflow

    url = new_database(postgres_url, "airflow_meta")
    root = tmp_path_factory.mktemp("airflow-pg")
    h = Home(root / "home")
    env = airflow_env(h, {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url})
    ensure_airflow(h, env, root / "migrate.log")
    return url


@pytest.fixture(scope="session")
def small_pipeline(tmp_path_factory) -> SmallPipeline:
    """generate small -> ingest -> dbt build, once per session (tests/support/small_pipeline.py)."""
    return build_small_pipeline(tmp_path_factory.mktemp("small_pipeline"))


@pytest.fixture(scope="session")
def fault_world(small_pipeline, tmp_path_factory) -> FaultWorld:
    """That build published once, copied by every kill -9 trial (tests/support/faults.py)."""
    return build_fault_world(small_pipeline, tmp_path_factory.mktemp("fault_world"))


@pytest.fixture(scope="module")
def sec_home(tmp_path_factory):
    """A published fixture snapshot, a report, one draw and an account per role
    (tests/support/security.py), for the access and security tests."""
    from tests.support.security import security_home

    with security_home(tmp_path_factory) as home:
        yield home


@pytest.fixture()
def deferred_downloads(monkeypatch):
    """file name -> the data callable of each download button drawn during the test."""
    from tests.support.security import spy_deferred_downloads

    return spy_deferred_downloads(monkeypatch)

"""Shared fixtures: every test gets its own WINDOWWATCH_HOME."""

from __future__ import annotations

import pytest

# `postgres_url`: one real throwaway PostgreSQL 15 server per session, started only when a test
# asks for it (tests/pg_server.py). Request the fixture; do not import it into a test module
# (a second import would register a second session fixture and start a second server).
from pg_server import postgres_url  # noqa: E402,F401
# `small_pipeline`: generate small -> ingest -> dbt build, once per session (tests/small_pipeline.py).
from small_pipeline import small_pipeline  # noqa: E402,F401
# `fault_world`: that build published once, copied by every kill -9 trial (tests/fault_fixtures.py).
from fault_fixtures import fault_world  # noqa: E402,F401


@pytest.fixture()
def ww_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    return home

"""Fixtures of the supervision tests: every store test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.paths import Home
from tests.support.dashboard_snapshot import publish_fixture
from tests.support.supervision import add_users


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, ww_home) -> str:
    """An empty store: a SQLite file in the home, or a database of its own on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{ww_home / 'supervision.sqlite'}"
    from tests.support.pg_server import new_database

    return new_database(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def sup(ww_home, store_url, monkeypatch):
    """A home with the fixture snapshot published, an account per role, and the store opened
    (WINDOWWATCH_SUPERVISION_URL names it, so CLI subprocesses use the same store)."""
    from windowwatch.supervision.store import open_store

    snapshot = publish_fixture(ww_home)
    add_users()
    monkeypatch.setenv("WINDOWWATCH_SUPERVISION_URL", store_url)
    monkeypatch.delenv("WINDOWWATCH_SMTP_URL", raising=False)
    h = Home(ww_home)
    store = open_store(h)
    yield SimpleNamespace(home=h, snapshot=snapshot, store=store, url=store_url)
    store.dispose()

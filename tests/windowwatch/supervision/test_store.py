"""The supervision store: migrations from empty, the newer-schema refusal, SQLite WAL (SPEC §4.11)."""

from __future__ import annotations

import sqlalchemy as sa
import pytest

from core.paths import Home
from windowwatch.supervision.model import metadata
from windowwatch.supervision.store import VERSION_TABLE, StoreError, head_revision, open_store


def _tables(engine) -> dict[str, set[str]]:
    insp = sa.inspect(engine)
    return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}


def test_migrations_create_the_schema_from_empty(store_url, ww_home):
    store = open_store(Home(ww_home), url=store_url)
    try:
        tables = _tables(store.engine)
        for table in metadata.sorted_tables:  # the revisions and model.py agree
            assert tables[table.name] == {c.name for c in table.columns}, table.name
        with store.engine.connect() as conn:
            assert conn.execute(sa.text(f"select version_num from {VERSION_TABLE}")).scalar_one() == head_revision()
    finally:
        store.dispose()
    again = open_store(Home(ww_home), url=store_url)  # opening again migrates nothing and keeps the data
    again.dispose()


def test_a_schema_newer_than_the_code_is_refused(store_url, ww_home):
    open_store(Home(ww_home), url=store_url).dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"update {VERSION_TABLE} set version_num = '9999_from_the_future'"))
        conn.execute(sa.text("create table marker (x integer)"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"revision '9999_from_the_future', newer than this WindowWatch.*"
                                         rf"{head_revision()}"):
        open_store(Home(ww_home), url=store_url)
    engine = sa.create_engine(store_url)
    try:
        assert "marker" in sa.inspect(engine).get_table_names()  # untouched
    finally:
        engine.dispose()


def test_sqlite_is_the_default_in_the_home_with_wal(ww_home, monkeypatch):
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    store = open_store()
    try:
        assert (ww_home / "supervision.sqlite").is_file()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("pragma journal_mode").scalar_one() == "wal"
    finally:
        store.dispose()


def test_an_unreachable_postgres_says_which_setting(ww_home):
    url = "postgresql+psycopg://u:fakepw@127.0.0.1:1/nope"
    with pytest.raises(StoreError, match="WINDOWWATCH_SUPERVISION_URL") as err:
        open_store(Home(ww_home), url=url)
    assert "fakepw" not in str(err.value)

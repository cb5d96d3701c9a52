"""The sql source against a real PostgreSQL 15 (the session's `postgres_url`,
tests/support/pg_server.py) and SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest
import sqlalchemy as sa
from tests.support.pg_server import new_database  # the postgres_url fixture comes from conftest.py

from ingest.sources import sql as sql_source
from ingest.sources.batch import SourceError, canonical_json
from ingest.sources.watermark import load_state, save_state, state_file
from core.config import Source, SourceOptions

TX_DDL = """
create table ww_transactions (
    event_id text,
    case_id text not null,
    event_type text not null,
    event_time timestamp not null,
    recorded_at timestamp(6),
    window_id text,
    item_code text,
    applicant_name text,
    fee_amount numeric(10, 2),
    extend_days integer,
    fee_paid_at_center boolean
)
"""
TX_INSERT = sa.text(
    "insert into ww_transactions values (:event_id, :case_id, :event_type, :event_time, :recorded_at, :window_id, "
    ":item_code, :applicant_name, :fee_amount, :extend_days, :fee_paid_at_center)"
)


def tx(i: int, recorded_at: dt.datetime, **over) -> dict:
    row = {
        "event_id": f"E{i:05d}",
        "case_id": f"C{i // 2:05d}",
        "event_type": "受理" if i % 2 else "办结",
        "event_time": recorded_at - dt.timedelta(minutes=5),
        "recorded_at": recorded_at,
        "window_id": "W01",
        "item_code": "11440100MB2C9123XJ4440116001000",
        "applicant_name": "张三",
        "fee_amount": None,
        "extend_days": None,
        "fee_paid_at_center": None,
    }
    row.update(over)
    return row


T0 = dt.datetime(2025, 3, 3, 9, 0, 0)


@pytest.fixture()
def pg_db(postgres_url):
    url = new_database(postgres_url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(TX_DDL))
    yield url, engine
    engine.dispose()


def insert(engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(TX_INSERT, rows)


def make_source(url: str, query: str = "select * from ww_transactions", feed: str = "transactions", **options) -> Source:
    options.setdefault("watermark_column", "recorded_at") if feed == "transactions" else None
    return Source(name="hall_db", kind="sql", feed=feed, url=url, query=query, options=SourceOptions(**options))


def fetch(source: Source, home, land: bool = True) -> list:
    """Fetch like landing does: each delivery is 'landed' (on_landed called) before the next."""
    out = []
    for d in sql_source.fetch_deliveries(source, home):
        out.append(d)
        if land and d.on_landed:
            d.on_landed()
    return out


def all_rows(deliveries) -> pl.DataFrame:
    return pl.concat([d.frame for d in deliveries]) if deliveries else pl.DataFrame()


def test_first_fetch_gives_canonical_text(pg_db, ww_home):
    url, engine = pg_db
    insert(
        engine,
        [
            tx(1, T0, fee_amount="12.50", extend_days=3, fee_paid_at_center=True, applicant_name="李四（代办）"),
            tx(2, T0.replace(microsecond=123456), fee_amount="0.10", fee_paid_at_center=False),
            tx(3, T0 + dt.timedelta(hours=1), applicant_name=None, window_id=None),
        ],
    )
    [d] = fetch(make_source(url), ww_home, land=False)
    assert d.feed == "transactions" and d.source == "sql:hall_db"
    f = d.frame
    assert f.columns[-1] == "_line" and f["_line"].to_list() == [1, 2, 3]
    assert all(dtype == pl.String for name, dtype in f.schema.items() if name != "_line")
    assert f.schema["_line"] == pl.Int64
    rows = f.rows(named=True)
    # ordered by watermark: E00001 (09:00:00), E00002 (09:00:00.123456), E00003 (10:00)
    assert [r["event_id"] for r in rows] == ["E00001", "E00002", "E00003"]
    assert rows[0]["recorded_at"] == "2025-03-03 09:00:00"
    assert rows[0]["event_time"] == "2025-03-03 08:55:00"
    assert rows[1]["recorded_at"] == "2025-03-03 09:00:00.123456"
    assert rows[0]["fee_amount"] == "12.50" and rows[1]["fee_amount"] == "0.10"
    assert rows[0]["extend_days"] == "3"
    assert rows[0]["fee_paid_at_center"] == "true" and rows[1]["fee_paid_at_center"] == "false"
    assert rows[2]["fee_paid_at_center"] is None and rows[2]["applicant_name"] is None and rows[2]["window_id"] is None
    assert rows[0]["applicant_name"] == "李四（代办）" and rows[0]["event_type"] == "受理"
    # content_id is the SHA-256 of the batch's canonical JSON (column names + text rows)
    cols = [c for c in f.columns if c != "_line"]
    expected = hashlib.sha256(
        canonical_json({"columns": cols, "rows": [list(r) for r in f.select(cols).rows()]}).encode()
    ).hexdigest()
    assert d.content_id == expected
    state = load_state(ww_home, "hall_db")  # not landed: no watermark yet, only the batch in flight
    assert "watermark" not in state and [p["delivery_id"] for p in state["pending"]] == [d.content_id]


def test_incremental_after_landing_fetches_only_newer_rows(pg_db, ww_home):
    url, engine = pg_db
    insert(engine, [tx(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 6)])
    src = make_source(url)
    first = fetch(src, ww_home)
    assert all_rows(first)["event_id"].to_list() == [f"E{i:05d}" for i in range(1, 6)]
    state = load_state(ww_home, "hall_db")
    assert state["watermark"] == {"type": "datetime", "value": "2025-03-03T09:05:00"}
    assert state["key"] == {"type": "str", "value": "E00005"}

    assert fetch(src, ww_home) == []  # nothing new
    # a row at exactly the watermark with a higher key, a newer one, and an older one (late: not fetched)
    insert(engine, [tx(6, T0 + dt.timedelta(minutes=5)), tx(7, T0 + dt.timedelta(minutes=9)), tx(8, T0)])
    second = fetch(src, ww_home)
    assert all_rows(second)["event_id"].to_list() == ["E00006", "E00007"]
    assert all_rows(second)["_line"].to_list() == [1, 2]
    assert load_state(ww_home, "hall_db")["watermark"]["value"] == "2025-03-03T09:09:00"


def test_crash_before_landing_refetches_the_same_batch(pg_db, ww_home):
    url, engine = pg_db
    insert(engine, [tx(i, T0 + dt.timedelta(seconds=i)) for i in range(1, 8)])
    src = make_source(url, page_size=3)
    first = fetch(src, ww_home, land=False)  # "crash": on_landed never called
    again = fetch(src, ww_home, land=False)
    assert [d.content_id for d in first] == [d.content_id for d in again]
    assert len(first) == 3 and [d.frame.height for d in first] == [3, 3, 1]
    for a, b in zip(first, again):
        assert a.frame.equals(b.frame)
    assert len({d.content_id for d in first}) == 3

    # land the first batch only, then crash: the rerun starts at the second batch, same id
    first[0].on_landed()
    rerun = fetch(src, ww_home, land=False)
    assert [d.content_id for d in rerun] == [d.content_id for d in first[1:]]


def test_batches_never_lose_rows_that_share_the_watermark(pg_db, ww_home):
    url, engine = pg_db
    same = T0 + dt.timedelta(hours=2)
    rows = [tx(i, same) for i in range(1, 8)]  # seven rows with one recorded_at
    rows += [tx(90, same, event_id=None), tx(91, same, event_id=None)]  # NULL keys: landing quarantines them
    rows += [tx(3, same), tx(3, same)]  # the same id twice more at one watermark (landing decides)
    rows += [tx(8, same + dt.timedelta(seconds=1))]
    insert(engine, rows)
    src = make_source(url, page_size=2)
    seen: list[str | None] = []
    # land one batch per run, as if every run crashed right after its first batch
    for _ in range(20):
        batches = fetch(src, ww_home, land=False)
        if not batches:
            break
        seen += batches[0].frame["event_id"].to_list()
        batches[0].on_landed()
    expected = [f"E{i:05d}" for i in range(1, 9)] + ["E00003", "E00003", None, None]
    assert sorted(seen, key=str) == sorted(expected, key=str)  # each row exactly once


def test_injection_looking_watermark_and_column_are_harmless(pg_db, ww_home):
    url, engine = pg_db
    insert(engine, [tx(1, T0), tx(2, T0 + dt.timedelta(minutes=1))])
    # a watermark value that would break out of a formatted string: bound, so just compared as text
    query = "select event_id, case_id, event_type, event_time, window_id, item_code, event_id as \"wm\"\" or 1=1 --\" from ww_transactions"
    src = make_source(url, query=query, watermark_column='wm" or 1=1 --')
    save_state(
        ww_home,
        "hall_db",
        {"column": 'wm" or 1=1 --', "key_column": "event_id",
         "watermark": {"type": "str", "value": "E00001' or '1'='1"}, "key": None},
    )
    [d] = fetch(src, ww_home, land=False)
    assert d.frame["event_id"].to_list() == ["E00002"]  # 'E00002' > "E00001' or ..." as text, E00001 is not

    evil = make_source(url, watermark_column="recorded_at; drop table ww_transactions; --")
    with pytest.raises(SourceError, match="not a column of the query"):
        fetch(evil, ww_home)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ww_transactions")).scalar_one() == 2


def test_password_is_masked_in_errors(pg_db, ww_home):
    url, _ = pg_db
    password = sa.make_url(url).password
    wrong = sa.make_url(url).set(password="Wr0ng-s3cret-pw").render_as_string(hide_password=False)
    with pytest.raises(SourceError) as err:
        fetch(make_source(wrong), ww_home)
    msg = str(err.value)
    assert "hall_db" in msg and "***" in msg and "Wr0ng-s3cret-pw" not in msg
    assert "password authentication failed" in msg

    with pytest.raises(SourceError) as err:  # a bad query on a good connection
        fetch(make_source(url, query=f"select '{password}' as x from no_such_table"), ww_home)
    msg = str(err.value)
    assert "no_such_table" in msg and password not in msg and "***" in msg
    assert sql_source.mask_url(url).count("***") == 1 and password not in sql_source.mask_url(url)


def test_null_watermark_fails_clearly_and_coalesce_fixes_it(pg_db, ww_home):
    url, engine = pg_db
    insert(engine, [tx(1, T0), {**tx(2, T0), "recorded_at": None}])
    with pytest.raises(SourceError, match=r"1 row\(s\) have NULL in the watermark column 'recorded_at'"):
        fetch(make_source(url), ww_home)
    fixed = make_source(
        url,
        query="select event_id, event_type, event_time, coalesce(recorded_at, event_time) as recorded_at from ww_transactions",
    )
    assert all_rows(fetch(fixed, ww_home))["event_id"].to_list() == ["E00002", "E00001"]


def test_colons_percent_and_chinese_aliases_in_the_query(pg_db, ww_home):
    url, engine = pg_db
    insert(engine, [tx(1, T0), tx(2, T0 + dt.timedelta(minutes=1), applicant_name="王五%")])
    query = (
        "select event_id as 流水号, event_type as 环节, recorded_at as 录入时间, '10:00' as note, "
        "event_time::text as et from ww_transactions where applicant_name like '%\\%%' escape '\\' or event_id = 'E00001'"
    )
    src = make_source(url, query=query, watermark_column="录入时间", page_size=1)
    batches = fetch(src, ww_home)
    assert [d.frame["流水号"].to_list() for d in batches] == [["E00001"], ["E00002"]]
    assert batches[0].frame["note"].to_list() == ["10:00"]
    state = load_state(ww_home, "hall_db")
    assert state["column"] == "录入时间" and state["key_column"] == "流水号"  # key found by its Chinese alias


def test_reference_feed_is_one_full_snapshot(pg_db, ww_home):
    url, engine = pg_db
    with engine.begin() as conn:
        conn.execute(sa.text("create table ww_windows (window_id text, window_name text, opened_on date)"))
        conn.execute(sa.text("insert into ww_windows values ('W02', '不动产登记', '2024-01-02'), ('W01', '综合窗口', null)"))
    src = make_source(url, query="select * from ww_windows", feed="windows", page_size=1)
    [d] = fetch(src, ww_home)
    assert d.frame.rows() == [("W01", "综合窗口", None, 1), ("W02", "不动产登记", "2024-01-02", 2)]
    assert d.on_landed is None
    with pytest.raises(SourceError, match="reference feed"):
        fetch(make_source(url, query="select * from ww_windows", feed="windows", watermark_column="opened_on"), ww_home)


def test_any_sqlalchemy_url_sqlite(tmp_path, ww_home):
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table t (flag_id text, window_id text, flagged_at text, flag_type text, confidence real)"))
        conn.execute(
            sa.text("insert into t values (:i, 'W01', :at, '玩手机', :c)"),
            [{"i": f"F{i}", "at": f"2025-03-0{i} 10:00:00", "c": 0.5 + i / 10} for i in range(1, 4)],
        )
    src = Source(
        name="cams", kind="sql", feed="video_flags", url=url, query="select * from t",
        options=SourceOptions(watermark_column="flagged_at"),
    )
    d1 = fetch(src, ww_home)
    assert all_rows(d1)["confidence"].to_list() == ["0.6", "0.7", "0.8"]
    with engine.begin() as conn:
        conn.execute(sa.text("insert into t values ('F9', 'W01', '2025-03-09 08:00:00', '睡岗', null)"))
    d2 = fetch(src, ww_home)
    assert all_rows(d2)["flag_id"].to_list() == ["F9"]
    assert json.loads(state_file(ww_home, "cams").read_text())["watermark"]["value"] == "2025-03-09 08:00:00"
    engine.dispose()


def test_end_to_end_lands_postgres_rows_exactly_once(pg_db, ww_home):
    """Real landing (ingest.run.ingest_source) from PostgreSQL: counts, quarantine, PII, re-runs."""
    import glob

    from ingest.run import ingest_source

    url, engine = pg_db
    with engine.begin() as conn:
        conn.execute(sa.text("create table ww_windows (window_id text, window_name text)"))
        conn.execute(sa.text("insert into ww_windows values ('W01', '综合窗口')"))
        conn.execute(sa.text("create table ww_items (item_code text, item_name text, item_kind text, promised_limit int)"))
        conn.execute(sa.text("insert into ww_items values ('11440100MB2C9123XJ4440116001000', '不动产登记', '承诺件', 5)"))
    insert(engine, [tx(i, T0 + dt.timedelta(minutes=i), applicant_id=None) for i in range(1, 6)])
    insert(engine, [tx(6, T0 + dt.timedelta(minutes=6), event_type="盖章")])  # not an event type: quarantined
    for name, table, feed in (("db_windows", "ww_windows", "windows"), ("db_items", "ww_items", "items")):
        rep = ingest_source(ww_home, Source(name=name, kind="sql", feed=feed, url=url, query=f"select * from {table}"))
        assert rep.exit_code == 0 and rep.by_feed()[feed]["landed"] == 1

    src = make_source(url, page_size=4)
    rep = ingest_source(ww_home, src)
    assert rep.exit_code == 0, rep.as_dict()
    counts = rep.by_feed()["transactions"]
    assert counts["deliveries"] == 2 and counts["rows_in"] == 6 and counts["landed"] == 5 and counts["quarantined"] == 1
    landed = pl.read_parquet(glob.glob(str(ww_home / "landing" / "transactions" / "*" / "*.parquet")))
    assert sorted(landed["event_id"].to_list()) == [f"E{i:05d}" for i in range(1, 6)]
    assert "applicant_name" not in landed.columns  # PII dropped by landing
    assert set(landed["_source"].to_list()) == {"sql:hall_db"}

    # nothing new: no delivery at all; new rows: only they land
    assert ingest_source(ww_home, src).by_feed() == {}
    insert(engine, [tx(7, T0 + dt.timedelta(hours=3))])
    counts = ingest_source(ww_home, src).by_feed()["transactions"]
    assert counts["rows_in"] == 1 and counts["landed"] == 1

    state = load_state(ww_home, "hall_db")
    assert state["pending"] == [] and state["watermark"]["value"] == "2025-03-03T12:00:00"


@pytest.mark.parametrize("fault", [pytest.param("before_ledger", marks=pytest.mark.slow), "after_ledger"])
def test_kill_9_during_landing_then_rerun_lands_each_row_once(pg_db, ww_home, fault):
    """A real SIGKILL (core.faults) while the first batch lands; rows arrive before the re-run."""
    import glob
    import os
    import subprocess
    import sys

    from ingest.run import ingest_source

    url, engine = pg_db
    with engine.begin() as conn:
        conn.execute(sa.text("create table ww_windows (window_id text)"))
        conn.execute(sa.text("insert into ww_windows values ('W01')"))
        conn.execute(sa.text("create table ww_items (item_code text)"))
        conn.execute(sa.text("insert into ww_items values ('11440100MB2C9123XJ4440116001000')"))
    for name, table, feed in (("db_windows", "ww_windows", "windows"), ("db_items", "ww_items", "items")):
        assert ingest_source(ww_home, Source(name=name, kind="sql", feed=feed, url=url, query=f"select * from {table}")).exit_code == 0
    insert(engine, [tx(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 7)])
    script = (
        "import os; from ingest.run import ingest_source; from core.config import Source, SourceOptions; "
        "ingest_source(os.environ['WW_TEST_HOME'], Source(name='hall_db', kind='sql', feed='transactions', "
        "url=os.environ['WW_TEST_DB'], query='select * from ww_transactions', "
        "options=SourceOptions(watermark_column='recorded_at', page_size=4)))"
    )
    env = {**os.environ, "WW_TEST_HOME": str(ww_home), "WW_TEST_DB": url, "WINDOWWATCH_FAULT_AT": fault}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    state = load_state(ww_home, "hall_db")
    assert "watermark" not in state and len(state["pending"]) == 1  # the batch in flight, nothing confirmed

    insert(engine, [tx(7, T0 + dt.timedelta(minutes=7))])  # the last batch would now be cut differently
    rep = ingest_source(ww_home, make_source(url, page_size=4))
    assert rep.exit_code == 0, rep.as_dict()
    statuses = [d.status for d in rep.deliveries]
    assert statuses == (["already landed", "landed"] if fault == "after_ledger" else ["landed", "landed"])
    landed = pl.read_parquet(glob.glob(str(ww_home / "landing" / "transactions" / "*" / "*.parquet")))
    assert sorted(landed["event_id"].to_list()) == [f"E{i:05d}" for i in range(1, 8)]  # each row exactly once
    assert load_state(ww_home, "hall_db")["pending"] == []


def test_missing_postgres_binaries_fail_with_the_package_name(tmp_path, monkeypatch):
    from tests.support import pg_server

    monkeypatch.setattr(pg_server, "PG_BIN", tmp_path)
    with pytest.raises(pg_server.PostgresUnavailable, match=r"apt-get install postgresql"):
        with pg_server.running_postgres():
            pass
    assert not list(tmp_path.iterdir())

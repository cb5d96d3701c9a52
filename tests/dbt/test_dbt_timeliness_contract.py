"""The dbt project agrees with the feed contract, the scoring file and chinesecalendar (no dbt run)."""

from __future__ import annotations

import csv
import datetime as dt

import chinese_calendar
import duckdb
import polars as pl
import yaml

from tests.support.landing import default_dataset, write_dataset
from core.config import load_scoring
from core.feeds import FEEDS
from core.paths import Home
from ingest.landing_schema import landing_schema
from windowwatch.transform import DBT_PROJECT_DIR

DUCK_TYPES = {pl.String(): "VARCHAR", pl.Int64(): "BIGINT", pl.Float64(): "DOUBLE", pl.Boolean(): "BOOLEAN",
              pl.Date(): "DATE", pl.Datetime("us"): "TIMESTAMP", pl.Time(): "TIME", pl.Int8(): "TINYINT"}


def test_sources_match_the_landing_schema():
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_sources.yml").read_text(encoding="utf-8"))
    tables = {t["name"]: t for t in sources["sources"][0]["tables"]}
    assert set(tables) == set(FEEDS) | {"quarantine"}
    for feed in FEEDS:
        declared = {c["name"]: c["data_type"].upper() for c in tables[feed]["columns"]}
        expected = {name: DUCK_TYPES[t] for name, t in landing_schema(feed).items()}
        assert declared == expected, feed
        assert f"/landing/{feed}/**/*.parquet" in tables[feed]["config"]["meta"]["external_location"]
        assert (DBT_PROJECT_DIR / f"models/staging/stg_landing__{feed}.sql").exists()


def test_project_vars_are_the_scoring_defaults():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    scoring_vars = load_scoring().dbt_vars()
    assert {k: project["vars"][k] for k in scoring_vars} == scoring_vars
    assert "as_of_date" in project["vars"]


def test_calendar_seed_is_chinesecalendar():
    with (DBT_PROJECT_DIR / "seeds/official_calendar.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["date"] == "2004-01-01" and rows[-1]["date"] == "2026-12-31"
    assert len(rows) == (dt.date(2026, 12, 31) - dt.date(2004, 1, 1)).days + 1
    for r in rows:
        day = dt.date.fromisoformat(r["date"])
        assert (r["is_workday"] == "true") == chinese_calendar.is_workday(day), r
    by_date = {r["date"]: r for r in rows}
    assert by_date["2025-10-11"]["is_makeup_workday"] == "true" and by_date["2025-10-11"]["holiday_name"] == "国庆节"
    assert by_date["2026-02-17"]["holiday_name"] == "春节" and by_date["2026-02-17"]["is_workday"] == "false"


def test_fixtures_write_the_exact_landing_schema(tmp_path):
    home = Home(tmp_path)
    write_dataset(home, default_dataset())
    con = duckdb.connect()
    try:
        for feed in FEEDS:
            glob = f"{home.landing}/{feed}/**/*.parquet"
            rel = con.sql(f"select * from read_parquet('{glob}', union_by_name=true, hive_partitioning=false)")
            # polars writes TIME as Parquet TIME(NANOS): DuckDB reads TIME_NS, staging casts to TIME
            assert dict(zip(rel.columns, (str(t) for t in rel.types))) == {
                n: ("TIME_NS" if t == pl.Time() else DUCK_TYPES[t]) for n, t in landing_schema(feed).items()}, feed
        rows = con.sql(f"select count(*), count(distinct _delivery_id), min(_line) from "
                       f"read_parquet('{home.landing}/transactions/**/*.parquet')").fetchall()[0]
        assert rows == (len(default_dataset()["transactions"]), 1, 2)
    finally:
        con.close()

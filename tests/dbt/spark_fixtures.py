"""Build the dbt project on local Spark (dbt-spark, `method: session`) and read back the marts.

Run as a script in its own process (the JVM and Spark's Derby metastore stay out of pytest):

    python tests/dbt/spark_fixtures.py HOME AS_OF OUT.json

Spark has no `external_location` (a dbt-duckdb feature), so before `dbt build --target spark`
the landing Parquet folders are registered as tables `landing.<feed>` in the same Spark session
dbt-spark then picks up (`SparkSession.builder.getOrCreate()` returns it). `recursiveFileLookup`
reads `part_date=…/<delivery>.parquet` without turning `part_date` into a column, and
`mergeSchema` is Spark's `union_by_name`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a script by test_spark_build.py

from core.feeds import FEEDS  # noqa: E402
from core.paths import Home  # noqa: E402

# The marts and columns the test compares between the DuckDB and the Spark build.
COMPARE = {
    "fct_case": ("case_id", ["status", "window_id", "item_code", "limit_workdays", "paused_workdays", "deadline_at",
                             "is_on_time", "overdue_workdays", "card", "is_same_day", "off_book_signals"]),
    "fct_window_month": ("month, window_id", ["cases_accepted", "cases_completed", "on_time_rate", "satisfaction_rate",
                                              "adjusted_satisfaction", "rectification_rate", "video_flags_confirmed",
                                              "score", "stars", "rank", "is_eligible", "veto_reason"]),
    "dim_date": ("date", ["is_workday"]),
}


def profile_spark_conf(home: Path) -> dict[str, str]:
    """`server_side_parameters` of the `spark` output in dbt_project/profiles.yml, rendered for `home`."""
    import jinja2
    import yaml

    env = {"WINDOWWATCH_HOME": str(home)}
    text = (REPO / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    out = yaml.safe_load(text)["windowwatch"]["outputs"]["spark"]["server_side_parameters"]
    render = jinja2.Environment().from_string
    return {k: render(str(v)).render(env_var=lambda name, default=None: env.get(name, default)) for k, v in out.items()}


def spark_session(home: Path):
    """The session dbt-spark will reuse, configured exactly as the profile's `spark` output says."""
    from pyspark.sql import SparkSession

    (home / "spark").mkdir(parents=True, exist_ok=True)
    b = SparkSession.builder.enableHiveSupport()
    for key, value in profile_spark_conf(home).items():
        b = b.config(key, value)
    return b.getOrCreate()


SPARK_TYPES = {"String": "string", "Int64": "bigint", "Int8": "tinyint", "Float64": "double", "Boolean": "boolean",
               "Date": "date", "Datetime": "timestamp_ntz", "Time": "time(6)"}


def spark_ddl(schema: dict) -> str:
    """Column list for `create table … (…) using parquet` from a landing schema (polars types).

    The schema is given, not inferred: Spark skips files whose names start with `_`, so a feed
    holding only `_empty.parquet` has nothing to infer from — and a given schema pins types.
    """
    return ", ".join(f"`{name}` {SPARK_TYPES[type(dtype).__name__]}" for name, dtype in schema.items())


def register_landing(spark, home: Path) -> list[str]:
    from ingest.landing_schema import QUARANTINE_SCHEMA, landing_schema

    spark.sql("create database if not exists landing")
    tables = {feed: (home / "landing" / feed, landing_schema(feed)) for feed in FEEDS}
    tables["quarantine"] = (home / "quarantine", QUARANTINE_SCHEMA)
    for name, (folder, schema) in tables.items():
        folder.mkdir(parents=True, exist_ok=True)
        spark.sql(f"drop table if exists landing.{name}")
        spark.sql(f"""create table landing.{name} ({spark_ddl(schema)}) using parquet
                      options (path '{folder}', recursiveFileLookup 'true', mergeSchema 'true')""")
    # The audit's findings (source `audit.findings`): one file, written with its full schema
    # by windowwatch.transform.ensure_empty_files when missing.
    findings = home / "audit" / "findings.parquet"
    spark.sql("create database if not exists audit")
    spark.sql("drop table if exists audit.findings")
    spark.sql(f"create table audit.findings using parquet options (path '{findings}')")
    # The supervision store's export (sources `supervision.items`, `supervision.transitions`,
    # `video_reviews.decisions`): one file each under landing/_supervision/, written by the run's export
    # or, empty with the full schema, by windowwatch.transform.ensure_empty_files
    import polars as pl

    from windowwatch.supervision.export import TABLES, export_path

    exported = {("supervision", "items"): "items", ("supervision", "transitions"): "transitions",
                ("video_reviews", "decisions"): "video_reviews"}
    for (database, table), name in exported.items():
        if name not in TABLES:
            continue
        spark.sql(f"create database if not exists {database}")
        spark.sql(f"drop table if exists {database}.{table}")
        schema = dict(pl.DataFrame(schema=TABLES[name][1]).schema)  # dtype classes -> instances
        spark.sql(f"""create table {database}.{table} ({spark_ddl(schema)}) using parquet
                      options (path '{export_path(Home(home), name)}')""")
    return [*tables, "audit.findings", *(f"{d}.{t}" for d, t in exported)]


def _plain(v):
    import datetime as dt
    from decimal import Decimal

    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def read_marts_spark(spark) -> dict:
    out = {}
    for mart, (key, cols) in COMPARE.items():
        rows = spark.sql(f"select {key}, {', '.join(cols)} from marts.{mart} order by {key}").collect()
        out[mart] = [[_plain(v) for v in r] for r in rows]
    return out


def read_marts_duckdb(warehouse: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for mart, (key, cols) in COMPARE.items():
            rows = con.sql(f"select {key}, {', '.join(cols)} from marts.{mart} order by {key}").fetchall()
            out[mart] = [[_plain(v) for v in r] for r in rows]
        return out
    finally:
        con.close()


def main(argv: list[str]) -> int:
    home, as_of, out = Path(argv[0]).resolve(), argv[1], Path(argv[2])
    os.environ["WINDOWWATCH_HOME"] = str(home)
    from core.paths import Home
    from windowwatch.transform import build, ensure_empty_files

    h = Home(home)
    ensure_empty_files(h)
    spark = spark_session(home)
    registered = register_landing(spark, home)
    res = build(h, as_of, target="spark", warehouse=home / "spark" / "unused.duckdb")
    result = {
        "success": res.success,
        "summary": res.summary(),
        "registered": registered,
        "failed": [[n.unique_id, n.status, (n.message or "")[:1500]] for n in res.failures],
        "nodes": len(res.nodes),
        "elapsed": res.elapsed,
    }
    if res.success:
        result["marts"] = read_marts_spark(spark)
    out.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    spark.stop()
    return 0 if res.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The raw gate: Great Expectations suites per feed, on the deliveries this run landed.

Suites are derived from the feed contract (core/feeds.py), so a new column or enum value
there is checked without touching this file. A first load is the whole city (13 M rows), so
nothing is loaded into Python: each feed's batch is a DuckDB view over this run's landed
Parquet files of that feed, and GE runs its checks as SQL inside DuckDB (the same path as the
marts gate, expectations/gx_run.py:run_sql_gate). The time checks compare columns through lag
columns the view computes (`_gx_*`), because GE's column-pair expectation has no tolerance for
clock skew. A failure names the feed (suite), the expectation, and the source file and line
(`_source`, `_line`, kept by landing) of the first failing rows.

critical (stop the run): landed schema, keys and required columns not null, enum sets, ranges
(rating 1..5, confidence 0..1, extend_days >= 0, a contract min_value such as inspections.deduction >= 0), event time not after the delivery, recorded_at
not before the event (minus skew) and not far in the future.
warning (report only): ids unique within this run's deliveries, other non-negative numbers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from core.feeds import FEEDS, LANDING_METADATA, Feed
from core.settings import settings
from expectations.gx_run import (
    Failure,
    GateResult,
    SqlSuite,
    check,
    duckdb_config,
    import_gx,
    run_sql_gate,
    while_importing_gx,
)

# Clocks of source systems and of the landing host differ a little; beyond this it is an error.
# recorded_at later than the delivery by more than this is a broken source clock.
FAR_FUTURE_SECONDS = 24 * 3600

DELIVERY_LAG = "_gx_delivery_lag_s"  # _ingested_at − event time
RECORD_LAG = "_gx_recorded_lag_s"  # recorded_at − event time
RECORD_AHEAD = "_gx_recorded_ahead_s"  # recorded_at − _ingested_at
BATCH_PREFIX = "gx-raw-"  # the gate's folder of batch views, deleted after the gate
INDEX_COLUMNS = ("_source", "_line")  # where a failing row came from (landing metadata)
# GE sends ~130 queries, each over every landed file of a feed (366 transactions files at
# city): without the cache each query parses every file's footer again, which was about
# half the CPU of its many cheap queries (city: 0.05 -> 0.025 CPU-s a query, ~1 of ~14 CPU-s).
# Landed files are never rewritten, so cached footers cannot go stale.
SESSION_SQL = ("SET parquet_metadata_cache = true",)

RANGES: dict[tuple[str, str], tuple[float | None, float | None, str]] = {
    ("evaluations", "rating"): (1, 5, "critical"),
    ("video_flags", "confidence"): (0, 1, "critical"),
    ("transactions", "extend_days"): (0, None, "critical"),
    ("transactions", "fee_amount"): (0, None, "warning"),
    ("items", "legal_limit"): (0, None, "warning"),
    ("items", "promised_limit"): (0, None, "warning"),
    ("dept_volumes", "reported_cases"): (0, None, "warning"),
    ("items", "max_extension_days"): (0, None, "warning"),
    ("items", "deliver_limit"): (0, None, "warning"),
    ("step_limits", "limit_workdays"): (0, None, "warning"),
    ("evaluations", "round"): (1, None, "warning"),
}


def feed_ranges(feed: Feed) -> dict[tuple[str, str], tuple[float | None, float | None, str]]:
    """RANGES of one feed, plus the contract's lower bounds (Column.min_value): ingest quarantines a
    value below one, so a landed one is a broken landing (critical)."""
    out = {k: v for k, v in RANGES.items() if k[0] == feed.name}
    for c in feed.columns:
        if c.min_value is not None and (feed.name, c.name) not in out:
            out[(feed.name, c.name)] = (c.min_value, None, "critical")
    return out


def landed_column_names(feed: Feed) -> list[str]:
    return feed.landed_columns() + list(LANDING_METADATA)


def derived_columns(feed: Feed) -> list[str]:
    if not feed.time_column:
        return []
    cols = [DELIVERY_LAG]
    if "recorded_at" in feed.by_name:
        cols += [RECORD_LAG, RECORD_AHEAD]
    return cols


def suite_checks(feed: Feed):
    """(critical, warning) expectation lists for one feed."""
    import_gx()
    import great_expectations.expectations as gxe

    crit, warn = [], []
    crit.append(
        check(
            "critical",
            gxe.ExpectTableColumnsToMatchSet(column_set=landed_column_names(feed) + derived_columns(feed), exact_match=True),
            f"the landed columns of {feed.name} must be exactly the contract's (core/feeds.py)",
        )
    )
    must_have = list(dict.fromkeys([*feed.key, *feed.required]))
    for col in must_have:
        crit.append(check("critical", gxe.ExpectColumnValuesToNotBeNull(column=col), f"{col} is a key or required column"))
    for col in ("_delivery_id", "_ingested_at"):
        crit.append(check("critical", gxe.ExpectColumnValuesToNotBeNull(column=col), "landing metadata is always filled"))
    for c in feed.columns:
        if not c.enum or c.pii:
            continue
        values = sorted(c.enum)
        if c.type == "list":
            alt = "|".join(values)
            crit.append(
                check(
                    "critical",
                    gxe.ExpectColumnValuesToMatchRegex(column=c.name, regex=f"^(?:{alt})(?:;(?:{alt}))*$"),
                    f"{c.name} holds only canonical codes joined by ';'",
                )
            )
        else:
            crit.append(
                check("critical", gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=values), f"{c.name} must be one of {values}")
            )
    for (fname, col), (lo, hi, sev) in feed_ranges(feed).items():
        bounds = f"[{lo}, {hi if hi is not None else '∞'}]"
        target = crit if sev == "critical" else warn
        target.append(check(sev, gxe.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi), f"{col} must lie in {bounds}"))
    if feed.time_column:
        t = feed.time_column
        skew = settings().clock_skew_seconds
        crit.append(
            check(
                "critical",
                gxe.ExpectColumnValuesToBeBetween(column=DELIVERY_LAG, min_value=-skew),
                f"{t} must not be after the delivery time _ingested_at (clock skew allowed {skew}s)",
            )
        )
        if "recorded_at" in feed.by_name:
            crit.append(
                check(
                    "critical",
                    gxe.ExpectColumnValuesToBeBetween(column=RECORD_LAG, min_value=-skew),
                    f"recorded_at must not be before {t} (clock skew allowed {skew}s)",
                )
            )
            crit.append(
                check(
                    "critical",
                    gxe.ExpectColumnValuesToBeBetween(column=RECORD_AHEAD, max_value=FAR_FUTURE_SECONDS),
                    "recorded_at must not be more than a day after the delivery (a source clock in the future)",
                )
            )
    if len(feed.key) == 1:
        # Unique ⇔ distinct count = non-null count. As SQL this is one count(distinct) in the
        # feed's aggregate query; expect_column_values_to_be_unique is a window count over the
        # whole batch, twice (count and examples): 21 of the raw gate's CPU seconds at city.
        warn.append(
            check(
                "warning",
                gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column=feed.key[0], min_value=1.0),
                f"{feed.key[0]} delivered more than once in this run (updates?): the share of distinct ids is below 1",
            )
        )
    else:
        warn.append(
            check("warning", gxe.ExpectCompoundColumnsToBeUnique(column_list=list(feed.key)), f"{feed.key} delivered more than once in this run")
        )
    return crit, warn


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _seconds(later: str, earlier: str) -> str:
    """Whole seconds between two timestamps, truncated toward zero (as polars' total_seconds)."""
    return f'cast(trunc((epoch_us("{later}") - epoch_us("{earlier}")) / 1000000.0) as bigint)'


def view_name(feed: str) -> str:
    return f"raw_{feed}"


def create_batch_view(con, feed: Feed, files: list[Path]) -> None:
    """A view of this run's deliveries of one feed (union by column name), plus the lag columns.

    Hive partitioning is off: part_date is a folder of the landing layout, not a landed column."""
    scan = f"read_parquet([{', '.join(_sql_str(str(f)) for f in files)}], union_by_name=true, hive_partitioning=false)"
    cols = {r[0] for r in con.execute(f"describe select * from {scan}").fetchall()}
    lags = []
    t = feed.time_column
    if t and t in cols and "_ingested_at" in cols:
        lags.append(f"{_seconds('_ingested_at', t)} as {DELIVERY_LAG}")
        if "recorded_at" in feed.by_name and "recorded_at" in cols:
            lags.append(f"{_seconds('recorded_at', t)} as {RECORD_LAG}")
            lags.append(f"{_seconds('recorded_at', '_ingested_at')} as {RECORD_AHEAD}")
    con.execute(f"create view {view_name(feed.name)} as select *{''.join(', ' + x for x in lags)} from {scan}")


def group_by_feed(files: list[Path], landing: Path) -> dict[str, list[Path]]:
    """landing/<feed>/part_date=…/<delivery>.parquet -> {feed: [files]} (skips _empty.parquet)."""
    out: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        f = Path(f)
        if f.name.startswith("_"):
            continue
        try:
            feed = f.resolve().relative_to(landing.resolve()).parts[0]
        except ValueError:
            feed = f.parent.parent.name if f.parent.name.startswith("part_") else f.parent.name
        if feed in FEEDS:
            out[feed].append(f)
    return dict(out)


def raw_suites(feeds: list[str]) -> list[SqlSuite]:
    out = []
    for feed_name in feeds:
        for sev, exps in zip(("critical", "warning"), suite_checks(FEEDS[feed_name])):
            if exps:
                out.append(SqlSuite(f"raw.{feed_name}.{sev}", f"select * from {view_name(feed_name)}", tuple(exps), INDEX_COLUMNS))
    return out


def create_batch_views(database: Path, config: dict, by_feed: dict[str, list[Path]], gate: GateResult) -> list[str]:
    """One batch view per feed in the DuckDB file `database`; returns the feeds whose view
    reads. A feed whose files cannot be read together is a critical failure naming them."""
    import duckdb

    con = duckdb.connect(str(database), config=config)
    checked = []
    try:
        for sql in SESSION_SQL:
            con.execute(sql)
        for feed_name, feed_files in sorted(by_feed.items()):
            try:
                create_batch_view(con, FEEDS[feed_name], feed_files)
            except duckdb.Error as exc:  # unreadable or incompatible landed files: stop, naming them
                gate.failures.append(
                    Failure(suite=f"raw.{feed_name}.critical", severity="critical", expectation="readable_landed_batch",
                            column=None, why=f"this run's {len(feed_files)} landed files of {feed_name} cannot be read together",
                            error=str(exc)[:300], rows=[str(f) for f in feed_files[:5]])
                )
                continue
            rows = con.execute(f"select count(*) from {view_name(feed_name)}").fetchall()[0][0]
            gate.notes.append(f"{feed_name}: {rows} rows in {len(feed_files)} delivery files checked")
            checked.append(feed_name)
    finally:
        con.close()
    return checked


def check_raw(files: list[Path], landing: Path, docs_dir: Path, batch_dir: Path | None = None) -> GateResult:
    """Validate this run's landed deliveries; returns the gate result (Data Docs rebuilt).

    The batches are views in a small DuckDB file under `batch_dir` (deleted afterwards): one
    Checkpoint validates every feed and builds Data Docs once. The views are made while GE
    imports (`while_importing_gx`).
    """
    gate = GateResult(gate="raw", success=True)
    by_feed = group_by_feed(files, landing)
    if not by_feed:
        gate.notes.append("no new deliveries landed in this run: nothing to check")
        return gate
    config = duckdb_config(landing.parent)
    if batch_dir is not None:  # a killed earlier attempt of this run left its batch folder
        for stale in Path(batch_dir).glob(f"{BATCH_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=BATCH_PREFIX, dir=batch_dir) as tmp:
        database = Path(tmp) / "raw_batches.duckdb"
        checked = while_importing_gx(create_batch_views, database, config, by_feed, gate)
        if checked:
            run_sql_gate(gate, database, raw_suites(checked), docs_dir, duckdb_config=config, session_sql=SESSION_SQL)
    gate.success = not gate.critical
    return gate

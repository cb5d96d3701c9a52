"""The raw gate: Great Expectations suites per feed, on the deliveries this run landed.

Suites are derived from the feed contract (windowwatch/feeds.py), so a new column or enum value
there is checked without touching this file. Each delivery batch is small (one run's files),
so checks use pandas batches (STACK.md); the time checks compare columns through lag columns
computed here (`_gx_*`), because GE's column-pair expectation has no tolerance for clock skew.

critical (stop the run): landed schema, keys and required columns not null, enum sets, ranges
(rating 1..5, confidence 0..1, extend_days >= 0), event time not after the delivery, recorded_at
not before the event (minus skew) and not far in the future.
warning (report only): ids unique within this run's deliveries, other non-negative numbers.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import polars as pl

from expectations.gx_run import GateResult, check, collect, data_docs_action, index_path, new_context
from windowwatch.feeds import FEEDS, LANDING_METADATA, Feed

# Clocks of source systems and of the landing host differ a little; beyond this it is an error.
CLOCK_SKEW_SECONDS = int(os.environ.get("WINDOWWATCH_CLOCK_SKEW_SECONDS", 600))
# recorded_at later than the delivery by more than this is a broken source clock.
FAR_FUTURE_SECONDS = 24 * 3600

DELIVERY_LAG = "_gx_delivery_lag_s"  # _ingested_at − event time
RECORD_LAG = "_gx_recorded_lag_s"  # recorded_at − event time
RECORD_AHEAD = "_gx_recorded_ahead_s"  # recorded_at − _ingested_at

RANGES: dict[tuple[str, str], tuple[float | None, float | None, str]] = {
    ("evaluations", "rating"): (1, 5, "critical"),
    ("video_flags", "confidence"): (0, 1, "critical"),
    ("transactions", "extend_days"): (0, None, "critical"),
    ("transactions", "fee_amount"): (0, None, "warning"),
    ("items", "legal_limit"): (0, None, "warning"),
    ("items", "promised_limit"): (0, None, "warning"),
    ("dept_volumes", "reported_cases"): (0, None, "warning"),
    ("evaluations", "round"): (1, None, "warning"),
}


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
    import great_expectations.expectations as gxe

    crit, warn = [], []
    crit.append(
        check(
            "critical",
            gxe.ExpectTableColumnsToMatchSet(column_set=landed_column_names(feed) + derived_columns(feed), exact_match=True),
            f"the landed columns of {feed.name} must be exactly the contract's (windowwatch/feeds.py)",
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
    for (fname, col), (lo, hi, sev) in RANGES.items():
        if fname != feed.name:
            continue
        bounds = f"[{lo}, {hi if hi is not None else '∞'}]"
        target = crit if sev == "critical" else warn
        target.append(check(sev, gxe.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi), f"{col} must lie in {bounds}"))
    if feed.time_column:
        t = feed.time_column
        crit.append(
            check(
                "critical",
                gxe.ExpectColumnValuesToBeBetween(column=DELIVERY_LAG, min_value=-CLOCK_SKEW_SECONDS),
                f"{t} must not be after the delivery time _ingested_at (clock skew allowed {CLOCK_SKEW_SECONDS}s)",
            )
        )
        if "recorded_at" in feed.by_name:
            crit.append(
                check(
                    "critical",
                    gxe.ExpectColumnValuesToBeBetween(column=RECORD_LAG, min_value=-CLOCK_SKEW_SECONDS),
                    f"recorded_at must not be before {t} (clock skew allowed {CLOCK_SKEW_SECONDS}s)",
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
        warn.append(
            check("warning", gxe.ExpectColumnValuesToBeUnique(column=feed.key[0]), f"{feed.key[0]} delivered more than once in this run (updates?)")
        )
    else:
        warn.append(
            check("warning", gxe.ExpectCompoundColumnsToBeUnique(column_list=list(feed.key)), f"{feed.key} delivered more than once in this run")
        )
    return crit, warn


def batch_frame(feed: Feed, files: list[Path]):
    """One pandas frame of this run's deliveries of a feed, plus the lag columns."""
    frames = [pl.read_parquet(f) for f in files]
    df = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    t = feed.time_column
    if t and t in df.columns and "_ingested_at" in df.columns:
        df = df.with_columns((pl.col("_ingested_at") - pl.col(t)).dt.total_seconds().alias(DELIVERY_LAG))
        if "recorded_at" in feed.by_name and "recorded_at" in df.columns:
            df = df.with_columns(
                (pl.col("recorded_at") - pl.col(t)).dt.total_seconds().alias(RECORD_LAG),
                (pl.col("recorded_at") - pl.col("_ingested_at")).dt.total_seconds().alias(RECORD_AHEAD),
            )
    return df.to_pandas()


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


def check_raw(files: list[Path], landing: Path, docs_dir: Path, batch_dir: Path | None = None) -> GateResult:
    """Validate this run's landed deliveries; returns the gate result (Data Docs rebuilt).

    Each feed's batch (its deliveries plus the lag columns) is written to `batch_dir` as one
    Parquet file, so a single Checkpoint validates every feed and builds Data Docs once.
    """
    import tempfile

    gate = GateResult(gate="raw", success=True)
    by_feed = group_by_feed(files, landing)
    if not by_feed:
        gate.notes.append("no new deliveries landed in this run: nothing to check")
        return gate
    import great_expectations as gx  # slow to import: only when there is something to check
    with tempfile.TemporaryDirectory(prefix="gx-raw-", dir=batch_dir) as tmp:
        batches = Path(tmp)
        for feed_name, feed_files in sorted(by_feed.items()):
            frame = batch_frame(FEEDS[feed_name], feed_files)
            frame.to_parquet(batches / f"{feed_name}.parquet", index=False)
            gate.notes.append(f"{feed_name}: {len(frame)} rows in {len(feed_files)} deliveries checked")
        ctx = new_context(docs_dir)
        ds = ctx.data_sources.add_pandas_filesystem(name="landing", base_directory=batches)
        vds = []
        for feed_name in sorted(by_feed):
            asset = ds.add_parquet_asset(name=feed_name)
            bd = asset.add_batch_definition_path(f"{feed_name}_this_run", path=f"{feed_name}.parquet")
            for sev, exps in zip(("critical", "warning"), suite_checks(FEEDS[feed_name])):
                if not exps:
                    continue
                suite = ctx.suites.add(gx.ExpectationSuite(name=f"raw.{feed_name}.{sev}", expectations=exps))
                vds.append(ctx.validation_definitions.add(gx.ValidationDefinition(name=f"raw.{feed_name}.{sev}", data=bd, suite=suite)))
        cp = ctx.checkpoints.add(
            gx.Checkpoint(
                name="raw",
                validation_definitions=vds,
                actions=[data_docs_action()],
                result_format={"result_format": "SUMMARY"},
            )
        )
        collect(cp.run(), gate)
    gate.data_docs_index = index_path(docs_dir)
    return gate

"""The schema of landing and quarantine files, derived from the feed contract (core/feeds.py).

Landing Parquet: the contract's columns in order (PII hashed to `<name>_hmac` or dropped), then
the metadata columns. Quarantine Parquet: one row per rejected row, with the file, line and rule.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from core.feeds import FEEDS, LANDING_METADATA, Feed

TYPE_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "time": pl.Time(),
    "month": pl.Date(),
    "rating": pl.Int8(),
    "list": pl.String(),
}
METADATA_DTYPES: dict[str, pl.DataType] = {
    "_delivery_id": pl.String(),
    "_source": pl.String(),
    "_line": pl.Int64(),
    "_ingested_at": pl.Datetime("us"),
}
assert set(METADATA_DTYPES) == set(LANDING_METADATA)

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "feed": pl.String(),
    "source_file": pl.String(),
    "line": pl.Int64(),
    "rule": pl.String(),
    "detail": pl.String(),
    "raw": pl.String(),
    "quarantined_at": pl.Datetime("us"),
}


def landing_schema(feed: Feed | str) -> dict[str, pl.DataType]:
    """The exact landing Parquet schema of a feed (feeds.py docstring), metadata last."""
    if isinstance(feed, str):
        feed = FEEDS[feed]
    schema: dict[str, pl.DataType] = {}
    for col in feed.columns:
        if col.pii == "drop":
            continue
        if col.pii == "hash":
            schema[f"{col.name}_hmac"] = pl.String()
        else:
            schema[col.name] = TYPE_DTYPES[col.type]
    assert list(schema) == feed.landed_columns()
    return schema | METADATA_DTYPES



def landing_arrow_schema(feed: Feed) -> pa.Schema:
    """The Arrow schema of a landing file (as DuckDB's export gives it, plain strings)."""
    return plain_strings(pl.DataFrame(schema=landing_schema(feed)).to_arrow().schema)


def dictionary_columns(feed: Feed, schema: pa.Schema) -> list[str]:
    """Dictionary-encode the columns with few distinct values; ids, hashes, times and line
    numbers are nearly unique, so a dictionary only costs CPU there (content unchanged)."""
    unique = {*feed.key, "case_id", "_line"}
    return [f.name for f in schema
            if f.name not in unique and not f.name.endswith("_hmac") and (f.name == "_ingested_at" or not pa.types.is_timestamp(f.type))]



def plain_strings(schema: pa.Schema) -> pa.Schema:
    """Arrow from DuckDB may use string views / large strings; landing files hold plain strings."""
    fields = [f.with_type(pa.string()) if f.type in (pa.large_string(), pa.string_view()) else f for f in schema]
    return pa.schema(fields)

"""Key index of landed event rows, for the duplicate_conflict rule across deliveries (performance, docs/scaling.md).

    landing/_index/<scheme>/<feed>/<content_id>.parquet   key columns, recorded_at, _rh (content hash)

A delivery's new rows are checked against every earlier landed row with the same key. Reading
all earlier landing files (every column, hashed again) per delivery made ingest quadratic in
the feed's history; the index holds only what the rule compares, sorted by key, so DuckDB's
join filter (min/max of the new keys) skips the row groups of other months.

It is a cache of the landing files, never the truth: one file per landed delivery, written
(temp + rename) after that delivery's landing files and before its ledger entry. An index file
that is missing, or older than a landing file of its delivery (re-landed, copied without
times), is rebuilt from landing before use; one whose delivery has no landing files is
ignored. So a run killed at any point, or a home from before the index, converges to what
reading the landing files would decide.

`<scheme>` names how `_rh` is computed (INDEX_SCHEME: the hash function and the DuckDB version
that computes it). Hashes of two schemes are never compared: files of another scheme (an older
release's md5 index, a DuckDB upgrade that changed `hash()`) are removed and the index is rebuilt
from landing, once. Otherwise every re-send would look like a conflict.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from core.feeds import Feed
from core.paths import Home
from ingest.landing_schema import landing_schema
from ingest.sql_text import esc, q, sql_list

ROW_GROUP_ROWS = 65_536  # small row groups: min/max pruning skips most of an unrelated month


# DuckDB's 64-bit hash() of the typed columns: a quarter of md5 over text casts (issue 23: the
# content hash was 13 % of city ingest's CPU). The DuckDB version is part of the scheme because
# hash() is not promised to stay the same across releases.
INDEX_SCHEME = f"hash64-duckdb{duckdb.__version__}"

_DUCKDB_TYPES = {"String": "VARCHAR", "Int64": "BIGINT", "Int8": "TINYINT", "Float64": "DOUBLE", "Boolean": "BOOLEAN",
                 "Date": "DATE", "Datetime": "TIMESTAMP", "Time": "TIME"}


def content_hash_sql(feed: Feed, alias: str) -> str:
    """DuckDB's hash() of every landed column, each cast to its landing type (the staged rows and
    the landing files read back then hash alike; a null differs from every value): two rows with
    one key differ in content iff this differs, but for a 2^-64 chance of a collision."""
    schema = landing_schema(feed)
    parts = ", ".join(f"CAST({alias}.{q(c)} AS {_DUCKDB_TYPES[type(schema[c]).__name__]})" for c in feed.landed_columns())
    return f"hash({parts})"


def index_columns(feed: Feed) -> list[str]:
    return [*feed.key, "recorded_at"]


def index_root(home: Home) -> Path:
    return home.landing / "_index"


def index_dir(home: Home, feed: Feed) -> Path:
    return index_root(home) / INDEX_SCHEME / feed.name


def drop_other_schemes(home: Home) -> list[Path]:
    """Remove index files not of INDEX_SCHEME (the layout before schemes had feed folders right
    under `_index`); returns what was removed. They are a cache: the next check rebuilds them."""
    root = index_root(home)
    removed = [p for p in root.iterdir() if p.name != INDEX_SCHEME] if root.is_dir() else []
    for p in removed:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    return removed


def index_path(home: Home, feed: Feed, content_id: str) -> Path:
    return index_dir(home, feed) / f"{content_id}.parquet"


def _copy_to(con: duckdb.DuckDBPyConnection, select_sql: str, feed: Feed, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    order = ", ".join(q(c) for c in index_columns(feed))  # every column: the file's bytes are deterministic
    con.execute(f"COPY ({select_sql} ORDER BY {order}, _rh) TO '{esc(tmp)}' (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
    os.replace(tmp, target)


def write_index(con: duckdb.DuckDBPyConnection, home: Home, feed: Feed, content_id: str, rows_sql: str,
                target: Path | None = None) -> None:
    """Index the rows a delivery landed; `rows_sql` yields the index columns and `_rh`.
    target: write there instead (a worker prepares the file in its staging folder)."""
    cols = ", ".join(q(c) for c in index_columns(feed))
    _copy_to(con, f"SELECT {cols}, _rh FROM {rows_sql}", feed, target or index_path(home, feed, content_id))


def rebuild_index(con: duckdb.DuckDBPyConnection, home: Home, feed: Feed, content_id: str, files: list[Path]) -> None:
    cols = ", ".join(f"x.{q(c)}" for c in index_columns(feed))
    select = f"SELECT {cols}, {content_hash_sql(feed, 'x')} AS _rh FROM read_parquet({sql_list(files)}, hive_partitioning=false) x"
    _copy_to(con, select, feed, index_path(home, feed, content_id))


def landed_files_by_delivery(home: Home, feed: Feed) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in sorted((home.landing / feed.name).glob("part_date=*/*.parquet")):
        out.setdefault(p.stem, []).append(p)
    return out


def earlier_index_files(con: duckdb.DuckDBPyConnection, home: Home, feed: Feed, exclude: str) -> list[Path]:
    """Index files of every delivery with landing files but `exclude`, rebuilt where missing or stale
    (or of another scheme)."""
    drop_other_schemes(home)
    out: list[Path] = []
    for cid, files in landed_files_by_delivery(home, feed).items():
        if cid == exclude:
            continue
        idx = index_path(home, feed, cid)
        try:
            fresh = idx.stat().st_mtime_ns >= max(f.stat().st_mtime_ns for f in files)
        except FileNotFoundError:
            fresh = False
        if not fresh:
            rebuild_index(con, home, feed, cid, files)
        out.append(idx)
    return out

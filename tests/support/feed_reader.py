"""Helpers for the generator tests: read generated feed files back, independently of ingest.

Deliberately small and separate from ingest/, so the generator's output is checked against
the contract (feeds.py) and the rules (SPEC §4) by code that did not write it.
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

import polars as pl

from core.feeds import BOOL_FALSE, BOOL_TRUE, FEEDS, RATING_LABELS

TS_PATTERNS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%dT%H%M%S", "%Y%m%d%H%M%S",
               "%Y-%m-%d %H:%M:%S%.f"]


def decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gbk")


def alias_map(feed: str) -> dict[str, str]:
    m = {}
    for c in FEEDS[feed].columns:
        m[c.name] = c.name
        for a in c.aliases:
            m[a] = c.name
    return m


def read_text(path: Path, feed: str) -> pl.DataFrame:
    """Every column as String under its contract name, plus _line (header = line 1)."""
    if path.suffix == ".parquet":
        df = pl.read_parquet(path)
        df = df.with_columns(
            [pl.col(n).dt.strftime("%Y-%m-%d %H:%M:%S") if t == pl.Datetime else pl.col(n).cast(pl.String)
             for n, t in df.schema.items()])
        return df.with_columns((pl.int_range(pl.len()) + 1).alias("_line"))
    if path.suffix == ".xlsx":
        df = pl.read_excel(path, infer_schema_length=0)
    elif path.suffix == ".jsonl":
        df = pl.read_ndjson(path).with_columns(pl.all().cast(pl.String))
    else:
        df = pl.read_csv(io.StringIO(decode(path)), infer_schema=False)
    am = alias_map(feed)
    df = df.rename({c: am.get(c, c) for c in df.columns})
    return df.with_columns((pl.int_range(pl.len()) + 2).alias("_line"))


def parse_ts(col: str) -> pl.Expr:
    c = pl.col(col).str.strip_chars()
    return pl.coalesce([c.str.strptime(pl.Datetime("us"), p, strict=False) for p in TS_PATTERNS]).alias(col)


def canonical_enum(feed: str, col: str) -> dict[str, str]:
    enum = FEEDS[feed].by_name[col].enum or {}
    out = {}
    for k, aliases in enum.items():
        out[k] = k
        for a in aliases:
            out[a] = k
    return out


def read_feed(root: Path, feed: str) -> pl.DataFrame:
    """All files of a feed, canonical values and parsed times (bad rows included, as null)."""
    frames = []
    for p in sorted((root / feed).iterdir()):
        if p.name.endswith("-corrupt.parquet"):
            continue
        df = read_text(p, feed).with_columns(pl.lit(f"{feed}/{p.name}").alias("_file"))
        frames.append(df)
    df = pl.concat(frames, how="diagonal_relaxed")
    f = FEEDS[feed]
    exprs = []
    for c in f.columns:
        if c.name not in df.columns:
            continue
        if c.type == "datetime":
            exprs.append(parse_ts(c.name))
        elif c.enum and c.type != "list":
            exprs.append(pl.col(c.name).replace(canonical_enum(feed, c.name)))
        elif c.type == "rating":
            labels = {a: str(k) for k, v in RATING_LABELS.items() for a in v}
            exprs.append(pl.col(c.name).replace(labels).cast(pl.Int64, strict=False))
    return df.with_columns(exprs)


@functools.lru_cache(maxsize=16)
def lines_of(path: Path) -> list[str]:
    return decode(path).split("\n")


def physical_line(path: Path, line: int) -> str:
    return lines_of(path)[line - 1]


def row_at(path: Path, line: int) -> dict[str, str]:
    text = lines_of(path)
    header = next(csv.reader([text[0]]))
    values = next(csv.reader([text[line - 1]]))
    return dict(zip(header, values))


def is_bool(v: str) -> bool:
    return v.strip().lower() in BOOL_TRUE + BOOL_FALSE

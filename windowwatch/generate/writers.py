"""Writing feed files in every accepted shape: CSV (UTF-8, BOM, GBK), JSONL, Parquet, XLSX.

Byte-identical for the same input: fixed float precision, explicit column order, fixed
XLSX document dates, no wall-clock values anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from core.feeds import FEEDS, RATING_LABELS

TS_FORMATS = {
    "default": "%Y-%m-%d %H:%M:%S",
    "iso": "%Y-%m-%dT%H:%M:%S",
    "slash": "%Y/%m/%d %H:%M:%S",
    "compact_t": "%Y%m%dT%H%M%S",
    "compact": "%Y%m%d%H%M%S",
}


def epoch_text(col: str, fmt: str) -> pl.Expr:
    """int seconds (-1 = none) or Datetime -> text in the given format."""
    c = pl.col(col)
    return c.dt.strftime(TS_FORMATS[fmt]).alias(col)


def secs_to_datetime(cols: list[str]) -> list[pl.Expr]:
    return [pl.when(pl.col(c) >= 0).then(pl.from_epoch(pl.col(c), time_unit="s")).alias(c) for c in cols]


def contract_order(df: pl.DataFrame, feed: str) -> pl.DataFrame:
    cols = [c.name for c in FEEDS[feed].columns if c.name in df.columns]
    return df.select(cols)


def rating_labels(col: str = "rating") -> pl.Expr:
    return pl.col(col).replace_strict({k: v[0] for k, v in RATING_LABELS.items()}, return_dtype=pl.String).alias(col)


def to_text(df: pl.DataFrame, ts_format: str) -> pl.DataFrame:
    """Every column as text the way a CSV export would show it."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Datetime:
            exprs.append(epoch_text(name, ts_format))
        elif dtype == pl.Float64:
            exprs.append(pl.format("{}", pl.col(name).round(2)).alias(name))
        else:
            exprs.append(pl.col(name).cast(pl.String).alias(name))
    return df.select(exprs)


def csv_bytes(df: pl.DataFrame) -> bytes:
    return df.write_csv(null_value="", float_precision=2, line_terminator="\n").encode("utf-8")


def write_csv(df: pl.DataFrame, path: Path, encoding: str = "utf-8", ts_format: str = "default") -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = dict(null_value="", line_terminator="\n", datetime_format=TS_FORMATS[ts_format], float_precision=2)
    if encoding == "utf-8":
        df.write_csv(path, **opts)
        return df.height
    text = df.write_csv(None, **opts)
    if encoding == "gbk":
        data = text.encode("gbk")  # strict: a character outside GBK is a generator bug
    elif encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    else:
        raise ValueError(f"unsupported encoding {encoding}")
    path.write_bytes(data)
    return df.height


def append_csv_lines(path: Path, rows: list[list[str]]) -> None:
    """Append raw rows to a CSV written by write_csv (fields must not need quoting)."""
    with path.open("ab") as f:
        for r in rows:
            f.write((",".join(r) + "\n").encode("utf-8"))


def write_parquet(df: pl.DataFrame, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path, compression="zstd", statistics=False)
    return df.height


def write_jsonl(df: pl.DataFrame, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in df.iter_rows(named=True):
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    return df.height


def write_xlsx(df: pl.DataFrame, path: Path) -> int:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2026, 1, 1), "author": "WindowWatch generator"})
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, df.columns)
    for i, row in enumerate(df.iter_rows(), start=1):
        ws.write_row(i, 0, list(row))
    wb.close()
    return df.height

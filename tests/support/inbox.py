"""Helpers for the ingest tests: small inboxes written by the tests, run through real ingest."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from ingest.run import RunReport, ingest_all
from core.config import Source, SourceOptions, SourcesFile
from core.paths import Home

WINDOWS_CSV = [["window_id", "window_name", "department_id", "window_kind"], ["W01", "综合一号", "D01", "综合"], ["W02", "专业二号", "D02", "specialized"]]
ITEMS_CSV = [["item_code", "item_name", "department_id", "item_kind", "promised_limit", "limit_unit"],
             ["I1", "营业执照", "D01", "承诺件", "5", "工作日"], ["I2", "即办事项", "D02", "immediate", "0", "workday"]]

TX_HEADER = ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, encoding))
    return path


def make_inbox(root: Path, with_reference: bool = True) -> Path:
    inbox = root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    if with_reference:
        write_csv(inbox / "windows" / "windows.csv", WINDOWS_CSV)
        write_csv(inbox / "items" / "items.csv", ITEMS_CSV)
    return inbox


def sources(**options) -> SourcesFile:
    return SourcesFile(sources=[Source(name="inbox", kind="files", options=SourceOptions(**options))])


def run(home: Path, inbox: Path, **options) -> RunReport:
    return ingest_all(Home(home), sources(**options), inbox)


def landed(home: Path, feed: str) -> pl.DataFrame:
    files = sorted((home / "landing" / feed).glob("part_date=*/*.parquet"))
    if not files:
        return pl.DataFrame()
    return pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files], how="vertical")


def quarantined(home: Path, feed: str) -> pl.DataFrame:
    files = sorted((home / "quarantine" / feed).glob("[0-9a-f]*.parquet"))
    if not files:
        return pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String})
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical").sort("source_file", "line")


def result_for(report: RunReport, name_part: str):
    matches = [d for d in report.deliveries if name_part in d.source]
    assert len(matches) == 1, [d.source for d in report.deliveries]
    return matches[0]

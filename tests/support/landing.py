"""Landing Parquet for tests, written without ingest: the exact landing schema per feed.

    write_landing(home, "transactions", [{"event_id": "E1", "case_id": "C1", ...}])

Columns a row leaves out are null; metadata (_delivery_id, _source, _line, _ingested_at) is
filled. Dates/times may be given as ISO text ("2025-10-09 10:00:00"). Every call is one
delivery (its own file); `ingested_at` orders deliveries (reference feeds: the latest wins).
`default_dataset()` is a tiny realistic centre: 1 centre, 2 departments, 3 windows, 4 items
(immediate, promised workday, promised calendar_day, one without promised_limit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from pathlib import Path

import polars as pl

from core.feeds import FEEDS
from core.paths import Home
from ingest.landing_schema import landing_schema
from windowwatch.transform import ensure_empty_files

_counter = itertools.count(1)


def _coerce(value, dtype: pl.DataType):
    if value is None or not isinstance(value, str):
        return value
    if dtype == pl.Datetime("us"):
        return dt.datetime.fromisoformat(value)
    if dtype == pl.Date():
        return dt.date.fromisoformat(value[:10])
    if dtype == pl.Time():
        return dt.time.fromisoformat(value)
    return value


def _home(home) -> Home:
    return home if isinstance(home, Home) else Home(Path(home))


def write_landing(home, feed: str, rows: list[dict], ingested_at: dt.datetime | str | None = None) -> Path:
    """Write one delivery of `rows` for `feed` into landing; returns the Parquet path."""
    h = _home(home)
    ensure_empty_files(h)
    schema = landing_schema(feed)
    unknown = {k for r in rows for k in r} - set(schema)
    if unknown:
        raise KeyError(f"{feed}: not landing columns: {sorted(unknown)}")
    seq = next(_counter)
    if ingested_at is None:
        ingested_at = dt.datetime(2000, 1, 1) + dt.timedelta(seconds=seq)
    elif isinstance(ingested_at, str):
        ingested_at = dt.datetime.fromisoformat(ingested_at)
    payload = json.dumps([feed, seq, rows], default=str, sort_keys=True)
    delivery_id = hashlib.sha256(payload.encode()).hexdigest()
    time_col = FEEDS[feed].time_column
    out_rows = []
    for i, r in enumerate(rows):
        row = {name: _coerce(r.get(name), dtype) for name, dtype in schema.items()}
        if time_col and "recorded_at" in schema and row.get("recorded_at") is None and schema[time_col] == pl.Datetime("us"):
            row["recorded_at"] = row[time_col]  # ingest's default (a dated feed, e.g. extended_service, has none)
        row.update(_delivery_id=delivery_id, _source=f"fixtures:{feed}/{seq}", _line=i + 2, _ingested_at=ingested_at)
        out_rows.append(row)
    frame = pl.DataFrame(out_rows, schema=schema, orient="row")
    part = ingested_at.date().isoformat()
    if time_col and rows:
        first = frame[time_col].drop_nulls()
        if len(first):
            earliest = first.min()
            part = (earliest.date() if isinstance(earliest, dt.datetime) else earliest).isoformat()
    path = h.landing / feed / f"part_date={part}" / f"{delivery_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def write_quarantine(home, feed: str, rows: list[dict]) -> Path:
    """Quarantined rows (feed, source_file, line, rule, detail, raw, quarantined_at)."""
    from ingest.landing_schema import QUARANTINE_SCHEMA

    h = _home(home)
    ensure_empty_files(h)
    data = [{k: _coerce({**r, "feed": feed}.get(k), t) for k, t in QUARANTINE_SCHEMA.items()} for r in rows]
    frame = pl.DataFrame(data, schema=QUARANTINE_SCHEMA, orient="row")
    path = h.quarantine / feed / f"q{next(_counter)}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


# ------------------------------------------------------------------ default dataset

WINDOWS = [
    {"window_id": "W01", "window_name": "综合受理一号窗", "department_id": "D01", "department_name": "市场监管局",
     "center_id": "C01", "center_name": "市政务服务中心", "window_kind": "comprehensive", "opened_on": "2020-01-01"},
    {"window_id": "W02", "window_name": "综合受理二号窗", "department_id": "D01", "department_name": "市场监管局",
     "center_id": "C01", "center_name": "市政务服务中心", "window_kind": "comprehensive", "opened_on": "2020-01-01"},
    {"window_id": "W03", "window_name": "公安即办窗", "department_id": "D02", "department_name": "公安局",
     "center_id": "C01", "center_name": "市政务服务中心", "window_kind": "immediate", "opened_on": "2020-01-01"},
]

ITEMS = [
    {"item_code": "IMM", "item_name": "身份证补领", "department_id": "D02", "item_kind": "immediate",
     "legal_limit": 0, "promised_limit": 0, "limit_unit": "workday", "fee_required": False},
    {"item_code": "WD5", "item_name": "食品经营许可", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 20, "promised_limit": 5, "limit_unit": "workday", "fee_required": False},
    {"item_code": "CD10", "item_name": "营业执照变更", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 15, "promised_limit": 10, "limit_unit": "calendar_day", "fee_required": False},
    {"item_code": "NOLIM", "item_name": "无承诺时限事项", "department_id": "D01", "item_kind": "promised",
     "legal_limit": 7, "promised_limit": None, "limit_unit": None, "fee_required": True},
]


def event(event_id: str, case_id: str, event_type: str, event_time: str, window_id: str = "W01",
          item_code: str = "WD5", **extra) -> dict:
    """One transactions row."""
    return {"event_id": event_id, "case_id": case_id, "event_type": event_type, "event_time": event_time,
            "window_id": window_id, "item_code": item_code, "staff_id": f"S{window_id}", "channel": "window", **extra}


def case_events(case_id: str, steps: list[tuple[str, str]] | list[tuple], window_id: str = "W01",
                item_code: str = "WD5") -> list[dict]:
    """Rows for a case from (event_type, event_time[, extra dict]) steps; ids <case>-<n>."""
    out = []
    for n, step in enumerate(steps, 1):
        extra = step[2] if len(step) > 2 else {}
        out.append(event(f"{case_id}-{n}", case_id, step[0], step[1], window_id, item_code, **extra))
    return out


def default_dataset() -> dict[str, list[dict]]:
    """A tiny, realistic centre in October 2025 (National Day week included)."""
    tx = (
        case_events("K-IMM-1", [("submit", "2025-10-09 09:00:00"), ("accept", "2025-10-09 09:05:00"),
                                ("complete", "2025-10-09 09:30:00")], "W03", "IMM")
        + case_events("K-WD5-1", [("accept", "2025-09-29 10:00:00"), ("complete", "2025-10-13 16:00:00")])
        + case_events("K-WD5-2", [("accept", "2025-10-20 10:00:00")], "W02")
        + case_events("K-CD10-1", [("accept", "2025-10-14 11:00:00"), ("reject", "2025-10-15 11:00:00")], "W02", "CD10")
        + case_events("K-NOACC", [("submit", "2025-10-14 11:00:00")], "W01", "WD5")
    )
    evals = [
        {"evaluation_id": "V1", "case_id": "K-IMM-1", "window_id": "W03", "staff_id": "SW03", "rating": 5,
         "channel": "pad", "evaluated_at": "2025-10-09 09:35:00", "round": 1, "is_real_name": True},
    ]
    flags = [
        {"flag_id": "F1", "window_id": "W01", "camera_id": "CAM1", "flagged_at": "2025-10-10 10:00:00",
         "flag_type": "phone", "source": "ai", "confidence": 0.9, "review_status": "confirmed"},
    ]
    staff = [{"staff_id": f"S{w['window_id']}", "staff_name": "张三", "window_id": w["window_id"],
              "department_id": w["department_id"], "active_from": "2020-01-01"} for w in WINDOWS]
    inspectors = [{"inspector_id": "INS1", "inspector_name": "李四", "department_id": "D09",
                   "qualifications": "approval;audit", "active": True}]
    return {"windows": WINDOWS, "items": ITEMS, "staff": staff, "inspectors": inspectors,
            "transactions": tx, "evaluations": evals, "video_flags": flags}


def write_dataset(home, data: dict[str, list[dict]] | None = None) -> None:
    """Write every feed of `data` (default: default_dataset()) as one delivery each."""
    for feed, rows in (data or default_dataset()).items():
        write_landing(home, feed, rows)


def write_reference(home, windows: list[dict] | None = None, items: list[dict] | None = None) -> None:
    """Only the reference feeds windows + items (the default ones unless given)."""
    write_landing(home, "windows", windows or WINDOWS)
    write_landing(home, "items", items or ITEMS)

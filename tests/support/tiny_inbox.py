"""A tiny inbox of feed files (CSV, as a centre would drop them) for the pipeline, bench and DAG
runs; the Airflow metadata fixtures built beside it are in tests/dags/conftest.py."""

from __future__ import annotations

import csv
from pathlib import Path

WINDOWS = [
    ("W01", "综合受理一号窗", "D01", "市场监管局", "C01", "市政务服务中心", "综合", "2020-01-01"),
    ("W02", "综合受理二号窗", "D01", "市场监管局", "C01", "市政务服务中心", "comprehensive", "2020-01-01"),
]
ITEMS = [("WD5", "食品经营许可", "D01", "承诺件", 20, 5, "工作日", "否")]


def _write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_tiny_inbox(inbox: Path) -> Path:
    """Two windows, one item, a handful of cases in October 2025."""
    _write_csv(inbox / "windows" / "windows.csv",
               ["window_id", "window_name", "department_id", "department_name", "center_id", "center_name", "window_kind", "opened_on"],
               WINDOWS)
    _write_csv(inbox / "items" / "items.csv",
               ["item_code", "item_name", "department_id", "item_kind", "legal_limit", "promised_limit", "limit_unit", "fee_required"],
               ITEMS)
    rows = []
    for i in range(1, 7):
        win = "W01" if i % 2 else "W02"
        rows.append((f"E{i}a", f"C{i}", "accept", f"2025-10-{10 + i:02d} 09:30:00", win, "WD5"))
        if i < 5:
            rows.append((f"E{i}c", f"C{i}", "complete", f"2025-10-{12 + i:02d} 15:00:00", win, "WD5"))
    _write_csv(inbox / "transactions" / "2025-10.csv", ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"], rows)
    return inbox


def corrupt_inbox(inbox: Path) -> Path:
    """A new delivery whose events lie in the future of their delivery (a broken source clock):
    parseable, so it lands — only the Great Expectations raw gate can stop it."""
    _write_csv(inbox / "transactions" / "2025-11-broken-clock.csv",
               ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"],
               [("X1", "C90", "accept", "2099-11-03 09:30:00", "W01", "WD5"),
                ("X2", "C90", "complete", "2099-11-04 09:30:00", "W01", "WD5")])
    return inbox


def negative_extension_inbox(inbox: Path) -> Path:
    """A new delivery with two `extend` rows of extend_days=-30 (issue 21, finding 1): parseable,
    so it lands, and the raw gate's range check (extend_days >= 0) rejects it."""
    _write_csv(inbox / "transactions" / "2025-10-extensions.csv",
               ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code", "extend_days"],
               [("E5x", "C5", "extend", "2025-10-16 10:00:00", "W01", "WD5", -30),
                ("E6x", "C6", "extend", "2025-10-17 10:00:00", "W02", "WD5", -30)])
    return inbox


def run_env(monkeypatch) -> None:
    """What `windowwatch run` in a test needs: the default SQLite metadata DB under the test's
    WINDOWWATCH_HOME, short retry delays."""
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    monkeypatch.delenv("WINDOWWATCH_WAREHOUSE", raising=False)
    monkeypatch.setenv("WINDOWWATCH_SOURCE_RETRY_DELAY_S", "1")
    monkeypatch.setenv("WINDOWWATCH_SOURCE_RETRIES", "0")

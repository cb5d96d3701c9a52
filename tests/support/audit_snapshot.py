"""A small published snapshot (SPEC §5 marts) for the audit and report tests.

Built directly with DuckDB — the real marts are being built by others — and published the
way windowwatch/snapshot.py reads it: `published/warehouse-<run>.duckdb` + `published/CURRENT`.

Centre 市政务服务中心, three departments with two windows each, month 2026-10 (and a bit of
2026-09), eight inspectors (one inactive, one from an outside department).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb

CENTER = ("C01", "市政务服务中心")
DEPARTMENTS = {"D01": "市公安局", "D02": "市市场监管局", "D03": "市人社局"}
WINDOWS = [
    ("W01", "户籍业务窗口", "D01"),
    ("W02", "出入境窗口", "D01"),
    ("W03", "企业开办窗口", "D02"),
    ("W04", "食品经营许可窗口", "D02"),
    ("W05", "社保登记窗口", "D03"),
    ("W06", "就业服务窗口", "D03"),
]
INSPECTORS = [
    ("I01", "张明", "D01", True),
    ("I02", "李华", "D01", True),
    ("I03", "王芳", "D02", True),
    ("I04", "赵强", "D02", True),
    ("I05", "刘洋", "D03", True),
    ("I06", "陈静", "D03", True),
    ("I07", "杨帆", "D09", True),  # 纪委监委: eligible for every department
    ("I08", "周涛", "D01", False),  # retired from the pool
]

# window_id -> (score, stars, rank, eligible, red_flag, bottom, veto, cases_completed, off_book_cases)
SCORES_2026_10 = {
    "W01": (96.5, 5, 1, True, True, False, None, 30, 0),
    "W02": (91.2, 4, 2, True, False, False, None, 28, 0),
    "W03": (88.0, 3, 3, True, False, False, None, 25, 2),
    "W04": (84.3, 1, 4, True, False, False, "补录 OB_BACKFILL", 22, 1),
    "W05": (70.1, 1, 5, True, False, True, None, 21, 0),
    "W06": (85.0, 3, None, False, False, False, None, 10, 0),
}


def _window_month_rows(month: dt.date, scores: dict[str, tuple], as_of: dt.date, assumed: set[str]) -> list[tuple]:
    rows = []
    for wid, _name, dept in WINDOWS:
        score, stars, rank, elig, red, bottom, veto, done, ob = scores[wid]
        accepted = done + 3
        rows.append(
            (
                month, wid, dept, accepted, done, round(score / 100, 4), 0.5, 1.0, ob, ob / accepted,
                20, 17, 1, 0.85, 0.86, 1, 1.0, 0.66, 0, 0, 1, score, stars, rank, elig, red, bottom, veto,
                CENTER[0], as_of, wid in assumed,
            )
        )
    return rows


WINDOW_MONTH_DDL = """
create table marts.fct_window_month (
  month date, window_id varchar, department_id varchar, cases_accepted integer, cases_completed integer,
  on_time_rate double, same_day_rate double, immediate_on_time_rate double, off_book_cases integer,
  off_book_rate double, evaluations integer, good_reviews integer, bad_reviews integer,
  satisfaction_rate double, adjusted_satisfaction double, rectification_due integer,
  rectification_rate double, evaluation_rate double, video_flags_confirmed integer,
  handover_flags_confirmed integer, video_flags_pending integer, score double, stars integer,
  rank bigint, is_eligible boolean, is_red_flag boolean, is_bottom boolean, veto_reason varchar,
  center_id varchar, as_of_date date, uses_assumed_calendar boolean)
"""


def build_snapshot(
    home: Path,
    run_id: str = "r1",
    *,
    with_dim_inspector: bool = True,
    scores: dict[str, tuple] | None = None,
    window_names: dict[str, str] | None = None,
    extra_inspectors: list[tuple] = (),
    inspectors: list[tuple] | None = None,
    as_of: dt.date = dt.date(2026, 10, 31),
    assumed_calendar: set[str] = frozenset(),
) -> Path:
    pub = Path(home) / "published"
    pub.mkdir(parents=True, exist_ok=True)
    path = pub / f"warehouse-{run_id}.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_window (window_id varchar, window_name varchar, department_id varchar, "
            "department_name varchar, center_id varchar, center_name varchar, window_kind varchar, "
            "opened_on date, closed_on date)"
        )
        names = window_names or {}
        con.executemany(
            "insert into marts.dim_window values (?, ?, ?, ?, ?, ?, 'specialized', date '2020-01-01', null)",
            [(w, names.get(w, n), d, DEPARTMENTS[d], *CENTER) for w, n, d in WINDOWS],
        )
        con.execute(
            "create table marts.fct_case (case_id varchar, window_id varchar, department_id varchar, "
            "item_code varchar, item_kind varchar, status varchar, accepted_at timestamp, completed_at timestamp, "
            "limit_workdays integer, paused_workdays integer, deadline_at timestamp, is_on_time boolean, "
            "overdue_workdays integer, card varchar, is_same_day boolean, off_book_signals integer, as_of_date date)"
        )
        cases = []
        for w, _n, d in WINDOWS:
            for i in range(1, 11):  # completed in October
                acc = dt.datetime(2026, 9, 28, 9) + dt.timedelta(days=i, hours=i % 5)
                cases.append((f"C-{w}-{i:03d}", w, d, f"{d}-IT1", "completed", acc, acc + dt.timedelta(days=3)))
            for i in range(11, 14):  # open, accepted in October
                acc = dt.datetime(2026, 10, 20, 10) + dt.timedelta(days=i - 11)
                cases.append((f"C-{w}-{i:03d}", w, d, f"{d}-IT2", "open", acc, None))
            for i in range(14, 16):  # completed in September
                acc = dt.datetime(2026, 9, 1, 9) + dt.timedelta(days=i)
                cases.append((f"C-{w}-{i:03d}", w, d, f"{d}-IT1", "completed", acc, acc + dt.timedelta(days=1)))
        con.executemany(
            "insert into marts.fct_case (case_id, window_id, department_id, item_code, item_kind, status, "
            "accepted_at, completed_at, as_of_date) values (?, ?, ?, ?, 'promised', ?, ?, ?, ?)",
            [(*c, as_of) for c in cases],
        )
        con.execute(WINDOW_MONTH_DDL)
        con.executemany(
            "insert into marts.fct_window_month values (" + ", ".join("?" * 31) + ")",
            _window_month_rows(dt.date(2026, 10, 1), scores or SCORES_2026_10, as_of, set(assumed_calendar)),
        )
        con.execute(
            "create table marts.fct_department_month (month date, department_id varchar, cases_accepted integer, "
            "cases_completed integer, on_time_rate double, satisfaction_rate double, off_book_rate double, "
            "rectification_rate double, score double, reported_cases bigint, volume_gap bigint, as_of_date date)"
        )
        con.execute(
            "insert into marts.fct_department_month select month, department_id, sum(cases_accepted), "
            "sum(cases_completed), avg(on_time_rate), avg(satisfaction_rate), avg(off_book_rate), "
            "avg(rectification_rate), round(avg(score), 2), sum(cases_completed) + 5, 0, max(as_of_date) "
            "from marts.fct_window_month group by month, department_id"
        )
        con.execute(
            "create table marts.fct_off_book_signal (case_id varchar, window_id varchar, department_id varchar, "
            "rule_id varchar, signal_date date, evidence varchar)"
        )
        con.execute(
            "insert into marts.fct_off_book_signal values ('C-W03-001', 'W03', 'D02', 'OB_INSTANT', "
            "date '2026-10-01', 'accept→complete 4 min')"
        )
        con.execute(
            "create table marts.fct_evaluation (evaluation_id varchar, case_id varchar, window_id varchar, "
            "rating tinyint, evaluated_at timestamp, is_good boolean, is_bad boolean)"
        )
        evals = []
        for n in range(1, 41):
            rating = [5, 4, 3, 3, 2, 5, 3, 1, 4, 3][n % 10]
            month = 10 if n <= 36 else 9
            evals.append((f"EV{n:03d}", None, WINDOWS[n % 6][0], rating, dt.datetime(2026, month, 1 + n % 28, 11)))
        con.executemany(
            "insert into marts.fct_evaluation values (?, ?, ?, ?, ?, ? >= 4, ? <= 2)",
            [(*e, e[3], e[3]) for e in evals],
        )
        if with_dim_inspector:
            con.execute(
                "create table marts.dim_inspector (inspector_id varchar, inspector_name varchar, "
                "department_id varchar, qualifications varchar, active boolean)"
            )
            con.executemany(
                "insert into marts.dim_inspector values (?, ?, ?, null, ?)",
                list(INSPECTORS if inspectors is None else inspectors) + list(extra_inspectors),
            )
        con.execute("checkpoint")
    finally:
        con.close()
    tmp = pub / "CURRENT.tmp"
    tmp.write_text(path.name, encoding="utf-8")
    os.replace(tmp, pub / "CURRENT")
    return path


def write_plan(path: Path, **overrides: Any) -> Path:
    """A plan YAML (SPEC §4.7 example shape) with keys overridden as given."""
    import yaml

    plan: dict[str, Any] = {
        "name": "2026年10月审批稽核",
        "population": {"month": "2026-10", "status": "completed"},
        "strata": "department_id",
        "sample": {"per_stratum": 3},
        "risk_boost": {"bottom_windows": 2.0, "off_book_windows": 2.0},
        "inspectors_per_case": 2,
        "max_cases_per_inspector": 10,
    }
    plan.update(overrides)
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path

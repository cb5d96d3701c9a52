"""The marts added in issue 3 part D3 — fct_case_event, dim_inspector, dim_staff,
fct_audit_finding — and two fixes: the on-time denominator leaves out cases whose item has no
limit at all, and fractional feed values are DOUBLE (not REAL) from staging on.

landing fixtures (+ a findings.parquet written by windowwatch/audit/findings.py's own writer)
-> transform.build -> marts.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from tests.support.landing import ITEMS, case_events, default_dataset, write_dataset
from windowwatch.audit.findings import FINDINGS_PARQUET, write_findings_parquet
from windowwatch.audit.log import AuditLog
from core.paths import Home
from windowwatch.transform import build

AS_OF = "2025-10-31"
NO_LIMIT = {"item_code": "NONE", "item_name": "无任何时限", "department_id": "D01", "item_kind": "promised",
            "legal_limit": None, "promised_limit": None, "limit_unit": "workday"}


def _sql(home: Home, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _dataset() -> dict[str, list[dict]]:
    data = default_dataset()
    data["items"] = ITEMS + [NO_LIMIT]
    data["transactions"] = data["transactions"] + (
        # accepted Mon 10-13, complete recorded 30 h after it happened (OB_BACKFILL territory)
        case_events("K-LATE", [("accept", "2025-10-13 10:00:00"),
                               ("complete", "2025-10-14 10:00:00", {"recorded_at": "2025-10-15 16:00:00"})])
        # an item without any limit: completed, but no on-time verdict
        + case_events("K-NOLIM", [("accept", "2025-10-13 11:00:00"), ("complete", "2025-10-20 11:00:00")],
                      item_code="NONE")
        # an event after the as-of date is not in the timeline
        + case_events("K-FUTURE", [("accept", "2025-10-30 11:00:00"), ("complete", "2025-11-03 11:00:00")])
    )
    data["inspectors"] = data["inspectors"] + [
        {"inspector_id": "INS2", "inspector_name": "王五", "department_id": "D01", "active": None},
        {"inspector_id": "INS3", "inspector_name": "赵六", "department_id": "D02", "active": False},
    ]
    data["video_flags"] = data["video_flags"] + [
        {"flag_id": "F2", "window_id": "W02", "camera_id": "CAM2", "flagged_at": "2025-10-10 11:00:00",
         "flag_type": "phone", "source": "ai", "confidence": 0.1, "review_status": "pending"},
    ]
    return data


def _write_findings(home: Home) -> None:
    """Two findings as the audit log holds them, mirrored by findings.py's own writer."""
    draw = {"kind": "draw", "draw_id": "D1", "pools": {"cases": [
        {"case_id": "K-WD5-1", "window_id": "W01", "department_id": "D01", "stratum": "D01"},
        {"case_id": "K-IMM-1", "window_id": "W03", "department_id": "D02", "stratum": "D02"}]}}
    findings = [
        {"kind": "finding", "finding_id": "F1", "draw_id": "D1", "case_id": "K-WD5-1", "codes": ["超时未说明", "其他"],
         "note": "材料已补齐", "inspectors": ["INS1", "INS2"], "at": "2025-11-03T10:15:00+08:00", "user": "auditor",
         "entry_hash": "a" * 64},
        {"kind": "finding", "finding_id": "F2", "draw_id": "D1", "case_id": "K-IMM-1", "codes": [],
         "note": "", "inspectors": ["INS1", "INS2"], "at": "2025-11-03T11:00:00+08:00", "user": "auditor",
         "entry_hash": "b" * 64},
    ]
    log = AuditLog(home)
    log.dir.mkdir(parents=True, exist_ok=True)
    write_findings_parquet([draw, *findings], log)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Home:
    home = Home(tmp_path_factory.mktemp("marts") / "home")
    write_dataset(home, _dataset())
    _write_findings(home)
    result = build(home, as_of=AS_OF, exclude="resource_type:unit_test")
    assert result.success, result.summary()
    built_models = {n.name for n in result.nodes if n.resource_type == "model"}
    assert {"fct_case_event", "dim_inspector", "dim_staff", "fct_audit_finding"} <= built_models
    return home


def test_case_event_is_the_timeline_of_accepted_cases(built):
    rows = _sql(built, "select case_id, event_id, event_type, event_time, recorded_gap_hours from marts.fct_case_event "
                       "order by case_id, event_time, event_id")
    cases = {r[0] for r in rows}
    accepted = {r[0] for r in _sql(built, "select case_id from marts.fct_case")}
    assert cases == accepted, "exactly the accepted cases have a timeline"
    assert "K-NOACC" not in cases, "a case without accept is not a case (SPEC §4.2)"
    # the submit before the accept belongs to the timeline
    assert [r[2] for r in rows if r[0] == "K-IMM-1"] == ["submit", "accept", "complete"]
    # events after the as-of date are not there
    assert [r[2] for r in rows if r[0] == "K-FUTURE"] == ["accept"]
    late = {r[1]: r[4] for r in rows if r[0] == "K-LATE"}
    assert late == {"K-LATE-1": 0.0, "K-LATE-2": 30.0}


def test_case_event_has_no_applicant_columns(built):
    cols = {r[0] for r in _sql(built, "select column_name from information_schema.columns "
                                      "where table_schema = 'marts' and table_name = 'fct_case_event'")}
    assert cols == {"event_id", "case_id", "event_type", "event_time", "recorded_at", "recorded_gap_hours",
                    "window_id", "staff_id", "item_code", "channel", "extend_days"}


def test_dim_inspector_and_dim_staff(built):
    insp = {r[0]: r[1:] for r in _sql(built, "select inspector_id, department_id, active, qualifications from marts.dim_inspector")}
    assert insp == {"INS1": ("D09", True, "approval;audit"), "INS2": ("D01", True, None), "INS3": ("D02", False, None)}
    staff = _sql(built, "select staff_id, window_id, active_from from marts.dim_staff order by staff_id")
    assert staff[0] == ("SW01", "W01", dt.date(2020, 1, 1)) and len(staff) == 3


def test_audit_findings_are_published(built):
    rows = _sql(built, "select finding_id, case_id, window_id, problem_codes, has_problem, inspectors, recorded_at "
                       "from marts.fct_audit_finding order by finding_id")
    assert rows == [
        ("F1", "K-WD5-1", "W01", "超时未说明;其他", True, "INS1;INS2", dt.datetime(2025, 11, 3, 10, 15)),
        ("F2", "K-IMM-1", "W03", "", False, "INS1;INS2", dt.datetime(2025, 11, 3, 11, 0)),
    ]


def test_on_time_rate_leaves_out_cases_without_a_limit(built):
    case = _sql(built, "select status, is_on_time, limit_workdays from marts.fct_case where case_id = 'K-NOLIM'")
    assert case == [("completed", None, None)]
    # W01 in October: K-WD5-1 (on time), K-LATE (on time), K-NOLIM (no verdict) completed
    wm = _sql(built, "select cases_completed, on_time_rate from marts.fct_window_month "
                     "where window_id = 'W01' and month = date '2025-10-01'")
    assert wm == [(3, 1.0)], "2 of 2 with a verdict are on time; the no-limit case is not late"
    dm = _sql(built, "select cases_completed, on_time_rate from marts.fct_department_month "
                     "where department_id = 'D01' and month = date '2025-10-01'")
    assert dm == [(3, 1.0)]


def test_fractions_are_double_not_real(built):
    types = dict(_sql(built, "select column_name, data_type from information_schema.columns "
                             "where table_name in ('stg_landing__video_flags', 'stg_landing__transactions') "
                             "and column_name in ('confidence', 'fee_amount')"))
    assert types == {"confidence": "DOUBLE", "fee_amount": "DOUBLE"}
    assert _sql(built, "select confidence from marts.fct_video_flag where flag_id = 'F2'") == [(0.1,)]


def test_fresh_home_builds_an_empty_findings_mart(ww_home):
    home = Home(ww_home)
    assert not (home.audit / FINDINGS_PARQUET).exists()
    write_dataset(home)  # landing fixtures call transform.ensure_empty_files, as build does
    result = build(home, as_of=AS_OF, select="+fct_audit_finding +dim_inspector", exclude="resource_type:unit_test")
    assert result.success, result.summary()
    assert pl.read_parquet(home.audit / FINDINGS_PARQUET).height == 0
    assert _sql(home, "select count(*) from marts.fct_audit_finding") == [(0,)]
    assert _sql(home, "select count(*) from marts.dim_inspector") == [(1,)]


def test_typed_landing_columns_follow_the_feed_contract():
    """macros/landing_columns.sql lists the transactions columns both readers of the landing cast
    (stg_landing__transactions, int_cases__events_latest): names, order and types as landed."""
    import re

    from ingest.landing_schema import landing_schema
    from windowwatch.transform import DBT_PROJECT_DIR

    text = (DBT_PROJECT_DIR / "macros" / "landing_columns.sql").read_text(encoding="utf-8")
    block = text[text.index("'transactions': ["):text.index("],", text.index("'transactions': ["))]
    listed = re.findall(r"\('(\w+)', '(\w+)'\)", block)
    kinds = {pl.String: "string", pl.Datetime: "timestamp", pl.Int64: "bigint", pl.Boolean: "boolean",
             pl.Float64: "double"}
    landed = [(name, kinds[dtype.base_type()]) for name, dtype in landing_schema("transactions").items()]
    assert listed == landed

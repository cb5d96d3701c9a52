"""Every input of an incremental rule is tracked (dbt_project/macros/incremental/README.md).

The incremental models rebuild only what their deliveries, the as-of date and their fingerprint
(declared reference columns, the calendar, declared scoring vars) say can differ. A rule that starts
reading a column, a relation or a var the increment machinery does not track would silently drift
from a full build. Here deliveries change every landed column of every feed and every scoring var,
and each incremental build must equal a full build of the same landing, mart by mart:

- the first round changes everything that is NOT declared (TRACKED below), moves the as-of date and
  re-delivers one row of each event feed with every column changed (the other events, evaluations
  and flags stay untouched, so a stored row a rule should have recomputed shows): each incremental
  model must stay incremental (rebuild only the cases / ids in scope), so a rule reading an
  undeclared input drifts and fails;
- then one round per declared part: the models that declare it rebuild in full, the others must stay
  incremental, and again everything equals a full build.

A new feed column or scoring var is changed here without touching this file; a new declared input is
added to TRACKED together with the macro that declares it.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from core.config import DEFAULT_SCORING, load_scoring
from core.feeds import FEEDS, Column
from core.paths import Home
from tests.support.landing import case_events, default_dataset, write_dataset, write_landing
from tests.dbt.test_dbt_incremental import EVALUATION_MODEL, _assert_equals_full_build, _compiled, _mart_hashes
from windowwatch.transform import build

CASE_MODELS = ("int_cases__case_facts", "int_cases__pauses", "int_cases__accepted", "fct_case", "int_timeliness__step_overdue",
               "int_timeliness__notices", "int_timeliness__late_delivery")
INCREMENTAL_MODELS = (*CASE_MODELS, EVALUATION_MODEL)

# What each incremental model declares it reads besides its own deliveries and the as-of date
# (macros/incremental/case_increment.sql: case_fingerprint; evaluation_increment.sql):
# part -> ({feed: landed columns, "scoring": dbt vars}, the models that declare the part).
TRACKED = {
    "references": ({"items": {"item_code", "item_kind", "limit_unit", "promised_limit", "legal_limit", "max_extension_days",
                              "deliver_limit", "valid_from"},
                    "windows": {"window_id", "department_id", "center_id", "valid_from"}},
                   {"int_cases__case_facts", "int_cases__accepted", "fct_case", "int_timeliness__step_overdue",
                    "int_timeliness__notices", "int_timeliness__late_delivery"}),
    "calendar": ({"calendar": {"date", "is_workday"}},
                 {"int_cases__pauses", "int_cases__accepted", "fct_case", EVALUATION_MODEL, "int_timeliness__step_overdue",
                  "int_timeliness__notices", "int_timeliness__late_delivery"}),
    "step_limits": ({"step_limits": {"item_code", "from_event", "to_event", "limit_workdays"}},
                    {"int_timeliness__step_overdue"}),
    "vars": ({"scoring": {"yellow_workdays", "rectify_workdays", "supplement_notice_workdays", "pause_reasons_allowed",
                          "pause_without_reason", "max_extension_days", "verify_workdays", "callback_workdays",
                          "deliver_limit_workdays"}},
             {"int_cases__accepted", "fct_case", EVALUATION_MODEL, "int_timeliness__step_overdue",
              "int_timeliness__notices", "int_timeliness__late_delivery"}),
}
# The incremental models run without their data tests here: the changed rows need not pass them.
NO_TESTS = "resource_type:test"


def _tracked(feed: str) -> set[str]:
    return set().union(*(columns.get(feed, set()) for columns, _ in TRACKED.values()))


def _base_dataset() -> dict[str, list[dict]]:
    """The default centre plus a row in every optional feed and something for every rule to find:
    an open pause, an extension, an off-hours accept, a bad review, a pending handover flag."""
    data = copy.deepcopy(default_dataset())
    data["transactions"] += (
        case_events("K-P", [("accept", "2025-10-21 09:00:00"), ("suspend", "2025-10-22 09:00:00")])
        + case_events("K-X", [("accept", "2025-10-20 19:30:00"), ("extend", "2025-10-21 10:00:00", {"extend_days": 2}),
                              ("complete", "2025-10-23 10:00:00", {"recorded_at": "2025-10-25 12:00:00"})], "W02")
    )
    data["evaluations"] += [
        {"evaluation_id": "V2", "case_id": "K-X", "window_id": "W02", "staff_id": "SW02", "rating": 2,
         "channel": "pad", "evaluated_at": "2025-10-23 11:00:00", "round": 1, "is_real_name": True,
         "reason_codes": "slow", "verdict": "valid", "verified_at": "2025-10-24 09:00:00",
         "rectified_at": "2025-10-27 15:00:00", "callback_at": "2025-10-28 10:00:00", "comment": "慢"},
        {"evaluation_id": "V3", "case_id": "K-WD5-1", "window_id": "W01", "staff_id": "SW01", "rating": 1,
         "channel": "pc", "evaluated_at": "2025-10-14 16:00:00", "round": 1, "is_real_name": False},
    ]
    data["video_flags"] += [
        {"flag_id": "F2", "window_id": "W02", "camera_id": "CAM2", "flagged_at": "2025-10-20 11:00:00",
         "flag_type": "private_handover", "source": "inspector", "review_status": "pending",
         "reviewed_at": "2025-10-21 09:00:00", "reviewer_id": "INS1", "clip_ref": "clips/f2.mp4"},
    ]
    data["calendar"] = [{"date": "2025-10-28", "is_workday": True, "note": "正常上班"}]
    data["hall_hours"] = [{"scope_id": "C01", "day_kind": "workday", "open_time": "08:30:00", "close_time": "18:00:00"}]
    data["dept_volumes"] = [{"department_id": "D01", "month": "2025-10-01", "reported_cases": 3}]
    data["step_limits"] = [{"item_code": "*", "from_event": "accept", "to_event": "complete", "limit_workdays": 2}]
    data["extended_service"] = [{"service_id": "ES1", "window_id": "W02", "service_date": "2025-10-20",
                                 "until_time": "20:00:00", "reason": "事不办完不下班", "recorded_at": "2025-10-20 21:00:00"}]
    # the hall feeds (docs/rules.md#hall-operations): a late sign-in and an absence, served queue tickets,
    # a substantiated complaint, video spot checks (one day short of 一日三查) with a finding and its deduction
    data["attendance"] = [
        {"attendance_id": "A1", "staff_id": "SW01", "window_id": "W01", "work_date": "2025-10-20",
         "sign_in_at": "2025-10-20 08:50:00", "sign_out_at": "2025-10-20 18:00:00", "absence_type": "none",
         "recorded_at": "2025-10-20 18:00:00"},
        {"attendance_id": "A2", "staff_id": "SW02", "window_id": "W02", "work_date": "2025-10-21",
         "absence_type": "absent", "recorded_at": "2025-10-21 00:00:00"},
    ]
    data["queue_tickets"] = [
        {"ticket_id": "Q1", "center_id": "C01", "business_type": "WD5", "window_id": "W01",
         "issued_at": "2025-10-20 09:00:00", "called_at": "2025-10-20 09:40:00", "served_at": "2025-10-20 09:41:00",
         "finished_at": "2025-10-20 09:55:00", "status": "served", "recorded_at": "2025-10-20 09:55:00"},
        {"ticket_id": "Q2", "center_id": "C01", "business_type": "WD5", "window_id": "W01",
         "issued_at": "2025-10-20 09:10:00", "called_at": "2025-10-20 09:56:00", "served_at": "2025-10-20 09:57:00",
         "finished_at": "2025-10-20 10:20:00", "status": "served", "recorded_at": "2025-10-20 10:20:00"},
    ]
    data["work_orders"] = [
        {"order_id": "O1", "channel": "hotline_12345", "category": "complaint", "received_at": "2025-10-21 10:00:00",
         "department_id": "D01", "window_id": "W02", "due_at": "2025-10-28 10:00:00",
         "responded_at": "2025-10-22 15:00:00", "closed_at": "2025-10-23 15:00:00", "substantiated": True,
         "requester_satisfaction": "satisfied", "content": "窗口态度差", "recorded_at": "2025-10-23 15:00:00"},
    ]
    data["inspections"] = [
        {"inspection_id": "J1", "inspector_id": "INS1", "center_id": "C01", "window_id": "W01",
         "inspected_at": "2025-10-20 10:00:00", "method": "video_spot", "finding": "absent", "deduction": 0.5,
         "note": "窗口人员离岗未放置暂停服务牌", "recorded_at": "2025-10-20 10:00:00"},
        {"inspection_id": "J2", "inspector_id": "INS1", "center_id": "C01", "window_id": "W02",
         "inspected_at": "2025-10-20 14:00:00", "method": "video_spot", "finding": "none", "deduction": 0.0,
         "note": "检查未发现问题", "recorded_at": "2025-10-20 14:00:00"},
    ]
    assert set(data) == set(FEEDS), "a feed without rows here would leave its columns unchanged"
    return data


def _parse(value, column: Column):
    if not isinstance(value, str):
        return value
    if column.type == "datetime":
        return dt.datetime.fromisoformat(value)
    if column.type in ("date", "month"):
        return dt.date.fromisoformat(value[:10])
    if column.type == "time":
        return dt.time.fromisoformat(value)
    return value


def _next(values: list, value):
    """The value after `value` in `values`, cyclically (the first when `value` is not there)."""
    return values[(values.index(value) + 1) % len(values)] if value in values else values[0]


def _changed(value, column: Column, data: dict[str, list[dict]]):
    """Another valid value of `column`: the next enum value or referenced key, a later time, ..."""
    value = _parse(value, column)
    if column.enum:
        return _next(list(column.enum), value)
    if column.references:
        return _next([r[FEEDS[column.references].key[0]] for r in data[column.references]], value)
    if column.name == "case_id":
        return _next(sorted({r["case_id"] for r in data["transactions"]}), value)
    if column.type == "datetime":
        return (value or dt.datetime(2025, 10, 22, 10)) + dt.timedelta(days=1, hours=1)
    if column.type == "date":
        return (value or dt.date(2025, 10, 25)) + dt.timedelta(days=1)
    if column.type == "month":
        return (value or dt.date(2025, 10, 1)).replace(month=(value or dt.date(2025, 10, 1)).month % 12 + 1)
    if column.type == "time":
        return (dt.datetime.combine(dt.date(2025, 1, 1), value or dt.time(9)) + dt.timedelta(minutes=30)).time()
    if column.type == "rating":
        return (value or 5) % 5 + 1
    if column.type == "int":
        return (value or 0) + 1
    if column.type == "float":
        return (value or 1.0) / 2
    if column.type == "bool":
        return not value
    return f"{value or column.name}′"


def _landed(feed: str) -> dict[str, Column]:
    """The landed columns of a feed (PII hashes by their landed name) with their contract column."""
    out = {}
    for c in FEEDS[feed].columns:
        if c.pii == "drop":
            continue
        out[f"{c.name}_hmac" if c.pii == "hash" else c.name] = c
    assert list(out) == FEEDS[feed].landed_columns()
    return out


def _deliver(home: Home, data: dict[str, list[dict]], feed: str, columns: set[str]) -> set[str]:
    """One delivery of `feed` changing `columns` of every current row of a reference feed (a new
    snapshot), or of the first row of an event feed (the same id, recorded later, so it wins), plus,
    when a key column is among them, one row under a new key. Updates `data` to what is now
    current; returns the columns changed."""
    landed = _landed(feed)
    key = set(FEEDS[feed].key)
    rows = []
    for row in data[feed] if FEEDS[feed].kind == "reference" else data[feed][:1]:
        new = dict(row)
        for name in columns - key:
            new[name] = _changed(row.get(name), landed[name], data)
        if FEEDS[feed].kind == "event":  # recorded later than the landed version: an update
            time_column = FEEDS[feed].time_column
            landed_at = (_parse(row["recorded_at"], landed["recorded_at"]) if row.get("recorded_at")
                         else _parse(row[time_column], landed[time_column]))
            if not isinstance(landed_at, dt.datetime):  # a dated feed (work_date): its midnight, as ingest has it
                landed_at = dt.datetime.combine(landed_at, dt.time())
            new["recorded_at"] = landed_at + dt.timedelta(days=30)
        rows.append(new)
    if columns & key:
        extra = dict(rows[0])
        for name in columns & key:
            extra[name] = _changed(rows[0].get(name), landed[name], data)
        rows.append(extra)
    write_landing(home, feed, rows)
    by_key = {tuple(r[k] for k in FEEDS[feed].key): r for r in [*data[feed], *rows]}
    data[feed] = list(by_key.values())
    return set(columns)


def _scoring_file(path: Path, changes: dict[tuple[str, ...], object], base: Path = DEFAULT_SCORING) -> Path:
    doc = yaml.safe_load(base.read_text(encoding="utf-8"))
    for keys, value in changes.items():
        node = doc
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# Every scoring var but the tracked ones (the test checks that with Scoring.dbt_vars()).
UNTRACKED_SCORING = {
    ("off_book", "backfill_hours"): 12, ("off_book", "instant_minutes"): 20,
    ("off_book", "instant_min_promised_limit"): 2, ("off_book", "volume_gap_ratio"): 1.05,
    ("off_book", "default_hall_hours"): {"workday": {"open": "08:00:00", "close": "17:30:00"},
                                         "non_workday": {"open": "09:00:00", "close": "12:00:00"}},
    ("off_book", "reaccept_days"): 5, ("off_book", "handover_minutes"): 30,
    ("satisfaction", "prior_weight"): 10,
    ("rating_integrity", "ri_burst_count"): 4, ("rating_integrity", "ri_burst_minutes"): 5,
    ("rating_integrity", "ri_service_minutes"): 20, ("rating_integrity", "ri_min_ratings"): 30,
    ("rating_integrity", "ri_p_value"): 0.01, ("rating_integrity", "deduct_rating_signal"): 0.5,
    ("score", "weights"): {"T": 0.20, "S": 0.35, "D": 0.10, "I": 0.20, "R": 0.15},
    ("score", "discipline_penalty_per_flag"): 0.2, ("score", "off_book_penalty"): 4,
    ("score", "min_completed_cases"): 1, ("score", "stars"): [96, 91, 86, 81],
    ("score", "red_flag_share"): 0.2, ("score", "red_flag_min_stars"): 3, ("score", "bottom_share"): 0.1,
    # read by no incremental model (the hall, deduction and supervision models are rebuilt in full every run)
    ("hall", "late_grace_minutes"): 15, ("hall", "deduct_absent_day"): 2, ("hall", "deduct_late"): 1,
    ("hall", "deduct_substantiated_complaint"): 3, ("hall", "queue_add_p90_minutes"): 20,
    ("hall", "queue_merge_per_hour"): 3, ("hall", "queue_merge_p90_minutes"): 15, ("hall", "spot_checks_per_day"): 2,
    ("supervision", "deduct_late_ack"): 2,
}
TRACKED_SCORING = {("timeliness", "yellow_workdays"): 3, ("satisfaction", "rectify_workdays"): 10,
                   ("timeliness", "supplement_notice_workdays"): 1, ("timeliness", "pause_reasons_allowed"): ["hearing"],
                   ("timeliness", "pause_without_reason"): "ignore", ("timeliness", "max_extension_days"): 1,
                   ("satisfaction", "verify_workdays"): 2, ("satisfaction", "callback_workdays"): 3,
                   ("timeliness", "deliver_limit_workdays"): 1}


def _build(home: Home, as_of: str, scoring: Path | None):
    result = build(home, as_of=as_of, scoring_path=scoring, exclude=NO_TESTS)
    assert result.success, result.summary()
    return result


def _assert_round(home: Home, as_of: str, scoring: Path | None, rebuilt_in_full: set[str]) -> None:
    """After a round's deliveries: the incremental build rebuilt in full exactly the models that
    declare what changed, and every mart (and case table) equals a full build."""
    status = {n.name: n.status for n in _build(home, as_of, scoring).nodes}
    for model in INCREMENTAL_MODELS:
        if status[model] == "reused":  # nothing it reads changed (windowwatch/unchanged_nodes.py)
            assert model not in rebuilt_in_full, f"{model}: kept although an input it declares changed"
            continue
        marker = "scope" if model == EVALUATION_MODEL else "__recompute"
        ran_incrementally = marker in _compiled(home, model)
        assert ran_incrementally != (model in rebuilt_in_full), (
            f"{model}: {'rebuilt in full' if not ran_incrementally else 'incremental'} although it "
            f"{'does not declare' if model not in rebuilt_in_full else 'declares'} an input this round changed")
    _assert_equals_full_build(home, as_of, scoring_path=scoring, exclude=NO_TESTS)


@pytest.mark.slow  # make test-slow (CI time: seven full-project builds, 240-540 s on the shared 2-core machine, session 10)
def test_every_rule_input_is_tracked(ww_home, tmp_path):
    home = Home(ww_home)
    data = _base_dataset()
    write_dataset(home, data)
    _build(home, "2025-10-24", None)
    before = _mart_hashes(home)

    # 1. every column and var not declared, the as-of date, and one re-delivered row per event feed
    changed = {feed: _deliver(home, data, feed, set(_landed(feed)) - _tracked(feed)) for feed in FEEDS}
    assert all(changed[feed] | _tracked(feed) == set(_landed(feed)) for feed in FEEDS)
    untracked = _scoring_file(tmp_path / "untracked.yaml", UNTRACKED_SCORING)
    default_vars, untracked_vars = load_scoring(DEFAULT_SCORING).dbt_vars(), load_scoring(untracked).dbt_vars()
    assert {k for k in default_vars if default_vars[k] != untracked_vars[k]} == set(default_vars) - TRACKED["vars"][0]["scoring"]
    _assert_round(home, "2025-10-29", untracked, rebuilt_in_full=set())
    after = _mart_hashes(home)
    assert {"fct_case", "fct_evaluation", "fct_window_month", "fct_off_book_signal", "fct_attendance_day",
            "fct_queue_month", "fct_work_order", "fct_inspection"} <= {t for t in after if after[t] != before[t]}

    # 2. one round per declared part
    for part in ("references", "calendar", "step_limits"):
        columns, models = TRACKED[part]
        for feed, names in columns.items():
            _deliver(home, data, feed, names)
        _assert_round(home, "2025-10-29", untracked, rebuilt_in_full=models)
    tracked = _scoring_file(tmp_path / "tracked.yaml", TRACKED_SCORING, base=untracked)
    tracked_vars = load_scoring(tracked).dbt_vars()
    assert {k for k in tracked_vars if tracked_vars[k] != untracked_vars[k]} == TRACKED["vars"][0]["scoring"]
    _assert_round(home, "2025-10-29", tracked, rebuilt_in_full=TRACKED["vars"][1])

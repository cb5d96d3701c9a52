"""SPEC v2 §4.10 work orders (12345 / 办不成事), inspections (明察暗访) and the 一日三查 spot-check
schedule, with their §4.6 deduction sources (docs/rules.md#work-orders, #inspections, #spot-checks,
#deductions), end to end: the generated small centre plus hand-written work_orders and inspections
deliveries (Chinese enum values and 是/否 included) → the real ingest → dbt → fct_work_order,
fct_inspection, fct_spot_check_day, the window/department month figures, the deduction models → the
marts gate. And the optional feeds never delivered: every one of them empty, the build green."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import duckdb
import pytest

from core.paths import Home
from tests.support.inbox import write_csv
from tests.support.landing import write_dataset
from tests.support.warehouse import warehouse_rows
from windowwatch.transform import build

W001, W002, W006, W010 = "370100W001", "370100W002", "370100W006", "370100W010"  # D01, D01, D02, D03
CENTRE = "C370100"
OCT, SEP = dt.date(2026, 10, 1), dt.date(2026, 9, 1)

WORK_ORDERS = [
    ["order_id", "channel", "category", "received_at", "department_id", "window_id", "due_at", "responded_at",
     "closed_at", "substantiated", "requester_satisfaction", "content"],
    # closed exactly at due_at: on time; substantiated (是): a 2-point deduction at W001
    ["WO1", "12345热线", "投诉", "2026-10-09 10:00:00", "", W001, "2026-10-16 17:00:00", "2026-10-10 09:00:00",
     "2026-10-16 17:00:00", "是", "满意", "反映窗口态度差，联系电话13812345678"],
    # one second late; substantiated not decided yet
    ["WO2", "办不成事", "complaint", "2026-10-09 11:00:00", "", W001, "2026-10-16 17:00:00", "",
     "2026-10-16 17:00:01", "", "不满意", "材料反复补正"],
    # due after the as-of date, still open: no verdict yet
    ["WO3", "hotline_12345", "consultation", "2026-10-20 09:00:00", "", W001, "2026-11-06 17:00:00", "", "", "",
     "basically_satisfied", "咨询办理时间"],
    # no window: the order's own department; substantiated but deducts from no window
    ["WO4", "mailbox", "complaint", "2026-10-12 09:00:00", "370100D02", "", "2026-10-19 17:00:00", "",
     "2026-10-19 10:00:00", "true", "", "信箱投诉"],
    # received in September, due in October and never closed: October's only due order of W010, late
    ["WO5", "other", "complaint", "2026-09-28 09:00:00", "", W010, "2026-10-12 17:00:00", "", "", "false", "",
     "未按时答复"],
]

INSPECTIONS = [
    ["inspection_id", "inspector_id", "center_id", "window_id", "inspected_at", "method", "finding", "deduction",
     "note"],
    # Fri 10-09: three video spot checks (one hall-wide) → met
    ["IN1", "INS1", CENTRE, W001, "2026-10-09 09:10:00", "视频抽查", "无问题", "0", ""],
    ["IN2", "INS1", CENTRE, W002, "2026-10-09 10:10:00", "video_spot", "absent", "1.5", "窗口无人"],
    ["IN3", "INS1", CENTRE, "", "2026-10-09 11:10:00", "video_spot", "environment", "5", "大厅地面湿滑"],
    # Mon 10-12: two video spot checks and one on site → 2 of 3, not met; IN4 takes its window's centre
    ["IN4", "INS2", "", W001, "2026-10-12 09:00:00", "video_spot", "none", "0", ""],
    ["IN5", "INS2", CENTRE, W006, "2026-10-12 10:00:00", "video_spot", "discipline", "1", "玩手机"],
    ["IN6", "INS3", CENTRE, W001, "2026-10-12 15:00:00", "现场检查", "态度", "2", "态度生硬"],
    # Sat 10-03, National Day holiday: no spot-check day
    ["IN7", "INS3", CENTRE, W001, "2026-10-03 10:00:00", "video_spot", "none", "0", ""],
]

# October 2026 working days (国务院办公厅: National Day 10-01..10-07 off, Saturday 10-10 a make-up day);
# the as-of date 10-31 is a Saturday
OCTOBER_WORKDAYS = [dt.date(2026, 10, d)
                    for d in (8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30)]


@pytest.fixture(scope="module")
def hall_home(tmp_path_factory) -> Home:
    """generate small → replace its work_orders / inspections with the deliveries above → ingest → build."""
    from core.config import load_sources
    from ingest.run import ingest_all
    from windowwatch.generate.dataset import generate

    root = tmp_path_factory.mktemp("hall_orders")
    feeds = root / "feeds"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
        truth = generate(feeds, scale="small", seed=1, progress=False)
        assert truth["as_of"] == "2026-10-31"
        for feed in ("work_orders", "inspections"):
            shutil.rmtree(feeds / feed, ignore_errors=True)
        write_csv(feeds / "work_orders" / "orders.csv", WORK_ORDERS)
        write_csv(feeds / "inspections" / "inspections.csv", INSPECTIONS)
        home = Home(root / "home")
        mp.setenv("WINDOWWATCH_HOME", str(home.root))
        report = ingest_all(home, load_sources(), inbox=feeds)
        by_feed = report.by_feed()
        assert by_feed["work_orders"]["landed"] == 5 and by_feed["inspections"]["landed"] == 7, by_feed
        result = build(home, as_of=truth["as_of"], exclude="resource_type:unit_test")
    assert result.success, result.summary()
    return home


def _by(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def test_fct_work_order_department_and_on_time(hall_home):
    orders = _by(warehouse_rows(hall_home, "select * from marts.fct_work_order"), "order_id")
    assert set(orders) == {"WO1", "WO2", "WO3", "WO4", "WO5"}
    wo1 = orders["WO1"]
    assert (wo1["channel"], wo1["category"], wo1["substantiated"], wo1["requester_satisfaction"]) == (
        "hotline_12345", "complaint", True, "satisfied")
    assert "13812345678" not in wo1["content"] and wo1["content"].startswith("反映窗口态度差")  # scrubbed at ingest
    verdicts = {k: (r["department_id"], r["month"], r["due_month"], r["is_closed_on_time"]) for k, r in orders.items()}
    assert verdicts == {
        "WO1": ("370100D01", OCT, OCT, True),  # closed exactly at due_at; department of its window
        "WO2": ("370100D01", OCT, OCT, False),  # one second late
        "WO3": ("370100D01", OCT, dt.date(2026, 11, 1), None),  # still running
        "WO4": ("370100D02", OCT, OCT, True),  # the order's own department
        "WO5": ("370100D03", SEP, OCT, False),  # not closed, due before the as-of date
    }
    assert sorted(k for k, r in orders.items() if r["is_substantiated_complaint"]) == ["WO1", "WO4"]


def test_work_order_window_and_department_months(hall_home):
    w = _by(warehouse_rows(hall_home, "select * from intermediate.int_hall__work_orders_window_month"),
            "window_id", "month")
    assert set(w) == {(W001, OCT), (W010, SEP), (W010, OCT)}
    w001 = w[(W001, OCT)]
    assert (w001["work_orders"], w001["complaints"], w001["substantiated_complaints"]) == (3, 2, 1)
    assert w001["work_orders_closed_on_time_rate"] == 0.5  # WO1 on time, WO2 late, WO3 not due yet
    assert math.isclose(w001["requester_satisfaction_rate"], 1 / 3)  # 满意 / (满意, 不满意, 基本满意)
    # September: received, nothing due → 1.0; October: only due, and late
    assert [(w[(W010, m)]["work_orders"], w[(W010, m)]["work_orders_closed_on_time_rate"],
             w[(W010, m)]["requester_satisfaction_rate"]) for m in (SEP, OCT)] == [(1, 1.0, None), (0, 0.0, None)]
    d = _by(warehouse_rows(hall_home, "select * from intermediate.int_hall__work_orders_department_month"),
            "department_id", "month")
    assert set(d) == {("370100D01", OCT), ("370100D02", OCT), ("370100D03", SEP), ("370100D03", OCT)}
    assert {k: v for k, v in d[("370100D01", OCT)].items() if k != "department_id"} == {
        k: v for k, v in w001.items() if k != "window_id"}
    d02 = d[("370100D02", OCT)]
    assert (d02["work_orders"], d02["substantiated_complaints"], d02["work_orders_closed_on_time_rate"]) == (1, 1, 1.0)


def test_inspections_and_their_month_figures(hall_home):
    rows = _by(warehouse_rows(hall_home, "select * from marts.fct_inspection"), "inspection_id")
    assert set(rows) == {f"IN{n}" for n in range(1, 8)}
    assert (rows["IN3"]["window_id"], rows["IN3"]["department_id"], rows["IN3"]["center_id"]) == (None, None, CENTRE)
    assert (rows["IN4"]["center_id"], rows["IN4"]["department_id"]) == (CENTRE, "370100D01")
    assert (rows["IN1"]["method"], rows["IN1"]["finding"], rows["IN1"]["has_finding"]) == ("video_spot", "none", False)
    assert (rows["IN6"]["method"], rows["IN6"]["finding"], rows["IN6"]["deduction"]) == ("on_site", "attitude", 2.0)
    w = {(r["window_id"], r["month"]): (r["inspections"], r["inspection_findings"], r["deduction_points"])
         for r in warehouse_rows(hall_home, "select * from intermediate.int_hall__inspections_window_month")}
    assert w == {(W001, OCT): (4, 1, 2.0), (W002, OCT): (1, 1, 1.5), (W006, OCT): (1, 1, 1.0)}
    d = {(r["department_id"], r["month"]): (r["inspections"], r["inspection_findings"], r["deduction_points"])
         for r in warehouse_rows(hall_home, "select * from intermediate.int_hall__inspections_department_month")}
    # the hall-wide IN3 (5 points) is in no window's nor department's figures
    assert d == {("370100D01", OCT): (5, 2, 3.5), ("370100D02", OCT): (1, 1, 1.0)}


def test_spot_check_days_one_a_working_day(hall_home):
    rows = warehouse_rows(hall_home, "select * from marts.fct_spot_check_day order by center_id, date")
    assert {r["center_id"] for r in rows} == {CENTRE}
    assert [r["date"] for r in rows] == OCTOBER_WORKDAYS  # no September row: no inspection then; 10-03 is off
    days = {r["date"]: (r["done"], r["required"], r["met"]) for r in rows}
    assert days[dt.date(2026, 10, 9)] == (3, 3, True)  # the hall-wide check counts
    assert days[dt.date(2026, 10, 12)] == (2, 3, False)  # the on-site check does not
    assert all(v == (0, 3, False) for k, v in days.items() if k.day not in (9, 12))


def test_deductions_of_complaints_and_inspections(hall_home):
    complaint = warehouse_rows(hall_home, "select * from intermediate.int_scoring__deductions_complaint")
    assert complaint == [{"month": OCT, "window_id": W001, "source": "complaint", "ref_id": "WO1", "points": 2.0,
                          "reason": "查实投诉：12345热线工单，受理于 2026-10-09 10:00:00"}]
    inspection = _by(
        warehouse_rows(hall_home, "select * from intermediate.int_scoring__deductions_inspection"), "ref_id")
    assert {k: (r["window_id"], r["month"], r["points"]) for k, r in inspection.items()} == {
        "IN2": (W002, OCT, 1.5), "IN5": (W006, OCT, 1.0), "IN6": (W001, OCT, 2.0)}  # not the hall-wide IN3
    assert inspection["IN6"]["reason"] == "现场检查 2026-10-12 15:00:00，发现：态度；备注：态度生硬"
    assert all(r["source"] == "inspection" for r in inspection.values())
    # both sources reach the published list of deductions (int_scoring__window_deductions unions them)
    published = {(r["source"], r["ref_id"], r["window_id"], r["points"]) for r in warehouse_rows(
        hall_home, "select * from marts.fct_window_deduction where source in ('complaint', 'inspection')")}
    assert published == {("complaint", "WO1", W001, 2.0), ("inspection", "IN2", W002, 1.5),
                         ("inspection", "IN5", W006, 1.0), ("inspection", "IN6", W001, 2.0)}


def test_the_marts_gate_checks_them_and_catches_breakage(hall_home, tmp_path):
    from expectations.gx_run import GateResult, duckdb_config, run_sql_gate
    from expectations.marts import work_order_inspection_suites

    suites = work_order_inspection_suites()
    names = {s.name for s in suites}
    config = duckdb_config(hall_home.landing.parent, threads=1)
    gate = GateResult(gate="marts", success=True)
    run_sql_gate(gate, hall_home.warehouse, suites, tmp_path / "docs_ok", duckdb_config=config)
    assert gate.success and not gate.failures, gate.summary()
    assert gate.suites == len(names)

    broken = tmp_path / "broken.duckdb"
    shutil.copy(hall_home.warehouse, broken)
    con = duckdb.connect(str(broken))
    try:
        con.execute("insert into marts.fct_spot_check_day select center_id, date, 9, 3, false "
                    "from marts.fct_spot_check_day limit 1")
        con.execute("update intermediate.int_hall__work_orders_window_month set requester_satisfaction_rate = 1.5")
        con.execute("update marts.fct_inspection set deduction = -1 where inspection_id = 'IN1'")
        con.execute("update intermediate.int_scoring__deductions_complaint set points = 0")
    finally:
        con.close()
    gate = GateResult(gate="marts", success=True)
    # GE binds each expectation to the suite that ran it: a second gate needs the suites anew
    run_sql_gate(gate, broken, work_order_inspection_suites(), tmp_path / "docs_broken", duckdb_config=config)
    assert not gate.success
    assert {f.suite for f in gate.critical} == {
        "marts.fct_spot_check_day.critical", "marts.work_orders_window_month.critical",
        "marts.fct_inspection.critical", "marts.deductions_complaint.critical"}


@pytest.fixture(scope="module")
def silent_home(tmp_path_factory) -> Home:
    """The optional feeds never delivered: the small hand-made landing of tests/support/landing.py."""
    home = Home(tmp_path_factory.mktemp("hall_orders_silent").resolve())
    home.ensure()
    write_dataset(home)
    result = build(home, as_of="2025-10-31", exclude="resource_type:unit_test", select=[
        "+fct_work_order", "+fct_inspection", "+fct_spot_check_day", "+int_hall__work_orders_window_month",
        "+int_hall__work_orders_department_month", "+int_hall__inspections_window_month",
        "+int_hall__inspections_department_month", "+int_scoring__deductions_complaint",
        "+int_scoring__deductions_inspection"])
    assert result.success, result.summary()
    built = {n.name for n in result.nodes if n.resource_type == "model" and n.status == "success"}
    assert {"fct_work_order", "fct_inspection", "fct_spot_check_day"} <= built
    return home


def test_nothing_delivered_leaves_everything_empty(silent_home):
    for relation in ("marts.fct_work_order", "marts.fct_inspection", "marts.fct_spot_check_day",
                     "intermediate.int_hall__work_orders_window_month",
                     "intermediate.int_hall__work_orders_department_month",
                     "intermediate.int_hall__inspections_window_month",
                     "intermediate.int_hall__inspections_department_month",
                     "intermediate.int_scoring__deductions_complaint",
                     "intermediate.int_scoring__deductions_inspection"):
        assert warehouse_rows(silent_home, f"select count(*) as n from {relation}") == [{"n": 0}], relation
    # the landing it was built on does hold windows: the emptiness is the feeds', not the build's
    windows = warehouse_rows(silent_home, "select count(*) as n from intermediate.int_reference__window_versions")
    assert windows[0]["n"] > 0

"""排队叫号 and 窗口动态增减 end to end (SPEC v2 §4.10; docs/rules.md#queue, #window-adjustment): the generated
small centre (its own queue tickets left out), ingested for real, built without any queue delivery (the
optional feed is silent: empty marts, a green build), then a hand-written queue_tickets delivery with
Chinese headers and status words dropped into the inbox, ingested and built again.

As of 2026-10-31. October 2026 has 18 working days (国庆 1–7 Oct, 调休 Sat 10 Oct) and the centre opens
08:30–18:00 on them, so a window is open 18 × 9.5 = 171 hours that month."""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from dataclasses import dataclass

import pytest

from tests.support.warehouse import warehouse_rows

SELECT = ("+fct_window_adjustment +fct_queue_month +int_hall__queue_window_month "
          "+int_hall__queue_department_month")
W1, W3, W4 = "370100W001", "370100W003", "370100W004"
HEADER = ["取号编号", "中心编码", "业务类型", "窗口编号", "取号时间", "叫号时间", "开始办理时间", "办理结束时间", "状态"]
OPEN_HOURS = 18 * 9.5


def _text(t: dt.datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _tickets() -> list[list[str]]:
    rows: list[list[str]] = []
    start = dt.datetime(2026, 10, 13, 9, 0)

    def ticket(business_type: str, window: str | None, wait_minutes: float | None, status: str = "已办理") -> None:
        n = len(rows) + 1
        issued = start + dt.timedelta(minutes=3 * n)
        called = issued + dt.timedelta(minutes=wait_minutes) if wait_minutes is not None else None
        served = called + dt.timedelta(seconds=30) if called and status == "已办理" else None
        finished = served + dt.timedelta(minutes=5) if served else None
        rows.append([f"QT{n:03d}", "C370100", business_type, window or "", _text(issued), _text(called),
                     _text(served), _text(finished), status])

    # 不动产登记 at W1: 8 waits of 20 min, 31, 45 → p90 31 > 30: +1; one 过号
    for wait in [20] * 8 + [31, 45]:
        ticket("不动产登记", W1, wait)
    ticket("不动产登记", W1, 15, "过号")
    # 社保业务 at W3: 8 waits of 10 min, 30, 60 → p90 exactly 30 (an interpolated p90 would say 33): 0
    for wait in [10] * 8 + [30, 60]:
        ticket("社保业务", W3, wait)
    # 公积金 at W1 and W3: 4 served in 342 open window-hours, 2-min waits: −1; a cancelled ticket nobody called
    for window in (W1, W1, W3, W3):
        ticket("公积金", window, 2)
    ticket("公积金", None, None, "取消")
    # 税务 at W4 alone, idle: a single window is never merged: 0
    ticket("税务", W4, 1)
    ticket("税务", W4, 1)
    return rows


@dataclass(frozen=True)
class QueueWorld:
    home: object
    empty_build: object
    empty_rows: dict[str, int]
    queue_landed: int
    build: object


@pytest.fixture(scope="module")
def queue_world(tmp_path_factory) -> QueueWorld:
    from core.config import load_sources
    from core.paths import Home
    from ingest.run import ingest_all
    from windowwatch.generate.dataset import generate
    from windowwatch.transform import build

    root = tmp_path_factory.mktemp("hall_queue").resolve()
    mp = pytest.MonkeyPatch()
    mp.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    try:
        feeds = root / "feeds"
        truth = generate(feeds, scale="small", seed=1, progress=False)
        assert truth["as_of"] == "2026-10-31"
        shutil.rmtree(feeds / "queue_tickets", ignore_errors=True)  # only the hand-written delivery below
        home = Home(root / "home")
        mp.setenv("WINDOWWATCH_HOME", str(home.root))
        report = ingest_all(home, load_sources(), inbox=feeds)
        assert report.by_feed()["transactions"]["landed"] > 0
        assert report.by_feed().get("queue_tickets", {}).get("landed", 0) == 0

        empty_build = build(home, as_of=truth["as_of"], select=SELECT)
        empty_rows = {
            t: warehouse_rows(home, f"select count(*) as n from {t}")[0]["n"]
            for t in ("marts.fct_queue_month", "marts.fct_window_adjustment",
                      "intermediate.int_hall__queue_window_month", "intermediate.int_hall__queue_department_month")
        } if empty_build.success else {}

        (feeds / "queue_tickets").mkdir()
        with open(feeds / "queue_tickets" / "2026-10-hand.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            w.writerows(_tickets())
        again = ingest_all(home, load_sources(), inbox=feeds)
        queue_landed = again.by_feed().get("queue_tickets", {}).get("landed", 0)
        result = build(home, as_of=truth["as_of"], select=SELECT)
    finally:
        mp.undo()
    return QueueWorld(home, empty_build, empty_rows, queue_landed, result)


def test_without_a_queue_delivery_the_build_succeeds_and_the_marts_are_empty(queue_world):
    assert queue_world.empty_build.success, queue_world.empty_build.summary()
    assert queue_world.empty_rows == {
        "marts.fct_queue_month": 0, "marts.fct_window_adjustment": 0,
        "intermediate.int_hall__queue_window_month": 0, "intermediate.int_hall__queue_department_month": 0}


def test_window_adjustment_proposals_and_evidence(queue_world):
    assert queue_world.queue_landed == 28
    assert queue_world.build.success, queue_world.build.summary()
    rows = {r["business_type"]: r for r in warehouse_rows(
        queue_world.home, "select * from marts.fct_window_adjustment where month = date '2026-10-01'")}
    assert set(rows) == {"不动产登记", "社保业务", "公积金", "税务"}
    assert {k: r["proposal"] for k, r in rows.items()} == {"不动产登记": 1, "社保业务": 0, "公积金": -1, "税务": 0}
    assert rows["不动产登记"]["evidence"] == (
        "增设窗口：90%等候 31.0 分钟，超过 30 分钟；本月取号 11 张，办理 10 张，1 个窗口办理，共开放 171.0 小时")
    assert rows["公积金"]["evidence"] == (
        "合并窗口：2 个窗口每开放小时办理 0.01 张，低于 2 张；90%等候 2.0 分钟，低于 10 分钟；"
        "本月取号 5 张，办理 4 张，2 个窗口办理，共开放 342.0 小时")
    edge = rows["社保业务"]
    assert (edge["p90_wait_minutes"], edge["current_windows"], edge["tickets"]) == (30.0, 1, 10)
    assert edge["evidence"].startswith("维持：90%等候 30.0 分钟，每开放小时办理 0.06 张；")
    assert math.isclose(rows["公积金"]["served_per_window_hour"], 4 / (2 * OPEN_HOURS))
    assert (rows["税务"]["current_windows"], rows["税务"]["p90_wait_minutes"]) == (1, 1.0)


def test_queue_month_figures_per_window_and_department(queue_world):
    w1 = warehouse_rows(queue_world.home, "select * from marts.fct_queue_month "
                                          f"where scope = 'window' and window_id = '{W1}'")
    assert len(w1) == 1
    w1 = w1[0]
    # 11 不动产登记 + 2 公积金; waits 2, 2, 20 × 8, 31, 45 (the 过号 has none): p90 the 11th of 12
    assert (w1["month"], w1["department_id"], w1["business_type"]) == (dt.date(2026, 10, 1), "370100D01", None)
    assert (w1["tickets"], w1["served"], w1["no_shows"], w1["cancelled"]) == (13, 12, 1, 0)
    assert (w1["p90_wait_minutes"], w1["avg_wait_minutes"], w1["avg_service_minutes"]) == (31.0, 20.0, 5.0)
    assert math.isclose(w1["no_show_rate"], 1 / 13)
    # the cancelled 公积金 ticket counts in its business type, out of the 过号率 denominator
    gjj = warehouse_rows(queue_world.home, "select * from marts.fct_queue_month "
                                           "where scope = 'business_type' and business_type = '公积金'")[0]
    assert (gjj["tickets"], gjj["cancelled"], gjj["no_show_rate"], gjj["window_id"]) == (5, 1, 0.0, None)
    windows = {r["window_id"]: r for r in warehouse_rows(
        queue_world.home, "select * from intermediate.int_hall__queue_window_month")}
    assert set(windows) == {W1, W3, W4}  # only the windows the delivery covers
    assert windows[W3]["p90_wait_minutes"] == 30.0  # W3: 2, 2, 10 × 8, 30, 60 → the 11th of 12
    dept = warehouse_rows(queue_world.home, "select * from intermediate.int_hall__queue_department_month")
    assert [(d["department_id"], d["tickets"], d["served"]) for d in dept] == [("370100D01", 27, 26)]
    assert math.isclose(dept[0]["no_show_rate"], 1 / 27)

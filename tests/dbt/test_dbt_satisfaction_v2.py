"""SPEC v2 §4.4 好差评 (issue 17; docs/rules.md#default-ratings, #appeals, #verification, #callback,
#active-evaluation-rate), end to end: landing → dbt → fct_evaluation, fct_window_month,
fct_department_month → the marts gate. And the v1 figures unchanged on data with no default ratings and
no appeals (tests/data/v1_satisfaction/README.md says where they come from)."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from core.feeds import FEEDS
from core.paths import Home
from tests.support import v1_figures
from tests.support.landing import ITEMS, WINDOWS, case_events, default_dataset, write_landing
from tests.support.warehouse import warehouse_rows
from windowwatch.transform import build

AS_OF = "2025-11-28"  # Fri; November 2025 has no holiday
V2_SUITES = {"marts.fct_evaluation_v2.critical", "marts.fct_window_month_satisfaction_v2.critical",
             "marts.fct_window_month.critical", "marts.fct_department_month.critical"}


def _evaluations() -> list[dict]:
    def ev(i, case_id, rating, channel, evaluated_at, **more):
        return {"evaluation_id": i, "case_id": case_id, "window_id": "W01", "staff_id": "SW01", "rating": rating,
                "channel": channel, "evaluated_at": evaluated_at, "round": 1, **more}

    return [
        ev("E1", "K1", 5, "pad", "2025-11-05 11:00:00", device_id="PAD-01", is_real_name=True),
        ev("E2", "K2", 3, "default", "2025-11-10 00:00:00"),  # 系统默认评价: K2 has no active evaluation
        ev("E3", "K3", 2, "pad", "2025-11-03 11:00:00", is_real_name=True, verified_at="2025-11-05 10:00:00",
           verdict="valid", rectified_at="2025-11-07 15:00:00", callback_at="2025-11-14 10:00:00",
           callback_result="satisfied"),
        # verified a day late (deadline Thu 11-06), then overturned on appeal: not bad
        ev("E4", None, 1, "mobile", "2025-11-03 12:00:00", is_real_name=True, verified_at="2025-11-07 10:00:00",
           verdict="valid", appeal_at="2025-11-10 10:00:00", appeal_result="overturned"),
        # rectified, called back late (deadline Wed 11-12), and the applicant unsatisfied: 发回重办
        ev("E5", None, 2, "pad", "2025-11-03 13:00:00", is_real_name=True, verified_at="2025-11-04 10:00:00",
           verdict="valid", rectified_at="2025-11-05 10:00:00", callback_at="2025-11-17 10:00:00",
           callback_result="unsatisfied"),
        ev("E6", "K4", 4, "default", "2025-11-14 00:00:00"),  # a default 满意 besides ...
        ev("E7", "K4", 3, "qr", "2025-11-07 18:00:00"),  # ... K4's own rating
    ]


@pytest.fixture(scope="module")
def v2_home(tmp_path_factory) -> Home:
    home = Home(tmp_path_factory.mktemp("satisfaction_v2").resolve())
    home.ensure()
    data = default_dataset()
    write_landing(home, "windows", WINDOWS)
    write_landing(home, "items", ITEMS)
    write_landing(home, "staff", data["staff"])
    tx = []
    for n, done in enumerate(("2025-11-05", "2025-11-06", "2025-11-07", "2025-11-07"), start=1):
        tx += case_events(f"K{n}", [("accept", "2025-11-03 10:00:00"), ("complete", f"{done} 16:00:00")], "W01")
    write_landing(home, "transactions", tx)
    write_landing(home, "evaluations", _evaluations())
    result = build(home, as_of=AS_OF, warehouse=home.warehouse, exclude="resource_type:unit_test")
    assert result.success, result.summary()
    return home


def test_fct_evaluation_carries_the_v2_rules(v2_home):
    rows = {r["evaluation_id"]: r for r in warehouse_rows(v2_home, "select * from marts.fct_evaluation")}
    eod = lambda d: dt.datetime.fromisoformat(f"{d} 23:59:59")  # noqa: E731
    assert rows["E1"]["device_id"] == "PAD-01" and rows["E1"]["is_good"] and not rows["E1"]["is_default"]
    assert (rows["E2"]["is_default"], rows["E2"]["is_good"], rows["E2"]["is_bad"]) == (True, False, False)
    assert (rows["E6"]["is_default"], rows["E6"]["is_good"]) == (True, False)  # a default 满意 is no 好评
    e4 = rows["E4"]
    assert (e4["is_overturned"], e4["is_bad"], e4["needs_rectification"], e4["needs_callback"]) == (True, False, False, False)
    assert (e4["verification_deadline"], e4["is_verified_on_time"], e4["appeal_result"]) == (eod("2025-11-06"), False, "overturned")
    e3, e5 = rows["E3"], rows["E5"]
    assert (e3["verification_deadline"], e3["is_verified_on_time"]) == (eod("2025-11-06"), True)
    assert (e3["callback_deadline"], e3["is_called_back_on_time"], e3["is_rectified_on_time"]) == (eod("2025-11-14"), True, True)
    assert (e5["callback_deadline"], e5["is_called_back_on_time"]) == (eod("2025-11-12"), False)
    # 发回重办: rectified on 11-05 but sent back, so not rectified, and late (deadline 11-24 < the as-of date)
    assert (e5["rectification_deadline"], e5["is_rectified_on_time"], e5["is_rectification_late"]) == (
        eod("2025-11-24"), False, True)
    assert all(rows[i]["callback_deadline"] is None for i in ("E1", "E2", "E4", "E6", "E7"))


def test_window_and_department_months_count_the_v2_rules(v2_home):
    w = {r["window_id"]: r for r in warehouse_rows(
        v2_home, "select * from marts.fct_window_month where month = date '2025-11-01'")}
    w01 = w["W01"]
    # E1, E3, E5, E7 count in satisfaction; E2, E6 (defaults) and E4 (overturned) do not
    assert (w01["evaluations"], w01["good_reviews"], w01["bad_reviews"]) == (4, 1, 2)
    assert (w01["default_ratings"], w01["appeals_overturned"]) == (2, 1)
    assert math.isclose(w01["satisfaction_rate"], 1 / 4)
    assert math.isclose(w01["adjusted_satisfaction"], 1 / 4)  # the centre's rate is W01's own: c = r
    assert (w01["rectification_due"], w01["rectification_rate"], w01["rectification_late"]) == (2, 0.5, 1)
    assert math.isclose(w01["verification_rate"], 2 / 3)  # E3, E5 on time, E4 a day late
    assert w01["callback_rate"] == 0.5  # E3 on time, E5 late
    assert (w01["evaluation_rate"], w01["active_evaluation_rate"]) == (1.0, 0.75)  # K2 rated by default only
    w02 = w["W02"]  # nothing due, nothing completed
    assert (w02["verification_rate"], w02["callback_rate"], w02["active_evaluation_rate"], w02["default_ratings"]) == (
        1.0, 1.0, None, 0)
    d01 = warehouse_rows(v2_home, "select * from marts.fct_department_month "
                                  "where month = date '2025-11-01' and department_id = 'D01'")[0]
    assert (d01["evaluations"], d01["default_ratings"], d01["appeals_overturned"]) == (4, 2, 1)
    assert math.isclose(d01["verification_rate"], 2 / 3) and d01["callback_rate"] == 0.5
    assert (d01["active_evaluation_rate"], d01["satisfaction_rate"]) == (0.75, 0.25)


def test_the_marts_gate_passes_the_v2_checks(v2_home):
    from expectations.marts import check_marts

    gate = check_marts(v2_home.warehouse, v2_home.landing, v2_home.data_docs / "marts")
    failed = {f.suite for f in gate.critical}
    assert not failed & V2_SUITES, gate.summary()


def test_v1_figures_unchanged_without_default_ratings_and_appeals(tmp_path):
    """The fixture (v1 landing of the generated small centre, no default rating, no v2 column) built
    with today's code gives the v1 code's satisfaction, rectification and evaluation figures."""
    evaluations = pl.read_parquet(v1_figures.DATA / "landing" / "evaluations.parquet")
    assert not set(evaluations.columns) & {"device_id", "appeal_at", "appeal_result", "callback_result"}
    assert "default" not in evaluations["channel"].to_list()
    assert evaluations.height > 10_000 and evaluations.filter(pl.col("rating") <= 2).height > 10
    assert set(FEEDS["evaluations"].by_name) >= {"device_id", "appeal_result"}  # today's contract is v2
    got = v1_figures.build_figures(tmp_path / "home")
    for name in ("window_month.csv", "department_month.csv", "evaluation.sha256"):
        expected = (v1_figures.DATA / name).read_text(encoding="utf-8")
        assert got[name] == expected, name

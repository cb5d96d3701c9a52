"""The marts gate's v2 好差评 checks (issue 17; docs/rules.md#default-ratings … #active-evaluation-rate):
consistent marts pass them (tests/expectations/test_gates.py::test_marts_gate_passes_consistent_marts);
each broken rule below fails exactly its own suite."""

from __future__ import annotations

import duckdb

from core.paths import Home
from expectations.marts import check_marts
from tests.expectations.test_gates import good_deliveries
from tests.support.marts import make_marts


def _gate_after(ww_home, *statements: str):
    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    for sql in statements:
        con.execute(sql)
    con.close()
    return check_marts(h.warehouse, h.landing, h.data_docs / "marts")


def test_an_overturned_review_still_bad_and_a_default_rating_to_verify_fail_the_gate(ww_home):
    gate = _gate_after(ww_home, "update marts.fct_evaluation set rating = 1, is_good = false, is_bad = true, "
                                "is_overturned = true")
    # ... and W01's month does not count that overturned review either
    assert {f.suite for f in gate.critical} == {"marts.fct_evaluation_v2.critical",
                                                "marts.fct_window_month_satisfaction_v2.critical"}, gate.summary()
    gate = _gate_after(ww_home, "update marts.fct_evaluation set is_good = false, is_default = true, needs_verification = true, "
                                "verification_deadline = timestamp '2025-10-06 23:59:59', is_verified_on_time = false")
    assert {f.suite for f in gate.critical} >= {"marts.fct_evaluation_v2.critical"}, gate.summary()


def test_v2_rates_out_of_range_or_counts_that_disagree_fail_the_gate(ww_home):
    gate = _gate_after(ww_home, "update marts.fct_window_month set callback_rate = 1.5 where window_id = 'W02'")
    assert {f.suite for f in gate.critical} == {"marts.fct_window_month.critical"}, gate.summary()
    gate = _gate_after(ww_home, "update marts.fct_department_month set active_evaluation_rate = -0.1")
    assert {f.suite for f in gate.critical} == {"marts.fct_department_month.critical"}, gate.summary()
    # a default rating fct_evaluation does not have, or a rate left null
    gate = _gate_after(ww_home, "update marts.fct_window_month set default_ratings = 2 where window_id = 'W01'",
                       "update marts.fct_window_month set verification_rate = null where window_id = 'W03'")
    assert {f.suite for f in gate.critical} == {"marts.fct_window_month_satisfaction_v2.critical"}, gate.summary()

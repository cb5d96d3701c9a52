"""The marts gate on fct_rating_signal (SPEC §4.9, docs/rules.md#rating-integrity): a real GE run on a
real DuckDB warehouse (tests/support/marts.py), corrupted one way at a time."""

from __future__ import annotations

import duckdb
import pytest

from core.paths import Home
from expectations.marts import check_marts
from tests.expectations.test_gates import good_deliveries
from tests.support.marts import make_marts

CORRUPTIONS = {
    "a per-rating rule without its rating": "update marts.fct_rating_signal set evaluation_id = null where rule_id = 'RI_BURST'",
    "the window-month rule naming a rating": "update marts.fct_rating_signal set evaluation_id = 'E9' where rule_id = 'RI_TOO_PERFECT'",
    "an unknown rule": "update marts.fct_rating_signal set rule_id = 'RI_SOMETHING' where rule_id = 'RI_BURST'",
    "a month that is not the signal's": "update marts.fct_rating_signal set month = date '2025-09-01' where rule_id = 'RI_BURST'",
    "the same rating twice under one rule": "insert into marts.fct_rating_signal select * from marts.fct_rating_signal where rule_id = 'RI_BURST'",
}


def test_marts_gate_passes_good_rating_signals(ww_home):
    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse)
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert "marts.fct_rating_signal.critical" not in {f.suite for f in gate.critical}, gate.summary()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_marts_gate_stops_on_a_bad_rating_signal(ww_home, corruption):
    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute(CORRUPTIONS[corruption])
    con.close()
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert not gate.success
    assert "marts.fct_rating_signal.critical" in {f.suite for f in gate.critical}, gate.summary()

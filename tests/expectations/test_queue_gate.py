"""The marts gate's suites on fct_queue_month / fct_window_adjustment (SPEC v2 §4.10, docs/rules.md#queue,
#window-adjustment): a real GE run on a real DuckDB warehouse (tests/support/marts.py), corrupted one way
at a time; each corruption fails its own suite and not the other. The suites run on their own
(`run_sql_gate`), so the test reads only the two queue marts; that the gate runs them is checked on
`suites()`."""

from __future__ import annotations

import duckdb
import pytest

from core.config import load_scoring
from core.paths import Home
from expectations.gx_run import GateResult, duckdb_config, run_sql_gate
from expectations.marts import queue_suites, suites
from tests.support.marts import make_marts

SUITES = {"marts.fct_queue_month.critical", "marts.fct_window_adjustment.critical"}
CORRUPTIONS = {
    "a window row without its window": ("update marts.fct_queue_month set window_id = null where scope = 'window'",
                                        "marts.fct_queue_month.critical"),
    "a scope outside the two": ("update marts.fct_queue_month set scope = 'centre' where scope = 'window'",
                                "marts.fct_queue_month.critical"),
    "more served than tickets": ("update marts.fct_queue_month set served = 20 where business_type = 'B1'",
                                 "marts.fct_queue_month.critical"),
    "a rate above one": ("update marts.fct_queue_month set no_show_rate = 1.5 where scope = 'window'",
                         "marts.fct_queue_month.critical"),
    # p90 exactly at queue_add_p90_minutes (30) proposes nothing
    "+1 at the threshold": (("update marts.fct_window_adjustment set p90_wait_minutes = 30.0 where business_type = 'B1'; "
                             "update marts.fct_queue_month set p90_wait_minutes = 30.0 where business_type = 'B1'"),
                            "marts.fct_window_adjustment.critical"),
    # a single window is never merged
    "-1 for a single window": ("update marts.fct_window_adjustment set current_windows = 1 where business_type = 'B2'",
                               "marts.fct_window_adjustment.critical"),
    "an adjustment twice": (("insert into marts.fct_window_adjustment select * from marts.fct_window_adjustment "
                             "where business_type = 'B2'"), "marts.fct_window_adjustment.critical"),
    "tickets that differ from fct_queue_month": ("update marts.fct_window_adjustment set tickets = 11 where business_type = 'B1'",
                                                 "marts.fct_window_adjustment.critical"),
    "no evidence": ("update marts.fct_window_adjustment set evidence = null where business_type = 'B2'",
                    "marts.fct_window_adjustment.critical"),
}


def _queue_gate(h: Home) -> GateResult:
    hall = load_scoring().hall
    gate = GateResult(gate="marts", success=True)
    run_sql_gate(gate, h.warehouse,
                 queue_suites(hall.queue_add_p90_minutes, hall.queue_merge_per_hour, hall.queue_merge_p90_minutes),
                 h.data_docs / "marts", duckdb_config=duckdb_config(h.root, threads=1))
    return gate


def test_the_marts_gate_runs_the_queue_suites():
    assert SUITES <= {s.name for s in suites(landing=None, landed_accepted_cases=0)}


def test_queue_suites_pass_good_queue_marts(ww_home):
    h = Home(ww_home)
    make_marts(h.warehouse)
    gate = _queue_gate(h)
    assert gate.success and not gate.failures, gate.summary()
    assert (gate.suites, gate.expectations) == (2, 11)


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_queue_suites_stop_on_bad_queue_marts(ww_home, corruption):
    sql, suite = CORRUPTIONS[corruption]
    h = Home(ww_home)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute(sql)
    con.close()
    gate = _queue_gate(h)
    assert not gate.success
    assert {f.suite for f in gate.critical} == {suite}, gate.summary()

"""The marts gate's suites on fct_supervision_item / fct_supervision_transition (SPEC §4.11,
docs/rules.md#supervision-marts): a real GE run on a real DuckDB warehouse (tests/support/marts.py),
corrupted one way at a time. The supervision suites run on their own, so these tests do not depend
on the rest of the fixture warehouse; `check_marts` runs them with every other suite."""

from __future__ import annotations

import duckdb
import pytest

from core.paths import Home
from expectations.gx_run import GateResult, duckdb_config, import_gx, run_sql_gate
from expectations.marts import suites, supervision_suites
from tests.support.marts import make_marts

SUITES = {"marts.fct_supervision_item.critical", "marts.fct_supervision_transition.critical"}
CORRUPTIONS = {
    "an item twice": ("insert into marts.fct_supervision_item values (1, 'open')", "marts.fct_supervision_item.critical"),
    "a state outside the workflow": ("update marts.fct_supervision_item set state = 'pending' where item_id = 2",
                                     "marts.fct_supervision_item.critical"),
    "a transition twice": ("insert into marts.fct_supervision_transition values (2, 2, 'notified')",
                           "marts.fct_supervision_transition.critical"),
    "a transition of no item": ("insert into marts.fct_supervision_transition values (9, 1, 'open')",
                                "marts.fct_supervision_transition.critical"),
}


def _gate(h: Home) -> GateResult:
    import_gx()
    gate = GateResult(gate="marts", success=True)
    run_sql_gate(gate, h.warehouse, supervision_suites(), h.data_docs / "marts", duckdb_config=duckdb_config(h.root, threads=1))
    return gate


def test_the_marts_gate_holds_the_supervision_suites(ww_home):
    assert SUITES <= {s.name for s in suites(Home(ww_home).landing, 3)}


def test_good_supervision_marts_pass(ww_home):
    h = Home(ww_home)
    make_marts(h.warehouse)
    gate = _gate(h)
    assert gate.success and gate.suites == 2 and not gate.failures, gate.summary()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_bad_supervision_marts_stop_the_gate(ww_home, corruption):
    sql, suite = CORRUPTIONS[corruption]
    h = Home(ww_home)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute(sql)
    con.close()
    gate = _gate(h)
    assert not gate.success
    assert suite in {f.suite for f in gate.critical}, gate.summary()

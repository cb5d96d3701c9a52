"""The gates' counts-first Checkpoint (expectations/gx_run.py: COUNTS_FIRST + complete_examples)
gives exactly the results, gate failures and Data Docs of one SUMMARY pass (issue 7): on failing
row-level expectations, a passing `mostly` expectation with unexpected rows, and passing ones."""

from __future__ import annotations

import re
from pathlib import Path

from expectations import gx_run
from expectations.gx_run import GateResult, SqlSuite, check, duckdb_config, import_gx, run_sql_gate
from expectations.marts import suites as marts_suites
from expectations.raw import SESSION_SQL, create_batch_views, group_by_feed, raw_suites
from core.paths import Home
from tests.support.landing import ITEMS, WINDOWS, event, write_landing
from tests.support.marts import make_marts

DELIVERED = "2025-10-31 20:00:00"
# what differs between any two runs: run ids and times, GE's object ids, element ids in HTML
VOLATILE_KEYS = {"id", "run_id", "run_time", "run_name", "validation_time", "validation_id", "checkpoint_id", "batch_markers"}
VOLATILE_TEXT = [
    (re.compile(r"\d{8}T\d{6}\.\d+Z"), "<RUNTIME>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?"), "<TS>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<UUID>"),
    (re.compile(r"__none__|[0-9a-f]{32}"), "<HASH>"),
    (re.compile(r"._run_time_sort.: [0-9.]+"), "<SORT>"),
]


def stable(value):
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def stable_text(text: str) -> str:
    for pattern, repl in VOLATILE_TEXT:
        text = pattern.sub(repl, text)
    return text


def results_by_suite(checkpoint_result) -> dict:
    return {vr.suite_name: stable(vr.to_json_dict()) for vr in checkpoint_result.run_results.values()}


def docs(docs_dir: Path) -> dict[str, str]:
    return {stable_text(str(p.relative_to(docs_dir))): stable_text(p.read_text(errors="replace"))
            for p in sorted(docs_dir.rglob("*")) if p.is_file()}


def both_ways(run) -> tuple:
    """run(counts_first, tag) -> (GateResult, CheckpointResult, docs_dir), done both ways."""
    return run(True, "counts"), run(False, "summary")


def assert_same(counts, summary) -> None:
    (g1, r1, d1), (g2, r2, d2) = counts, summary
    assert g1.to_json() | {"data_docs_index": None} == g2.to_json() | {"data_docs_index": None}
    assert results_by_suite(r1) == results_by_suite(r2)
    assert docs(d1) == docs(d2)


def test_raw_gate_counts_first_equals_one_summary_pass(ww_home):
    h = Home(ww_home)
    tx = [
        event("E1", "C1", "accept", "2025-10-09 10:00:00"),
        event("E2", "C1", "complete", "2025-10-10 11:00:00"),
        event("E9", "C9", "accept", "2099-01-01 10:00:00"),  # after its delivery
        event("E10", "C9", "extend", "2025-10-10 10:00:00", extend_days=-3, recorded_at="2025-10-01 00:00:00"),
        event("E10", "C9", "bogus_type", "2025-10-10 10:00:00"),  # repeated id, unknown event type
    ]
    files = [
        write_landing(h, "windows", WINDOWS, ingested_at=DELIVERED),
        write_landing(h, "items", ITEMS, ingested_at=DELIVERED),
        write_landing(h, "transactions", tx, ingested_at=DELIVERED),
    ]
    by_feed = group_by_feed(files, h.landing)
    config = duckdb_config(h.root)
    database = h.root / "raw_batches.duckdb"
    gate0 = GateResult(gate="raw", success=True)
    checked = create_batch_views(database, config, by_feed, gate0)
    assert sorted(checked) == ["items", "transactions", "windows"]
    import_gx()
    import great_expectations.expectations as gxe

    def suites() -> list[SqlSuite]:  # new expectation objects for each run (a suite takes them)
        # a `mostly` expectation that passes with unexpected rows: its counts must show as before
        mostly = gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=["accept", "complete", "extend"], mostly=0.5)
        return raw_suites(checked) + [
            SqlSuite("raw.transactions_mostly.warning", "select * from raw_transactions",
                     (check("warning", mostly, "most events have a known type"),), ("_source", "_line"))
        ]

    def run(counts_first: bool, tag: str):
        gate = GateResult(gate="raw", success=True)
        result = run_sql_gate(gate, database, suites(), h.data_docs / tag, duckdb_config=config, session_sql=SESSION_SQL,
                              counts_first=counts_first)
        return gate, result, h.data_docs / tag

    counts, summary = both_ways(run)
    assert_same(counts, summary)
    gate, result, _ = counts
    assert not gate.success and len(gate.critical) >= 4
    # the failures keep their examples and rows (validated again with SUMMARY)
    by = {(f.suite, f.column): f for f in gate.failures}
    assert by[("raw.transactions.critical", "event_type")].examples == ["bogus_type"]
    assert by[("raw.transactions.critical", "extend_days")].rows and by[("raw.transactions.critical", "extend_days")].examples == ["-3"]
    (m,) = [r for vr in result.run_results.values() if vr.suite_name.endswith("_mostly.warning") for r in vr.results]
    assert m.success and m.result["unexpected_count"] == 1 and m.result["partial_unexpected_list"] == ["bogus_type"]
    assert m.result["partial_unexpected_counts"] == [{"value": "bogus_type", "count": 1}]
    # a passing row-level result looks as SUMMARY makes it
    passing = [r.result for vr in result.run_results.values() for r in vr.results if r.result.get("unexpected_count") == 0]
    assert passing and all(r["partial_unexpected_list"] == [] and r["partial_unexpected_counts"] == [] for r in passing)


def test_marts_gate_counts_first_equals_one_summary_pass(ww_home):
    """Unique (window count), pair, compound-unique and in-set expectations failing on marts."""
    import duckdb

    h = Home(ww_home)
    h.warehouse.parent.mkdir(parents=True, exist_ok=True)
    make_marts(h.warehouse, rank_of_w2=3, rating=9, quarantined=2)
    con = duckdb.connect(str(h.warehouse))
    try:
        con.execute("insert into marts.fct_case select * from marts.fct_case where case_id = 'C2'")  # a repeated case id
        con.execute("insert into marts.fct_window_month select * from marts.fct_window_month where window_id = 'W05'")
    finally:
        con.close()
    config = duckdb_config(h.root, threads=1)

    def run(counts_first: bool, tag: str):
        gate = GateResult(gate="marts", success=True)
        suites = marts_suites(h.landing, landed_accepted_cases=1)  # fewer landed cases than fct_case holds
        result = run_sql_gate(gate, h.warehouse, suites, h.data_docs / tag, duckdb_config=config, counts_first=counts_first)
        return gate, result, h.data_docs / tag

    counts, summary = both_ways(run)
    assert_same(counts, summary)
    gate = counts[0]
    failed = {(f.suite, f.expectation) for f in gate.critical}
    assert ("marts.fct_case.critical", "expect_column_values_to_be_unique") in failed
    assert ("marts.fct_case_reconcile.critical", "expect_column_pair_values_a_to_be_greater_than_b") in failed
    assert ("marts.fct_window_month.critical", "expect_compound_columns_to_be_unique") in failed
    assert ("marts.fct_evaluation.critical", "expect_column_values_to_be_between") in failed
    unique = next(f for f in gate.critical if f.expectation == "expect_column_values_to_be_unique")
    assert unique.unexpected_count == 2 and unique.examples == ["C2", "C2"]


def test_counts_first_sends_no_example_query_that_reads_rows(ww_home, monkeypatch):
    """With nothing failing, every example query of the first pass is LIMIT 0 (DuckDB reads no
    row for it), and nothing is validated again."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    h = Home(ww_home)
    h.warehouse.parent.mkdir(parents=True, exist_ok=True)
    make_marts(h.warehouse)
    limits: list = []

    def before(conn, cursor, statement, parameters, context, executemany):
        m = re.search(r"LIMIT \$(\d+)", statement)
        if "unexpected_values" in statement and m:
            limits.append(parameters[int(m.group(1)) - 1])

    redone: list[int] = []
    complete = gx_run.complete_examples
    monkeypatch.setattr(gx_run, "complete_examples", lambda *a: redone.append(complete(*a)) or redone[-1])
    event.listen(Engine, "before_cursor_execute", before)
    try:
        gate = GateResult(gate="marts", success=True)
        run_sql_gate(gate, h.warehouse, marts_suites(h.landing, landed_accepted_cases=3), h.data_docs / "marts",
                     duckdb_config=duckdb_config(h.root, threads=1))
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    assert gate.success, gate.summary()
    assert len(limits) > 20 and set(limits) == {0}, limits
    assert redone == [0]

"""Great Expectations gates (expectations/) on real landing Parquet and a real DuckDB warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

from expectations.marts import check_marts
from expectations.raw import check_raw
from core.paths import REPO_ROOT, Home
from tests.support.landing import ITEMS, WINDOWS, event, write_landing
from tests.support.marts import make_marts

DELIVERED = "2025-10-31 20:00:00"


def good_deliveries(h: Home) -> list[Path]:
    tx = [
        event("E1", "C1", "accept", "2025-10-09 10:00:00"),
        event("E2", "C1", "complete", "2025-10-10 11:00:00"),
        event("E3", "C2", "accept", "2025-10-20 09:00:00", window_id="W02"),
        event("E4", "C3", "accept", "2025-10-21 09:00:00", window_id="W03"),
    ]
    return [
        write_landing(h, "windows", WINDOWS, ingested_at=DELIVERED),
        write_landing(h, "items", ITEMS, ingested_at=DELIVERED),
        write_landing(h, "transactions", tx, ingested_at=DELIVERED),
        write_landing(
            h,
            "video_flags",
            [{"flag_id": "F1", "window_id": "W01", "flagged_at": "2025-10-09 10:00:00", "flag_type": "phone",
              "source": "ai", "confidence": 0.8, "review_status": "confirmed"}],
            ingested_at=DELIVERED,
        ),
    ]


def test_raw_gate_passes_good_deliveries_and_builds_data_docs(ww_home):
    h = Home(ww_home)
    gate = check_raw(good_deliveries(h), h.landing, h.data_docs / "raw")
    assert gate.success, gate.summary()
    assert gate.critical == []
    assert gate.suites >= 8 and gate.expectations > 30  # 4 feeds × (critical + warning)
    assert gate.data_docs_index and Path(gate.data_docs_index).is_file()
    assert "raw.transactions.critical" in Path(gate.data_docs_index).read_text(encoding="utf-8")


def test_raw_gate_stops_on_corrupted_delivery(ww_home):
    h = Home(ww_home)
    files = good_deliveries(h)
    files.append(
        write_landing(
            h,
            "transactions",
            [
                event("E9", "C9", "accept", "2099-01-01 10:00:00"),  # after its delivery
                event("E10", "C9", "extend", "2025-10-10 10:00:00", extend_days=-3, recorded_at="2025-10-01 00:00:00"),
            ],
            ingested_at=DELIVERED,
        )
    )
    files.append(
        write_landing(
            h,
            "video_flags",
            [{"flag_id": "F2", "window_id": "W01", "flagged_at": "2025-10-09 10:00:00", "flag_type": "phone",
              "source": "ai", "confidence": 7.5, "review_status": "maybe"}],
            ingested_at=DELIVERED,
        )
    )
    gate = check_raw(files, h.landing, h.data_docs / "raw")
    assert not gate.success
    failed = {(f.suite, f.column) for f in gate.critical}
    assert ("raw.transactions.critical", "_gx_delivery_lag_s") in failed  # event after delivery
    assert ("raw.transactions.critical", "_gx_recorded_ahead_s") in failed  # recorded far in the future
    assert ("raw.transactions.critical", "_gx_recorded_lag_s") in failed  # recorded before the event
    assert ("raw.transactions.critical", "extend_days") in failed
    assert ("raw.video_flags.critical", "confidence") in failed
    assert ("raw.video_flags.critical", "review_status") in failed
    assert "maybe" in " ".join(e for f in gate.critical for e in f.examples)
    # each failure names the source file and line of its failing rows (the bad deliveries only)
    by = {(f.suite, f.column): f for f in gate.critical}
    extend = by[("raw.transactions.critical", "extend_days")]
    assert len(extend.rows) == 1 and extend.rows[0].startswith("fixtures:transactions/") and extend.rows[0].endswith(":3")
    assert extend.rows[0] in extend.line()
    future = by[("raw.transactions.critical", "_gx_delivery_lag_s")]
    assert future.unexpected_count == 1 and future.rows[0].endswith(":2")
    assert by[("raw.video_flags.critical", "review_status")].rows[0].startswith("fixtures:video_flags/")
    # the good feeds are not blamed
    assert not [f for f in gate.critical if f.suite.startswith(("raw.windows", "raw.items"))]


def test_raw_gate_warns_on_ids_repeated_in_the_run(ww_home):
    h = Home(ww_home)
    files = good_deliveries(h)
    files.append(write_landing(h, "transactions", [event("E1", "C1", "accept", "2025-10-09 10:00:00")], ingested_at=DELIVERED))
    gate = check_raw(files, h.landing, h.data_docs / "raw")
    assert gate.success, gate.summary()  # a warning does not stop the run
    (w,) = gate.warnings
    assert (w.suite, w.column) == ("raw.transactions.warning", "event_id")
    assert w.examples == ["0.8"]  # 4 distinct ids among 5 rows


def test_raw_gate_checks_list_codes_in_duckdb(ww_home):
    """reason_codes is a ';'-joined list of codes: checked by a regex that runs as DuckDB SQL."""
    h = Home(ww_home)
    row = {"evaluation_id": "V1", "window_id": "W01", "rating": 5, "evaluated_at": "2025-10-09 10:00:00"}
    files = [
        write_landing(h, "evaluations", [{**row, "reason_codes": "attitude;other"}, {**row, "evaluation_id": "V2"}], ingested_at=DELIVERED),
        write_landing(h, "evaluations", [{**row, "evaluation_id": "V3", "reason_codes": "attitude;rude"}], ingested_at=DELIVERED),
    ]
    gate = check_raw(files, h.landing, h.data_docs / "raw")
    assert not gate.success
    (f,) = gate.critical
    assert (f.suite, f.column, f.expectation) == ("raw.evaluations.critical", "reason_codes", "expect_column_values_to_match_regex")
    assert f.unexpected_count == 1 and f.examples == ["attitude;rude"] and f.error is None
    assert f.rows and f.rows[0].endswith(":2")


def test_raw_gate_checks_the_landed_schema(ww_home):
    import polars as pl

    h = Home(ww_home)
    path = write_landing(h, "windows", WINDOWS, ingested_at=DELIVERED)
    pl.read_parquet(path).drop("window_kind").write_parquet(path)
    gate = check_raw([path], h.landing, h.data_docs / "raw")
    assert not gate.success
    assert "expect_table_columns_to_match_set" in [f.expectation for f in gate.critical]


def test_raw_gate_with_nothing_new(ww_home):
    h = Home(ww_home)
    gate = check_raw([], h.landing, h.data_docs / "raw")
    assert gate.success and gate.expectations == 0
    assert "nothing to check" in gate.notes[0]


def test_marts_gate_passes_consistent_marts(ww_home):
    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse, quarantined=2)
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert gate.success, gate.summary()
    assert gate.expectations >= 30
    # quarantined rows are reported as a warning, never silently
    assert [f.suite for f in gate.warnings] == ["marts.fct_quarantine.warning"]
    assert gate.data_docs_index and Path(gate.data_docs_index).is_file()
    index = Path(gate.data_docs_index).read_text(encoding="utf-8")
    assert "marts.fct_case_cards.critical" in index and "marts.fct_window_month_ranks.critical" in index
    # the gate let go of the warehouse: the publish step (same process under `dags test`) can open it
    import duckdb

    duckdb.connect(str(h.warehouse)).execute("checkpoint").close()


def test_marts_gate_stops_on_broken_rules(ww_home):
    """One warehouse with four broken rules: exactly those four suites fail (each check is
    specific), and nothing is quietly passed."""
    h = Home(ww_home)
    # landing has only 2 accepted case ids, fct_case holds 3
    write_landing(h, "transactions", [event("E1", "C1", "accept", "2025-10-09 10:00:00"),
                                       event("E3", "C2", "accept", "2025-10-20 09:00:00")], ingested_at=DELIVERED)
    make_marts(
        h.warehouse,
        red_card_deadline="2025-11-05 23:59:59",  # a red card not yet past its deadline
        rank_of_w2=3,  # a rank that skips without a tie (1, 3, 3)
        rating=9,  # a rating off the five-level scale
    )
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert not gate.success
    assert {f.suite for f in gate.critical} == {
        "marts.fct_case_cards.critical",
        "marts.fct_window_month_ranks.critical",
        "marts.fct_evaluation.critical",
        "marts.fct_case_reconcile.critical",
    }, gate.summary()


def test_marts_gate_stops_on_broken_v2_scoring_rules(ww_home):
    """SPEC v2 §4.6: stars for an ineligible window, a vetoed window ranked before windows without a
    veto, and negative deductions each fail their own critical suite; the good marts pass them
    (test_marts_gate_passes_consistent_marts)."""
    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse, stars_of_ineligible_w04=3)
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert {f.suite for f in gate.critical} == {"marts.fct_window_month_stars_eligible.critical"}, gate.summary()

    make_marts(h.warehouse, vetoed_w03_first=True)
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    # the vetoed W03 ranked 1st before W01 and W02: the rank order and the veto-last check both see it
    assert {f.suite for f in gate.critical} == {
        "marts.fct_window_month_veto_last.critical", "marts.fct_window_month_ranks.critical"}, gate.summary()

    make_marts(h.warehouse, deductions_of_w01=-1.0)
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert {f.suite for f in gate.critical} == {"marts.fct_window_month.critical"}, gate.summary()


def test_marts_gate_names_missing_marts(ww_home):
    import duckdb

    h = Home(ww_home)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute("drop table marts.fct_window_month")
    con.close()
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert not gate.success and "fct_window_month" in gate.notes[0]


def test_import_gx_defers_unused_heavy_modules_and_leaves_them_importable():
    """import_gx (a fresh interpreter, as every gate process is): scipy.stats and altair are not
    imported with GE, the collector runs again, and GE's references still reach the real
    modules when used; pyspark stays importable."""
    import json
    import subprocess

    code = """
import gc, json, sys
from expectations.gx_run import DEFERRED_MODULES, import_gx
import_gx()
out = {"loaded": sorted(m for m in DEFERRED_MODULES if m in sys.modules), "gc": gc.isenabled()}
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
out["entropy"] = float(kl.stats.entropy([0.5, 0.5], [0.5, 0.5]))  # the stand-in imports scipy.stats
import scipy.stats
out["same_module"] = kl.stats.entropy is scipy.stats.entropy and sys.modules["scipy.stats"] is scipy.stats
import pyspark
out["pyspark"] = pyspark.__name__
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"loaded": [], "gc": True, "entropy": 0.0, "same_module": True, "pyspark": "pyspark"}


def test_marts_reconcile_counts_landing_once_and_falls_back_to_the_query(ww_home):
    """The landed accepted case ids are counted once, before the Checkpoint, and the reconcile
    suite holds the number; landing that cannot be read keeps the scan in the suite's query, so
    GE reports the error as before."""
    from expectations.gx_run import duckdb_config
    from expectations.marts import count_landed_accepted_cases, suites

    h = Home(ww_home)
    good_deliveries(h)  # C1 (accept, complete), C2, C3 accepted
    config = duckdb_config(h.root)
    assert count_landed_accepted_cases(h.landing, config) == 3
    by_name = {s.name: s for s in suites(h.landing, 3)}
    query = by_name["marts.fct_case_reconcile.critical"].query
    assert "3::bigint" in query and "read_parquet" not in query
    bad = h.landing / "transactions" / "part_date=2025-10-31" / "broken.parquet"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"not a parquet file")
    assert count_landed_accepted_cases(h.landing, config) is None
    assert "read_parquet" in {s.name: s for s in suites(h.landing, None)}["marts.fct_case_reconcile.critical"].query


def test_session_settings_reach_duckdb_connections_only_while_active():
    import sqlalchemy as sa

    from expectations.gx_run import session_settings

    def cache_setting() -> bool:
        engine = sa.create_engine("duckdb:///:memory:")
        try:
            with engine.connect() as c:
                return c.exec_driver_sql("select current_setting('parquet_metadata_cache')").scalar()
        finally:
            engine.dispose()

    with session_settings(("SET parquet_metadata_cache = true",)):
        assert cache_setting() is True
    assert cache_setting() is False  # the listener is gone: later engines keep DuckDB's default


def test_raw_gate_queries_run_with_the_parquet_metadata_cache(ww_home):
    """GE's connection in the raw gate reuses parsed Parquet footers (issue 7); read at each
    checkout of a pooled connection, i.e. after every "connect" listener has run."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    h = Home(ww_home)
    seen: list[bool] = []

    def on_checkout(dbapi_connection, _record, _proxy):
        if type(dbapi_connection).__module__.split(".")[0] != "duckdb_engine":
            return
        cur = dbapi_connection.cursor()
        cur.execute("select current_setting('parquet_metadata_cache')")
        seen.append(cur.fetchone()[0])

    event.listen(Pool, "checkout", on_checkout)
    try:
        gate = check_raw(good_deliveries(h), h.landing, h.data_docs / "raw")
    finally:
        event.remove(Pool, "checkout", on_checkout)
    assert gate.success, gate.summary()
    assert seen and all(seen), seen


def test_raw_gate_checks_the_optional_clock_feeds(ww_home):
    """step_limits and extended_service (a feed dated by a DATE) pass the raw gate; a negative step
    limit is reported as a warning."""
    h = Home(ww_home)
    files = good_deliveries(h)
    files.append(write_landing(h, "step_limits", [{"item_code": "*", "from_event": "accept", "to_event": "approve",
                                                   "limit_workdays": -1}], ingested_at=DELIVERED))
    files.append(write_landing(h, "extended_service", [{"service_id": "ES1", "window_id": "W01", "service_date": "2025-10-09",
                                                        "until_time": "20:00:00", "reason": "延时服务"}], ingested_at=DELIVERED))
    gate = check_raw(files, h.landing, h.data_docs / "raw")
    assert gate.success, gate.summary()
    assert {f.suite for f in gate.warnings} == {"raw.step_limits.warning"}, gate.summary()


def test_marts_gate_stops_on_uncounted_timeliness_signals(ww_home):
    """A legal-overdue case whose TL_LEGAL_OVERDUE signal is missing fails exactly the timeliness suite."""
    import duckdb

    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute("update marts.fct_case set is_legal_overdue = true where case_id = 'C2'")
    con.close()
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert {f.suite for f in gate.critical} == {"marts.fct_timeliness_signal_cases.critical"}, gate.summary()


def test_marts_gate_stops_ratings_read_the_wrong_way_round(ww_home):
    """Issue 21 finding 8: 非常满意 ratings that carry bad-review reasons, and a centre whose
    satisfaction swings 0.95 -> 0.05 in a month, each fail a critical suite whose message says
    what was found; a window's swing alone is only a warning."""
    import duckdb

    h = Home(ww_home)
    good_deliveries(h)
    make_marts(h.warehouse)
    con = duckdb.connect(str(h.warehouse))
    con.execute("""create or replace table marts.fct_evaluation as
        select 'E' || i as evaluation_id, 5::tinyint as rating, date '2025-10-01' as evaluated_month,
               case when i < 40 then 'attitude;slow' end as reason_codes,
               -- v2 好差评 (issue 17) columns as make_marts has them: good pad ratings, nothing to verify or call back
               'W01' as window_id, true as is_good, false as is_bad, false as is_default, false as is_overturned,
               false as needs_rectification, true as is_real_name, null::timestamp as rectified_at,
               false as needs_verification, null::timestamp as verification_deadline, null::boolean as is_verified_on_time,
               false as needs_callback, null::timestamp as callback_deadline, null::boolean as is_called_back_on_time
        from range(200) t(i)""")
    # SPEC v2 §4.6 changed it: these ineligible rows have no stars, and deductions is never null
    con.execute("""insert into marts.fct_window_month by name
        select date '2025-09-01' as month, center_id, window_id, null as stars, score, null as rank, false as is_eligible,
               false as is_red_flag, false as is_bottom, null as veto_reason, 0.0 as deductions, component_t,
               on_time_rate, same_day_rate,
               immediate_on_time_rate, off_book_rate, satisfaction_rate, adjusted_satisfaction, rectification_rate,
               evaluation_rate, 200::bigint as evaluations,
               (case when center_id = 'CTR1' then 190 when window_id = 'W05' then 190 else 10 end)::bigint as good_reviews,
               -- v2 好差评 (issue 17): no September evaluation is a default rating or overturned
               active_evaluation_rate, verification_rate, callback_rate, 0::bigint as default_ratings,
               0::bigint as appeals_overturned
        from marts.fct_window_month where window_id in ('W01', 'W05', 'W06')""")
    con.execute("update marts.fct_window_month set evaluations = 200, good_reviews = 10 where window_id = 'W01' and month = '2025-10-01'")
    con.execute("update marts.fct_window_month set evaluations = 200, good_reviews = 10 where window_id = 'W05' and month = '2025-10-01'")
    con.execute("update marts.fct_window_month set evaluations = 200, good_reviews = 180 where window_id = 'W06' and month = '2025-10-01'")
    con.close()
    gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
    assert not gate.success
    by_suite = {f.suite: f for f in gate.failures}
    reasons = by_suite["marts.fct_evaluation_reasons.critical"]
    assert reasons.rows == [("2025-10: 40 of 200 ratings of 非常满意 carry a bad-review reason — is the rating direction declared "
                             "the wrong way round?")]
    assert "source option rating_direction" in reasons.line() and reasons.rows[0] in reasons.line()
    swing = by_suite["marts.fct_window_month_satisfaction_swing.critical"]
    assert len(swing.rows) == 1 and swing.rows[0].startswith("2025-10 centre CTR1: satisfaction 0.950 -> 0.161 (230 ratings)"), swing.rows
    assert "max_satisfaction_swing 0.3" in swing.rows[0] and "rating direction" in swing.rows[0]
    assert swing.rows[0] in swing.line()
    # CTR2 moved 0.500 -> 0.475 as a centre: no finding; its windows W05 and W06 swung in opposite directions: warnings
    window = by_suite["marts.fct_window_month_window_swing.warning"]
    assert sorted(r.split(":")[0] for r in window.examples) == ["2025-10 window W01", "2025-10 window W05", "2025-10 window W06"]
    assert {f.suite for f in gate.critical} == {"marts.fct_evaluation_reasons.critical", "marts.fct_window_month_satisfaction_swing.critical"}

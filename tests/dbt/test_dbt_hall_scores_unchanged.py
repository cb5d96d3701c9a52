"""SPEC v2 §4.6 / §4.10 (issue 25): with none of the optional hall feeds delivered and no supervision
item, the scores are v1's — a hash test.

The input is the fixed v1 landing of tests/data/v1_satisfaction/ (the generated small centre of the v1
code; no attendance, queue_tickets, work_orders or inspections delivery). `scores.sha256` holds the
SHA-256 of the ranking columns below, built from that input by the code before the hall-operation
feeds existed (commit 08149c3, with tests/support/v1_figures.py's CSV rendering): the new feeds, the
deduction sources and the supervision figures must not move a score, a star, a rank, a 红旗 or a 末位
when nothing feeds them. The new columns are null (the feeds never delivered) or 0 (supervision).
"""

from __future__ import annotations

import hashlib

import duckdb

from tests.support import v1_figures

WINDOW = ("month, window_id, score, stars, rank, is_eligible, is_red_flag, is_bottom, is_bottom_repeat, "
          "veto_reason, deductions, score_note")
DEPARTMENT = "month, department_id, score, score_note, deductions"
HALL_NULL = ("days_scheduled", "in_post_rate", "absent_days", "late_arrivals", "early_leaves", "avg_wait_minutes",
             "p90_wait_minutes", "substantiated_complaints", "work_orders_closed_on_time_rate", "inspection_findings")
SUPERVISION_ZERO = ("supervision_items_opened", "supervision_acknowledged_on_time", "supervision_escalated")


def _hash(con, table: str, columns: str, order: str) -> str:
    rows = con.sql(f"select {columns} from marts.{table} order by {order}").fetchall()
    return f"{table} {len(rows)} {hashlib.sha256(v1_figures._csv(rows).encode()).hexdigest()}"


def test_scores_unchanged_without_hall_feeds_or_supervision(tmp_path):
    home = v1_figures.materialise(tmp_path / "home")
    assert not {p.name for p in home.landing.iterdir()} & {"attendance", "queue_tickets", "work_orders", "inspections"}
    from windowwatch.transform import build

    result = build(home, as_of=v1_figures.AS_OF, warehouse=home.warehouse,
                   exclude=["resource_type:unit_test", "resource_type:test"])
    assert result.success, result.summary()
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        got = [_hash(con, "fct_window_month", WINDOW, "month, window_id"),
               _hash(con, "fct_department_month", DEPARTMENT, "month, department_id")]
        expected = (v1_figures.DATA / "scores.sha256").read_text(encoding="utf-8").splitlines()
        assert got == expected
        for table in ("fct_window_month", "fct_department_month"):
            nulls = con.execute(f"select {', '.join(f'count({c})' for c in HALL_NULL)} from marts.{table}").fetchone()
            assert nulls == (0,) * len(HALL_NULL), (table, dict(zip(HALL_NULL, nulls)))
            zeros = con.execute(f"select {', '.join(f'sum({c})' for c in SUPERVISION_ZERO)}, count(*) from marts.{table}").fetchone()
            assert zeros[:-1] == (0,) * len(SUPERVISION_ZERO) and zeros[-1] > 0, (table, zeros)
        for table in ("fct_window_deduction", "fct_attendance_day", "fct_queue_month", "fct_window_adjustment",
                      "fct_work_order", "fct_inspection", "fct_spot_check_day"):
            assert (table, con.execute(f"select count(*) from marts.{table}").fetchone()[0]) == (table, 0)
        # staff stars (§4.12) come from the cases and ratings; their attendance part stays null
        staff = con.execute("select count(*), count(absent_days), count(late_arrivals) from marts.fct_staff_month").fetchone()
        assert staff[0] > 0 and staff[1:] == (0, 0), staff
    finally:
        con.close()

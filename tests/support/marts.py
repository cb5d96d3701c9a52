"""A small but complete marts warehouse (the columns the GE marts suites read), built with SQL,
and landing deliveries for the raw gate — so the gates can be tested without dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb

RATES = ("on_time_rate", "same_day_rate", "immediate_on_time_rate", "off_book_rate", "satisfaction_rate",
         "adjusted_satisfaction", "rectification_rate", "evaluation_rate",
         "active_evaluation_rate", "verification_rate", "callback_rate")  # v2 好差评 (issue 17)


def make_marts(path: Path, *, red_card_deadline: str = "2025-10-20 23:59:59", rank_of_w2: int = 2,
               rating: int = 5, quarantined: int = 0, stars_of_ineligible_w04: int | None = None,
               vetoed_w03_first: bool = False, deductions_of_w01: float = 0.0) -> None:
    """Good marts unless an argument corrupts them (as_of_date 2025-10-31)."""
    stars_w04 = "null::integer" if stars_of_ineligible_w04 is None else str(int(stars_of_ineligible_w04))
    # SPEC v2 §4.6: the vetoed W03 ranks after W01 and W02 (no veto); vetoed_w03_first puts it first
    rank_w01, rank_w02, rank_w03 = (2, rank_of_w2 + 1, 1) if vetoed_w03_first else (1, rank_of_w2, rank_of_w2 + 1)
    rates = ", ".join(f"0.9 as {r}" for r in RATES)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.dim_date as select cast(d as date) as date from range(date '2025-01-01', date '2026-01-01', interval 1 day) t(d)")
        con.execute("create or replace table marts.dim_window as select * from (values ('W01'), ('W02'), ('W03'), ('W04'), ('W05'), ('W06')) t(window_id)")
        con.execute("create or replace table marts.dim_item as select * from (values ('WD5')) t(item_code)")
        con.execute(f"""
            create or replace table marts.fct_case as select * from (values
              ('C1', 'W01', 'open', 'red', timestamp '{red_card_deadline}', null::boolean, true, 1),
              ('C2', 'W01', 'open', 'green', timestamp '2025-11-20 23:59:59', null, false, 0),
              ('C3', 'W02', 'completed', null, timestamp '2025-10-20 23:59:59', true, false, 0)
            ) t(case_id, window_id, status, card, deadline_at, is_on_time, is_legal_overdue, timeliness_signals),
            (select date '2025-10-31' as as_of_date)
        """)
        con.execute("create or replace table marts.fct_timeliness_signal as select 'C1' as case_id, 'W01' as window_id, "
                    "'TL_LEGAL_OVERDUE' as rule_id, date '2025-10-17' as signal_date, "
                    "'legal_limit=3 legal_deadline=2025-10-16' as evidence")
        con.execute("create or replace table marts.fct_off_book_signal as select 'C1' as case_id, 'OB_BACKFILL' as rule_id")
        con.execute("create or replace table marts.fct_rating_signal as select * from (values "
                    "('E1', 'W01', 'D01', date '2025-10-01', 'RI_BURST', date '2025-10-09', 'device=P1 ratings=5'), "
                    "(null, 'W02', 'D01', date '2025-10-01', 'RI_TOO_PERFECT', date '2025-10-30', 'n=60 c=0.8 p=1e-06')"
                    ") t(evaluation_id, window_id, department_id, month, rule_id, signal_date, evidence)")
        con.execute(f"create or replace table marts.fct_evaluation as select 'E1' as evaluation_id, {rating}::tinyint as rating, "
                    "date '2025-10-01' as evaluated_month, null::varchar as reason_codes, "
                    # v2 好差评 (issue 17): a good pad rating, so nothing to verify or call back
                    "'W01' as window_id, true as is_good, false as is_bad, false as is_default, false as is_overturned, "
                    "false as needs_rectification, true as is_real_name, null::timestamp as rectified_at, "
                    "false as needs_verification, null::timestamp as verification_deadline, null::boolean as is_verified_on_time, "
                    "false as needs_callback, null::timestamp as callback_deadline, null::boolean as is_called_back_on_time")
        con.execute("create or replace table marts.fct_video_flag as select 'F1' as flag_id, 0.9 as confidence, 'confirmed' as review_status")
        con.execute(f"""
            create or replace table marts.fct_window_month as select * from (values
              (date '2025-10-01', 'CTR1', 'W01', 5, 96.5, {rank_w01}, true, true, false, null, {float(deductions_of_w01)}),
              (date '2025-10-01', 'CTR1', 'W02', 4, 91.0, {rank_w02}, true, false, false, null, 0.0),
              (date '2025-10-01', 'CTR1', 'W03', 1, 70.0, {rank_w03}, true, false, true, 'OB_BACKFILL', 0.0),
              -- SPEC v2 §4.6 changed it: an ineligible window has no stars (v1 gave W04 3)
              (date '2025-10-01', 'CTR1', 'W04', {stars_w04}, 88.0, null, false, false, false, null, 0.0),
              -- a second centre ranks its own windows (SPEC §4.6 per centre): rank 1 at a lower score
              (date '2025-10-01', 'CTR2', 'W05', 2, 80.0, 1, true, false, false, null, 0.0),
              (date '2025-10-01', 'CTR2', 'W06', 1, 75.0, 2, true, false, true, null, 0.0)
            ) t(month, center_id, window_id, stars, score, rank, is_eligible, is_red_flag, is_bottom, veto_reason, deductions),
            (select {rates}, 10::bigint as evaluations, 9::bigint as good_reviews, 0.9 as component_t,
                    0::bigint as default_ratings, 0::bigint as appeals_overturned)
        """)
        con.execute(f"create or replace table marts.fct_department_month as select date '2025-10-01' as month, 'D01' as department_id, {rates}")
        con.execute(
            f"create or replace table marts.fct_quarantine as select 'transactions' as feed, 'bad_timestamp' as rule from range({quarantined})"
        )
    finally:
        con.close()

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
                    "'W01' as window_id, 'D01' as department_id, true as is_good, false as is_bad, false as is_default, false as is_overturned, "
                    "false as needs_rectification, true as is_real_name, null::timestamp as rectified_at, "
                    "false as needs_verification, null::timestamp as verification_deadline, null::boolean as is_verified_on_time, "
                    "false as needs_callback, null::timestamp as callback_deadline, null::boolean as is_called_back_on_time")
        con.execute("create or replace table marts.fct_video_flag as select 'F1' as flag_id, 'W01' as window_id, 'D01' as department_id, "
                    "0.9 as confidence, 'confirmed' as review_status")
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
        # 督办 (SPEC §4.11): two items, the second notified
        con.execute("create or replace table marts.fct_supervision_item as select * from (values "
                    "(1::bigint, 'open'), (2::bigint, 'notified')) t(item_id, state)")
        con.execute("create or replace table marts.fct_supervision_transition as select * from (values "
                    "(1::bigint, 1::bigint, 'open'), (2::bigint, 1::bigint, 'open'), (2::bigint, 2::bigint, 'notified')"
                    ") t(item_id, seq, to_state)")
        # 排队叫号 / 窗口动态增减 (SPEC v2 §4.10): W01's October, and two business types - one long queue (+1)
        # and one idle pair of windows (-1) under the default thresholds (30 / 2 / 10)
        con.execute("create or replace table marts.fct_queue_month as select * from (values "
                    "(date '2025-10-01', 'window', 'W01', 'D01', null, 12::bigint, 10::bigint, 1::bigint, 1::bigint, 1 / 11, 8.5, 31.0, 6.0), "
                    "(date '2025-10-01', 'business_type', null, null, 'B1', 10::bigint, 9::bigint, 1::bigint, 0::bigint, 0.1, 12.0, 31.0, 6.0), "
                    "(date '2025-10-01', 'business_type', null, null, 'B2', 5::bigint, 5::bigint, 0::bigint, 0::bigint, 0.0, 2.0, 4.0, 3.0)"
                    ") t(month, scope, window_id, department_id, business_type, tickets, served, no_shows, cancelled, "
                    "no_show_rate, avg_wait_minutes, p90_wait_minutes, avg_service_minutes)")
        con.execute("create or replace table marts.fct_window_adjustment as select * from (values "
                    "(date '2025-10-01', 'B1', 1::bigint, 10::bigint, 31.0, 0.05, 1, '增设窗口：90%等候 31.0 分钟，超过 30 分钟'), "
                    "(date '2025-10-01', 'B2', 2::bigint, 5::bigint, 4.0, 0.02, -1, '合并窗口：2 个窗口每开放小时办理 0.02 张')"
                    ") t(month, business_type, current_windows, tickets, p90_wait_minutes, served_per_window_hour, proposal, evidence)")
        # 考勤 (SPEC v2 §4.10): W01 staffed, covered and absent on three working days, closed on Sunday; the
        # month figures; 星级服务人员 (§4.12): two eligible staff members and one not
        con.execute("create schema if not exists intermediate")
        con.execute("create or replace table marts.fct_attendance_day as select * from (values "
                    "('W01', date '2025-10-12', false, false, false, false, 0::bigint, 0::bigint), "
                    "('W01', date '2025-10-13', true, true, false, false, 1::bigint, 0::bigint), "
                    "('W01', date '2025-10-14', true, false, true, false, 0::bigint, 0::bigint), "
                    "('W01', date '2025-10-15', true, false, false, true, 0::bigint, 0::bigint)"
                    ") t(window_id, date, is_scheduled, is_staffed, is_covered, is_absent, late_arrivals, early_leaves)")
        for grain, key in (("window", "W01"), ("department", "D01")):
            con.execute(f"create or replace table intermediate.int_hall__attendance_{grain}_month as select "
                        f"date '2025-10-01' as month, '{key}' as {grain}_id, 0.5 as in_post_rate")
        con.execute("create or replace table marts.fct_staff_month as select * from (values "
                    "(date '2025-10-01', 'S1', 'C01', 1.0, 0.9, 0.9, 95.0, 5, 1::bigint, true), "
                    "(date '2025-10-01', 'S2', 'C01', 0.9, 0.8, 0.85, 87.5, 3, 2::bigint, true), "
                    "(date '2025-10-01', 'S3', 'C01', 1.0, null, 0.8, 90.0, null, null, false)"
                    ") t(month, staff_id, center_id, on_time_rate, satisfaction_rate, adjusted_satisfaction, score, stars, "
                    "rank, is_eligible)")
        # 12345 / 办不成事 工单, 明察暗访 and 一日三查 (SPEC v2 §4.10): one substantiated complaint closed on
        # time, one order open and not yet due; an inspection with a finding at W01 and a hall-wide one;
        # a centre's working days, one short of three video spot checks
        con.execute("create or replace table marts.fct_work_order as select * from (values "
                    "('O1', true), ('O2', null::boolean)) t(order_id, is_closed_on_time)")
        con.execute("create or replace table marts.fct_inspection as select * from (values "
                    "('I1', 2.0), ('I2', 0.0)) t(inspection_id, deduction)")
        con.execute("create or replace table marts.fct_spot_check_day as select * from (values "
                    "('C01', date '2025-10-13', 3::bigint, 3::bigint, true), "
                    "('C01', date '2025-10-14', 2::bigint, 3::bigint, false)) t(center_id, date, done, required, met)")
        for grain, key in (("window", "W01"), ("department", "D01")):
            con.execute(f"create or replace table intermediate.int_hall__work_orders_{grain}_month as select "
                        f"date '2025-10-01' as month, '{key}' as {grain}_id, 1.0 as work_orders_closed_on_time_rate, "
                        "1.0 as requester_satisfaction_rate")
            con.execute(f"create or replace table intermediate.int_hall__inspections_{grain}_month as select "
                        f"date '2025-10-01' as month, '{key}' as {grain}_id, 2.0 as deduction_points")
        con.execute("create or replace table intermediate.int_scoring__deductions_complaint as select 'O1' as ref_id, "
                    "2.0 as points")
        con.execute("create or replace table intermediate.int_scoring__deductions_inspection as select 'I1' as ref_id, "
                    "2.0 as points")
    finally:
        con.close()

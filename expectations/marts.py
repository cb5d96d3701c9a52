"""The marts gate: Great Expectations suites on the published-to-be marts, run as SQL in DuckDB.

Never loads a mart into pandas: every asset is a DuckDB query (through the workaround in
expectations/duckdb_workaround.py), and checks that relate rows or tables are computed in
that query as a boolean `ok` column or a count, so GE evaluates them with the metric SQL it
sends to DuckDB. The rules come from docs/rules.md:

critical: keys unique and not null; one row per window-month and department-month; rates in
[0, 1]; stars 1..5; score 0..100; every red card past its deadline; cards only on open cases;
ranks per §4.6 (competition ranking 1,2,2,4 by score among eligible windows, min rank 1, no
rank for ineligible windows; v2: every vetoed window ranks after every eligible window without a
veto); red flag only for eligible, unvetoed, >= red_flag_min_stars; veto caps at one star; v2: no
stars for an ineligible window (不参评), deductions never null nor negative; fct_case has no more cases than landed distinct accepted case ids;
timeliness signals: a known TL_* rule on a case of fct_case at its window, counted in
fct_case.timeliness_signals, and a TL_LEGAL_OVERDUE signal exactly for the legal-overdue cases.
plausibility of ratings (issue 21: a rating direction declared the wrong way round published
satisfaction 0.999 -> 0.001 with every other check green): at most a small share of a month's
非常满意 ratings carry a bad-review reason (态度差, 办理慢 …), and no centre's satisfaction rate
swings by more than the scoring file's `max_satisfaction_swing` from one month to the next.
warning: evaluation_rate in [0, 1]; rows in quarantine (reported, never silent); a window's
satisfaction swinging beyond `max_satisfaction_swing` (a real event is possible at one window).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from expectations.gx_run import GateResult, SqlSuite, check, duckdb_config, import_gx, run_sql_gate, while_importing_gx

MARTS = (
    "dim_date",
    "dim_window",
    "dim_item",
    "fct_case",
    "fct_off_book_signal",
    "fct_timeliness_signal",
    "fct_rating_signal",
    "fct_evaluation",
    "fct_video_flag",
    "fct_window_month",
    "fct_department_month",
    "fct_quarantine",
    # SPEC v2 §4.10 work orders, inspections, 一日三查 (empty while their optional feeds were never delivered)
    "fct_work_order",
    "fct_inspection",
    "fct_spot_check_day",
    # SPEC v2 §4.11 督办, exported from the store at the start of the run (empty while no item exists)
    "fct_supervision_item",
    "fct_supervision_transition",
    # SPEC v2 §4.10 排队叫号 and 窗口动态增减 (empty while the optional queue_tickets feed was never delivered)
    "fct_queue_month",
    "fct_window_adjustment",
    # SPEC v2 §4.10 考勤 and §4.12 星级服务人员 (attendance empty while the optional feed was never delivered)
    "fct_attendance_day",
    "fct_staff_month",
)
TIMELINESS_RULES = (
    "TL_LATE_NOTICE", "TL_REPEAT_NOTICE", "TL_PAUSE_REASON", "TL_PAUSE_NO_REASON", "TL_EXTENSION_REPEAT",
    "TL_EXTENSION_CAP", "TL_EXTENSION_LATE", "TL_LEGAL_OVERDUE", "TL_STEP_OVERDUE", "TL_LATE_DELIVERY",
)
# 评价真实性 (docs/rules.md#rating-integrity); RI_TOO_PERFECT is the window-month rule (no evaluation_id)
RATING_RULES = ("RI_BURST", "RI_NO_SERVICE", "RI_OFF_HOURS", "RI_TOO_PERFECT")
RATES = (
    "on_time_rate",
    "same_day_rate",
    "immediate_on_time_rate",
    "off_book_rate",
    "satisfaction_rate",
    "adjusted_satisfaction",
    "rectification_rate",
    # v2 好差评 (docs/rules.md#active-evaluation-rate, #verification, #callback)
    "active_evaluation_rate",
    "verification_rate",
    "callback_rate",
)


MartSuite = SqlSuite  # name marts.<what>.<severity>, a query on the warehouse

# Rating plausibility. A rater who ticks 非常满意 and a bad-review reason is rare (a mis-tap); when
# more than this share of a month's 非常满意 ratings carry one (and at least REASON_ON_TOP_MIN of
# them: a handful in a small month prove nothing), the ratings are read the wrong way round.
REASON_ON_TOP_MAX_SHARE = 0.05
REASON_ON_TOP_MIN = 3
# A month-over-month satisfaction swing is judged only between months with at least this many
# active ratings on both sides: below that, chance alone moves a rate a lot.
SWING_MIN_RATINGS = 100
DIRECTION_HINT = ("is the rating direction declared the wrong way round (source option rating_direction: "
                  "five_is_best / one_is_best)? Fix it, take the delivery back and deliver it again")


def rating_signal_suites() -> list[MartSuite]:
    """fct_rating_signal (SPEC §4.9, docs/rules.md#rating-integrity): a known RI_* rule; evaluation_id
    null exactly for the window-month rule RI_TOO_PERFECT; one row per rating × rule and per window-month
    × rule; month is the first day of the signal's month."""
    import great_expectations.expectations as gxe

    why = ("a rating-integrity signal names its rating exactly when its rule is per rating (RI_TOO_PERFECT is "
           "per window-month), its window, and the month its date falls in; one row per rating or window-month "
           "and rule (docs/rules.md#rating-integrity)")
    return [
        MartSuite(
            "marts.fct_rating_signal.critical",
            "select s.*, (s.rule_id = 'RI_TOO_PERFECT') = (s.evaluation_id is null) "
            "and s.window_id is not null and s.evidence is not null "
            "and s.month = cast(date_trunc('month', s.signal_date) as date) "
            "and count(*) over (partition by coalesce(s.evaluation_id, s.window_id || ' ' || cast(s.month as varchar)), "
            "s.rule_id) = 1 as ok from marts.fct_rating_signal as s",
            (
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="rule_id", value_set=list(RATING_RULES)),
                      "the four rules of docs/rules.md#rating-integrity"),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="signal_date"), "every signal has its date"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="ok"), why),
            ),
        )
    ]


def work_order_inspection_suites() -> list[MartSuite]:
    """fct_work_order, fct_inspection, fct_spot_check_day and the work-order / inspection month figures
    the lead joins into the month marts (SPEC v2 §4.10, docs/rules.md#work-orders, #inspections,
    #spot-checks): keys unique, rates in [0, 1], deductions not negative, met = done >= required."""
    import great_expectations.expectations as gxe

    def unique(columns: list[str], what: str):
        return check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=columns), f"one row per {what}")

    def rate(column: str):
        return check("critical", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1),
                     f"{column} is a rate in [0, 1]")

    def not_negative(column: str, why: str):
        return check("critical", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0), why)

    month_rates = ("work_orders_closed_on_time_rate", "requester_satisfaction_rate")
    out = [
        MartSuite("marts.fct_work_order.critical", "select order_id, is_closed_on_time from marts.fct_work_order",
                  (check("critical", gxe.ExpectColumnValuesToNotBeNull(column="order_id"), "every order has its id"),
                   check("critical", gxe.ExpectColumnValuesToBeUnique(column="order_id"), "one row per work order"))),
        MartSuite("marts.fct_inspection.critical", "select inspection_id, deduction from marts.fct_inspection",
                  (check("critical", gxe.ExpectColumnValuesToNotBeNull(column="inspection_id"),
                         "every record has its id"),
                   check("critical", gxe.ExpectColumnValuesToBeUnique(column="inspection_id"),
                         "one row per inspection"),
                   not_negative("deduction", "an inspection's deduction is not negative (扣分 >= 0)"))),
        MartSuite("marts.fct_spot_check_day.critical",
                  "select center_id, date, done, met = (done >= required) as ok from marts.fct_spot_check_day",
                  (unique(["center_id", "date"], "centre and working day"),
                   not_negative("done", "spot checks done are not negative"),
                   check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]),
                         "一日三查 met exactly when done >= required (docs/rules.md#spot-checks)"))),
    ]
    for grain, key in (("window", "window_id"), ("department", "department_id")):
        out.append(MartSuite(
            f"marts.work_orders_{grain}_month.critical",
            f"select * from intermediate.int_hall__work_orders_{grain}_month",
            (unique(["month", key], f"{grain}-month"), *(rate(r) for r in month_rates)),
        ))
        out.append(MartSuite(
            f"marts.inspections_{grain}_month.critical",
            f"select * from intermediate.int_hall__inspections_{grain}_month",
            (unique(["month", key], f"{grain}-month"),
             not_negative("deduction_points", "inspection deduction points are not negative")),
        ))
    for source in ("complaint", "inspection"):
        out.append(MartSuite(
            f"marts.deductions_{source}.critical",
            f"select ref_id, points from intermediate.int_scoring__deductions_{source}",
            (check("critical", gxe.ExpectColumnValuesToBeUnique(column="ref_id"),
                   f"one {source} deduction per row behind it"),
             check("critical", gxe.ExpectColumnValuesToBeBetween(column="points", min_value=0, strict_min=True),
                   "a deduction row has points > 0 (docs/rules.md#deductions)")),
        ))
    return out


SUPERVISION_STATES = ("open", "notified", "acknowledged", "rectified", "closed", "escalated")


def supervision_suites() -> list[MartSuite]:
    """fct_supervision_item / fct_supervision_transition (SPEC §4.11, docs/rules.md#supervision-marts):
    one row per item and per (item, seq), states of the workflow only, every transition of a known item."""
    import great_expectations.expectations as gxe

    states = list(SUPERVISION_STATES)
    why = "every transition belongs to an item of fct_supervision_item (the export is one snapshot of the store)"
    return [
        MartSuite(
            "marts.fct_supervision_item.critical",
            "select item_id, state from marts.fct_supervision_item",
            (
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="item_id"), "every item has its id"),
                check("critical", gxe.ExpectColumnValuesToBeUnique(column="item_id"), "one row per supervision item"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="state", value_set=states),
                      "the six states of the 督办 workflow (SPEC §4.11)"),
            ),
        ),
        MartSuite(
            "marts.fct_supervision_transition.critical",
            "select t.item_id, t.seq, t.to_state, i.item_id is not null as ok "
            "from marts.fct_supervision_transition as t left join marts.fct_supervision_item as i using (item_id)",
            (
                check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["item_id", "seq"]),
                      "one row per transition (item, seq)"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="to_state", value_set=states),
                      "the six states of the 督办 workflow (SPEC §4.11)"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why),
            ),
        ),
    ]


def queue_suites(add_p90: float, merge_per_hour: float, merge_p90: float) -> list[MartSuite]:
    """fct_queue_month and fct_window_adjustment (SPEC v2 §4.10, docs/rules.md#queue, #window-adjustment):
    one row per month and scope key (the key of its scope set, the other null), counts that add up, rates
    in [0, 1]; one adjustment per month and business type whose proposal is the rule's verdict on its own
    figures with the scoring file's thresholds, and whose tickets and p90 are those of fct_queue_month."""
    import great_expectations.expectations as gxe

    why_month = ("a queue row names exactly the key of its scope (window: window_id; business_type: business_type), "
                 "and served + no_shows + cancelled <= tickets (docs/rules.md#queue)")
    why_adjust = (f"proposal = +1 when p90 > {add_p90:g}, -1 when more than one window, served per window-hour < "
                  f"{merge_per_hour:g} and p90 < {merge_p90:g}, else 0 (scoring file, docs/rules.md#window-adjustment); "
                  "tickets and p90 as in fct_queue_month's business_type row")
    return [
        MartSuite(
            "marts.fct_queue_month.critical",
            "select q.*, case when scope = 'window' then window_id is not null and business_type is null "
            "else scope = 'business_type' and window_id is null and department_id is null and business_type is not null end "
            "and served + no_shows + cancelled <= tickets as ok from marts.fct_queue_month as q",
            (
                check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "scope", "window_id", "business_type"]),
                      "one row per month and scope key"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="scope", value_set=["window", "business_type"]),
                      "two scopes: window and business_type"),
                check("critical", gxe.ExpectColumnValuesToBeBetween(column="no_show_rate", min_value=0, max_value=1),
                      "no_show_rate is a rate in [0, 1]"),
                check("critical", gxe.ExpectColumnValuesToBeBetween(column="p90_wait_minutes", min_value=0),
                      "waits are not negative"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why_month),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="ok"), why_month),
            ),
        ),
        MartSuite(
            "marts.fct_window_adjustment.critical",
            "select a.month, a.business_type, a.proposal, a.evidence, "
            f"a.proposal = case when a.p90_wait_minutes > {add_p90!r} then 1 "
            f"when a.current_windows > 1 and a.served_per_window_hour < {merge_per_hour!r} "
            f"and a.p90_wait_minutes < {merge_p90!r} then -1 else 0 end "
            "and q.tickets is not distinct from a.tickets and q.p90_wait_minutes is not distinct from a.p90_wait_minutes as ok "
            "from marts.fct_window_adjustment as a left join marts.fct_queue_month as q "
            "on q.scope = 'business_type' and q.month = a.month and q.business_type = a.business_type",
            (
                check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "business_type"]),
                      "one adjustment per month and business type"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="proposal", value_set=[-1, 0, 1]),
                      "a proposal is -1, 0 or +1 window"),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="evidence"), "every proposal states its evidence"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why_adjust),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="ok"), why_adjust),
            ),
        ),
    ]


def attendance_staff_suites() -> list[MartSuite]:
    """fct_attendance_day, the attendance month figures the lead joins into the month marts, and
    fct_staff_month (SPEC v2 §4.10, §4.12; docs/rules.md#attendance, #staff-stars): keys unique, a
    scheduled window-day exactly one of staffed / covered / absent (none on another day), rates in
    [0, 1], stars 1..5 and a rank exactly for eligible staff, the rank 1 + the eligible staff of the
    month and centre with a higher score (1, 2, 2, 4)."""
    import great_expectations.expectations as gxe

    def rate(column: str):
        return check("critical", gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1),
                     f"{column} is a rate in [0, 1]")

    def ok(why: str):
        return (check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="ok"), why))

    why_day = ("a scheduled window-day is exactly one of staffed, covered, absent; a day that is not scheduled is "
               "none of them; late arrivals and early leaves are not negative (docs/rules.md#attendance)")
    why_staff = ("stars and rank exactly for eligible staff; rank = 1 + eligible staff of the month and centre "
                 "with a higher score (docs/rules.md#staff-stars)")
    out = [
        MartSuite(
            "marts.fct_attendance_day.critical",
            "select window_id, date, (case when is_scheduled then "
            "(case when is_staffed then 1 else 0 end) + (case when is_covered then 1 else 0 end) "
            "+ (case when is_absent then 1 else 0 end) = 1 else not (is_staffed or is_covered or is_absent) end) "
            "and late_arrivals >= 0 and early_leaves >= 0 as ok from marts.fct_attendance_day",
            (check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["window_id", "date"]),
                   "one row per window and day"),
             check("critical", gxe.ExpectColumnValuesToNotBeNull(column="window_id"), "every day names its window"),
             *ok(why_day)),
        ),
        MartSuite(
            "marts.fct_staff_month.critical",
            "select s.month, s.staff_id, s.on_time_rate, s.satisfaction_rate, s.adjusted_satisfaction, s.stars, s.score, "
            "(s.is_eligible = (s.rank is not null) and s.is_eligible = (s.stars is not null) "
            "and (not s.is_eligible or s.rank = 1 + (select count(*) from marts.fct_staff_month as o "
            "where o.is_eligible and o.month = s.month and o.center_id is not distinct from s.center_id "
            "and o.score > s.score))) as ok from marts.fct_staff_month as s",
            (check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "staff_id"]),
                   "one row per staff member and month"),
             *(rate(c) for c in ("on_time_rate", "satisfaction_rate", "adjusted_satisfaction")),
             check("critical", gxe.ExpectColumnValuesToBeBetween(column="stars", min_value=1, max_value=5), "stars 1..5"),
             check("critical", gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=100), "score 0..100"),
             *ok(why_staff)),
        ),
    ]
    for grain, key in (("window", "window_id"), ("department", "department_id")):
        out.append(MartSuite(
            f"marts.attendance_{grain}_month.critical",
            f"select * from intermediate.int_hall__attendance_{grain}_month",
            (check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", key]), f"one row per {grain}-month"),
             rate("in_post_rate")),
        ))
    return out


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def suites(landing: Path, landed_accepted_cases: int | None = None) -> list[MartSuite]:
    """The marts suites; `landed_accepted_cases` (see `count_landed_accepted_cases`) is put into
    the reconcile suite's query as a number, else the query scans landing itself."""
    import_gx()
    import great_expectations.expectations as gxe

    def ok(name: str, why: str, query: str) -> MartSuite:
        return MartSuite(
            f"marts.{name}.critical",
            query,
            (check("critical", gxe.ExpectColumnValuesToBeInSet(column="ok", value_set=[True]), why),
             check("critical", gxe.ExpectColumnValuesToNotBeNull(column="ok"), why)),
        )

    from core.config import load_scoring

    scoring = load_scoring()
    min_stars = int(scoring.score.red_flag_min_stars)
    swing = float(scoring.satisfaction.max_satisfaction_swing)
    landed = landed_accepted_sql(landing) if landed_accepted_cases is None else f"{int(landed_accepted_cases)}::bigint"
    out: list[MartSuite] = []
    out.append(
        MartSuite(
            "marts.fct_case.critical",
            "select case_id, status, card from marts.fct_case",
            (
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="case_id"), "every case has its id"),
                check("critical", gxe.ExpectColumnValuesToBeUnique(column="case_id"), "fct_case has one row per case"),
                check(
                    "critical",
                    gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["open", "completed", "rejected", "withdrawn"]),
                    "status per docs/rules.md",
                ),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="card", value_set=["red", "yellow", "green"]), "cards are red/yellow/green"),
            ),
        )
    )
    out.append(
        ok(
            "fct_case_cards",
            "a card only on open cases, and every red card is past its deadline at the as-of date (docs/rules.md)",
            "select case_id, card, (card is null) = (status <> 'open') "
            "and (card is distinct from 'red' or cast(deadline_at as date) < as_of_date) as ok from marts.fct_case",
        )
    )
    out.append(
        ok(
            "fct_case_on_time",
            "is_on_time is set for completed cases only",
            "select case_id, (is_on_time is null) = (status <> 'completed') as ok from marts.fct_case",
        )
    )
    out.append(
        MartSuite(
            "marts.fct_case_reconcile.critical",
            "select (select count(*) from marts.fct_case) as cases, "
            f"({landed}) as landed_accepted_cases",
            (
                check(
                    "critical",
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="landed_accepted_cases", column_B="cases", or_equal=True),
                    "fct_case cannot hold more cases than landing has distinct accepted case ids (quarantined rows never land)",
                ),
            ),
        )
    )
    wm_exps = [
        check(
            "critical",
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "window_id"]),
            "fct_window_month has one row per window-month",
        ),
        check("critical", gxe.ExpectColumnValuesToBeBetween(column="stars", min_value=1, max_value=5), "stars are 1..5"),
        check("critical", gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=100), "score is 0..100"),
        check("critical", gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=1), "ranks start at 1"),
        # SPEC v2 §4.6 (docs/rules.md#deductions): 0 when nothing applies, never null
        check("critical", gxe.ExpectColumnValuesToNotBeNull(column="deductions"), "deductions is never null (0 when none)"),
        check("critical", gxe.ExpectColumnValuesToBeBetween(column="deductions", min_value=0), "deductions are not negative"),
    ]
    wm_exps += [
        check("critical", gxe.ExpectColumnValuesToBeBetween(column=r, min_value=0, max_value=1), f"{r} is a rate in [0, 1]")
        for r in RATES
    ]
    out.append(MartSuite("marts.fct_window_month.critical", "select * from marts.fct_window_month", tuple(wm_exps)))
    out.append(
        MartSuite(
            "marts.fct_window_month.warning",
            "select month, window_id, evaluation_rate from marts.fct_window_month",
            (check("warning", gxe.ExpectColumnValuesToBeBetween(column="evaluation_rate", min_value=0, max_value=1), "evaluation_rate is a rate in [0, 1]"),),
        )
    )
    out.append(
        ok(
            "fct_window_month_ranks",
            "ranks per docs/rules.md: each centre ranks its own eligible windows every month, by score with ties "
            "sharing a rank (1,2,2,4); ineligible windows have no rank",
            "select month, center_id, window_id, case when is_eligible then rank is not distinct from "
            "(rank() over (partition by month, center_id, is_eligible "
            "order by case when veto_reason is null then 0 else 1 end, score desc)) else rank is null end as ok "
            "from marts.fct_window_month",
        )
    )
    out.append(
        ok(
            "fct_window_month_min_rank",
            "every centre-month with eligible windows has a rank 1",
            "select month, center_id, min(rank) = 1 as ok from marts.fct_window_month where is_eligible "
            "group by month, center_id",
        )
    )
    out.append(
        ok(
            "fct_window_month_honours",
            f"a red flag only for an eligible, unvetoed window with >= {min_stars} stars; a veto caps the window "
            "at one star; 末位 only among eligible windows (docs/rules.md)",
            "select month, window_id, (not coalesce(is_red_flag, false) "
            f"or (is_eligible and veto_reason is null and stars >= {min_stars})) "
            "and (veto_reason is null or not is_eligible or stars = 1) "
            "and (not coalesce(is_bottom, false) or is_eligible) as ok from marts.fct_window_month",
        )
    )
    # SPEC v2 §4.6 (docs/rules.md#stars, #rank)
    out.append(
        ok(
            "fct_window_month_stars_eligible",
            "stars only for a window eligible for ranking (不参评, 样本不足) and a score only with T (docs/rules.md#stars)",
            "select month, window_id, (stars is not null) = coalesce(is_eligible, false) "
            "and (score is null) = (component_t is null) as ok from marts.fct_window_month",
        )
    )
    out.append(
        ok(
            "fct_window_month_veto_last",
            "一票否决: every vetoed window ranks after every eligible window without a veto, per month and centre "
            "(docs/rules.md#rank)",
            "select month, center_id, coalesce(min(case when veto_reason is not null then rank end) "
            "> max(case when veto_reason is null then rank end), true) as ok "
            "from marts.fct_window_month where is_eligible group by month, center_id",
        )
    )
    out.append(
        MartSuite(
            "marts.fct_department_month.critical",
            "select * from marts.fct_department_month",
            tuple(
                [check("critical", gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "department_id"]), "one row per department-month")]
                + [
                    check("critical", gxe.ExpectColumnValuesToBeBetween(column=r, min_value=0, max_value=1), f"{r} is a rate in [0, 1]")
                    for r in RATES
                ]
            ),
        )
    )
    out.append(
        MartSuite(
            "marts.fct_timeliness_signal.critical",
            "select case_id, rule_id, signal_date, evidence from marts.fct_timeliness_signal",
            (
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="case_id"), "every timeliness signal names its case"),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="signal_date"), "every signal has its date"),
                check("critical", gxe.ExpectColumnValuesToNotBeNull(column="evidence"), "every signal has its evidence"),
                check("critical", gxe.ExpectColumnValuesToBeInSet(column="rule_id", value_set=list(TIMELINESS_RULES)),
                      "the ten rules of docs/rules.md#timeliness-signals"),
            ),
        )
    )
    out.append(
        ok(
            "fct_timeliness_signal_cases",
            "a timeliness signal is on a case of fct_case, at the case's window, and fct_case.timeliness_signals "
            "counts them; TL_LEGAL_OVERDUE fires exactly for the cases with is_legal_overdue (docs/rules.md)",
            "select c.case_id, c.timeliness_signals = coalesce(counted.signals, 0) "
            "and coalesce(c.is_legal_overdue, false) = (coalesce(counted.legal, 0) = 1) "
            "and misplaced.n = 0 as ok "
            "from marts.fct_case as c "
            "left join (select case_id, count(*) as signals, count(case when rule_id = 'TL_LEGAL_OVERDUE' then 1 end) as legal "
            "from marts.fct_timeliness_signal group by case_id) as counted on counted.case_id = c.case_id "
            "cross join (select count(*) as n from marts.fct_timeliness_signal as s "
            "left join marts.fct_case as f on f.case_id = s.case_id where f.window_id is distinct from s.window_id) as misplaced",
        )
    )
    out.append(
        MartSuite(
            "marts.fct_evaluation.critical",
            "select evaluation_id, rating from marts.fct_evaluation",
            (
                check("critical", gxe.ExpectColumnValuesToBeUnique(column="evaluation_id"), "one row per evaluation"),
                check("critical", gxe.ExpectColumnValuesToBeBetween(column="rating", min_value=1, max_value=5), "ratings are 1..5"),
            ),
        )
    )
    out.append(
        ok(
            "fct_evaluation_v2",
            "v2 好差评 flags agree (docs/rules.md#default-ratings, #appeals, #verification, #callback): an overturned "
            "review is not bad; a default rating is neither good nor bad and needs nothing; a deadline only where "
            "its rule applies, and on-time verdicts only beside it; a callback only for a real-name review that "
            "needs rectification and was rectified",
            "select evaluation_id, "
            "not (is_overturned and is_bad) "
            "and not (is_default and (is_good or is_bad or needs_verification)) "
            "and (verification_deadline is null or needs_verification) "
            "and (is_verified_on_time is not null) = needs_verification "
            "and (callback_deadline is null or needs_callback) "
            "and (is_called_back_on_time is not null) = needs_callback "
            "and (not needs_callback or (needs_rectification and is_real_name and rectified_at is not null)) "
            "and (not needs_rectification or not is_overturned) "
            "and (callback_deadline is null or callback_deadline >= rectified_at) as ok from marts.fct_evaluation",
        )
    )
    out.append(
        ok(
            "fct_window_month_satisfaction_v2",
            "v2 好差评 counts of a window-month agree with fct_evaluation (docs/rules.md#satisfaction-v2-month): "
            "default_ratings and appeals_overturned by evaluation month; verification_rate and callback_rate "
            "never null (1.0 when none due)",
            "select m.window_id, m.month, m.default_ratings = coalesce(e.defaults, 0) "
            "and m.appeals_overturned = coalesce(e.overturned, 0) "
            "and m.verification_rate is not null and m.callback_rate is not null as ok "
            "from marts.fct_window_month as m left join (select window_id, evaluated_month, "
            "count(*) filter (where is_default) as defaults, count(*) filter (where is_overturned) as overturned "
            "from marts.fct_evaluation group by window_id, evaluated_month) as e "
            "on e.window_id = m.window_id and e.evaluated_month = m.month",
        )
    )
    out += rating_signal_suites()
    out += supervision_suites()
    out += work_order_inspection_suites()
    out += queue_suites(scoring.hall.queue_add_p90_minutes, scoring.hall.queue_merge_per_hour, scoring.hall.queue_merge_p90_minutes)
    out += attendance_staff_suites()
    out += rating_plausibility_suites(swing)
    out.append(
        MartSuite(
            "marts.fct_video_flag.critical",
            "select flag_id, confidence, review_status from marts.fct_video_flag",
            (
                check("critical", gxe.ExpectColumnValuesToBeUnique(column="flag_id"), "one row per flag"),
                check("critical", gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1), "confidence is 0..1"),
                check(
                    "critical",
                    gxe.ExpectColumnValuesToBeInSet(column="review_status", value_set=["pending", "confirmed", "dismissed"]),
                    "review status per the feed contract, core/feeds.py",
                ),
            ),
        )
    )
    out.append(
        MartSuite(
            "marts.dim_date.critical",
            "select date from marts.dim_date",
            (check("critical", gxe.ExpectColumnValuesToBeUnique(column="date"), "one row per calendar day"),),
        )
    )
    out.append(
        MartSuite(
            "marts.fct_quarantine.warning",
            "select feed, rule from marts.fct_quarantine",
            (
                check(
                    "warning",
                    gxe.ExpectTableRowCountToEqual(value=0),
                    "rows were quarantined: see the quarantine page / fct_quarantine for file, line and rule",
                ),
            ),
        )
    )
    return out


def rating_plausibility_suites(max_swing: float) -> list[MartSuite]:
    """Ratings that cannot be what the raters meant (a rating direction declared the wrong way
    round): one row per finding candidate with `ok` and a `finding` in an operator's words, which
    the gate prints for each failing row (the suite's index column)."""
    import great_expectations.expectations as gxe

    def suite(name: str, severity: str, why: str, query: str) -> MartSuite:
        # `finding` is null where all is well: its unexpected values (the examples, and the rows
        # of a critical failure) are the findings themselves
        return MartSuite(f"marts.{name}.{severity}", f"select *, case when not ok then finding_text end as finding from ({query})",
                         (check(severity, gxe.ExpectColumnValuesToBeNull(column="finding"), why),), ("finding",))

    share = f"{REASON_ON_TOP_MAX_SHARE!r}"
    reasons = suite(
        "fct_evaluation_reasons", "critical",
        f"ratings of 非常满意 carry a bad-review reason (态度差, 办理慢, 多次跑 …) in more than {REASON_ON_TOP_MAX_SHARE:.0%} of "
        f"a month's 非常满意 ratings — {DIRECTION_HINT}",
        "select month, top, top_with_reason, "
        f"coalesce(top_with_reason < {REASON_ON_TOP_MIN} or top_with_reason <= {share} * top, true) as ok, "
        "strftime(month, '%Y-%m') || ': ' || top_with_reason || ' of ' || top || ' ratings of 非常满意 carry a bad-review reason "
        "— is the rating direction declared the wrong way round?' as finding_text "
        "from (select evaluated_month as month, count(*) filter (where rating = 5) as top, "
        "count(*) filter (where rating = 5 and coalesce(reason_codes, '') <> '') as top_with_reason "
        "from marts.fct_evaluation group by evaluated_month)",
    )

    def swing_query(scope: str, key: str, label: str) -> str:
        # GE's query asset must start with SELECT (no WITH): nested subqueries
        return (
            "select month, who, rate, prev_rate, "
            f"not coalesce(prev_month = cast(month - interval 1 month as date) and n >= {SWING_MIN_RATINGS} "
            f"and prev_n >= {SWING_MIN_RATINGS} and abs(rate - prev_rate) > {max_swing!r}, false) as ok, "
            f"strftime(month, '%Y-%m') || ' {label} ' || who || ': satisfaction ' || printf('%.3f', prev_rate) || ' -> ' "
            "|| printf('%.3f', rate) || ' (' || n || ' ratings) in one month, beyond max_satisfaction_swing "
            f"{max_swing:g} — is the rating direction declared the wrong way round?' as finding_text "
            "from (select month, who, n, cast(good as double) / n as rate, lag(month) over w as prev_month, "
            "lag(n) over w as prev_n, lag(cast(good as double) / n) over w as prev_rate "
            f"from (select month, {key} as who, sum(evaluations) as n, sum(good_reviews) as good "
            f"from marts.fct_window_month group by month, {key} having sum(evaluations) > 0) "
            "window w as (partition by who order by month))"
        )

    centre = suite(
        "fct_window_month_satisfaction_swing", "critical",
        f"a centre's satisfaction rate moved by more than max_satisfaction_swing ({max_swing:g}, scoring file) from one "
        f"month to the next (months with >= {SWING_MIN_RATINGS} ratings) — no real centre swings so far; {DIRECTION_HINT}",
        swing_query("centre", "center_id", "centre"),
    )
    window = suite(
        "fct_window_month_window_swing", "warning",
        f"a window's satisfaction rate moved by more than max_satisfaction_swing ({max_swing:g}) from one month to the next "
        f"(months with >= {SWING_MIN_RATINGS} ratings): look at that window's ratings",
        swing_query("window", "window_id", "window"),
    )
    return [reasons, centre, window]


def landed_accepted_sql(landing: Path) -> str:
    """How many distinct case ids landing has accepted: the bound fct_case is reconciled with."""
    tx_glob = _sql_str(str(landing / "transactions" / "**" / "*.parquet"))
    return f"select count(distinct case_id) from read_parquet({tx_glob}, union_by_name=true) where event_type = 'accept'"


def count_landed_accepted_cases(landing: Path, config: dict) -> int | None:
    """`landed_accepted_sql`, computed once before the Checkpoint.

    Inside the reconcile suite's query asset GE would run it five times (the batch's columns,
    row count, the pair expectation's count, unexpected count and examples), each a scan of
    every landed transaction: two thirds of the marts gate's SQL at city. The expectation and
    its failure message are unchanged; the batch just holds the number. None if landing cannot
    be read: the query then stays in the suite, so GE reports the error as before."""
    con = duckdb.connect(config=dict(config))
    try:
        return int(con.execute(landed_accepted_sql(landing)).fetchone()[0])
    except duckdb.Error:
        return None
    finally:
        con.close()


def missing_marts(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        have = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    finally:
        con.close()
    return [m for m in MARTS if m not in have]


def check_marts(warehouse: Path, landing: Path, docs_dir: Path) -> GateResult:
    gate = GateResult(gate="marts", success=True)
    if not warehouse.is_file():
        gate.success = False
        gate.notes.append(f"{warehouse}: no warehouse — the dbt build did not produce it")
        return gate
    missing = missing_marts(warehouse)
    if missing:
        gate.success = False
        gate.notes.append(f"{warehouse}: marts missing from schema marts: {', '.join(missing)} (docs/rules.md) — check the dbt build log")
        return gate
    config = duckdb_config(landing.parent, threads=1)  # see duckdb_config: window counts
    run_sql_gate(gate, warehouse, suites(landing, while_importing_gx(count_landed_accepted_cases, landing, config)), docs_dir, duckdb_config=config)
    return gate

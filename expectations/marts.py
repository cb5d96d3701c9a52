"""The marts gate: Great Expectations suites on the published-to-be marts, run as SQL in DuckDB.

Never loads a mart into pandas: every asset is a DuckDB query (through the workaround in
expectations/duckdb_workaround.py), and checks that relate rows or tables are computed in
that query as a boolean `ok` column or a count, so GE evaluates them with the metric SQL it
sends to DuckDB. The rules come from docs/rules.md:

critical: keys unique and not null; one row per window-month and department-month; rates in
[0, 1]; stars 1..5; score 0..100; every red card past its deadline; cards only on open cases;
ranks per §4.6 (competition ranking 1,2,2,4 by score among eligible windows, min rank 1, no
rank for ineligible windows); red flag only for eligible, unvetoed, >= red_flag_min_stars;
veto caps at one star; fct_case has no more cases than landed distinct accepted case ids;
timeliness signals: a known TL_* rule on a case of fct_case at its window, counted in
fct_case.timeliness_signals, and a TL_LEGAL_OVERDUE signal exactly for the legal-overdue cases.
warning: evaluation_rate in [0, 1]; rows in quarantine (reported, never silent).
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
    "fct_evaluation",
    "fct_video_flag",
    "fct_window_month",
    "fct_department_month",
    "fct_quarantine",
)
TIMELINESS_RULES = (
    "TL_LATE_NOTICE", "TL_REPEAT_NOTICE", "TL_PAUSE_REASON", "TL_PAUSE_NO_REASON", "TL_EXTENSION_REPEAT",
    "TL_EXTENSION_CAP", "TL_EXTENSION_LATE", "TL_LEGAL_OVERDUE", "TL_STEP_OVERDUE", "TL_LATE_DELIVERY",
)
RATES = (
    "on_time_rate",
    "same_day_rate",
    "immediate_on_time_rate",
    "off_book_rate",
    "satisfaction_rate",
    "adjusted_satisfaction",
    "rectification_rate",
)


MartSuite = SqlSuite  # name marts.<what>.<severity>, a query on the warehouse


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

    min_stars = int(load_scoring().score.red_flag_min_stars)
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
            "(rank() over (partition by month, center_id, is_eligible order by score desc)) else rank is null end as ok "
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
            "and (veto_reason is null or stars = 1) "
            "and (not coalesce(is_bottom, false) or is_eligible) as ok from marts.fct_window_month",
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

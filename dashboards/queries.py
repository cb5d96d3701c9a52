"""Every query of the dashboards, run inside DuckDB on the published snapshot.

The snapshot is opened read-only once per published file (`st.cache_resource` keyed on its
path, so a new publication is picked up by the next rerun and old readers keep their file);
each query gets its own cursor, and its (small, aggregated or LIMITed) result is cached with
`st.cache_data`. User-chosen values only ever reach SQL as bound parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

ROW_LIMIT = 500  # rows shown in a table; exports take all rows
EXPORT_LIMIT = 200_000


@st.cache_resource(show_spinner=False, max_entries=4)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def fetch(path: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    cur = _connection(path).cursor()
    try:
        return cur.execute(sql, list(params)).df()
    finally:
        cur.close()


def scalar(path: str, sql: str, params: tuple = ()):
    df = fetch(path, sql, params)
    return None if df.empty else df.iat[0, 0]


@dataclass(frozen=True)
class Filters:
    """Centre / department / window / month chosen in the sidebar (and kept in the URL)."""

    center: str | None = None
    dept: str | None = None
    window: str | None = None
    month: dt.date | None = None

    def where(self, w: str = "w") -> tuple[str, tuple]:
        """SQL conditions on dim_window alias `w` (always starts with 'true')."""
        sql, params = ["true"], []
        for col, value in (("center_id", self.center), ("department_id", self.dept), ("window_id", self.window)):
            if value:
                sql.append(f"{w}.{col} = ?")
                params.append(value)
        return " and ".join(sql), tuple(params)

    def where_month(self, w: str = "w", m: str = "m") -> tuple[str, tuple]:
        """Like `where`, for month-based rows `m` (fct_window_month): the department is the month's
        (`m.department_id`, the window version in force on the month's first day), so a window that
        moved department later stays under its old department in the months before the move. The same
        for a case `c` or a signal `s` (their department_id: the window version in force on the case's
        acceptance date, docs/rules.md#case)."""
        sql, params = ["true"], []
        for col, alias, value in (("center_id", w, self.center), ("department_id", m, self.dept),
                                  ("window_id", w, self.window)):
            if value:
                sql.append(f"{alias}.{col} = ?")
                params.append(value)
        return " and ".join(sql), tuple(params)


def prev_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# ---------------------------------------------------------------- reference


def windows(path: str) -> pd.DataFrame:
    return fetch(path, "select window_id, window_name, department_id, department_name, center_id, center_name, "
                       "window_kind from marts.dim_window order by center_id, department_id, window_id")


def _has_window_versions(path: str) -> bool:
    """Whether the snapshot holds the window versions (intermediate.int_reference__window_versions, with
    their department names); a snapshot built before versions existed does not."""
    return bool(scalar(path, "select count(*) from information_schema.columns where table_schema = 'intermediate' "
                             "and table_name = 'int_reference__window_versions' and column_name = 'department_name'"))


def month_department_name(path: str, m: str = "m", on: str | None = None) -> str:
    """SQL of the department name of the window-month row `m`: the name its (month's) department had
    in the window version in force on the month's first day, else the department's current name. `on`:
    another date the row is about (a case: its acceptance date), for a row `m` with window_id and
    department_id."""
    return department_name_on(path, m, on, by_window=True)


def department_name_on(path: str, m: str = "d", on: str | None = None, by_window: bool = False) -> str:
    """SQL of the department name of row `m` (with department_id) on the date `on` (default `m.month`): the
    name the department had in the window versions in force then (of the row's window when `by_window`, of
    any of its windows otherwise: a department-month row), else its current name, else its id."""
    current = f"(select min(dn.department_name) from marts.dim_window dn where dn.department_id = {m}.department_id)"
    if not _has_window_versions(path):
        return f"coalesce({current}, {m}.department_id)"
    day = on or f"{m}.month"
    window = f"v.window_id = {m}.window_id and " if by_window else ""
    then = (f"(select min(v.department_name) from intermediate.int_reference__window_versions v "
            f"where {window}v.department_id = {m}.department_id and v.valid_from <= {day} and {day} < v.valid_to)")
    return f"coalesce({then}, {current}, {m}.department_id)"


def dated_where(path: str, f: Filters, table: str, alias: str) -> tuple[str, tuple]:
    """The filter of a dated row `alias` of marts.`table` (an evaluation, a video flag) joined with dim_window `w`:
    on the row's own department_id (its window's department on the row's date, docs/rules.md#reference-versions),
    so a window that moved department keeps its earlier rows under the old one; a snapshot published before
    the column existed filters on today's department (`f.where()`)."""
    if department_on_date(path, table):
        return f.where_month(m=alias)
    return f.where()


def department_on_date(path: str, table: str) -> bool:
    """Whether marts.`table` carries department_id (the department on the row's date)."""
    return bool(scalar(path, "select count(*) from information_schema.columns where table_schema = 'marts' "
                             "and table_name = ? and column_name = 'department_id'", (table,)))


def dated_department_name(path: str, table: str, alias: str, on: str) -> str:
    """SQL of the department name of the dated row `alias` (see `dated_where`): as then, else today's."""
    if department_on_date(path, table):
        return month_department_name(path, alias, on)
    return "w.department_name"


def window_departments(path: str) -> pd.DataFrame:
    """Every (window, department) pair the department filter offers: the current ones (dim_window) and
    the months' (fct_window_month), each department named by its current name, else by its name in
    the latest month it had (so a department whose windows all moved away stays selectable)."""
    return fetch(path, f"""
        with pairs as (
            select window_id, department_id, department_name, date '9999-12-31' as month
            from marts.dim_window
            union all
            select m.window_id, m.department_id, {month_department_name(path)}, m.month
            from marts.fct_window_month m where m.department_id is not null
        ), names as (
            select department_id, arg_max(department_name, month) as department_name from pairs group by all
        )
        select distinct p.window_id, p.department_id, n.department_name
        from pairs p join names n using (department_id)
        order by p.department_id, p.window_id""")


def months(path: str) -> list[dt.date]:
    df = fetch(path, "select distinct month from marts.fct_window_month order by month desc")
    return [pd.Timestamp(m).date() for m in df["month"]]


def active_month(path: str) -> dt.date | None:
    """The latest month with any case accepted or completed (the as-of month may be empty)."""
    v = scalar(path, "select max(month) from marts.fct_window_month where cases_accepted > 0 or cases_completed > 0")
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def items(path: str) -> pd.DataFrame:
    return fetch(path, "select item_code, item_name, department_id from marts.dim_item order by item_code")


def has_table(path: str, name: str) -> bool:
    return bool(scalar(path, "select count(*) from information_schema.tables where table_schema = 'marts' "
                             "and table_name = ?", (name,)))


def as_of(path: str) -> dt.date | None:
    v = scalar(path, "select max(as_of_date) from marts.fct_case")
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


# ---------------------------------------------------------------- overview


def kpis(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """One row per month (the chosen one and the one before) of summed window-month indicators."""
    cond, params = f.where_month()
    return fetch(path, f"""
        select m.month,
               sum(m.cases_accepted) as cases_accepted,
               sum(m.cases_completed) as cases_completed,
               sum(m.on_time_rate * m.cases_completed) / nullif(sum(m.cases_completed) filter (where m.on_time_rate is not null), 0) as on_time_rate,
               sum(m.same_day_rate * m.cases_completed) / nullif(sum(m.cases_completed) filter (where m.same_day_rate is not null), 0) as same_day_rate,
               sum(m.good_reviews) / nullif(sum(m.evaluations), 0) as satisfaction_rate,
               sum(m.evaluations) as evaluations,
               sum(m.off_book_cases) as off_book_cases,
               sum(m.video_flags_pending) as video_flags_pending,
               sum(m.video_flags_confirmed) as video_flags_confirmed
        from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
        where {cond} and m.month in (?, ?)
        group by m.month order by m.month""", params + (month, prev_month(month)))


def open_cards(path: str, f: Filters) -> dict[str, int]:
    cond, params = f.where_month(m="c")  # the case's department then
    df = fetch(path, f"""
        select c.card, count(*) as n from marts.fct_case c join marts.dim_window w on w.window_id = c.window_id
        where {cond} and c.status = 'open' group by c.card""", params)
    return {str(r.card): int(r.n) for r in df.itertuples()}


def pending_video(path: str, f: Filters) -> int:
    cond, params = dated_where(path, f, "fct_video_flag", "v")
    return int(scalar(path, f"""
        select count(*) from marts.fct_video_flag v join marts.dim_window w on w.window_id = v.window_id
        where {cond} and v.review_status = 'pending'""", params) or 0)


def monthly_trend(path: str, f: Filters) -> pd.DataFrame:
    cond, params = f.where_month()
    return fetch(path, f"""
        select m.month, sum(m.cases_accepted) as cases_accepted, sum(m.cases_completed) as cases_completed,
               sum(m.on_time_rate * m.cases_completed) / nullif(sum(m.cases_completed) filter (where m.on_time_rate is not null), 0) as on_time_rate,
               sum(m.good_reviews) / nullif(sum(m.evaluations), 0) as good_rate,
               sum(m.bad_reviews) / nullif(sum(m.evaluations), 0) as bad_rate,
               sum(m.off_book_cases) as off_book_cases
        from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
        where {cond} group by m.month order by m.month""", params)


def assumed_calendar(path: str) -> pd.DataFrame:
    """Assumed (not official) calendar days inside the span the marts' cases use (docs/rules.md)."""
    return fetch(path, """
        with span as (select min(accepted_at)::date as lo, greatest(max(deadline_at)::date, max(as_of_date)) as hi
                      from marts.fct_case)
        select count(*) as days, min(d.date) as first_day, max(d.date) as last_day
        from marts.dim_date d, span where d.is_assumed and d.date between span.lo and span.hi""")


def quarantine_rows(path: str, limit: int = 200) -> pd.DataFrame:
    """Where each quarantined row came from; never its raw content (it may hold PII)."""
    return fetch(path, "select feed, source_file, line, rule, quarantined_at from marts.fct_quarantine "
                       "order by quarantined_at desc, feed, source_file, line limit ?", (limit,))


def quarantine_summary(path: str) -> pd.DataFrame:
    return fetch(path, "select feed, rule, count(*) as rows, max(quarantined_at) as last_at "
                       "from marts.fct_quarantine group by all order by rows desc limit 50")


# ---------------------------------------------------------------- rankings


# SPEC v2 §4.6 columns of fct_window_month (docs/rules.md#score, #deductions, #bottom-repeat), read as
# null / 0 from a snapshot published before them, so an older snapshot still opens.
V2_SCORING_COLUMNS = {"score_note": "null::varchar", "deductions": "0.0::double", "is_bottom_repeat": "null::boolean"}


def _missing_v2_scoring_columns(path: str) -> list[str]:
    have = set(fetch(path, "select column_name from information_schema.columns where table_schema = 'marts' "
                           "and table_name = 'fct_window_month'").column_name)
    return [c for c in V2_SCORING_COLUMNS if c not in have]


def v2_scoring_columns(path: str, alias: str = "m") -> str:
    """`alias.score_note, alias.deductions, alias.is_bottom_repeat`, each replaced by its default when
    the snapshot's fct_window_month lacks it."""
    missing = _missing_v2_scoring_columns(path)
    return ", ".join(f"{V2_SCORING_COLUMNS[c]} as {c}" if c in missing else f"{alias}.{c}" for c in V2_SCORING_COLUMNS)


def ranking(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = f.where_month()
    return fetch(path, f"""
        select m.window_id, w.window_name, {month_department_name(path)} as department_name, m.score, m.stars, m.rank, p.rank as prev_rank,
               p.rank - m.rank as movement, m.is_eligible, m.is_red_flag, m.is_bottom, m.veto_reason,
               {v2_scoring_columns(path)},
               m.cases_completed, m.on_time_rate, m.adjusted_satisfaction, m.satisfaction_rate,
               m.rectification_rate, m.off_book_rate, m.video_flags_confirmed, m.handover_flags_confirmed
        from marts.fct_window_month m
        join marts.dim_window w on w.window_id = m.window_id
        left join marts.fct_window_month p on p.window_id = m.window_id and p.month = ?
        where {cond} and m.month = ?
        order by m.rank nulls last, m.score desc nulls last, m.window_id""", (prev_month(month),) + params + (month,))


# ---------------------------------------------------------------- timeliness


def _open_cases_sql(cond: str, cards: tuple[str, ...], item: str | None, department_name: str = "w.department_name"
                    ) -> tuple[str, tuple]:
    extra, params = "", tuple(cards)
    if item:
        extra = " and c.item_code = ?"
        params += (item,)
    sql = f"""
        select c.case_id, c.window_id, w.window_name, {department_name} as department_name, i.item_name, c.card,
               c.is_legal_overdue,
               c.accepted_at, c.deadline_at, c.remaining_workdays, c.overdue_workdays
        from marts.fct_case c
        join marts.dim_window w on w.window_id = c.window_id
        left join marts.dim_item i on i.item_code = c.item_code
        where {cond} and c.status = 'open' and c.card in ({", ".join("?" for _ in cards) or "null"}){extra}
        order by c.is_legal_overdue desc nulls last, case c.card when 'red' then 0 when 'yellow' then 1 else 2 end,
                 c.overdue_workdays desc,
                 remaining_workdays, c.case_id"""
    return sql, params


def open_cases(path: str, f: Filters, cards: tuple[str, ...], item: str | None, limit: int = ROW_LIMIT) -> pd.DataFrame:
    cond, params = f.where_month(m="c")  # the case's department then
    sql, extra = _open_cases_sql(cond, cards, item, month_department_name(path, "c", "c.accepted_at::date"))
    return fetch(path, sql + " limit ?", params + extra + (limit,))


def open_cases_count(path: str, f: Filters, cards: tuple[str, ...], item: str | None) -> int:
    cond, params = f.where_month(m="c")  # the case's department then
    sql, extra = _open_cases_sql(cond, cards, item, month_department_name(path, "c", "c.accepted_at::date"))
    return int(scalar(path, f"select count(*) from ({sql})", params + extra) or 0)


def overdue_by_department(path: str, f: Filters) -> pd.DataFrame:
    cond, params = f.where_month(m="c")  # the case's department then
    return fetch(path, f"""
        select date_trunc('month', c.completed_at)::date as month, w.department_name,
               count(*) filter (where not c.is_on_time) as overdue, count(*) as completed
        from marts.fct_case c join marts.dim_window w on w.window_id = c.window_id
        where {cond} and c.status = 'completed'
        group by all order by month, w.department_name""", params)


def overdue_by_item(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = f.where_month(m="c")  # the case's department then
    return fetch(path, f"""
        select coalesce(i.item_name, c.item_code) as item_name, count(*) filter (where not c.is_on_time) as overdue,
               count(*) as completed
        from marts.fct_case c join marts.dim_window w on w.window_id = c.window_id
        left join marts.dim_item i on i.item_code = c.item_code
        where {cond} and c.status = 'completed' and date_trunc('month', c.completed_at)::date = ?
        group by all having count(*) filter (where not c.is_on_time) > 0
        order by overdue desc limit 15""", params + (month,))


# ---------------------------------------------------------------- off-book


def _signal_scope(w: str = "w") -> str:
    # department-level signals (OB_VOLUME_GAP) have no window: match them on department
    return f"left join marts.dim_window {w} on {w}.window_id = s.window_id"


def _signal_where(f: Filters) -> tuple[str, tuple]:
    sql, params = ["true"], []
    if f.center:
        sql.append("(w.center_id = ? or (s.window_id is null and s.department_id in "
                   "(select department_id from marts.dim_window where center_id = ?)))")
        params += [f.center, f.center]
    if f.dept:
        sql.append("s.department_id = ?")
        params.append(f.dept)
    if f.window:
        sql.append("s.window_id = ?")
        params.append(f.window)
    return " and ".join(sql), tuple(params)


def signals_by_rule(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = _signal_where(f)
    return fetch(path, f"""
        select s.rule_id, count(*) as signals, count(distinct s.case_id) as cases
        from marts.fct_off_book_signal s {_signal_scope()}
        where {cond} and date_trunc('month', s.signal_date)::date = ?
        group by s.rule_id order by signals desc""", params + (month,))


def signals_by_window(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = _signal_where(f)
    return fetch(path, f"""
        select w.window_name, s.rule_id, count(*) as signals
        from marts.fct_off_book_signal s {_signal_scope()}
        where {cond} and s.window_id is not null and date_trunc('month', s.signal_date)::date = ?
        group by all order by signals desc limit 60""", params + (month,))


def signals_by_month(path: str, f: Filters) -> pd.DataFrame:
    cond, params = _signal_where(f)
    return fetch(path, f"""
        select date_trunc('month', s.signal_date)::date as month, s.rule_id, count(*) as signals
        from marts.fct_off_book_signal s {_signal_scope()}
        where {cond} group by all order by month""", params)


def signal_list(path: str, f: Filters, month: dt.date, rule: str | None, limit: int = ROW_LIMIT) -> pd.DataFrame:
    cond, params = _signal_where(f)
    params += (month,)
    extra = ""
    if rule:
        extra, params = " and s.rule_id = ?", params + (rule,)
    return fetch(path, f"""
        select s.case_id, s.rule_id, strftime(s.signal_date, '%Y-%m-%d') as signal_date, s.window_id, w.window_name,
               {department_name_on(path, "s", "s.signal_date")} as department_name, s.evidence
        from marts.fct_off_book_signal s {_signal_scope()}
        where {cond} and date_trunc('month', s.signal_date)::date = ?{extra}
        order by s.signal_date desc, s.case_id limit ?""", params + (limit,))


def volume_gap(path: str, f: Filters) -> pd.DataFrame:
    sql, params = ["d.reported_cases is not null"], []
    if f.center:
        sql.append("d.department_id in (select department_id from marts.dim_window where center_id = ?)")
        params.append(f.center)
    if f.dept:
        sql.append("d.department_id = ?")
        params.append(f.dept)
    # the department as named in the row's month (a renamed department, or one whose windows all moved
    # away since, keeps the name it had then: docs/rules.md#reference-versions)
    return fetch(path, f"""
        select d.month, d.department_id, {department_name_on(path)} as department_name, d.reported_cases,
               d.cases_accepted, d.volume_gap, d.reported_cases / nullif(d.cases_accepted, 0) as ratio
        from marts.fct_department_month d
        where {" and ".join(sql)} order by d.month desc, d.department_id""", tuple(params))


# ---------------------------------------------------------------- one case


def case_row(path: str, case_id: str) -> pd.DataFrame:
    return fetch(path, """
        select c.*, w.window_name, w.department_name, w.center_name, i.item_name
        from marts.fct_case c left join marts.dim_window w on w.window_id = c.window_id
        left join marts.dim_item i on i.item_code = c.item_code where c.case_id = ?""", (case_id,))


def case_events(path: str, case_id: str) -> pd.DataFrame | None:
    """The case's events from `fct_case_event` when the snapshot has it, else None."""
    if not has_table(path, "fct_case_event"):
        return None
    return fetch(path, """
        select event_type, event_time, recorded_at,
               round(date_diff('minute', event_time, recorded_at) / 60.0, 1) as recorded_gap_hours, window_id, staff_id,
               extend_days
        from marts.fct_case_event where case_id = ? order by event_time, event_id""", (case_id,))


def case_signals(path: str, case_id: str) -> pd.DataFrame:
    """The case's off-book and (when the snapshot has them) timeliness signals, oldest first."""
    sql = ["select rule_id, signal_date, evidence from marts.fct_off_book_signal where case_id = ?"]
    params: tuple = (case_id,)
    if has_table(path, "fct_timeliness_signal"):
        sql.append("select rule_id, signal_date, evidence from marts.fct_timeliness_signal where case_id = ?")
        params += (case_id,)
    return fetch(path, f"""
        select rule_id, strftime(signal_date, '%Y-%m-%d') as signal_date, evidence
        from ({" union all ".join(sql)}) order by signal_date, rule_id, evidence""", params)


def case_clock_parts(path: str, case_id: str) -> pd.DataFrame | None:
    """The pauses and extensions of the case and how the counted clock counted each (None: the
    snapshot predates `fct_case_clock_part`)."""
    if not has_table(path, "fct_case_clock_part"):
        return None
    return fetch(path, """
        select part, event_id, start_date, end_date, is_open, workdays, counted_workdays, rule_id
        from marts.fct_case_clock_part where case_id = ? order by start_date, event_id""", (case_id,))


def non_workdays(path: str, after: dt.date, through: dt.date) -> pd.DataFrame:
    """The days d with after < d ≤ through that are not working days (holiday names, assumed flag)."""
    return fetch(path, """
        select date, holiday_name, holiday_name_en, is_assumed from marts.dim_date
        where date > ? and date <= ? and not is_workday order by date""", (after, through))


def timeliness_signals(path: str, f: Filters, month: dt.date, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """The timeliness signals dated in `month`, legal overdue first (empty when the snapshot predates the mart)."""
    if not has_table(path, "fct_timeliness_signal"):
        return pd.DataFrame(columns=["rule_id", "case_id", "window_id", "window_name", "signal_date", "evidence"])
    cond, params = f.where_month(m="s")  # the signal's department (the case's, on its acceptance date)
    return fetch(path, f"""
        select s.rule_id, s.case_id, s.window_id, w.window_name, s.signal_date, s.evidence
        from marts.fct_timeliness_signal s join marts.dim_window w on w.window_id = s.window_id
        where {cond} and date_trunc('month', s.signal_date) = ?
        order by s.rule_id <> 'TL_LEGAL_OVERDUE', s.signal_date desc, s.case_id limit ?""",
                 params + (month, limit))


def open_legal_overdue(path: str, f: Filters) -> int:
    """Open cases past their legal deadline (法定超时), under the filters."""
    cond, params = f.where_month(m="c")  # the case's department then
    return int(scalar(path, f"""
        select count(*) from marts.fct_case c join marts.dim_window w on w.window_id = c.window_id
        where {cond} and c.status = 'open' and c.is_legal_overdue""", params) or 0)


def case_evaluations(path: str, case_id: str) -> pd.DataFrame:
    return fetch(path, """
        select evaluation_id, evaluated_at, rating, reason_codes, comment, verdict, rectification_deadline,
               rectified_at, callback_at from marts.fct_evaluation where case_id = ? order by evaluated_at""",
                 (case_id,))


def evaluation_cases(path: str, evaluation_ids: tuple[str, ...]) -> dict[str, str]:
    """evaluation id -> the case it rates: an evaluation's drill-down is its case's timeline."""
    if not evaluation_ids:
        return {}
    df = fetch(path, """select evaluation_id, case_id from marts.fct_evaluation
                        where list_contains(?, evaluation_id) and case_id is not null""", (list(evaluation_ids),))
    return dict(zip(df.evaluation_id, df.case_id))


def case_window_flags(path: str, case_id: str) -> pd.DataFrame:
    """Video flags at the case's window on the days between acceptance and completion."""
    return fetch(path, """
        select v.flagged_at, v.flag_type, v.review_status, v.source, v.clip_ref
        from marts.fct_case c join marts.fct_video_flag v on v.window_id = c.window_id
         and v.flagged_at::date between c.accepted_at::date and coalesce(c.completed_at, c.as_of_date::timestamp)::date
        where c.case_id = ? order by v.flagged_at""", (case_id,))


# ---------------------------------------------------------------- one window-month


def window_month(path: str, window_id: str, month: dt.date) -> pd.DataFrame:
    v2 = ", ".join(f"{V2_SCORING_COLUMNS[c]} as {c}" for c in _missing_v2_scoring_columns(path))
    return fetch(path, f"""
        select m.*, w.window_name, {month_department_name(path)} as department_name, w.center_name{", " + v2 if v2 else ""}
        from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
        where m.window_id = ? and m.month = ?""", (window_id, month))


def window_trend(path: str, window_id: str, month: dt.date, months: int = 12) -> pd.DataFrame:
    """The window's last `months` months up to `month`: score, on-time rate and satisfaction, beside the
    centre's (every window of its centre that month, weighted as the overview weights them)."""
    first = (pd.Timestamp(month) - pd.DateOffset(months=months - 1)).date()
    return fetch(path, """
        with centre as (
            select m.month,
                   sum(m.on_time_rate * m.cases_completed)
                       / nullif(sum(m.cases_completed) filter (where m.on_time_rate is not null), 0) as centre_on_time_rate,
                   sum(m.good_reviews) / nullif(sum(m.evaluations), 0) as centre_satisfaction_rate,
                   avg(m.score) as centre_score
            from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
            where w.center_id = (select center_id from marts.dim_window where window_id = ?)
              and m.month between ? and ?
            group by m.month
        )
        select m.month, m.score, m.on_time_rate, m.satisfaction_rate, centre.centre_score,
               centre.centre_on_time_rate, centre.centre_satisfaction_rate
        from marts.fct_window_month m left join centre using (month)
        where m.window_id = ? and m.month between ? and ? order by m.month""",
                 (window_id, first, month, window_id, first, month))


def window_cases(path: str, window_id: str, month: dt.date, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """Cases behind a window-month: accepted or completed in it."""
    return fetch(path, """
        select c.case_id, i.item_name, c.status, c.accepted_at, c.completed_at, c.deadline_at, c.is_on_time,
               c.is_same_day, c.card, c.overdue_workdays, c.off_book_signals
        from marts.fct_case c left join marts.dim_item i on i.item_code = c.item_code
        where c.window_id = ? and (date_trunc('month', c.accepted_at)::date = ?
                                   or date_trunc('month', c.completed_at)::date = ?)
        order by c.accepted_at limit ?""", (window_id, month, month, limit))


def window_flags(path: str, window_id: str, month: dt.date) -> pd.DataFrame:
    return fetch(path, """
        select flagged_at, flag_type, review_status, source, clip_ref from marts.fct_video_flag
        where window_id = ? and date_trunc('month', flagged_at)::date = ? order by flagged_at""", (window_id, month))


def window_evaluations(path: str, window_id: str, month: dt.date) -> pd.DataFrame:
    return fetch(path, """
        select rating, count(*) as n from marts.fct_evaluation
        where window_id = ? and date_trunc('month', evaluated_at)::date = ? group by rating order by rating desc""",
                 (window_id, month))


# ---------------------------------------------------------------- satisfaction


def rating_distribution(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    return fetch(path, f"""
        select e.rating, count(*) as n from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id
        where {cond} and date_trunc('month', e.evaluated_at)::date = ? group by e.rating order by e.rating desc""",
                 params + (month,))


def bad_reviews(path: str, f: Filters, month: dt.date, outstanding_only: bool, limit: int = ROW_LIMIT) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    department = dated_department_name(path, "fct_evaluation", "e", "e.evaluated_at::date")
    scope = ("e.rectified_at is null and coalesce(e.verdict, '') <> 'invalid'" if outstanding_only
             else "date_trunc('month', e.evaluated_at)::date = ?")
    if not outstanding_only:
        params = params + (month,)
    return fetch(path, f"""
        with ref as (select max(as_of_date) as d from marts.fct_case)
        select e.evaluation_id, e.case_id, e.window_id, w.window_name, {department} as department_name, e.evaluated_at,
               e.rating,
               e.reason_codes, e.comment,
               e.verdict, e.verified_at, e.rectification_deadline, e.rectified_at, e.callback_at,
               (e.rectified_at > e.rectification_deadline
                or (e.rectified_at is null and coalesce(e.verdict, '') <> 'invalid'
                    and e.rectification_deadline::date < ref.d)) as is_late
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id, ref
        where {cond} and e.is_bad and {scope}
        order by is_late desc, e.rectification_deadline limit ?""", params + (limit,))


def rectification_backlog(path: str, f: Filters) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    return fetch(path, f"""
        with ref as (select max(as_of_date) as d from marts.fct_case)
        select count(*) as outstanding,
               count(*) filter (where e.rectification_deadline::date < ref.d) as late
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id, ref
        where {cond} and e.is_bad and e.rectified_at is null and coalesce(e.verdict, '') <> 'invalid'""", params)


# ---------------------------------------------------------------- video


def flags_by_type(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_video_flag", "v")
    return fetch(path, f"""
        select v.flag_type, count(*) as n from marts.fct_video_flag v join marts.dim_window w on w.window_id = v.window_id
        where {cond} and v.review_status = 'confirmed' and date_trunc('month', v.flagged_at)::date = ?
        group by v.flag_type order by n desc""", params + (month,))


def flags_heatmap(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_video_flag", "v")
    return fetch(path, f"""
        select w.window_name, hour(v.flagged_at) as hour, count(*) as n
        from marts.fct_video_flag v join marts.dim_window w on w.window_id = v.window_id
        where {cond} and v.review_status = 'confirmed' and date_trunc('month', v.flagged_at)::date = ?
        group by all order by w.window_name, hour""", params + (month,))


def pending_flags(path: str, f: Filters, limit: int = ROW_LIMIT) -> pd.DataFrame:
    cond, params = dated_where(path, f, "fct_video_flag", "v")
    department = dated_department_name(path, "fct_video_flag", "v", "v.flagged_at::date")
    return fetch(path, f"""
        with ref as (select max(as_of_date) as d from marts.fct_case)
        select v.flag_id, v.window_id, w.window_name, {department} as department_name, v.flagged_at, v.flag_type, v.source, v.confidence, v.clip_ref,
               date_diff('day', v.flagged_at::date, ref.d) as age_days
        from marts.fct_video_flag v join marts.dim_window w on w.window_id = v.window_id, ref
        where {cond} and v.review_status = 'pending' order by v.flagged_at limit ?""", params + (limit,))


# ---------------------------------------------------------------- hall screen


def hall_day(path: str) -> dt.date | None:
    v = scalar(path, """select max(e.evaluated_at)::date from marts.fct_evaluation e
                        where e.evaluated_at::date <= (select max(as_of_date) from marts.fct_case)""")
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def hall_board(path: str, f: Filters, day: dt.date) -> pd.DataFrame:
    cond, params = f.where()
    return fetch(path, f"""
        with ev as (select window_id, count(*) as ratings, count(*) filter (where is_good) as good,
                           count(*) filter (where is_bad) as bad
                    from marts.fct_evaluation
                    -- a system-default rating is nobody's opinion (SPEC v2 §4.4), as in hall_feed
                    where evaluated_at::date = ? and coalesce(channel, '') <> 'default' group by window_id),
             red as (select window_id, count(*) as red_cards from marts.fct_case
                     where status = 'open' and card = 'red' group by window_id)
        select w.window_name, w.department_name, coalesce(ev.ratings, 0) as ratings,
               ev.good / nullif(ev.ratings, 0) as satisfaction_rate, coalesce(ev.bad, 0) as bad,
               coalesce(red.red_cards, 0) as red_cards
        from marts.dim_window w left join ev on ev.window_id = w.window_id left join red on red.window_id = w.window_id
        where {cond} order by satisfaction_rate desc nulls last, w.window_id""", (day,) + params)


def hall_feed(path: str, f: Filters, day: dt.date, limit: int) -> pd.DataFrame:
    """满意度现场直播: the day's latest ratings given by people (time, window, rating) — no case, person or
    comment; a rating the system gave by default (channel `default`) is nobody's opinion (SPEC §4.4)."""
    cond, params = f.where()
    return fetch(path, f"""
        select e.evaluated_at, w.window_name, e.rating
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id
        where e.evaluated_at::date = ? and coalesce(e.channel, '') <> 'default' and {cond}
        order by e.evaluated_at desc, e.evaluation_id desc limit ?""", (day,) + params + (limit,))


# ---------------------------------------------------------------- 评价真实性 rating integrity


def rating_signals(path: str, f: Filters, month: dt.date, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """The month's rating-integrity signals (fct_rating_signal, docs/rules.md#rating-integrity) with the
    window's name and the rated case (none for the window-month rule RI_TOO_PERFECT); empty for a
    snapshot published before the mart existed."""
    if not has_table(path, "fct_rating_signal"):
        return pd.DataFrame(columns=["rule_id", "signal_date", "window_id", "window_name", "evaluation_id",
                                     "case_id", "evidence"])
    cond, params = _signal_where(f)
    return fetch(path, f"""
        select s.rule_id, strftime(s.signal_date, '%Y-%m-%d') as signal_date, s.window_id, w.window_name,
               s.evaluation_id, e.case_id, s.evidence
        from marts.fct_rating_signal s {_signal_scope()}
        left join marts.fct_evaluation e on e.evaluation_id = s.evaluation_id
        where {cond} and s.month = ?
        order by s.signal_date desc, s.rule_id, s.window_id, s.evaluation_id limit ?""", params + (month, limit))


# ---------------------------------------------------------------- 好差评 v2 backlogs (SPEC §4.4, issue 17)

# stage → (the review needs it, its deadline column, still open as of the as-of date)
BACKLOG_STAGES = {
    "verification": ("e.needs_verification", "e.verification_deadline",
                     "(e.verified_at is null or e.verified_at::date > ref.d)"),
    "rectification": ("e.needs_rectification", "e.rectification_deadline",
                      "(e.rectified_at is null or e.rectified_at::date > ref.d "
                      "or coalesce(e.callback_result, '') = 'unsatisfied')"),
    "callback": ("e.needs_callback", "e.callback_deadline",
                 "(e.callback_at is null or e.callback_at::date > ref.d)"),
}
SATISFACTION_V2_COLUMNS = ("needs_verification", "verification_deadline", "needs_callback", "callback_deadline",
                           "is_default", "is_overturned", "appeal_result")


def has_satisfaction_v2(path: str) -> bool:
    """The snapshot's fct_evaluation carries the §4.4 v2 columns (a snapshot published before does not)."""
    have = set(fetch(path, "select column_name from information_schema.columns where table_schema = 'marts' "
                           "and table_name = 'fct_evaluation'").column_name)
    return all(c in have for c in SATISFACTION_V2_COLUMNS)


def review_backlog(path: str, f: Filters, stage: str, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """Bad reviews whose `stage` (verification 核实 / rectification 整改 / callback 回访) is still open as of
    the snapshot's as-of date, earliest deadline first; days_left < 0 means that many days overdue."""
    needs, deadline, still_open = BACKLOG_STAGES[stage]
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    return fetch(path, f"""
        with ref as (select max(as_of_date) as d from marts.fct_case)
        select e.evaluation_id, e.case_id, e.window_id, w.window_name, e.rating, e.evaluated_at,
               {deadline} as deadline, date_diff('day', ref.d, {deadline}::date) as days_left
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id, ref
        where {cond} and coalesce({needs}, false) and {deadline} is not null and {still_open}
        order by {deadline}, e.evaluation_id limit ?""", params + (limit,))


def appeals(path: str, f: Filters, month: dt.date, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """申诉复核: evaluations appealed in `month` (by appeal_at) with their outcome (upheld, overturned, or
    none yet)."""
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    return fetch(path, f"""
        select e.evaluation_id, e.case_id, e.window_id, w.window_name, e.rating, e.evaluated_at, e.appeal_at,
               e.appeal_result
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id
        where {cond} and e.appeal_at is not null and date_trunc('month', e.appeal_at)::date = ?
        order by e.appeal_at, e.evaluation_id limit ?""", params + (month, limit))


def appeals_by_window(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """Per window, `month`'s appeals (by appeal_at): how many, upheld, overturned, still under review."""
    cond, params = dated_where(path, f, "fct_evaluation", "e")
    return fetch(path, f"""
        select w.window_id, w.window_name, count(*) as appeals,
               count(*) filter (where e.appeal_result = 'upheld') as upheld,
               count(*) filter (where e.appeal_result = 'overturned') as overturned,
               count(*) filter (where e.appeal_result is null) as pending
        from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id
        where {cond} and e.appeal_at is not null and date_trunc('month', e.appeal_at)::date = ?
        group by all order by overturned desc, appeals desc, w.window_id""", params + (month,))


def default_share(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """Per window, `month`'s ratings (by evaluated_at), the system-default ones and their share, beside
    fct_window_month's active_evaluation_rate, verification_rate and callback_rate."""
    cond, params = f.where_month()
    return fetch(path, f"""
        with r as (select window_id, count(*) as ratings, count(*) filter (where is_default) as default_ratings
                   from marts.fct_evaluation where date_trunc('month', evaluated_at)::date = ? group by all)
        select w.window_id, w.window_name, coalesce(r.ratings, 0) as ratings,
               coalesce(r.default_ratings, 0) as default_ratings,
               r.default_ratings / nullif(r.ratings, 0) as default_share,
               m.active_evaluation_rate, m.verification_rate, m.callback_rate
        from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
        left join r on r.window_id = m.window_id
        where {cond} and m.month = ?
        order by default_share desc nulls last, w.window_id""", (month,) + params + (month,))

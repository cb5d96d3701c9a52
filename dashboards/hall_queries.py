"""Queries of the 大厅运行 and 工作人员 pages (SPEC v2 §4.10, §4.12, §7; docs/rules.md#hall-operations).

They read the published marts of the optional hall feeds (fct_window_month's hall columns,
fct_attendance_day, fct_queue_month, fct_queue_hour, fct_window_adjustment, fct_work_order,
fct_inspection, fct_spot_check_day) and of staff stars (fct_staff_month). A snapshot published before a
mart existed, or a feed never delivered, gives an empty frame: the page then says "no data delivered
yet" (SPEC §3: an optional feed never delivered leaves its rules silent). Rows are filtered by the
department the window had that month (the marts' department_id), as the other month-based pages do.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboards.queries import Filters, fetch, has_table, month_department_name

HALL_MARTS = ("fct_attendance_day", "fct_queue_month", "fct_window_adjustment", "fct_work_order", "fct_inspection",
              "fct_spot_check_day")


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _scope(f: Filters, table: str = "x", window_col: str = "window_id") -> tuple[str, tuple]:
    """Centre, department (the row's own, i.e. the month's) and window conditions on a hall mart row `x`."""
    sql, params = ["true"], []
    if f.center:
        sql.append(f"({table}.{window_col} is null or {table}.{window_col} in "
                   "(select window_id from marts.dim_window where center_id = ?))")
        params.append(f.center)
    if f.dept:
        sql.append(f"{table}.department_id = ?")
        params.append(f.dept)
    if f.window:
        sql.append(f"{table}.{window_col} = ?")
        params.append(f.window)
    return " and ".join(sql), tuple(params)


def delivered(path: str) -> dict[str, bool]:
    """Which hall marts the snapshot has rows in (a mart missing from an old snapshot counts as empty)."""
    out = {}
    for table in HALL_MARTS:
        out[table] = has_table(path, table) and not fetch(path, f"select 1 from marts.{table} limit 1").empty
    return out


def attendance_month(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """Per window: the month's attendance figures (fct_window_month, §4.10), windows the feed covers."""
    if not has_table(path, "fct_attendance_day"):
        return pd.DataFrame()
    cond, params = f.where_month()
    return fetch(path, f"""
        select m.window_id, w.window_name, {month_department_name(path)} as department_name, m.days_scheduled,
               m.days_staffed, m.days_covered, m.absent_days, m.in_post_rate, m.late_arrivals, m.early_leaves
        from marts.fct_window_month m join marts.dim_window w on w.window_id = m.window_id
        where {cond} and m.month = ? and m.days_scheduled is not null
        order by m.in_post_rate nulls last, m.absent_days desc, m.window_id""", params + (month,))


def absent_days(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """The month's absent window-days (缺岗: scheduled, nobody signed in, nobody on leave or business)."""
    if not has_table(path, "fct_attendance_day"):
        return pd.DataFrame()
    cond, params = _scope(f, "a")
    return fetch(path, f"""
        select strftime(a.date, '%Y-%m-%d') as date, a.window_id, w.window_name, a.open_time, a.close_time
        from marts.fct_attendance_day a join marts.dim_window w on w.window_id = a.window_id
        where a.is_absent and a.date >= ? and a.date < ? and {cond}
        order by a.date, w.window_name""", (month, _next_month(month)) + params)


def queue_by_type(path: str, f: Filters, month: dt.date, items: dict[str, str]) -> pd.DataFrame:
    """Per business type: the month's tickets and waits (fct_queue_month, scope business_type)."""
    if not has_table(path, "fct_queue_month"):
        return pd.DataFrame()
    df = fetch(path, """
        select business_type, tickets, served, no_show_rate, avg_wait_minutes, p90_wait_minutes, avg_service_minutes
        from marts.fct_queue_month where scope = 'business_type' and month = ?
        order by p90_wait_minutes desc nulls last, business_type""", (month,))
    return df.assign(business_type=df.business_type.map(lambda v: items.get(v, v)))


def queue_by_window(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    if not has_table(path, "fct_queue_month"):
        return pd.DataFrame()
    cond, params = _scope(f, "x")
    return fetch(path, f"""
        select x.window_id, w.window_name, x.tickets, x.served, x.no_show_rate, x.avg_wait_minutes, x.p90_wait_minutes,
               x.avg_service_minutes
        from marts.fct_queue_month x join marts.dim_window w on w.window_id = x.window_id
        where x.scope = 'window' and x.month = ? and {cond}
        order by x.p90_wait_minutes desc nulls last, w.window_name""", (month,) + params)


def queue_by_hour(path: str, month: dt.date, items: dict[str, str]) -> pd.DataFrame:
    """Waits by hour of issue and business type (fct_queue_hour)."""
    if not has_table(path, "fct_queue_hour"):
        return pd.DataFrame()
    df = fetch(path, """
        select business_type, hour, tickets, avg_wait_minutes, p90_wait_minutes
        from marts.fct_queue_hour where month = ? order by hour, business_type""", (month,))
    return df.assign(business_type=df.business_type.map(lambda v: items.get(v, v)))


def adjustments(path: str, month: dt.date, items: dict[str, str]) -> pd.DataFrame:
    """The month's window adjustment proposals (窗口动态增减) with their evidence, proposals first."""
    if not has_table(path, "fct_window_adjustment"):
        return pd.DataFrame()
    df = fetch(path, """
        select business_type, current_windows, tickets, p90_wait_minutes, served_per_window_hour, proposal, evidence
        from marts.fct_window_adjustment where month = ?
        order by abs(proposal) desc, proposal desc, p90_wait_minutes desc nulls last, business_type""", (month,))
    return df.assign(business_type=df.business_type.map(lambda v: items.get(v, v)))


def work_orders(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """Work orders received that month (12345 / 办不成事), content already scrubbed at ingest."""
    if not has_table(path, "fct_work_order"):
        return pd.DataFrame()
    cond, params = _scope(f, "o")
    return fetch(path, f"""
        select o.order_id, o.channel, o.category, strftime(o.received_at, '%Y-%m-%d %H:%M') as received_at,
               o.window_id, coalesce(w.window_name, o.window_id) as window_name, strftime(o.due_at, '%Y-%m-%d %H:%M') as due_at,
               strftime(o.closed_at, '%Y-%m-%d %H:%M') as closed_at, o.is_closed_on_time, o.substantiated,
               o.requester_satisfaction, o.content
        from marts.fct_work_order o left join marts.dim_window w on w.window_id = o.window_id
        where o.month = ? and {cond}
        order by o.is_substantiated_complaint desc, o.received_at, o.order_id""", (month,) + params)


def inspections(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """明察暗访 / 一日三查 records of the month."""
    if not has_table(path, "fct_inspection"):
        return pd.DataFrame()
    cond, params = _scope(f, "i")
    return fetch(path, f"""
        select strftime(i.inspected_at, '%Y-%m-%d %H:%M') as inspected_at, i.method, i.finding,
               i.window_id, coalesce(w.window_name, '') as window_name, i.deduction, i.note
        from marts.fct_inspection i left join marts.dim_window w on w.window_id = i.window_id
        where i.month = ? and {cond}
        order by i.has_finding desc, i.inspected_at""", (month,) + params)


def spot_checks(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """一日三查: video spot checks done per centre and working day against the required number."""
    if not has_table(path, "fct_spot_check_day"):
        return pd.DataFrame()
    cond, params = ("s.center_id = ?", (f.center,)) if f.center else ("true", ())
    return fetch(path, f"""
        select s.center_id, s.date, s.done, s.required, s.met
        from marts.fct_spot_check_day s
        where s.date >= ? and s.date < ? and {cond}
        order by s.center_id, s.date""", (month, _next_month(month)) + params)


def staff_month(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """星级服务人员 (§4.12): the month's staff scores, stars and ranks — personnel data, inspectors and
    auditors only."""
    if not has_table(path, "fct_staff_month"):
        return pd.DataFrame()
    cond, params = _scope(f, "s")
    return fetch(path, f"""
        select s.rank, coalesce(p.staff_name, s.staff_id) as staff_name, s.staff_id,
               s.window_id, coalesce(w.window_name, s.window_id) as window_name, s.score, s.stars, s.is_eligible,
               s.cases_completed, s.on_time_rate, s.evaluations, s.adjusted_satisfaction, s.bad_reviews,
               s.late_arrivals, s.early_leaves, s.absent_days
        from marts.fct_staff_month s
        left join marts.dim_staff p on p.staff_id = s.staff_id
        left join marts.dim_window w on w.window_id = s.window_id
        where s.month = ? and {cond}
        order by s.rank nulls last, s.score desc nulls last, s.staff_id""", (month,) + params)


def deductions(path: str, f: Filters, month: dt.date) -> pd.DataFrame:
    """The month's deductions (扣分, SPEC v2 §4.6) one per row with its source, the id behind it and the
    reason, by the window's department that month (fct_window_month)."""
    if not has_table(path, "fct_window_deduction"):
        return pd.DataFrame()
    cond, params = f.where_month()
    return fetch(path, f"""
        select d.window_id, w.window_name, d.source, d.points, d.ref_id, d.reason
        from marts.fct_window_deduction d
        join marts.fct_window_month m on m.window_id = d.window_id and m.month = d.month
        join marts.dim_window w on w.window_id = d.window_id
        where d.month = ? and {cond}
        order by w.window_name, d.source, d.ref_id""", (month,) + params)

"""Window drill-down: one window's month — every component of its score and the cases behind it."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("window.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters

win = q.windows(path)
if f.center:
    win = win[win.center_id == f.center]
if f.dept:  # today's windows of the department and those it had in a month (a window that moved)
    pairs = q.window_departments(path)
    win = win[win.window_id.isin(pairs[pairs.department_id == f.dept].window_id)]
ids = list(win.window_id)
names = dict(zip(win.window_id, win.window_name))
wanted = f.window or st.query_params.get("w")
if not ids:
    st.info(t("common.empty"))
    st.stop()
window_id = st.selectbox(t("filter.window"), ids, index=ids.index(wanted) if wanted in ids else 0,
                         format_func=lambda v: names.get(v, v), key="wd_window")
row = q.window_month(path, window_id, month)
if row.empty:
    st.info(t("window.no_month", month=month.strftime("%Y-%m")))
    st.stop()
m = row.iloc[0]
st.subheader(t("window.header", window=c.md(m.window_name), dept=c.md(m.department_name), month=month.strftime("%Y-%m")))

# Every score component of the month, five to a row: (column of fct_window_month, formatter).
METRIC_ROWS = [
    [("score", c.fmt_score), ("stars", lambda n: c.stars_or_not_rated(n, m.is_eligible)), ("rank", c.fmt_rank),
     ("cases_accepted", c.fmt_int), ("cases_completed", c.fmt_int)],
    [("on_time_rate", c.fmt_pct), ("same_day_rate", c.fmt_pct), ("immediate_on_time_rate", c.fmt_pct),
     ("off_book_rate", c.fmt_pct), ("evaluation_rate", c.fmt_pct)],
    [("satisfaction_rate", c.fmt_pct), ("adjusted_satisfaction", c.fmt_pct), ("rectification_rate", c.fmt_pct),
     ("video_flags_confirmed", c.fmt_int), ("video_flags_pending", c.fmt_int)],
]
for metrics in METRIC_ROWS:
    for cell, (col, fmt) in zip(st.columns(len(metrics)), metrics):
        cell.metric(t(f"col.{col}"), fmt(m[col]), border=True)
if not c.is_missing(m.veto_reason):
    st.error(t("window.veto", reason=c.md(c.label("veto", m.veto_reason))))
if c.is_missing(m.score):
    st.caption(t("window.no_score"))  # SPEC v2 §4.6: no completed case, no T, no score
elif not m.is_eligible:
    st.caption(t("window.ineligible"))
if not c.is_missing(m.deductions) and m.deductions > 0:
    st.caption(t("window.deductions", points=c.fmt_score(m.deductions)))
if c.score_note(m.score_note):
    st.caption(t("window.score_note", note=c.score_note(m.score_note)))

st.subheader(t("window.trend"))
trend = q.window_trend(path, window_id, month)
if len(trend):
    x = c.month_labels(trend.month)
    left, right = st.columns(2)
    fig = go.Figure()
    fig.add_scatter(x=x, y=trend.score, name=t("col.score"), mode="lines+markers")
    fig.add_scatter(x=x, y=trend.centre_score, name=t("window.centre_series", name=t("col.score")),
                    mode="lines", line=dict(dash="dash"))
    fig.update_layout(title=t("window.trend_score"), xaxis_type="category", yaxis_tickformat=".1f")
    with left:
        c.chart(fig, "wd_trend_score")
    fig = go.Figure()
    for col in ("on_time_rate", "satisfaction_rate"):
        fig.add_scatter(x=x, y=trend[col], name=t(f"col.{col}"), mode="lines+markers")
        fig.add_scatter(x=x, y=trend[f"centre_{col}"], name=t("window.centre_series", name=t(f"col.{col}")),
                        mode="lines", line=dict(dash="dash"))
    fig.update_layout(title=t("window.trend_rates"), xaxis_type="category", yaxis_tickformat=".0%")
    with right:
        c.chart(fig, "wd_trend_rates")

st.subheader(t("window.cases"))
cases = q.window_cases(path, window_id, month)
st.caption(t("window.cases_hint", n=c.fmt_int(len(cases))))
shown = c.with_link(cases).assign(status=cases.status.map(lambda v: c.label("status", v)),
                     card=cases.card.map(lambda v: c.label("card", v) if not c.is_missing(v) else ""),
                     is_on_time=cases.is_on_time.map(c.yes_no), is_same_day=cases.is_same_day.map(c.yes_no))
st.dataframe(c.rename(shown), hide_index=True, key="wd_cases", column_config=c.link_config())
if len(cases):
    pick = st.selectbox(t("window.open_case"), list(cases.case_id), key="wd_case")
    st.page_link("app_pages/case_detail.py", label=t("offbook.open_case"), query_params={"case": pick})

left, right = st.columns(2)
with left:
    st.markdown(f"**{t('window.ratings')}**")
    ev = q.window_evaluations(path, window_id, month)
    st.dataframe(c.rename(ev.assign(rating=ev.rating.map(lambda v: c.label("rating", v)))), hide_index=True,
                 key="wd_ratings")
with right:
    st.markdown(f"**{t('window.flags')}**")
    fl = q.window_flags(path, window_id, month)
    st.dataframe(c.rename(fl.assign(flag_type=fl.flag_type.map(lambda v: c.label("flag", v)),
                                    review_status=fl.review_status.map(lambda v: c.label("review", v)),
                                    source=fl.source.map(lambda v: c.label("flag_source", v)))),
                 hide_index=True, key="wd_flags")

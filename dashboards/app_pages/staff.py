"""工作人员 staff stars (星级服务人员, SPEC v2 §4.12, §7): each staff member's month — cases, on-time rate,
satisfaction, attendance, score, stars and rank per centre. Personnel data: inspectors and auditors
only (app.PAGES), never in a public report."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import hall_queries as hq
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("staff.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters
st.caption(t("overview.month", month=month.strftime("%Y-%m")))
st.caption(t("staff.personnel"))

df = hq.staff_month(path, f, month)
if df.empty:
    st.info(t("common.empty"))
    st.stop()

ranked = df[df.is_eligible.fillna(False).astype(bool)]
cols = st.columns(3)
cols[0].metric(t("staff.count"), c.fmt_int(len(df)), border=True)
cols[1].metric(t("staff.ranked"), c.fmt_int(len(ranked)), border=True)
cols[2].metric(t("staff.five_stars"), c.fmt_int((ranked.stars == 5).sum()), border=True)

shown = c.rename(df.assign(
    rank=df["rank"].map(c.fmt_rank),
    score=df.score.map(c.fmt_score),
    stars=[c.stars_or_not_rated(s, e) for s, e in zip(df.stars, df.is_eligible)],
    on_time_rate=df.on_time_rate.map(c.fmt_pct),
    adjusted_satisfaction=df.adjusted_satisfaction.map(c.fmt_pct),
    **{k: df[k].map(lambda v: "—" if c.is_missing(v) else c.fmt_int(v))
       for k in ("late_arrivals", "early_leaves", "absent_days", "cases_completed", "evaluations", "bad_reviews")},
)[["rank", "staff_name", "window_name", "score", "stars", "cases_completed", "on_time_rate", "evaluations",
   "adjusted_satisfaction", "bad_reviews", "late_arrivals", "early_leaves", "absent_days", "staff_id"]])
# the window opens 窗口明细 with the page's filters in one click (the link column is the screen's, not the file's)
st.dataframe(pd.concat([c.rename(c.window_link(df)[["open_window"]]), shown], axis=1), hide_index=True,
             key="st_table", column_config=c.link_config("open_window"))
c.export_buttons(lambda: shown, "staff", "st")  # dated and filter-named like every list

if not ranked.empty:
    counts = ranked.stars.value_counts().reindex([5, 4, 3, 2, 1], fill_value=0)
    fig = go.Figure(go.Bar(x=[c.stars(s) for s in counts.index], y=counts.values))
    fig.update_layout(title=t("staff.star_chart"), xaxis_type="category", yaxis=dict(dtick=1, tickformat="d"))
    c.chart(fig, "st_stars")

"""总览 overview: KPI tiles with month-on-month change, trends, freshness and run status."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("overview.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters

k = q.kpis(path, f, month)
cur = k[k.month.dt.date == month].iloc[0] if (k.month.dt.date == month).any() else None
prev_rows = k[k.month.dt.date == q.prev_month(month)]
prev = prev_rows.iloc[0] if len(prev_rows) else None


def val(row, col):
    return None if row is None else row[col]


st.caption(t("overview.month", month=month.strftime("%Y-%m")))
cards = q.open_cards(path, f)
tiles = [
    ("overview.kpi.cases", c.fmt_int(val(cur, "cases_accepted")), c.delta_int(val(cur, "cases_accepted"), val(prev, "cases_accepted")), "normal"),
    ("overview.kpi.on_time", c.fmt_pct(val(cur, "on_time_rate")), c.delta_pct_points(val(cur, "on_time_rate"), val(prev, "on_time_rate")), "normal"),
    ("overview.kpi.same_day", c.fmt_pct(val(cur, "same_day_rate")), c.delta_pct_points(val(cur, "same_day_rate"), val(prev, "same_day_rate")), "normal"),
    ("overview.kpi.satisfaction", c.fmt_pct(val(cur, "satisfaction_rate")), c.delta_pct_points(val(cur, "satisfaction_rate"), val(prev, "satisfaction_rate")), "normal"),
    ("overview.kpi.red", c.fmt_int(cards.get("red", 0)), None, "inverse"),
    ("overview.kpi.yellow", c.fmt_int(cards.get("yellow", 0)), None, "inverse"),
    ("overview.kpi.off_book", c.fmt_int(val(cur, "off_book_cases")), c.delta_int(val(cur, "off_book_cases"), val(prev, "off_book_cases")), "inverse"),
    ("overview.kpi.video_pending", c.fmt_int(q.pending_video(path, f)), None, "inverse"),
]
cols = st.columns(4)
for i, (key, value, delta, color) in enumerate(tiles):
    cols[i % 4].metric(t(key), value, delta, delta_color=color, border=True, help=t(key + ".help"))

st.subheader(t("overview.trends"))
trend = q.monthly_trend(path, f)
if trend.empty:
    st.info(t("common.empty"))
else:
    trend = trend.assign(month=c.ym(trend.month))
    left, right = st.columns(2)
    fig = go.Figure(go.Bar(x=trend.month, y=trend.cases_accepted, name=t("overview.kpi.cases")))
    fig.update_layout(title=t("overview.trend.cases"), xaxis_type="category")
    with left:
        c.chart(fig, "ov_cases", counts="y")
    fig = go.Figure()
    fig.add_scatter(x=trend.month, y=trend.on_time_rate, name=t("overview.kpi.on_time"), mode="lines+markers")
    fig.add_scatter(x=trend.month, y=trend.good_rate, name=t("overview.kpi.satisfaction"), mode="lines+markers")
    fig.update_layout(title=t("overview.trend.rates"), yaxis_tickformat=".1%", xaxis_type="category")
    with right:
        c.chart(fig, "ov_rates")

st.subheader(t("overview.status"))
run = c.latest_run(ctx.home)
as_of = q.as_of(path)
a, b = st.columns(2)
with a:
    st.markdown(t("overview.snapshot", name=c.snapshot_label(path), as_of=as_of or "—"))
    if run is None:
        st.info(t("overview.no_run"))
    else:
        r = c.run_summary(run)
        line = t("overview.run", status=c.label("run", r["status"]), run_id=r["run_id"], finished=r["finished"])
        if r["ok"]:
            st.success(line)
        elif r["status"] == "running":
            st.info(line)
        else:
            st.error(line + "  \n" + t("overview.run_failed", task=r["task"], reason=c.md(r["reason"])))
        if r["failed_sources"]:
            st.warning(t("overview.failed_sources", sources=c.md(", ".join(map(str, r["failed_sources"])))))
        for gate, docs in r["docs"].items():
            url = docs if "://" in str(docs) else f"file://{docs}"
            st.markdown(t("overview.data_docs", url=url) + (f" · {gate}" if gate else ""))
            st.caption(str(docs))
with b:
    assumed = q.assumed_calendar(path)
    if not (len(assumed) and int(assumed.days.iloc[0] or 0)):  # else the warning heads every page (common)
        st.success(t("overview.calendar_ok"))
    qs = q.quarantine_summary(path)
    if len(qs):
        st.markdown(t("overview.quarantine", rows=int(qs.rows.sum())))
        st.dataframe(c.rename(c.feed_labels(qs)), hide_index=True, key="ov_quarantine")
        if c.ctx().role in ("inspector", "auditor"):  # raw feed rows: not for the management office
            with st.expander(t("overview.quarantine_rows")):
                st.dataframe(c.rename(c.feed_labels(q.quarantine_rows(path))), hide_index=True,
                             key="ov_quarantine_rows")

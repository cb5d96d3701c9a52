"""满意度 satisfaction: rating distribution, 好评率/差评率 trends, bad reviews and their rectification, and the
评价真实性 rating-integrity signals (fct_rating_signal) with their evidence in words."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.evidence import explain
from dashboards.i18n import t
from dashboards.satisfaction_backlog import render as render_loop

RATING_COLOURS = {5: "#2e7d32", 4: "#66bb6a", 3: "#bdbdbd", 2: "#ef6c00", 1: "#c62828"}
ctx = c.ctx()
st.title(t("satisfaction.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters
st.caption(t("overview.month", month=month.strftime("%Y-%m")))

k = q.kpis(path, f, month)
cur = k[k.month.dt.date == month]
backlog = q.rectification_backlog(path, f).iloc[0]
cols = st.columns(4)
cols[0].metric(t("satisfaction.ratings"), c.fmt_int(cur.evaluations.iloc[0] if len(cur) else 0), border=True)
cols[1].metric(t("overview.kpi.satisfaction"), c.fmt_pct(cur.satisfaction_rate.iloc[0] if len(cur) else None), border=True)
cols[2].metric(t("satisfaction.outstanding"), c.fmt_int(backlog.outstanding), border=True)
cols[3].metric(t("satisfaction.late"), c.fmt_int(backlog.late), border=True)

left, right = st.columns(2)
dist = q.rating_distribution(path, f, month)
if len(dist):
    fig = go.Figure(go.Bar(x=dist.rating.map(lambda v: c.label("rating", v)), y=dist.n,
                           marker_color=[RATING_COLOURS.get(int(v), "#9e9e9e") for v in dist.rating]))
    fig.update_layout(title=t("satisfaction.distribution"))
    with left:
        c.chart(fig, "sat_dist", counts="y")
trend = q.monthly_trend(path, f)
if len(trend):
    trend = trend.assign(month=c.ym(trend.month))
    fig = go.Figure()
    fig.add_scatter(x=trend.month, y=trend.good_rate, name=t("satisfaction.good_rate"), mode="lines+markers")
    fig.add_scatter(x=trend.month, y=trend.bad_rate, name=t("satisfaction.bad_rate"), mode="lines+markers")
    fig.update_layout(title=t("satisfaction.trend"), yaxis_tickformat=".1%", xaxis_type="category")
    with right:
        c.chart(fig, "sat_trend")

tab_bad, tab_loop, tab_integrity = st.tabs(
    [t("satisfaction.tab_bad"), t("satisfaction.tab_loop"), t("satisfaction.tab_integrity")])
with tab_bad:
    st.subheader(t("satisfaction.bad_reviews"))
    outstanding = st.toggle(t("satisfaction.only_outstanding"), key="sat_outstanding")
    bad = q.bad_reviews(path, f, month, outstanding)
    if bad.empty:
        st.info(t("common.empty"))
    else:
        def in_words(rows):
            return rows.assign(
                rating=rows.rating.map(lambda v: c.label("rating", v)),
                reason_codes=rows.reason_codes.map(
                    lambda v: "" if c.is_missing(v) else "、".join(c.label("reason", r) for r in str(v).split(";"))),
                comment=rows.comment.map(c.mask_pii),
                verdict=rows.verdict.map(lambda v: c.label("verdict", v)),
                is_late=rows.is_late.map(lambda v: t("satisfaction.late_mark") if not c.is_missing(v) and bool(v) else ""),
            )

        shown = in_words(c.with_link(c.window_link(bad))).drop(columns=["window_id"])
        late_mask = bad.is_late.fillna(False).astype(bool).tolist()
        # highlight only the columns that tell the story (styling every cell is slow to serialise)
        marked = [t("col.rectification_deadline"), t("col.is_late"), t("col.window_name")]
        styled = c.rename(shown).style.apply(
            lambda col: ["background-color: #fdecea" if late else "" for late in late_mask], subset=marked, axis=0)
        st.dataframe(styled, hide_index=True, key="sat_bad",
                     column_config={**c.link_config("open_window"), **c.link_config()})
        st.caption(t("satisfaction.late_hint"))
        c.export_buttons(lambda: c.rename(in_words(q.bad_reviews(path, f, month, outstanding, limit=q.EXPORT_LIMIT))),
                         "bad_reviews", "sat_bad")

# 评价真实性 (docs/rules.md#rating-integrity): each signal with its evidence as a sentence, one click to the
# window and to the rated case
with tab_integrity:
    st.caption(t("satisfaction.integrity_hint"))
    signals = q.rating_signals(path, f, month)
    if signals.empty:
        st.info(t("satisfaction.integrity_none"))
    else:
        linked = c.window_link(c.with_link(signals))
        shown = linked.assign(
            rule_id=signals.rule_id.map(lambda v: c.label("rule", v)),
            evidence=[explain(r, e) for r, e in zip(signals.rule_id, signals.evidence)],
        )[["open_window", "open_case", "rule_id", "signal_date", "window_name", "evaluation_id", "evidence"]]
        with st.container(key="sat_integrity_box"):
            st.dataframe(c.rename(shown), hide_index=True, key="sat_integrity",
                         column_config={**c.link_config("open_window"), **c.link_config()})

# 差评闭环 (SPEC §4.4 v2): verification / rectification / callback backlogs by deadline, appeals, default ratings
with tab_loop:
    render_loop(path, f, month)

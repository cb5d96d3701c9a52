"""体外循环 off-book: signals by rule, window and month; a case's evidence; department volume gap."""

import plotly.express as px
import streamlit as st

from dashboards import case_view
from dashboards import common as c
from dashboards import evidence
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("offbook.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters
st.caption(t("overview.month", month=month.strftime("%Y-%m")))

by_rule = q.signals_by_rule(path, f, month)
cols = st.columns(max(1, len(by_rule)))
for col, r in zip(cols, by_rule.itertuples()):
    col.metric(c.label("rule", r.rule_id), c.fmt_int(r.signals), border=True)
if by_rule.empty:
    st.info(t("offbook.none"))

left, right = st.columns(2)
by_window = q.signals_by_window(path, f, month)
if len(by_window):
    fig = px.bar(by_window.assign(rule=by_window.rule_id.map(lambda v: c.label("rule", v))), x="signals",
                 y="window_name", color="rule", orientation="h",
                 labels={"signals": t("col.signals"), "window_name": t("col.window_name"), "rule": t("col.rule_id")})
    fig.update_layout(title=t("offbook.by_window"), yaxis_autorange="reversed")
    with left:
        c.chart(fig, "ob_window", counts="x")
trend = q.signals_by_month(path, f)
if len(trend):
    fig = px.bar(trend.assign(rule=trend.rule_id.map(lambda v: c.label("rule", v)), month=c.ym(trend.month)), x="month", y="signals",
                 color="rule", labels={"signals": t("col.signals"), "month": t("col.month"), "rule": t("col.rule_id")})
    fig.update_layout(title=t("offbook.by_month"), xaxis_type="category")
    with right:
        c.chart(fig, "ob_month", counts="y")

st.subheader(t("offbook.list"))
rules = ["", *by_rule.rule_id]
rule_labels = {v: t("filter.all") if not v else c.label("rule", v) for v in rules}
rule = st.selectbox(t("offbook.rule"), rules, key="ob_rule", format_func=rule_labels.__getitem__) or None
signals = q.signal_list(path, f, month, rule)


def in_words(rows):
    return rows.assign(rule_id=rows.rule_id.map(lambda v: c.label("rule", v)),
                       evidence=[evidence.explain(r, e) for r, e in zip(rows.rule_id, rows.evidence)])


st.dataframe(c.rename(in_words(c.with_link(c.window_link(signals))).drop(columns=["window_id"])), hide_index=True,
             key="ob_list", column_config={**c.link_config("open_window"), **c.link_config()})
c.export_buttons(lambda: c.rename(in_words(q.signal_list(path, f, month, rule, limit=q.EXPORT_LIMIT))),
                 "off_book_signals", "ob_list")

case_ids = [x for x in signals.case_id.dropna().unique()]
if case_ids:
    st.subheader(t("offbook.evidence"))
    chosen = st.selectbox(t("offbook.pick_case"), case_ids, key="ob_case")
    case_view.render(path, chosen, key="ob_ev")
    st.page_link("app_pages/case_detail.py", label=t("offbook.open_case"), query_params={"case": chosen})

st.subheader(t("offbook.volume_gap"))
gap = q.volume_gap(path, f)
if gap.empty:
    st.caption(t("offbook.no_volumes"))
else:
    shown = c.rename(gap.assign(month=gap.month.dt.strftime("%Y-%m"), ratio=gap.ratio.map(c.fmt_pct)))
    st.dataframe(shown, hide_index=True, key="ob_gap")
    c.export_buttons(lambda: shown, "volume_gap", "ob_gap")

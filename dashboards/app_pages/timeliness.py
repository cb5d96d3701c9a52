"""超时监控 timeliness: open cases by card, working days remaining/overdue, exports, overdue trends."""

import plotly.express as px
import streamlit as st

from dashboards import common as c
from dashboards import evidence
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("timeliness.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters

cards_now = q.open_cards(path, f)
cols = st.columns(4)
# 法定超时 first: past the legal limit is more serious than a red card (SPEC §4.2.1)
cols[0].metric(t("timeliness.legal_overdue"), c.fmt_int(q.open_legal_overdue(path, f)), border=True)
for col, card in zip(cols[1:], ("red", "yellow", "green")):
    col.metric(c.label("card", card), c.fmt_int(cards_now.get(card, 0)), border=True)

left, right = st.columns([2, 3])
card_labels = {v: c.label("card", v) for v in ("red", "yellow", "green")}
cards = left.multiselect(t("timeliness.cards"), list(card_labels), default=["red", "yellow"],
                         format_func=card_labels.__getitem__, key="tl_cards")
items = q.items(path)
if f.dept:
    items = items[items.department_id == f.dept]
item_labels = {"": t("filter.all"), **dict(zip(items.item_code, items.item_name))}
item = right.selectbox(t("timeliness.item"), ["", *items.item_code], format_func=lambda v: item_labels.get(v, v),
                       key="tl_item") or None

total = q.open_cases_count(path, f, tuple(cards), item)
rows = q.open_cases(path, f, tuple(cards), item)
st.markdown(t("timeliness.count", total=c.fmt_int(total), shown=c.fmt_int(len(rows))))
CARD_COLOURS = {"red": "background-color: #fdecea", "yellow": "background-color: #fff8e1"}
row_colours = [CARD_COLOURS.get(v, "") for v in rows.card]
shown = c.rename(c.with_link(c.window_link(rows)).drop(columns=["window_id"]).assign(
    card=rows.card.map(lambda v: c.label("card", v)),
    is_legal_overdue=rows.is_legal_overdue.map(lambda v: c.yes_no(v, no=""))))
marked = [t("col.card"), t("col.case_id"), t("col.deadline_at")]  # few styled cells: fast to serialise
st.dataframe(shown.style.apply(lambda col: row_colours, subset=marked, axis=0), hide_index=True, key="tl_open",
             column_config={**c.link_config("open_window"), **c.link_config()})


def export_frame():
    full = q.open_cases(path, f, tuple(cards), item, limit=q.EXPORT_LIMIT)
    return c.rename(full.assign(card=full.card.map(lambda v: c.label("card", v)),
                                is_legal_overdue=full.is_legal_overdue.map(lambda v: c.yes_no(v, no=""))))


c.export_buttons(export_frame, "open_cases", "tl")

st.subheader(t("timeliness.signals", month=month.strftime("%Y-%m")))
signals = q.timeliness_signals(path, f, month)
if signals.empty:
    st.info(t("timeliness.no_signals"))
else:
    signals = signals.assign(evidence=[evidence.explain(r, e) for r, e in zip(signals.rule_id, signals.evidence)],
                             rule_id=signals.rule_id.map(lambda v: c.label("rule", v)),
                             signal_date=signals.signal_date.map(lambda v: str(v)[:10]))
    st.dataframe(c.rename(c.with_link(c.window_link(signals)).drop(columns=["window_id"])), hide_index=True,
                 key="tl_signals", column_config={**c.link_config("open_window"), **c.link_config()})

st.subheader(t("timeliness.trend_dept"))
trend = q.overdue_by_department(path, f)
if trend.empty:
    st.info(t("common.empty"))
else:
    fig = px.bar(trend.assign(month=c.ym(trend.month)), x="month", y="overdue", color="department_name", barmode="group",
                 labels={"month": t("col.month"), "overdue": t("col.overdue"), "department_name": t("col.department_name")})
    fig.update_layout(xaxis_type="category")
    c.chart(fig, "tl_dept", counts="y")

st.subheader(t("timeliness.trend_item", month=month.strftime("%Y-%m")))
by_item = q.overdue_by_item(path, f, month)
if by_item.empty:
    st.info(t("timeliness.no_overdue"))
else:
    fig = px.bar(by_item, x="overdue", y="item_name", orientation="h",
                 labels={"overdue": t("col.overdue"), "item_name": t("col.item_name")})
    fig.update_layout(yaxis_autorange="reversed")
    c.chart(fig, "tl_item_chart", height=max(260, 30 * len(by_item) + 100), counts="x")

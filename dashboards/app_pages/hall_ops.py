"""大厅运行 hall operations (SPEC v2 §4.10, §7): attendance, queue waits by hour and business type, the
window adjustment proposals with their evidence, work orders, inspections and the 一日三查 calendar.
Each optional feed never delivered says so instead of showing empty tables (SPEC §3)."""

import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import hall_queries as hq
from dashboards import queries as q
from dashboards.i18n import current_lang, t

ctx = c.ctx()
st.title(t("hall_ops.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters
st.caption(t("overview.month", month=month.strftime("%Y-%m")))
have = hq.delivered(path)
items = dict(zip(*q.items(path)[["item_code", "item_name"]].to_dict("list").values()))


def not_delivered(feed: str) -> None:
    st.info(t("hall_ops.not_delivered", feed=t(f"hall_ops.feed.{feed}")))


def yes_no(v) -> str:
    return "" if c.is_missing(v) else (t("common.yes") if bool(v) else t("common.no"))


def minutes(v) -> str:
    return "—" if c.is_missing(v) else f"{float(v):.1f}"


def linked(frame):
    """A table as shown: its window (window_id) opens 窗口明细 with the page's filters in one click (first
    column); the id itself is not shown."""
    return c.window_link(frame).drop(columns=["window_id"])


WINDOW_LINK = c.link_config("open_window")


def export(frame, name: str, key: str) -> None:
    """CSV and XLSX of what the table shows (headers in the reader's language, no link column), named by
    the list, the page's filters and the data's date (common.export_buttons)."""
    c.export_buttons(lambda: c.rename(frame.drop(columns=["window_id"], errors="ignore")), name, key)


# One section at a time (a radio, not st.tabs): only the chosen section is drawn, so a chart is never
# computed for a hidden tab (plotly draws nothing there) and the section stays in the URL's session.
SECTIONS = ("attendance", "queue", "orders", "inspections")
# The labels are the options (no format_func) and the language is in the key: a widget keeps its chosen
# label across runs, and the labels change with the language.
LABELS = [t(f"hall_ops.tab.{v}") for v in SECTIONS]
section = SECTIONS[LABELS.index(st.radio(t("hall_ops.section"), LABELS, horizontal=True,
                                         key=f"ho_section_{current_lang()}", label_visibility="collapsed"))]

if section == "attendance":  # 考勤: in-post rate, absent window-days, late arrivals and early leaves
    if not have["fct_attendance_day"]:
        not_delivered("attendance")
    else:
        att = hq.attendance_month(path, f, month)
        if att.empty:
            st.info(t("common.empty"))
        else:
            cols = st.columns(4)
            den = int(att.days_scheduled.sum() - att.days_covered.sum())
            cols[0].metric(t("col.in_post_rate"), c.fmt_pct(att.days_staffed.sum() / den if den else None), border=True)
            cols[1].metric(t("col.absent_days"), c.fmt_int(att.absent_days.sum()), border=True)
            cols[2].metric(t("col.late_arrivals"), c.fmt_int(att.late_arrivals.sum()), border=True)
            cols[3].metric(t("col.early_leaves"), c.fmt_int(att.early_leaves.sum()), border=True)
            rows = att.assign(in_post_rate=att.in_post_rate.map(c.fmt_pct))
            st.dataframe(c.rename(linked(rows)), hide_index=True, key="ho_attendance", column_config=WINDOW_LINK)
            export(rows, "hall_attendance", "ho_att")
            absent = hq.absent_days(path, f, month)
            st.subheader(t("hall_ops.absent_days"))
            if absent.empty:
                st.caption(t("rankings.none"))
            else:
                st.dataframe(c.rename(linked(absent.astype(str))), hide_index=True, key="ho_absent",
                             column_config=WINDOW_LINK)
                export(absent.astype(str), "hall_absent_days", "ho_abs")

if section == "queue":  # 排队叫号: waits by business type and hour; 窗口动态增减 proposals with their evidence
    if not have["fct_queue_month"]:
        not_delivered("queue_tickets")
    else:
        st.subheader(t("hall_ops.adjustments"))
        adj = hq.adjustments(path, month, items)
        proposed = adj[adj.proposal != 0] if not adj.empty else adj
        if proposed.empty:
            st.caption(t("hall_ops.no_adjustment"))
        for r in proposed.itertuples():
            line = t("hall_ops.adjust_line", kind=t("hall_ops.add" if r.proposal > 0 else "hall_ops.merge"),
                     business=c.md(r.business_type), evidence=c.md(r.evidence))
            (st.warning if r.proposal > 0 else st.info)(line)
        if not adj.empty:
            table = adj.assign(proposal=adj.proposal.map(lambda v: t("hall_ops.proposal." + {1: "add", -1: "merge"}.get(int(v), "keep"))),
                               p90_wait_minutes=adj.p90_wait_minutes.map(minutes),
                               served_per_window_hour=adj.served_per_window_hour.map(lambda v: "—" if c.is_missing(v) else f"{v:.2f}"))
            st.dataframe(c.rename(table), hide_index=True, key="ho_adjust")
            export(table, "hall_adjustments", "ho_adj")
        st.subheader(t("hall_ops.by_type"))
        by_type = hq.queue_by_type(path, f, month, items)
        by_type = by_type.assign(no_show_rate=by_type.no_show_rate.map(c.fmt_pct),
                                 **{k: by_type[k].map(minutes) for k in ("avg_wait_minutes", "p90_wait_minutes", "avg_service_minutes")})
        st.dataframe(c.rename(by_type), hide_index=True, key="ho_by_type")
        export(by_type, "hall_queue_by_type", "ho_type")
        hours = hq.queue_by_hour(path, month, items)
        if not hours.empty:
            fig = go.Figure()
            for business, part in hours.groupby("business_type", dropna=False):
                fig.add_scatter(x=part.hour, y=part.avg_wait_minutes, mode="lines+markers",
                                name=str(business) if not c.is_missing(business) else "—")
            fig.update_layout(title=t("hall_ops.by_hour"), xaxis=dict(title=t("hall_ops.hour"), dtick=1, tickformat="d"),
                              yaxis=dict(title=t("hall_ops.wait_minutes")))
            c.chart(fig, "ho_hours")
        st.subheader(t("hall_ops.by_window"))
        by_window = hq.queue_by_window(path, f, month)
        by_window = by_window.assign(no_show_rate=by_window.no_show_rate.map(c.fmt_pct),
                                     **{k: by_window[k].map(minutes) for k in ("avg_wait_minutes", "p90_wait_minutes", "avg_service_minutes")})
        st.dataframe(c.rename(linked(by_window)), hide_index=True, key="ho_by_window", column_config=WINDOW_LINK)
        export(by_window, "hall_queue_by_window", "ho_win")

if section == "orders":  # 12345 / 办不成事 work orders
    if not have["fct_work_order"]:
        not_delivered("work_orders")
    else:
        orders = hq.work_orders(path, f, month)
        if orders.empty:
            st.info(t("common.empty"))
        else:
            cols = st.columns(3)
            cols[0].metric(t("hall_ops.orders"), c.fmt_int(len(orders)), border=True)
            cols[1].metric(t("col.substantiated_complaints"),
                           c.fmt_int(((orders.category == "complaint") & orders.substantiated.fillna(False).astype(bool)).sum()),
                           border=True)
            cols[2].metric(t("hall_ops.closed_late"), c.fmt_int((orders.is_closed_on_time == False).sum()), border=True)  # noqa: E712
            rows = orders.assign(
                channel=orders.channel.map(lambda v: c.label("wo_channel", v)),
                category=orders.category.map(lambda v: c.label("wo_category", v)),
                is_closed_on_time=orders.is_closed_on_time.map(yes_no),
                substantiated=orders.substantiated.map(yes_no),
                requester_satisfaction=orders.requester_satisfaction.map(lambda v: "" if c.is_missing(v) else c.label("callback_result", v)),
                content=orders.content.map(c.mask_pii),
            )
            st.dataframe(c.rename(linked(rows.fillna(""))), hide_index=True, key="ho_orders", column_config=WINDOW_LINK)
            export(rows.fillna(""), "hall_work_orders", "ho_wo")

if section == "inspections":  # 明察暗访 records and the 一日三查 calendar
    if not have["fct_inspection"]:
        not_delivered("inspections")
    else:
        st.subheader(t("hall_ops.spot_checks"))
        spots = hq.spot_checks(path, f, month)
        if spots.empty:
            st.caption(t("common.empty"))
        else:
            short = spots[~spots.met.astype(bool)]
            st.caption(t("hall_ops.spot_summary", days=c.fmt_int(len(spots)), short=c.fmt_int(len(short)),
                         required=c.fmt_int(spots.required.max())))
            fig = go.Figure()
            for center, part in spots.groupby("center_id"):
                fig.add_bar(x=part.date.astype(str), y=part.done, name=str(center),
                            marker_color=["#2e7d32" if m else "#c62828" for m in part.met])
            fig.add_scatter(x=spots.date.astype(str), y=spots.required, mode="lines", name=t("hall_ops.required"),
                            line=dict(dash="dash", color="#555"))
            fig.update_layout(title=t("hall_ops.spot_calendar"), xaxis_type="category",
                              yaxis=dict(title=t("hall_ops.done"), dtick=1, tickformat="d"), showlegend=False)
            c.chart(fig, "ho_spots")
        st.subheader(t("hall_ops.inspections"))
        records = hq.inspections(path, f, month)
        if records.empty:
            st.caption(t("common.empty"))
        else:
            rows = records.assign(method=records.method.map(lambda v: c.label("inspection_method", v)),
                                  finding=records.finding.map(lambda v: c.label("inspection_finding", v)),
                                  deduction=records.deduction.map(lambda v: "" if c.is_missing(v) or v == 0 else f"{v:g}"),
                                  note=records.note.map(c.mask_pii))
            st.dataframe(c.rename(linked(rows.fillna(""))), hide_index=True, key="ho_inspections",
                         column_config=WINDOW_LINK)
            export(rows.fillna(""), "hall_inspections", "ho_insp")

"""One case's evidence and timeline, shared by the off-book page and the case drill-down."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t


def _timeline(case: pd.Series, events: pd.DataFrame | None) -> pd.DataFrame:
    if events is not None and len(events):
        return events.assign(step=events.event_type.map(lambda v: c.label("event", v)))
    # no event mart in this snapshot: the milestones fct_case carries
    rows = [("accept", case.accepted_at), ("deadline", case.deadline_at), ("complete", case.completed_at)]
    return pd.DataFrame(
        [{"event_type": k, "step": c.label("event", k), "event_time": v} for k, v in rows if not c.is_missing(v)]
    )


def render(path: str, case_id: str, key: str) -> bool:
    """Draw the case; False when the snapshot does not have it."""
    row = q.case_row(path, case_id)
    if row.empty:
        st.warning(t("case.not_found", case=case_id))
        return False
    case = row.iloc[0]
    st.markdown(t("case.header", case=c.md(case.case_id), window=c.md(case.window_name), dept=c.md(case.department_name),
                  item=c.md(case.item_name or case.item_code)))
    cols = st.columns(5)
    cols[0].metric(t("col.status"), c.label("status", case.status))
    cols[1].metric(t("col.limit_workdays"), c.fmt_int(case.limit_workdays))
    cols[2].metric(t("col.paused_workdays"), c.fmt_int(case.paused_workdays))
    cols[3].metric(t("col.overdue_workdays"), c.fmt_int(case.overdue_workdays))
    cols[4].metric(t("col.card"), c.label("card", case.card))

    events = q.case_events(path, case_id)
    timeline = _timeline(case, events)
    st.markdown(f"**{t('case.timeline')}**")
    if events is None:
        st.caption(t("case.no_event_mart"))
    if len(timeline):
        fig = go.Figure(go.Scatter(x=timeline.event_time, y=timeline.step, mode="markers+lines+text",
                                   text=timeline.event_time.dt.strftime("%m-%d %H:%M"), textposition="top center",
                                   marker=dict(size=12)))
        if not c.is_missing(case.deadline_at):
            fig.add_vline(x=case.deadline_at, line_dash="dash", line_color="red")
        fig.update_layout(yaxis_title=None, xaxis_title=None, showlegend=False)
        c.chart(fig, f"{key}_timeline", height=300)
        shown = timeline.drop(columns=["step"]).assign(event_type=timeline.step)
        st.dataframe(c.rename(shown), hide_index=True, key=f"{key}_events")

    sig = q.case_signals(path, case_id)
    st.markdown(f"**{t('case.signals')}**")
    if sig.empty:
        st.caption(t("case.no_signals"))
    else:
        st.dataframe(c.rename(sig.assign(rule_id=sig.rule_id.map(lambda v: c.label("rule", v)))), hide_index=True,
                     key=f"{key}_signals")
    ev = q.case_evaluations(path, case_id)
    st.markdown(f"**{t('case.evaluations')}**")
    if ev.empty:
        st.caption(t("case.no_evaluations"))
    else:
        ev = ev.assign(rating=ev.rating.map(lambda v: c.label("rating", v)),
                       reason_codes=ev.reason_codes.map(_reasons), comment=ev.comment.map(c.mask_pii))
        st.dataframe(c.rename(ev), hide_index=True, key=f"{key}_evals")
    flags = q.case_window_flags(path, case_id)
    if len(flags):
        st.markdown(f"**{t('case.flags')}**")
        flags = flags.assign(flag_type=flags.flag_type.map(lambda v: c.label("flag", v)),
                             review_status=flags.review_status.map(lambda v: c.label("review", v)))
        st.dataframe(c.rename(flags), hide_index=True, key=f"{key}_flags")
    return True


def _reasons(v) -> str:
    if c.is_missing(v) or not v:
        return ""
    return "、".join(c.label("reason", r) for r in str(v).split(";"))

"""One case's evidence and timeline, shared by the off-book page and the case drill-down."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import evidence
from dashboards import queries as q
from dashboards.i18n import current_lang, t


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
    legal_overdue = getattr(case, "is_legal_overdue", None)
    if not c.is_missing(legal_overdue) and bool(legal_overdue):
        st.error(t("case.legal_overdue", deadline=_day(case.legal_deadline_at)))
    as_of = q.as_of(path)
    _clock(path, case, case_id, as_of)

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
            fig.add_annotation(x=case.deadline_at, yref="paper", y=1.08, text=t("case.deadline_marker"),
                               showarrow=False, font=dict(color="red"))
        if as_of is not None and case.status == "open":
            # an open case: its clock runs to the as-of date of the data ("today")
            today = pd.Timestamp(as_of) + pd.Timedelta(hours=23, minutes=59, seconds=59)
            fig.add_vline(x=today, line_dash="dot", line_color="#1565c0")
            fig.add_annotation(x=today, yref="paper", y=1.08, text=t("case.today_marker", as_of=as_of),
                               showarrow=False, font=dict(color="#1565c0"))
        fig.update_xaxes(tickformat="%Y-%m-%d")
        fig.update_layout(yaxis_title=None, xaxis_title=None, showlegend=False)
        c.chart(fig, f"{key}_timeline", height=300)
        shown = timeline.drop(columns=["step"]).assign(event_type=timeline.step)
        st.dataframe(c.rename(shown), hide_index=True, key=f"{key}_events")

    sig = q.case_signals(path, case_id)
    st.markdown(f"**{t('case.signals_all')}**")
    if sig.empty:
        st.caption(t("case.no_signals"))
    else:
        sig = sig.assign(evidence=[evidence.explain(r, e) for r, e in zip(sig.rule_id, sig.evidence)],
                         rule_id=sig.rule_id.map(lambda v: c.label("rule", v)))
        st.dataframe(c.rename(sig), hide_index=True, key=f"{key}_signals")
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
                             review_status=flags.review_status.map(lambda v: c.label("review", v)),
                             source=flags.source.map(lambda v: c.label("flag_source", v)))
        st.dataframe(c.rename(flags), hide_index=True, key=f"{key}_flags")
    return True


def _day(v) -> str:
    return "—" if c.is_missing(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def _clock(path: str, case: pd.Series, case_id: str, as_of) -> None:
    """How the deadline was counted (SPEC §4.2, §4.2.1): the clock's start, the item's limit, each pause
    and extension counted or not and why, the non-working days skipped, the deadline, today."""
    if c.is_missing(getattr(case, "clock_start_date", None)) or c.is_missing(case.limit_workdays):
        return
    parts = q.case_clock_parts(path, case_id)
    start = pd.Timestamp(case.clock_start_date).date()
    accepted = pd.Timestamp(case.accepted_at).date()
    paused = int(case.paused_workdays or 0)
    extended = 0 if c.is_missing(case.extend_days) else int(case.extend_days)
    base = int(case.limit_workdays) - paused - extended
    unit = t(f"case.unit.{case.limit_unit}") if not c.is_missing(case.limit_unit) else t("case.unit.workday")
    with st.expander(t("case.clock"), expanded=case.card in ("red", "yellow") or bool(case.timeliness_signals)):
        lines = [t("case.clock_start", start=start, accepted=accepted)]
        if start != accepted:
            lines.append(t("case.clock_start_moved"))
        lines.append(t("case.clock_base", n=base, unit=unit, source=c.label("limit_source", case.limit_source)))
        if parts is not None and len(parts):
            for p in parts.itertuples():
                why = t("case.part_ordinary") if c.is_missing(p.rule_id) else c.label("rule", p.rule_id)
                end = t("case.part_open", as_of=as_of) if p.is_open else _day(p.end_date)
                key = "case.part_extension" if p.part == "extension" else "case.part_pause"
                lines.append(t(key, kind=c.label("clock_part", p.part), event=c.md(p.event_id), start=_day(p.start_date),
                               end=end, asked=int(p.workdays), counted=int(p.counted_workdays), why=why))
        elif paused or extended:
            lines.append(t("case.clock_parts_totals", paused=paused, extended=extended))
        lines.append(t("case.clock_total", n=int(case.limit_workdays), base=base, extended=extended, paused=paused))
        deadline = _day(case.deadline_date if hasattr(case, "deadline_date") else case.deadline_at)
        lines.append(t("case.clock_deadline", deadline=deadline))
        if not c.is_missing(case.deadline_at):
            skipped = q.non_workdays(path, start, pd.Timestamp(case.deadline_at).date())
            if len(skipped):
                names = skipped.holiday_name if current_lang() != "en" else skipped.holiday_name_en
                named = sorted({str(n) for n in names.dropna() if str(n)})
                lines.append(t("case.clock_skipped", days=len(skipped), names=c.md("、".join(named)) or t("case.weekends")))
                if skipped.is_assumed.any():
                    lines.append(t("case.clock_assumed"))
        if not c.is_missing(getattr(case, "legal_deadline_at", None)):
            lines.append(t("case.clock_legal", deadline=_day(case.legal_deadline_at)))
        if as_of is not None:
            lines.append(t("case.clock_today", as_of=as_of))
        st.markdown("\n".join(f"- {line}" for line in lines))


def _reasons(v) -> str:
    if c.is_missing(v) or not v:
        return ""
    return "、".join(c.label("reason", r) for r in str(v).split(";"))

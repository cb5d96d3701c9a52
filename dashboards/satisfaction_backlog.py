"""满意度 · 差评闭环 (SPEC §4.4 v2, issue 17): the backlogs an inspector works from.

- bad reviews whose verification 核实, rectification 整改 or callback 回访 is still open, each stage a
  table ordered by its deadline with the days left (or overdue), one click to the window and the case;
- 申诉复核: appeals of the month and their outcome, per window and one by one;
- the share of system-default ratings (系统默认评价) per window beside active_evaluation_rate,
  verification_rate and callback_rate of the month.

Every header and value goes through the message catalogue (`sbl.*`, `sblcol.*`): no column name or enum
value is shown as such. Feed text (window names) is shown in dataframe cells, i.e. as text.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

STAGES = ("verification", "rectification", "callback")
_LINKS = ("open_window", "open_case")


def _headers(df: pd.DataFrame) -> pd.DataFrame:
    """Column headers through the catalogue; the link columns keep common.link_config's header."""
    return df.rename(columns={col: t(f"col.{col}") if col in _LINKS else t(f"sblcol.{col}") for col in df.columns})


def _links() -> dict:
    return {**c.link_config("open_window"), **c.link_config()}


def _linked(df: pd.DataFrame) -> pd.DataFrame:
    return c.window_link(c.with_link(df))


def _when(v, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if c.is_missing(v) else pd.Timestamp(v).strftime(fmt)


def days_text(days_left) -> str:
    """剩余 N 天 / 今日到期 / 逾期 N 天."""
    if c.is_missing(days_left):
        return "—"
    n = int(days_left)
    if n < 0:
        return t("sbl.overdue_days", n=-n)
    return t("sbl.due_today") if n == 0 else t("sbl.days_left", n=n)


def backlog_table(df: pd.DataFrame) -> pd.DataFrame:
    """A stage's backlog as shown: links first, labels for ratings, dates as text, days left in words."""
    shown = _linked(df).assign(
        rating=df.rating.map(lambda v: c.label("rating", v)),
        evaluated_at=df.evaluated_at.map(_when),
        deadline=df.deadline.map(lambda v: _when(v, "%Y-%m-%d")),
        status=df.days_left.map(days_text),
    )
    return shown[["open_window", "open_case", "deadline", "status", "window_name", "evaluation_id", "rating",
                  "evaluated_at"]]


def appeal_outcome(v) -> str:
    return t("sbl.appeal.pending") if c.is_missing(v) else t(f"sbl.appeal.{v}")


def _render_backlogs(path: str, f: q.Filters) -> None:
    for stage in STAGES:
        df = q.review_backlog(path, f, stage)
        overdue = int((df.days_left < 0).sum()) if len(df) else 0
        st.subheader(t(f"sbl.stage.{stage}"))
        st.caption(t("sbl.stage_count", n=len(df), overdue=overdue))
        if df.empty:
            st.info(t("sbl.none_open"))
            continue
        late = (df.days_left < 0).tolist()
        styled = _headers(backlog_table(df)).style.apply(
            lambda col: ["background-color: #fdecea" if x else "" for x in late],
            subset=[t("sblcol.deadline"), t("sblcol.status")], axis=0)
        # natural column widths: the link columns stay narrow and first, where one click opens them
        st.dataframe(styled, width="content", hide_index=True, key=f"sbl_{stage}", column_config=_links())


def _render_appeals(path: str, f: q.Filters, month: dt.date) -> None:
    st.subheader(t("sbl.appeals"))
    st.caption(t("sbl.appeals_hint"))
    per_window = q.appeals_by_window(path, f, month)
    if per_window.empty:
        st.info(t("sbl.appeals_none"))
        return
    st.dataframe(_headers(per_window.drop(columns=["window_id"])), hide_index=True, key="sbl_appeals_window")
    rows = q.appeals(path, f, month)
    shown = _linked(rows).assign(
        rating=rows.rating.map(lambda v: c.label("rating", v)),
        evaluated_at=rows.evaluated_at.map(_when),
        appeal_at=rows.appeal_at.map(_when),
        appeal_result=rows.appeal_result.map(appeal_outcome),
    )[["open_window", "open_case", "window_name", "evaluation_id", "rating", "evaluated_at", "appeal_at",
       "appeal_result"]]
    st.dataframe(_headers(shown), hide_index=True, key="sbl_appeals", column_config=_links())


def _render_default_share(path: str, f: q.Filters, month: dt.date) -> None:
    st.subheader(t("sbl.default_share"))
    st.caption(t("sbl.default_share_hint"))
    df = q.default_share(path, f, month)
    if df.empty:
        st.info(t("common.empty"))
        return
    shown = df.drop(columns=["window_id"]).assign(
        ratings=df.ratings.map(c.fmt_int), default_ratings=df.default_ratings.map(c.fmt_int),
        **{col: df[col].map(c.fmt_pct) for col in ("default_share", "active_evaluation_rate", "verification_rate",
                                                   "callback_rate")})
    st.dataframe(_headers(shown), hide_index=True, key="sbl_default")


def render(path: str, f: q.Filters, month: dt.date) -> None:
    """The 差评闭环 section; a snapshot published before §4.4 v2 says so instead."""
    if not q.has_satisfaction_v2(path):
        st.info(t("sbl.no_v2"))
        return
    st.caption(t("sbl.hint"))
    _render_backlogs(path, f)
    _render_appeals(path, f, month)
    _render_default_share(path, f, month)

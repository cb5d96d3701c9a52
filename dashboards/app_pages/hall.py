"""大屏 hall screen: full-screen, auto-refreshing per-window satisfaction today and open red cards."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

REFRESH_SECONDS = 30

# full screen: no sidebar, no header, big type (the hall's TV has no mouse)
st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
.block-container {padding-top: 1rem; max-width: 100%;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
</style>""")


@st.fragment(run_every=REFRESH_SECONDS)
def board() -> None:
    ctx = c.ctx()
    path, _ = c.resolve_snapshot(ctx.home)  # re-resolve: a new publication shows up without a reload
    if path is None:
        st.warning(t("common.no_snapshot"))
        return
    day = q.hall_day(path)
    st.title(t("hall.title", day=day or "—"))
    st.caption(t("hall.refreshed", time=dt.datetime.now().strftime("%H:%M:%S"), seconds=REFRESH_SECONDS))
    if day is None:
        st.info(t("common.empty"))
        return
    df = q.hall_board(path, ctx.filters, day)
    total = int(df.ratings.sum())
    good = (df.satisfaction_rate.fillna(0) * df.ratings).sum()
    cols = st.columns(3)
    cols[0].metric(t("hall.ratings"), c.fmt_int(total))
    cols[1].metric(t("hall.satisfaction"), c.fmt_pct(good / total if total else None))
    cols[2].metric(t("hall.red_cards"), c.fmt_int(df.red_cards.sum()))
    fig = go.Figure(go.Bar(
        x=df.window_name, y=df.satisfaction_rate, text=[c.fmt_pct(v) for v in df.satisfaction_rate],
        textposition="outside",
        marker_color=["#9e9e9e" if c.is_missing(v) else "#2e7d32" if v >= 0.9 else "#ef6c00" if v >= 0.8 else "#c62828"
                      for v in df.satisfaction_rate],
    ))
    fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1.1], title=t("hall.by_window"))
    c.chart(fig, "hall_chart", height=420)
    shown = df.assign(satisfaction_rate=df.satisfaction_rate.map(c.fmt_pct))
    st.dataframe(c.rename(shown), hide_index=True, key="hall_table")


board()
st.page_link("app_pages/overview.py", label=t("hall.exit"))

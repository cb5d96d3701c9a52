"""视频巡查 video: confirmed flags by type, window × hour heatmap, the pending review backlog, where an
inspector confirms or dismisses a flag with a note, watching its clip (视频复核, dashboards/video_review.py)."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards import video_review as vr
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("video.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters
st.caption(t("overview.month", month=month.strftime("%Y-%m")))

by_type = q.flags_by_type(path, f, month)
pending = q.pending_flags(path, f)
decided = vr.decided(ctx.home, pending.flag_id.tolist())  # 视频复核 since the snapshot: no longer waiting
pending = pending[~pending.flag_id.isin(decided)]
cols = st.columns(2)
cols[0].metric(t("video.confirmed"), c.fmt_int(by_type.n.sum() if len(by_type) else 0), border=True)
cols[1].metric(t("video.pending"), c.fmt_int(q.pending_video(path, f) - len(decided)), border=True)

left, right = st.columns(2)
if len(by_type):
    fig = px.bar(by_type.assign(flag=by_type.flag_type.map(lambda v: c.label("flag", v))), x="flag", y="n",
                 labels={"flag": t("col.flag_type"), "n": t("col.n")})
    fig.update_layout(title=t("video.by_type"))
    with left:
        c.chart(fig, "vid_type", counts="y")
else:
    left.info(t("video.no_confirmed"))
heat = q.flags_heatmap(path, f, month)
if len(heat):
    grid = heat.pivot_table(index="window_name", columns="hour", values="n", fill_value=0)
    grid = grid.reindex(columns=range(7, 21), fill_value=0)
    fig = go.Figure(go.Heatmap(z=grid.values, x=[f"{h}:00" for h in grid.columns], y=grid.index,
                               colorscale="Reds", hovertemplate="%{y} %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=t("video.heatmap"))
    with right:
        c.chart(fig, "vid_heat")



def in_words(rows):
    """The backlog as shown and exported: flag types and sources in words, each flag under its window's
    department on the flag's date (fct_video_flag.department_id)."""
    return rows.assign(flag_type=rows.flag_type.map(lambda v: c.label("flag", v)),
                       source=rows.source.map(lambda v: c.label("flag_source", v)))


def still_pending():
    """Every pending flag of the filters (the export), less those decided since the snapshot."""
    rows = q.pending_flags(path, f, limit=q.EXPORT_LIMIT)
    return c.rename(in_words(rows[~rows.flag_id.isin(vr.decided(ctx.home, rows.flag_id.tolist()))]))


st.subheader(t("video.backlog"))
vr.show_flash()
if pending.empty:
    st.success(t("video.no_pending"))
else:
    st.dataframe(c.rename(in_words(c.window_link(pending)).drop(columns=["window_id"])), hide_index=True,
                 key="vid_pending", column_config=c.link_config("open_window"))
    c.export_buttons(still_pending, "video_pending", "vid_pending")
    if ctx.role == "inspector":
        vr.review_form(ctx, pending)

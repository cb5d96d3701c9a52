"""星级窗口排名 rankings: stars, score, components, movement, vetoes, 红旗 and 末位 lists."""

import plotly.graph_objects as go
import streamlit as st
import yaml

from core.config import ConfigError, load_scoring
from dashboards import common as c
from dashboards import hall_queries as hq
from dashboards import queries as q
from dashboards.i18n import t
from windowwatch.snapshot import scoring_copy

ctx = c.ctx()
st.title(t("rankings.title"))
path = c.require_snapshot()
month = c.require_month(path)
st.caption(t("overview.month", month=month.strftime("%Y-%m")))

# the scoring file this snapshot was computed with (kept beside it at publish), not the one in force now
kept = scoring_copy(path)
try:
    scoring = load_scoring(kept if kept.is_file() else None)
except ConfigError as exc:
    scoring = None
    st.error(str(exc))

df = q.ranking(path, ctx.filters, month)
if df.empty:
    st.info(t("common.empty"))
    st.stop()

# components of docs/rules.md from the mart's own indicators
pen_d = scoring.score.discipline_penalty_per_flag if scoring else 0.1
pen_i = scoring.score.off_book_penalty if scoring else 5
weights = scoring.score.weights.model_dump() if scoring else dict(T=0.3, S=0.3, D=0.15, I=0.15, R=0.1)
# v2 (docs/rules.md#score): no T without a completion (no score); S null = left out (score_note)
df["T"] = df.on_time_rate
df["S"] = df.adjusted_satisfaction
df["D"] = (1 - pen_d * (df.video_flags_confirmed - df.handover_flags_confirmed)).clip(lower=0)
df["I"] = (1 - pen_i * df.off_book_rate.fillna(0)).clip(lower=0)
df["R"] = df.rectification_rate

# The three lists beside the ranking: (heading, windows in it, how one line reads).
LISTS = [
    ("rankings.red_flag", df[df.is_red_flag.fillna(False).astype(bool)],
     lambda r: f":material/flag: **{c.md(r.window_name)}** · {c.stars(r.stars)} · {c.fmt_score(r.score)}"),
    ("rankings.bottom", df[df.is_bottom.fillna(False).astype(bool)],
     lambda r: f":material/warning: **{c.md(r.window_name)}** · {c.fmt_score(r.score)} · {t('rankings.talk')}"
               + (f" · **{t('rankings.bottom_repeat')}**"
                  if not c.is_missing(r.is_bottom_repeat) and bool(r.is_bottom_repeat) else "")),
    ("rankings.vetoes", df[df.veto_reason.notna()],
     lambda r: f":material/block: **{c.md(r.window_name)}** · {c.md(c.label('veto', r.veto_reason))}"),
]
for column, (heading, windows, line) in zip(st.columns(len(LISTS)), LISTS):
    with column:
        st.subheader(t(heading))
        if windows.empty:
            st.caption(t("rankings.none"))
        for r in windows.itertuples():
            st.markdown(line(r))


def movement(m) -> str:
    if c.is_missing(m):
        return "—"
    m = int(m)
    return f"▲{m}" if m > 0 else (f"▼{-m}" if m < 0 else "＝")


table = c.window_link(df).assign(
    rank=df["rank"].map(c.fmt_rank),
    movement=df.movement.map(movement),
    stars=[c.stars_or_not_rated(s, e) for s, e in zip(df.stars, df.is_eligible)],
    score=df.score.map(c.fmt_score),
    deductions=df.deductions.map(lambda v: c.fmt_score(v) if not c.is_missing(v) and v > 0 else ""),
    score_note=df.score_note.map(c.score_note),
    veto_reason=df.veto_reason.map(lambda x: "" if c.is_missing(x) else c.label("veto", x)),
    is_eligible=df.is_eligible.map(lambda x: "✓" if x else t("rankings.ineligible")),
    **{k: df[k].map(c.fmt_pct) for k in ("T", "S", "D", "I", "R")},
)[["open_window", "rank", "movement", "window_name", "department_name", "stars", "score", "deductions", "T", "S", "D", "I", "R",
   "cases_completed", "is_eligible", "veto_reason", "score_note"]]
st.subheader(t("rankings.table"))
st.dataframe(c.rename(table), hide_index=True, key="rk_table", column_config=c.link_config("open_window"))
c.export_buttons(lambda: c.rename(table.drop(columns=["open_window"])), "rankings", "rk_export")

st.subheader(t("rankings.breakdown"))
fig = go.Figure()
# a component left out (null) weighs nothing and the others are rescaled to sum to 1, as in the score
present_weight = sum(weights[comp] * df[comp].notna() for comp in ("T", "S", "D", "I", "R")).replace(0, 1)
for comp in ("T", "S", "D", "I", "R"):
    fig.add_bar(y=df.window_name, x=100 * weights[comp] * df[comp].fillna(0) / present_weight, orientation="h",
                name=t(f"rankings.component.{comp}"))
fig.update_layout(barmode="stack", yaxis_autorange="reversed")
c.chart(fig, "rk_breakdown", height=max(300, 28 * len(df) + 120))

# SPEC v2 §4.6 / §4.10: each deduction with its source, and the month's window adjustment proposals
deductions = hq.deductions(path, ctx.filters, month)
with st.expander(t("rankings.deductions", n=c.fmt_int(len(deductions))), expanded=False):
    if deductions.empty:
        st.caption(t("rankings.no_deductions"))
    else:
        by_source = deductions.groupby("source").points.sum()
        st.caption(t("rankings.note_sep").join(f"{c.label('deduction_source', s)} {p:g}" for s, p in by_source.items()))
        st.dataframe(c.rename(c.window_link(deductions).drop(columns=["window_id"]).assign(
                         source=deductions.source.map(lambda v: c.label("deduction_source", v)),
                         points=deductions.points.map(lambda v: f"{v:g}"))),
                     hide_index=True, key="rk_deductions", column_config=c.link_config("open_window"))
items = dict(zip(*q.items(path)[["item_code", "item_name"]].to_dict("list").values()))
proposals = hq.adjustments(path, month, items)
proposals = proposals[proposals.proposal != 0] if not proposals.empty else proposals
if not proposals.empty:
    st.subheader(t("hall_ops.adjustments"))
    for r in proposals.itertuples():
        st.markdown(t("hall_ops.adjust_line", kind=t("hall_ops.add" if r.proposal > 0 else "hall_ops.merge"),
                      business=c.md(r.business_type), evidence=c.md(r.evidence)))

with st.expander(t("rankings.config")):
    if scoring:
        st.caption(t("rankings.config_hash", hash=scoring.content_hash()[:16]))
        if not kept.is_file():
            st.caption(t("rankings.config_current"))
        st.code(yaml.safe_dump(scoring.model_dump(mode="json"), allow_unicode=True, sort_keys=False), language="yaml")

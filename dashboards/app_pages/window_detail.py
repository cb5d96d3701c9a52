"""Window drill-down: one window's month — every component of its score and the cases behind it."""

import streamlit as st

from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("window.title"))
path = c.require_snapshot()
month = c.require_month(path)
f = ctx.filters

win = q.windows(path)
if f.center:
    win = win[win.center_id == f.center]
if f.dept:
    win = win[win.department_id == f.dept]
ids = list(win.window_id)
names = dict(zip(win.window_id, win.window_name))
wanted = f.window or st.query_params.get("w")
if not ids:
    st.info(t("common.empty"))
    st.stop()
window_id = st.selectbox(t("filter.window"), ids, index=ids.index(wanted) if wanted in ids else 0,
                         format_func=lambda v: names.get(v, v), key="wd_window")
row = q.window_month(path, window_id, month)
if row.empty:
    st.info(t("window.no_month", month=month.strftime("%Y-%m")))
    st.stop()
m = row.iloc[0]
st.subheader(t("window.header", window=m.window_name, dept=m.department_name, month=month.strftime("%Y-%m")))

a = st.columns(5)
a[0].metric(t("col.score"), c.fmt_score(m.score), border=True)
a[1].metric(t("col.stars"), c.stars(m.stars), border=True)
a[2].metric(t("col.rank"), "—" if c.is_missing(m["rank"]) else str(int(m["rank"])), border=True)
a[3].metric(t("col.cases_accepted"), c.fmt_int(m.cases_accepted), border=True)
a[4].metric(t("col.cases_completed"), c.fmt_int(m.cases_completed), border=True)
b = st.columns(5)
b[0].metric(t("col.on_time_rate"), c.fmt_pct(m.on_time_rate), border=True)
b[1].metric(t("col.same_day_rate"), c.fmt_pct(m.same_day_rate), border=True)
b[2].metric(t("col.immediate_on_time_rate"), c.fmt_pct(m.immediate_on_time_rate), border=True)
b[3].metric(t("col.off_book_rate"), c.fmt_pct(m.off_book_rate), border=True)
b[4].metric(t("col.evaluation_rate"), c.fmt_pct(m.evaluation_rate), border=True)
d = st.columns(5)
d[0].metric(t("col.satisfaction_rate"), c.fmt_pct(m.satisfaction_rate), border=True)
d[1].metric(t("col.adjusted_satisfaction"), c.fmt_pct(m.adjusted_satisfaction), border=True)
d[2].metric(t("col.rectification_rate"), c.fmt_pct(m.rectification_rate), border=True)
d[3].metric(t("col.video_flags_confirmed"), c.fmt_int(m.video_flags_confirmed), border=True)
d[4].metric(t("col.video_flags_pending"), c.fmt_int(m.video_flags_pending), border=True)
if not c.is_missing(m.veto_reason):
    st.error(t("window.veto", reason=c.label("veto", m.veto_reason)))
if not m.is_eligible:
    st.caption(t("window.ineligible"))

st.subheader(t("window.cases"))
cases = q.window_cases(path, window_id, month)
st.caption(t("window.cases_hint", n=c.fmt_int(len(cases))))
shown = cases.assign(status=cases.status.map(lambda v: c.label("status", v)),
                     card=cases.card.map(lambda v: c.label("card", v) if not c.is_missing(v) else ""))
st.dataframe(c.rename(shown), hide_index=True, key="wd_cases")
if len(cases):
    pick = st.selectbox(t("window.open_case"), list(cases.case_id), key="wd_case")
    st.page_link("app_pages/case_detail.py", label=t("offbook.open_case"), query_params={"case": pick})

left, right = st.columns(2)
with left:
    st.markdown(f"**{t('window.ratings')}**")
    ev = q.window_evaluations(path, window_id, month)
    st.dataframe(c.rename(ev.assign(rating=ev.rating.map(lambda v: c.label("rating", v)))), hide_index=True,
                 key="wd_ratings")
with right:
    st.markdown(f"**{t('window.flags')}**")
    fl = q.window_flags(path, window_id, month)
    st.dataframe(c.rename(fl.assign(flag_type=fl.flag_type.map(lambda v: c.label("flag", v)),
                                    review_status=fl.review_status.map(lambda v: c.label("review", v)))),
                 hide_index=True, key="wd_flags")

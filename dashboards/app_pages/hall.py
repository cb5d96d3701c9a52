"""大屏 hall screen: the day's satisfaction per window, open red cards and the live feed of ratings,
on a TV across the hall (1920×1080, read from metres away; docs/operations.md#the-hall-screen-kiosk).

Dark and high-contrast, large type (figures ≥ 64 px, every other text ≥ 28 px), no chart toolbar,
chart labels horizontal; the window table is paged (WINDOWWATCH_HALL_PAGE_ROWS rows, 8: chart and table
of a page fit 1080 px with the header and the feed) and the page turns on its own
every REFRESH_SECONDS, when the data is re-read as well. Times are local (Asia/Shanghai). Opened by
a signed-in role or by a kiosk token (dashboards/kiosk.py); either way it shows aggregates and, in
the feed, only time, window and rating — no case, applicant or comment.
"""

import html

import plotly.graph_objects as go
import streamlit as st

from core.localtime import now_local
from core.settings import settings
from dashboards import common as c
from dashboards import kiosk
from dashboards import queries as q
from dashboards.i18n import t

REFRESH_SECONDS = 10  # the page turns (and the data is re-read) this often
FEED_SIZE = 6
GOOD, FAIR, BAD, NONE = "#4cd964", "#ffcc00", "#ff5a4f", "#9e9e9e"
LABEL_CHARS = 10  # a chart label longer than this is cut (the table beside it shows the whole name)

# full screen: no sidebar, no header or toolbar, black background, type for a hall (the TV has no mouse)
st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] {display: none !important;}
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: #000 !important; color: #fff !important;}
.block-container, [data-testid="stMainBlockContainer"] {
  padding: 0.8rem 2rem 0 2rem !important; max-width: 100% !important;}
h1 {font-size: 52px !important; color: #fff !important; padding: 0 !important;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  font-size: 28px !important; color: #f0f0f0 !important; opacity: 1 !important;}
[data-testid="stMetric"] {background: #111; border: 2px solid #444; border-radius: 10px; padding: 8px 20px;}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] p {
  font-size: 30px !important; color: #e0e0e0 !important;}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] div {font-size: 68px !important; color: #fff !important;
  font-weight: 700; line-height: 1.15 !important;}
[data-testid="stAlert"] p {font-size: 28px !important;}
.ww-hall h2 {font-size: 34px; color: #fff; margin: 0 0 8px 0; padding: 0;}
.ww-scroll {overflow-x: auto; max-width: 100%;}
.ww-table {width: 100%; table-layout: auto; border-collapse: collapse; color: #fff;
  font-size: clamp(18px, 1.6vw, 30px);}
.ww-table th {font-size: clamp(16px, 1.5vw, 28px); color: #e0e0e0; text-align: left; border-bottom: 3px solid #888;
  padding: 8px 10px;}
.ww-table td {border-bottom: 1px solid #444; padding: 10px; overflow-wrap: anywhere; line-height: 1.2;}
.ww-table td > div {display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;}
.ww-table td.num, .ww-table th.num {text-align: right; font-variant-numeric: tabular-nums;}
.ww-table td.num {white-space: nowrap;}
.ww-table th {word-break: keep-all;}  /* 评价数 stays one word; "Bad reviews" may still wrap at its space */
[data-testid="stPageLink"] p {font-size: 28px !important; color: #fff !important;}
.ww-page {font-size: 28px; color: #e0e0e0; text-align: right; margin-top: 6px;}
.ww-feed {display: flex; gap: 16px; width: 100%;}
.ww-feed > div {flex: 1 1 0; min-width: 0; background: #111; border: 2px solid #444; border-radius: 10px;
  padding: 8px 14px;}
.ww-feed .time {font-size: 28px; color: #e0e0e0;}
.ww-feed .window {font-size: 30px; color: #fff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
.ww-feed .rating {font-size: 34px; font-weight: 700;}
.ww-empty {font-size: 30px; color: #e0e0e0;}
</style>""")


def _color(rate) -> str:
    return NONE if c.is_missing(rate) else GOOD if rate >= 0.9 else FAIR if rate >= 0.8 else BAD


def _rating_color(rating) -> str:
    return NONE if c.is_missing(rating) else GOOD if rating >= 4 else FAIR if rating == 3 else BAD


def _chart(df) -> None:
    names = [n if len(n) <= LABEL_CHARS else n[:LABEL_CHARS] + "…" for n in df.window_name.fillna("—").astype(str)]
    rates = list(df.satisfaction_rate)
    fig = go.Figure(go.Bar(
        # by position, labelled with the names: two names cut to the same label stay two bars
        y=list(range(len(names))), x=[0 if c.is_missing(v) else v for v in rates], orientation="h",
        text=[c.fmt_pct(v) for v in rates], textposition="outside", cliponaxis=False,
        textfont=dict(size=28, color="#fff"), marker_color=[_color(v) for v in rates], hoverinfo="skip",
    ))
    c.plot_safe(fig)
    fig.update_layout(
        template="plotly_dark", paper_bgcolor="#000", plot_bgcolor="#000", height=470, showlegend=False,
        font=dict(family=c.CJK_FONT, size=26, color="#fff"), margin=dict(l=10, r=120, t=56, b=10),
        title=dict(text=html.escape(t("hall.by_window")), font=dict(size=32, color="#fff"), x=0, y=0.98),
        bargap=0.25,
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%", tickangle=0, tickfont=dict(size=28, color="#e0e0e0"),
                     gridcolor="#333", zeroline=False)
    fig.update_yaxes(autorange="reversed", tickangle=0, tickfont=dict(size=28, color="#fff"), automargin=True,
                     tickmode="array", tickvals=list(range(len(names))),
                     ticktext=[html.escape(n, quote=False) for n in names])  # plotly renders tags in labels
    st.plotly_chart(fig, key="hall_chart", config={"displayModeBar": False, "displaylogo": False})


def _table(df, page: int, pages: int) -> None:
    cols = [("window_name", ""), ("department_name", ""), ("ratings", "num"), ("satisfaction_rate", "num"),
            ("bad", "num"), ("red_cards", "num")]
    fmt = {"ratings": c.fmt_int, "bad": c.fmt_int, "red_cards": c.fmt_int, "satisfaction_rate": c.fmt_pct}
    head = "".join(f'<th class="{cls}">{html.escape(t(f"col.{col}"))}</th>' for col, cls in cols)

    def cell(v, col: str) -> str:
        return "—" if c.is_missing(v) else fmt.get(col, str)(v)

    body = "".join("<tr>" + "".join(f'<td class="{cls}"><div>{html.escape(cell(row[col], col))}</div></td>'
                                    for col, cls in cols) + "</tr>" for _, row in df.iterrows())
    # sized for 1920 px; on a narrower screen the type shrinks, and in the last resort the table scrolls
    st.html(f'<div class="ww-hall"><div class="ww-scroll"><table class="ww-table" data-testid="ww-hall-table">'
            f'<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
            f'<div class="ww-page">{html.escape(t("hall.page", page=page + 1, pages=pages))}</div></div>')


def _feed(path: str, ctx: c.Ctx, day) -> None:
    feed = q.hall_feed(path, ctx.filters, day, FEED_SIZE)
    if feed.empty:
        items = f'<div class="ww-empty">{html.escape(t("hall.feed_empty"))}</div>'
    else:
        items = '<div class="ww-feed">' + "".join(
            f'<div><div class="time">{row.evaluated_at:%H:%M}</div>'
            f'<div class="window">{html.escape(str(row.window_name))}</div>'
            f'<div class="rating" style="color:{_rating_color(row.rating)}">'
            f'{html.escape(c.label("rating", row.rating))}</div></div>'
            for row in feed.itertuples()) + "</div>"
    st.html(f'<div class="ww-hall" data-testid="ww-hall-feed"><h2>{html.escape(t("hall.feed"))}</h2>{items}</div>')


@st.fragment(run_every=REFRESH_SECONDS)
def board() -> None:
    ctx = c.ctx()
    if not kiosk.still_valid(ctx):  # revoked since the screen opened: show the refusal, nothing else
        st.rerun(scope="app")
    path, _ = c.resolve_snapshot(ctx.home)  # re-resolve: a new publication shows up without a reload
    if path is None:
        st.warning(t("common.no_snapshot"))
        return
    day = q.hall_day(path)
    st.title(t("hall.title", day=day or "—"))
    st.caption(t("hall.updated", time=now_local().strftime("%Y-%m-%d %H:%M:%S"), seconds=REFRESH_SECONDS))
    if day is None:
        st.info(t("common.empty"))
        return
    df = q.hall_board(path, ctx.filters, day)
    total = int(df.ratings.sum())
    good = (df.satisfaction_rate.fillna(0) * df.ratings).sum()
    cols = st.columns(4)
    cols[0].metric(t("hall.ratings"), c.fmt_int(total))
    cols[1].metric(t("hall.satisfaction"), c.fmt_pct(good / total if total else None))
    cols[2].metric(t("hall.bad"), c.fmt_int(df.bad.sum()))
    cols[3].metric(t("hall.red_cards"), c.fmt_int(df.red_cards.sum()))
    size = settings().hall_page_rows
    pages = max(1, -(-len(df) // size))
    page = st.session_state.get("_hall_page", -1) + 1
    page = page if page < pages else 0
    st.session_state["_hall_page"] = page
    part = df.iloc[page * size:(page + 1) * size]
    left, right = st.columns(2, gap="large")
    with left:
        _chart(part)
    with right:
        _table(part, page, pages)
    _feed(path, ctx, day)


board()
if c.ctx().role != kiosk.ROLE:
    st.page_link("app_pages/overview.py", label=t("hall.exit"))

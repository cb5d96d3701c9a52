"""What every page shares: the snapshot in use, the sidebar filters (kept in the URL),
formatting, PII masking and chart styling."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.paths import Home
from dashboards import queries as q
from dashboards.i18n import t
from windowwatch.snapshot import NoSnapshot, current_snapshot

ALL = ""  # the "all" choice of a filter
FILTER_KEYS = ("center", "dept", "window", "month")
CJK_FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"


@dataclass(frozen=True)
class Ctx:
    """Handed from app.py to the page being run (via session state)."""

    home: Home
    snapshot: str | None  # path of the published snapshot, None when nothing is published
    snapshot_error: str | None
    filters: q.Filters
    user: str
    role: str
    inspector_id: str | None = None  # an inspector account's id in the inspectors feed (audit findings)


def ctx() -> Ctx:
    return st.session_state["_ctx"]


def resolve_snapshot(h: Home) -> tuple[str | None, str | None]:
    try:
        return str(current_snapshot(h)), None
    except NoSnapshot as exc:
        return None, str(exc)


def require_snapshot() -> str:
    c = ctx()
    if c.snapshot is None:
        st.warning(t("common.no_snapshot"))
        st.caption(c.snapshot_error or "")
        st.stop()
    warn_assumed_calendar(c.snapshot)
    return c.snapshot


def warn_assumed_calendar(path: str) -> None:
    """Every page that reads the snapshot says so when its deadlines used days the official calendar
    does not cover (SPEC §4.1: Monday–Friday assumed until the year's arrangement is added)."""
    assumed = q.assumed_calendar(path)
    days = int(assumed.days.iloc[0]) if len(assumed) and not is_missing(assumed.days.iloc[0]) else 0
    if days:
        st.warning(t("overview.assumed_calendar", days=days, first=pd.Timestamp(assumed.first_day.iloc[0]).date(),
                     last=pd.Timestamp(assumed.last_day.iloc[0]).date()))


def latest_run(h: Home) -> dict | None:
    path = h.runs / "latest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


RUN_OK = ("success", "succeeded")


def run_summary(run: dict) -> dict:
    """The run record's essentials, whichever shape it has: flat failed_task/reason, or a
    `failure` {task, reason}; data_docs as one path or {gate: path}."""
    failure = run.get("failure") or {}
    docs = run.get("data_docs") or {}
    if isinstance(docs, str):
        docs = {"": docs}
    return {
        "ok": str(run.get("status")) in RUN_OK,
        "status": str(run.get("status", "—")),
        "run_id": run.get("run_id", "—"),
        "finished": run.get("finished_at") or "—",
        "task": run.get("failed_task") or failure.get("task") or "—",
        "reason": run.get("reason") or failure.get("reason") or "—",
        "failed_sources": run.get("failed_sources") or [],
        "docs": {k: v for k, v in docs.items() if v},
    }


# ---------------------------------------------------------------- filters in the URL


def _qp(name: str) -> str | None:
    v = st.query_params.get(name)
    return v if v else None


def _select(container, name: str, label: str, options: list[str], labels: dict[str, str],
            default: str | None = None) -> str:
    store = st.session_state.setdefault("_filters", {})
    key = f"flt_{name}"
    if key not in st.session_state:
        st.session_state[key] = store.get(name, _qp(name) or default or (options[0] if options else ALL))
    if st.session_state[key] not in options:
        st.session_state[key] = options[0] if options else ALL
    value = container.selectbox(label, options, key=key, format_func=lambda v: labels.get(v, v))
    store[name] = value
    return value


def sidebar_filters(snapshot: str | None) -> q.Filters:
    """Centre → department → window → month pickers; the choice is mirrored in st.query_params."""
    if snapshot is None:
        return q.Filters()
    box = st.sidebar.container()
    box.markdown(f"**{t('filter.title')}**")
    win = q.windows(snapshot)
    all_label = {ALL: t("filter.all")}
    centers = win.drop_duplicates("center_id")
    center = _select(box, "center", t("filter.center"), [ALL, *centers.center_id],
                     {**all_label, **dict(zip(centers.center_id, centers.center_name))})
    scoped = win if not center else win[win.center_id == center]
    # departments of today and of the months (a window that moved keeps its old department in the
    # months before the move: q.Filters.where_month)
    pairs = q.window_departments(snapshot)
    pairs = pairs[pairs.window_id.isin(scoped.window_id)]
    depts = pairs.drop_duplicates("department_id")
    dept = _select(box, "dept", t("filter.department"), [ALL, *depts.department_id],
                   {**all_label, **dict(zip(depts.department_id, depts.department_name))})
    scoped = scoped if not dept else scoped[scoped.window_id.isin(pairs[pairs.department_id == dept].window_id)]
    window = _select(box, "window", t("filter.window"), [ALL, *scoped.window_id],
                     {**all_label, **dict(zip(scoped.window_id, scoped.window_name))})
    month_list = [m.isoformat()[:7] for m in q.months(snapshot)]
    active = q.active_month(snapshot)
    month = _select(box, "month", t("filter.month"), month_list, {},
                    default=active.isoformat()[:7] if active else None) if month_list else None
    values = {"center": center, "dept": dept, "window": window, "month": month}
    for k, v in values.items():
        if v and st.query_params.get(k) != v:
            st.query_params[k] = v
        elif not v and k in st.query_params:
            del st.query_params[k]
    return q.Filters(center=center or None, dept=dept or None, window=window or None,
                     month=dt.date.fromisoformat(month + "-01") if month else None)


def require_month(snapshot: str) -> dt.date:
    month = ctx().filters.month
    if month is None:
        st.info(t("common.no_months"))
        st.stop()
    return month


# ---------------------------------------------------------------- formatting


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def fmt_int(v) -> str:
    return "—" if is_missing(v) else f"{int(v):,}"


def fmt_rank(v) -> str:
    """A rank without thousands separators (a rank is an ordinal, not a count)."""
    return "—" if is_missing(v) else str(int(v))


def fmt_pct(v, digits: int = 1) -> str:
    return "—" if is_missing(v) else f"{100 * float(v):.{digits}f}%"


def fmt_score(v) -> str:
    return "—" if is_missing(v) else f"{float(v):.2f}"


def stars(n) -> str:
    return "—" if is_missing(n) else "★" * int(n) + "☆" * (5 - int(n))


def stars_or_not_rated(n, eligible) -> str:
    """Stars, or 不参评（样本不足） for a window not eligible for ranking: it has no stars (SPEC v2 §4.6,
    docs/rules.md#stars)."""
    if not is_missing(eligible) and not bool(eligible):
        return t("rankings.not_rated")
    return stars(n)


def score_note(note) -> str:
    """The score_note codes of fct_window_month ('S_left_out;…': components left out of the score for
    lack of data in the whole centre, docs/rules.md#score) in words; "" when none."""
    if is_missing(note) or not str(note).strip():
        return ""
    return t("rankings.note_sep").join(label("score_note", code) for code in str(note).split(";") if code)


def delta_pct_points(cur, prev) -> str | None:
    if is_missing(cur) or is_missing(prev):
        return None
    return f"{100 * (float(cur) - float(prev)):+.1f} pp"


def delta_int(cur, prev) -> str | None:
    if is_missing(cur) or is_missing(prev):
        return None
    return f"{int(cur) - int(prev):+,}"


_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?\d{7,8}(?!\d)")


def mask_pii(text) -> str:
    """Defence in depth: comments are scrubbed upstream (docs/architecture.md#privacy-and-access); mask any ID or phone left."""
    if is_missing(text):
        return ""
    s = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(2)[-1:], str(text))
    s = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), s)
    return _LANDLINE.sub(lambda m: m.group(1) + "-********", s)


# Every ASCII punctuation character, backslash-escaped: CommonMark shows `\x` as `x`, so the text
# reads the same, but no link, image, emphasis, shortcode (`:red[…]`, `:material/…:`), LaTeX ($)
# or HTML tag can form (docs/architecture.md#privacy-and-access).
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www)(?=[:.])|(?<=[\w.+-])(?=@)")


def md(text) -> str:
    """Feed text (names, comments, evidence …) for a Streamlit element that renders Markdown:
    st.markdown/caption/info/success/warning/error/subheader, metric and expander labels."""
    if is_missing(text):
        return "—"
    # Streamlit's Markdown links bare URLs and e-mail addresses found in the text *after*
    # escapes are resolved (GFM autolink literals): a word joiner (U+2060, invisible) breaks them
    text = _AUTOLINK.sub(lambda m: (m.group(1) or "") + "\u2060", str(text))
    return _MD_PUNCT.sub(r"\\\1", text).replace("\n", " ")


def label(kind: str, value) -> str:
    """Translate an enum value (card, rule, flag type, status …) through the catalogue."""
    if is_missing(value):
        return "—"
    key = f"enum.{kind}.{value}"
    text = t(key)
    return str(value) if text == key else text


def feed_labels(df: pd.DataFrame) -> pd.DataFrame:
    """A quarantine frame with its feed and rule codes (core/feeds.py) in words."""
    return df.assign(feed=df.feed.map(lambda v: label("feed", v)), rule=df.rule.map(lambda v: label("quarantine_rule", v)))


def yes_no(v, no: str | None = None) -> str:
    """A flag as 是 / 否 (`no` instead of 否 when given), empty when unknown: a checkbox column reads
    true/false to a screen reader and in an export."""
    if is_missing(v):
        return ""
    return t("common.yes") if bool(v) else (t("common.no") if no is None else no)


def with_link(df: pd.DataFrame, id_col: str = "case_id", page: str = "case", param: str = "case",
              name: str = "open_case", extra: dict[str, str] | None = None) -> pd.DataFrame:
    """`df` with a first column `name` holding the relative URL of each row's drill-down
    (`case?case=<id>`, then the `extra` query parameters): one click opens it (in a new tab, which the
    session cookie keeps signed in), and the URL can be shared. Show it with `link_config(name)`."""
    from urllib.parse import quote, urlencode

    tail = f"&{urlencode(extra)}" if extra else ""
    urls = df[id_col].map(
        lambda v: None if is_missing(v) or v == "" else f"{page}?{param}={quote(str(v), safe='')}{tail}")
    out = df.copy()
    out.insert(0, name, urls)
    return out


def page_filters() -> dict[str, str]:
    """The page's month, centre and department filters as URL query parameters (a drill-down link keeps them)."""
    c = st.session_state.get("_ctx")
    if c is None:  # outside a page run (a table built in a unit test)
        return {}
    f = c.filters
    values = {"month": f.month.strftime("%Y-%m") if f.month else None, "center": f.center, "dept": f.dept}
    return {k: v for k, v in values.items() if v}


def window_link(df: pd.DataFrame, id_col: str = "window_id") -> pd.DataFrame:
    """`df` with a first column open_window: the row's window on 窗口明细 (`window?w=<id>`) with the page's
    filters (`page_filters`). Show it with `link_config("open_window")`."""
    return with_link(df, id_col, page="window", param="w", name="open_window", extra=page_filters())


# The roles app.PAGES lets open the drill-down pages 窗口明细 and 办件 (tests/dashboards/test_access_matrix.py
# holds the two equal): a table shown to another role (督办's department liaison) carries no link to a page
# its reader cannot open.
DRILL_DOWN_ROLES = ("inspector", "auditor")


def may_drill_down() -> bool:
    c = st.session_state.get("_ctx")
    return c is not None and c.role in DRILL_DOWN_ROLES


def link_config(name: str = "open_case") -> dict:
    """The column_config of a `with_link` column (after `rename`: keyed by its header)."""
    header = t(f"col.{name}")
    return {header: st.column_config.LinkColumn(header, display_text=t("common.open_link"), width="small")}


def export_name(name: str) -> str:
    """A download's file name stem: what it is, the filters in force and the data's date
    (`open_cases_2026-10_D01_as-of-2026-10-20`), so two exports never share a name."""
    c = ctx()
    f = c.filters
    parts = [name, f.month.strftime("%Y-%m") if f.month else "", f.center or "", f.dept or "", f.window or ""]
    as_of = q.as_of(c.snapshot) if c.snapshot else None
    parts.append(f"as-of-{as_of.isoformat()}" if as_of else "")
    return "_".join(re.sub(r"[^\w.-]", "-", p) for p in parts if p)


def export_buttons(make, name: str, key: str) -> None:
    """CSV and Excel buttons of a list as shown (its filters, headers in the reader's language):
    `make()` returns the frame, built only when a button is clicked, and only for a signed-in session
    (auth.guarded: the download runs outside the script's login check)."""
    from dashboards import auth
    from windowwatch import spreadsheets

    stem = export_name(name)
    a, b, _ = st.columns([1, 1, 4])
    a.download_button(t("common.csv"), auth.guarded(lambda: spreadsheets.csv_bytes(make())),
                      file_name=f"{stem}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore")
    b.download_button(t("common.xlsx"), auth.guarded(lambda: spreadsheets.xlsx_bytes({name[:31]: make()})),
                      file_name=f"{stem}.xlsx", key=f"{key}_xlsx", on_click="ignore",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def rename(df: pd.DataFrame, prefix: str = "col") -> pd.DataFrame:
    """Column headers through the catalogue (`col.<name>`)."""
    return df.rename(columns={c: t(f"{prefix}.{c}") for c in df.columns})


# ---------------------------------------------------------------- charts


_PLOT_TEXT_FIELDS = ("x", "y", "z", "text", "hovertext", "labels", "ids", "parents")
# plotly renders a subset of HTML in every label (<a href>, <span style>, <b> …): feed text in a
# chart is entity-escaped; the hover templates plotly express builds keep only our own tags
_OWN_TAGS = re.compile(r"<(?!/?(?:br|extra|b)>)")


def _plot_safe(v):
    return html.escape(v, quote=False) if isinstance(v, str) else v


def plot_safe(fig: go.Figure) -> go.Figure:
    """Feed text in a plotly figure shown as text, never as plotly's pseudo-HTML."""
    for trace in fig.data:
        for field in _PLOT_TEXT_FIELDS:
            values = getattr(trace, field, None) if field in trace else None
            if isinstance(values, str):
                trace[field] = _plot_safe(values)
            elif values is not None and len(values) and any(isinstance(v, str) for v in values):
                trace[field] = [_plot_safe(v) for v in values]
        if "name" in trace and isinstance(trace.name, str):
            trace.name = _plot_safe(trace.name)
        if "hovertemplate" in trace and isinstance(trace.hovertemplate, str):
            trace.hovertemplate = _OWN_TAGS.sub("&lt;", trace.hovertemplate)
        if "legendgroup" in trace and isinstance(trace.legendgroup, str):
            trace.legendgroup = _plot_safe(trace.legendgroup)
    return fig


def style(fig: go.Figure, height: int = 340) -> go.Figure:
    # legend under the plot so it never collides with the title
    plot_safe(fig)
    fig.update_layout(
        font=dict(family=CJK_FONT, size=13),
        template="plotly_white",
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, title_text=""),
    )
    return fig


def count_axis(fig: go.Figure, axis: str = "y") -> go.Figure:
    """A count axis in whole numbers: no 0.5 ticks (a step of 1 while the largest bar, stacked, is at most
    10), thousands separators, starting at 0."""
    other = "x" if axis == "y" else "y"
    totals: dict = {}
    for trace in fig.data:
        values, keys = getattr(trace, axis, None), getattr(trace, other, None)
        if values is None:
            continue
        keys = keys if keys is not None else range(len(values))
        for k, v in zip(keys, values):
            if not is_missing(v):
                totals[k] = totals.get(k, 0) + abs(float(v))
    extra = {"dtick": 1} if totals and max(totals.values()) <= 10 else {}
    fig.update_layout({f"{axis}axis": dict(tickformat=",d", rangemode="tozero", **extra)})
    return fig


def chart(fig: go.Figure, key: str, height: int = 340, counts: str | None = None) -> None:
    """Draw `fig` styled; `counts` names the axis ("x" / "y") that counts things (count_axis)."""
    if counts:
        count_axis(fig, counts)
    st.plotly_chart(style(fig, height), key=key, config={"displaylogo": False})


def ym(months: pd.Series) -> pd.Series:
    """Months as 'YYYY-MM' labels: a category axis, so two months do not get half-month ticks."""
    return pd.to_datetime(months).dt.strftime("%Y-%m")


def month_labels(months: pd.Series) -> list[str]:
    """Months as the reader writes them (2026年10月 / 10/2026): category-axis labels, one per month."""
    return [t("common.month_label", y=d.year, m=d.month) for d in pd.to_datetime(months)]


def snapshot_label(path: str | None) -> str:
    return Path(path).name if path else "—"

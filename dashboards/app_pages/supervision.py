"""督办 supervision (SPEC §4.11, §7): the inbox and queue of the signed-in role, one item
(`supervision?item=N`, shareable) with its trigger's evidence, the case timeline, its history, the
actions the role may take and the PDFs; the monthly figures per department.

Inspectors act on every item, a department liaison sees and acts on its own department's items
only, auditors read, the management office (manager) sees the monthly figures only.
"""

import datetime as dt

import pandas as pd
import streamlit as st

from core.localtime import now_local
from dashboards import case_view
from dashboards import common as c
from dashboards import supervision_view as sv
from dashboards.i18n import t
from windowwatch.supervision.model import KINDS, STATES
from windowwatch.supervision.stats import FIELDS, monthly_by_department
from windowwatch.supervision.store import StoreError

ctx = c.ctx()
st.title(t("sup.title"))
try:
    store = sv.store(ctx.home)
except StoreError:
    st.error(t("sup.store_error"))
    st.stop()
me = sv.actor(ctx.home, ctx.user, ctx.role)
own_dept = me.department_id if me.role == "department" else None
if me.role == "department" and not own_dept:
    st.warning(t("sup.no_department"))
    st.stop()
names = {}
if ctx.snapshot:
    win = c.q.windows(ctx.snapshot)
    names = {"dept": dict(zip(win.department_id, win.department_name)), "window": dict(zip(win.window_id, win.window_name))}


def dept_name(v) -> str:
    return "—" if c.is_missing(v) else str(names.get("dept", {}).get(v, v))


def window_name(v) -> str:
    return "—" if c.is_missing(v) else str(names.get("window", {}).get(v, v))


def show_flash() -> None:
    flash = st.session_state.pop(sv.FLASH, None)
    if not flash:
        return
    kind, text = flash
    {"success": st.success, "error": st.error, "stale": st.error, "info": st.info}[kind](c.md(text))


def confirm_box(item: dict, actions: list[str]) -> None:
    """The action asked for, said in words (the state change and what it sets off), to confirm or cancel;
    nothing is changed before the confirmation."""
    asked = sv.pending(item["item_id"])
    if not asked or asked["action"] not in actions:
        return
    with st.container(key="sup_confirm_box", border=True):
        st.warning("\n\n".join(c.md(line) for line in sv.consequences(item, asked["action"], asked["reason"],
                                                                         dept_name(item["department_id"]))))
        st.caption(t("sup.confirm.note"))
        st.text(asked["note"])  # typed by a person: plain text
        yes, no = st.columns(2)
        yes.button(t("sup.confirm.yes", action=sv.action_label(asked["action"])), key="sup_confirm_yes", type="primary",
                   on_click=sv.confirm, args=(store, me, item["item_id"]))
        no.button(t("sup.confirm.no"), key="sup_confirm_no", on_click=sv.cancel, args=(item["item_id"],))


# ---------------------------------------------------------------- one item


def item_view(item_id: int) -> None:
    item, hist = sv.load(store, item_id)
    if item is None or (own_dept and item["department_id"] != own_dept):
        st.warning(t("sup.not_found", item=item_id))  # another department's item is "not found" too
        return
    show_flash()
    st.subheader(t("sup.item_header", item=item_id, kind=sv.kind_label(item["kind"]), state=sv.state_label(item["state"])))
    cols = st.columns(5)
    cols[0].metric(t("sup.col.state"), sv.state_label(item["state"]))
    cols[1].metric(t("sup.col.department"), dept_name(item["department_id"]))
    cols[2].metric(t("sup.col.window"), window_name(item["window_id"]))
    cols[3].metric(t("sup.col.reply_by"), sv.fmt_time(item["reply_by"]))
    cols[4].metric(t("sup.col.fix_by"), sv.fmt_time(item["fix_by"]))
    now = now_local()
    if item["state"] == "notified" and item["reply_by"] is not None and item["reply_by"] < now:
        st.error(t("sup.reply_overdue", at=sv.fmt_time(item["reply_by"])))
    if item["trigger_cleared"]:
        st.info(t("sup.trigger_cleared", at=sv.fmt_time(item["trigger_cleared_at"])))
    st.caption(t("sup.item_meta", subject=c.md(item["subject_id"]), rule=c.md(sv.rule_label(item["kind"], item["rule"])),
                 opened=sv.fmt_time(item["opened_at"]), by=c.md(sv.who(item["updated_by"])),
                 at=sv.fmt_time(item["updated_at"]), version=item["version"]))
    st.markdown(f"**{t('sup.evidence')}**")
    st.text(sv.evidence_text(item))

    actions = sv.allowed_actions(me, item)
    if actions:
        st.session_state[sv.seen_key(item_id)] = item["version"]  # what the person is shown, and acts on
        with st.form(f"sup_form_{item_id}", border=True):
            st.markdown(f"**{t('sup.actions')}**")
            st.text_area(t("sup.note"), key=sv.note_key(item_id), placeholder=t(f"sup.note_hint.{me.role}"))
            if "close" in actions:
                st.selectbox(t("sup.reason"), sv.close_reasons(item), key=f"sup_reason_{item_id}",
                             format_func=lambda r: c.label("sup_reason", r))
            buttons = st.columns(len(actions))
            for col, action in zip(buttons, actions):
                with col:
                    st.form_submit_button(sv.action_label(action), key=f"sup_do_{action}",
                                          type="primary" if action in ("notify", "acknowledge", "rectify") else "secondary",
                                          on_click=sv.ask, args=(item_id, action))
        confirm_box(item, actions)
    elif me.role in ("inspector", "department"):
        st.caption(t("sup.no_actions"))

    try:
        files = sv.pdfs(ctx.home, ctx.snapshot, item, hist)
    except Exception:  # noqa: BLE001 — a PDF that cannot be made must not hide the item
        files = {}
        st.warning(t("sup.pdf_failed"))
    for kind, path in files.items():
        st.download_button(t(f"sup.pdf.{kind}"), data=path.read_bytes(), file_name=f"{kind}-{item_id}.pdf",
                           mime="application/pdf", key=f"sup_pdf_{kind}", icon=":material/picture_as_pdf:")

    st.markdown(f"**{t('sup.history')}**")
    with st.container(key="sup_history_box", border=True):
        for h in hist:  # plain text: the notes are typed by people
            reason = c.label("sup_reason", h["reason"]) if h["reason"] else ""
            st.text(t("sup.history_row", seq=h["seq"], at=sv.fmt_time(h["at"]), actor=sv.who(h["actor"]),
                      action=sv.action_label(h["action"]), before=sv.state_label(h["from_state"]),
                      after=sv.state_label(h["to_state"]), reason=f"{reason} " if reason else "", note=sv.note_text(h)))

    about_case = item["kind"] in sv.CASE_KINDS or (item["kind"] == "manual" and item["subject_id"] != item["window_id"])
    if about_case and ctx.snapshot:
        st.markdown(f"**{t('sup.case_timeline')}**")
        case_view.render(ctx.snapshot, item["subject_id"], key="sup_case")


# ---------------------------------------------------------------- inbox, queue, figures


def inbox_tab() -> None:
    msgs = sv.inbox(store, me)
    if msgs.empty:
        st.info(t("sup.inbox_empty"))
        return
    shown = pd.DataFrame({
        "open_item": msgs.item_id.map(lambda v: None if c.is_missing(v) else f"supervision?item={int(v)}"),
        "created_at": msgs.created_at.map(sv.fmt_time),
        "subject": [sv.subject_text(r) for r in msgs.itertuples()],
        "state": msgs.state.map(lambda v: "" if c.is_missing(v) else sv.state_label(v)),
    })
    with st.container(key="sup_inbox_box"):
        st.dataframe(shown.rename(columns={k: t(f"sup.col.{k}") for k in shown.columns}), hide_index=True,
                     key="sup_inbox", column_config=_link_config())


def _link_config() -> dict:
    header = t("sup.col.open_item")
    return {header: st.column_config.LinkColumn(header, display_text=t("common.open_link"), width="small")}


def _pick(label: str, options: list[str], key: str, fmt) -> str | None:
    value = st.selectbox(label, ["", *options], key=key, format_func=lambda v: t("filter.all") if v == "" else fmt(v))
    return value or None


def manual_form() -> None:
    """An inspector opens an item by hand: a window, optionally one of its cases, the reason."""
    windows = sorted(names.get("window", {}))
    with (st.expander(t("sup.manual.title"), icon=":material/add_task:"), st.container(key="sup_manual_box"),
          st.form("sup_manual", border=False)):
        st.selectbox(t("sup.col.window"), windows, key="sup_manual_window", index=None, format_func=window_name,
                     placeholder=t("sup.manual.pick_window"))
        st.text_input(t("sup.manual.case"), key="sup_manual_case")
        st.text_area(t("sup.manual.reason"), key="sup_manual_reason", placeholder=t("sup.manual.reason_hint"))
        st.form_submit_button(t("sup.manual.submit"), type="primary", on_click=sv.open_by_hand, args=(store, me))


def queue_tab() -> None:
    if me.role == "inspector":
        manual_form()
    cols = st.columns(4)
    with cols[0]:
        state = _pick(t("sup.col.state"), list(STATES), "sup_f_state", sv.state_label)
    with cols[1]:
        if own_dept:
            dept = own_dept
            st.selectbox(t("sup.col.department"), [own_dept], format_func=dept_name, disabled=True, key="sup_f_dept_own")
        else:
            dept = _pick(t("sup.col.department"), sv.department_choices(store, None), "sup_f_dept", dept_name)
    with cols[2]:
        window = _pick(t("sup.col.window"), sv.window_choices(store, dept), "sup_f_window", window_name)
    with cols[3]:
        kind = _pick(t("sup.col.kind"), list(KINDS), "sup_f_kind", sv.kind_label)
    df, n = sv.queue(store, state=state, department=dept, window=window, kind=kind)
    if df.empty:
        st.info(t("sup.queue_empty"))
        return
    st.caption(t("sup.queue_count", n=c.fmt_int(n), shown=c.fmt_int(len(df))))
    shown = pd.DataFrame({
        "open_item": df.item_id.map(lambda v: f"supervision?item={int(v)}"),
        "item_id": df.item_id.astype(str),
        "state": df.state.map(sv.state_label),
        "kind": df.kind.map(sv.kind_label),
        "subject_id": df.subject_id,
        "rule": [sv.rule_label(k, r) for k, r in zip(df.kind, df.rule)],
        "department": df.department_id.map(dept_name),
        "window": df.window_id.map(window_name),
        "opened_at": df.opened_at.map(sv.fmt_time),
        "reply_by": df.reply_by.map(sv.fmt_time),
        "overdue": df.overdue.map(lambda v: t("sup.overdue") if bool(v) else ""),
        "trigger_cleared": df.trigger_cleared.map(lambda v: t("sup.cleared") if bool(v) else ""),
    })
    overdue = df.overdue.astype(bool).tolist()
    table = shown.rename(columns={k: t(f"sup.col.{k}") for k in shown.columns})
    exported = table  # the list as shown, without the screen's drill-down link columns
    links = _link_config()
    if c.may_drill_down():  # each row's window and case open 窗口明细 / 办件 in one click (not for a department)
        drill = c.with_link(c.window_link(df.assign(case_id=sv.case_ids(ctx.snapshot, df))))
        table = pd.concat([table.iloc[:, :1], c.rename(drill[["open_window", "open_case"]]), table.iloc[:, 1:]], axis=1)
        links = {**links, **c.link_config("open_window"), **c.link_config("open_case")}
    styled = table.style.apply(lambda row: ["background-color: #fde2e1" if overdue[row.name] else ""] * len(row), axis=1)
    with st.container(key="sup_queue_box"):
        st.dataframe(styled, hide_index=True, key="sup_queue", column_config=links)
    c.export_buttons(lambda: exported, "supervision_queue", "sup_export")
    with st.form("sup_goto", border=False):
        box, go = st.columns([3, 1], vertical_alignment="bottom")
        wanted = box.text_input(t("sup.goto"), key="sup_goto_id")
        if go.form_submit_button(t("sup.goto_button")):
            if wanted.strip().isdigit():
                st.query_params["item"] = wanted.strip()
                st.rerun()
            st.error(t("sup.goto_invalid"))


def _months() -> list[dt.date]:
    first = sv.first_opened(store)
    today = dt.date.today()
    m = dt.date(first.year, first.month, 1) if first else dt.date(today.year, today.month, 1)
    out = []
    while m <= today or not out:
        out.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out[::-1]


def stats_tab() -> None:
    months = _months()
    month = st.selectbox(t("filter.month"), months, key="sup_stats_month", format_func=lambda m: m.strftime("%Y-%m"))
    rows = monthly_by_department(store, month, department_id=own_dept)
    if not rows:
        st.info(t("sup.stats_empty"))
        return
    df = pd.DataFrame(rows)
    df.insert(0, "department", df.department_id.map(dept_name))
    df["ack_rate"] = [c.fmt_pct(a / d) if d else "—" for a, d in zip(df.ack_on_time, df.ack_due)]
    df["fix_rate"] = [c.fmt_pct(a / d) if d else "—" for a, d in zip(df.fix_on_time, df.fix_due)]
    df = df[["department", *FIELDS, "ack_rate", "fix_rate"]]
    st.dataframe(df.rename(columns={k: t(f"sup.stat.{k}") for k in df.columns}), hide_index=True, key="sup_stats")
    st.caption(t("sup.stats_note"))


wanted_item = str(st.query_params.get("item", "")).strip()
if me.role == "manager":
    st.caption(t("sup.manager_note"))
    stats_tab()
elif wanted_item:
    if st.button(t("sup.back"), key="sup_back", icon=":material/arrow_back:"):
        del st.query_params["item"]
        st.rerun()
    if wanted_item.isdigit():
        item_view(int(wanted_item))
    else:
        st.warning(t("sup.not_found", item=c.md(wanted_item)))
else:
    show_flash()
    tabs = st.tabs([t("sup.tab.inbox"), t("sup.tab.queue"), t("sup.tab.stats")])
    with tabs[0]:
        inbox_tab()
    with tabs[1]:
        queue_tab()
    with tabs[2]:
        stats_tab()

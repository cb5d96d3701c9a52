"""视频复核 on the 视频巡查 page (SPEC §4.11): an inspector picks a pending flag of the backlog, watches
its clip (st.video when clip_ref resolves to a file under the clip root or an http(s) URL, else the
reference as text), and confirms or dismisses it with a note. The decision goes to the supervision
store through windowwatch/supervision/video.py (role check, audit log, the item a confirmation opens);
the published data shows it from the next run on, and the backlog here leaves decided flags out at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import common as c
from dashboards import supervision_view as sv
from dashboards.i18n import t
from windowwatch.supervision import video
from windowwatch.supervision.store import StoreError
from windowwatch.supervision.workflow import Refused

FLASH = "vid_flash"
NOTE = "vid_note"
PICK = "vid_pick"


def decided(h, flag_ids: list[str]) -> set[str]:  # noqa: ANN001
    """The flags of the list already decided in the store (empty when the store cannot be opened)."""
    try:
        return video.reviewed_ids(sv.store(h), flag_ids)
    except StoreError:
        return set()


def show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        {"success": st.success, "error": st.error}[flash[0]](c.md(flash[1]))


def _decide(h, name: str, role: str, flag_id: str, decision: str) -> None:  # noqa: ANN001
    """The decision buttons' callback (runs before the script)."""
    note = str(st.session_state.get(NOTE) or "")
    if not note.strip():
        st.session_state[FLASH] = ("error", t("video.review.note_required"))
        return
    try:
        done = video.review(sv.store(h), sv.actor(h, name, role), flag_id, decision, note)
    except (Refused, StoreError):
        earlier = video.decision_of(sv.store(h), flag_id)
        st.session_state[FLASH] = ("error", t("video.review.already", who=earlier["reviewer"],
                                              at=sv.fmt_time(earlier["reviewed_at"]),
                                              decision=t(f"video.review.{earlier['decision']}"))
                                   if earlier else t("video.review.refused"))
        return
    st.session_state[NOTE] = ""
    st.session_state.pop(PICK, None)
    key = "video.review.done_item" if done["item_id"] else "video.review.done"
    st.session_state[FLASH] = ("success", t(key, flag=flag_id, decision=t(f"video.review.{decision}"),
                                            item=done["item_id"] or ""))


def review_form(ctx, pending: pd.DataFrame) -> None:  # noqa: ANN001
    st.markdown(f"**{t('video.review.title')}**")
    rows = {r.flag_id: r for r in pending.itertuples()}
    with st.container(key="vid_pick_box"):
        flag_id = st.selectbox(t("video.review.pick"), list(rows), key=PICK, index=None,
                               placeholder=t("video.review.pick_hint"),
                               format_func=lambda f: t("video.review.option", flag=f, window=rows[f].window_name,
                                                       type=c.label("flag", rows[f].flag_type),
                                                       at=sv.fmt_time(rows[f].flagged_at)))
    if flag_id is None:
        return
    row = rows[flag_id]
    with st.container(key="vid_review_box", border=True):
        source = video.clip_source(row.clip_ref, ctx.home)
        if source is not None:
            st.video(str(source))
        else:
            st.caption(t("video.review.clip_ref"))
            st.text(t("video.review.no_clip") if c.is_missing(row.clip_ref) else str(row.clip_ref))
        st.text_area(t("video.review.note"), key=NOTE, placeholder=t("video.review.note_hint"))
        yes, no = st.columns(2)
        args = (ctx.home, ctx.user, ctx.role, flag_id)
        yes.button(t("video.review.confirm"), key="vid_confirm", type="primary", on_click=_decide,
                   args=(*args, "confirmed"))
        no.button(t("video.review.dismiss"), key="vid_dismiss", on_click=_decide, args=(*args, "dismissed"))

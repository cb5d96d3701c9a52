"""What the 督办 page (app_pages/supervision.py) reads from the supervision store and how it shows it.

The store (windowwatch/supervision/) is opened once per home and URL (`st.cache_resource`); its
queries are small and indexed (state, department) and never cached, because people change the
items. Every change goes through `workflow.act` with the version the person was shown: the page
keeps that version in the session, so a change somebody else made in between is refused, named
(who, when) and nothing typed is lost (the note stays in its box).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from core.paths import Home
from dashboards import common as c
from dashboards import evidence as ev
from dashboards.i18n import current_lang, t
from windowwatch.supervision import notices
from windowwatch.supervision.model import ACTIONS, CLOSE_REASONS, items
from windowwatch.supervision.queue import department_choices, inbox, queue, window_choices  # noqa: F401 (the page's)
from windowwatch.supervision.store import Store, open_store, store_url
from windowwatch.supervision.workflow import (
    RULES, Actor, Refused, Stale, act, actor_for, check_allowed, get_item, history, open_manual)

CASE_KINDS = notices.CASE_KINDS


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(root: str, url: str) -> Store:
    return open_store(Home(Path(root)), url)


def store(h: Home) -> Store:
    return _store(str(h.root), store_url(h))


def actor(h: Home, name: str, role: str) -> Actor:
    """The signed-in account as a workflow actor (a department account with its department_id)."""
    try:
        return actor_for(name, h)
    except Refused:  # an OIDC user without an account entry: its role, no department
        return Actor(name=name, role=role)


# ---------------------------------------------------------------- labels


def state_label(v) -> str:
    return c.label("sup_state", v)


def kind_label(v) -> str:
    return c.label("sup_kind", v)


def action_label(v) -> str:
    return c.label("sup_action", v)


def rule_label(kind: str, rule: str) -> str:
    """A trigger's rule in words: a signal's rule name, a video flag's type, a manual item's number."""
    if kind == "manual":
        return t("sup.manual.rule", n=str(rule).rsplit("-", 1)[-1])
    if kind == "video_flag":
        return c.label("flag", str(rule).lower())
    return c.label("rule", rule)


def who(name) -> str:
    return t("sup.system") if name == "system" else str(name)


def fmt_time(v) -> str:
    return "—" if c.is_missing(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def evidence_text(item: dict) -> str:
    """The trigger's evidence in the reader's language (a timeliness rule's parameters as a sentence)."""
    text = notices.evidence_zh(item) if current_lang() != "en" else str(item.get("evidence") or "—")
    if explained(item):
        return ev.explain(item["rule"], str(item.get("evidence") or ""))
    return text


def explained(item: dict) -> bool:
    """Whether the item's evidence is codes a catalogue sentence says (timeliness, 评价真实性, 查实投诉)."""
    return str(item.get("rule", "")).startswith(("TL_", "RI_")) or item.get("rule") == "SUBSTANTIATED_COMPLAINT"


def note_text(transition: dict) -> str:
    return notices.note_zh(transition) if current_lang() != "en" else str(transition.get("note") or "")


# ---------------------------------------------------------------- queries


def subject_text(row) -> str:
    """A message's subject with the trigger's rule code replaced by its name."""
    text = str(row.subject)
    if not c.is_missing(row.rule) and current_lang() != "en":
        text = text.replace(f" {row.rule}）", f" {rule_label(row.kind, row.rule)}）")
    return text


EVALUATION_KINDS = ("bad_review_late", "rating_integrity")  # items whose subject is an evaluation (sync.TRIGGERS)


def case_ids(snapshot: str | None, df: pd.DataFrame) -> pd.Series:
    """The case each queue row names, for its 办件 link: a case trigger's or a manual item's case, the case an
    evaluation rates; none for a window, a window-month, a video flag or a work order."""
    evaluations = tuple(sorted(set(df.subject_id[df.kind.isin(EVALUATION_KINDS)].dropna())))
    rated = c.q.evaluation_cases(snapshot, evaluations) if snapshot else {}

    def one(kind, subject, window):
        if kind in CASE_KINDS or (kind == "manual" and subject != window):
            return subject
        return rated.get(subject)

    return pd.Series([one(*r) for r in zip(df.kind, df.subject_id, df.window_id)], index=df.index, dtype=object)


def first_opened(s: Store) -> dt.datetime | None:
    with s.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(items.c.opened_at))).scalar_one()


# ---------------------------------------------------------------- actions


def allowed_actions(a: Actor, item: dict) -> list[str]:
    out = []
    for action in ACTIONS:
        try:
            check_allowed(a, action, item)
        except Refused:
            continue
        out.append(action)
    return out


def close_reasons(item: dict) -> list[str]:
    """整改到位 only for a rectified item (workflow.act refuses it otherwise)."""
    return [r for r in CLOSE_REASONS if r != "rectified" or item["state"] == "rectified"]


def note_key(item_id: int) -> str:
    return f"sup_note_{item_id}"


def seen_key(item_id: int) -> str:
    return f"sup_seen_{item_id}"


FLASH = "sup_flash"


def pending_key(item_id: int) -> str:
    return f"sup_pending_{item_id}"


def ask(item_id: int, action: str) -> None:
    """The submit button's callback (runs before the script): nothing is changed yet — the action, the
    note, the reason and the version the person saw wait for the confirmation (`confirm` / `cancel`)."""
    note = str(st.session_state.get(note_key(item_id)) or "")
    if not note.strip():
        st.session_state.pop(pending_key(item_id), None)
        st.session_state[FLASH] = ("error", t("sup.note_required"))
        return
    reason = st.session_state.get(f"sup_reason_{item_id}") if action == "close" else None
    st.session_state[pending_key(item_id)] = {"action": action, "note": note, "reason": reason,
                                              "version": st.session_state.get(seen_key(item_id))}


def pending(item_id: int) -> dict | None:
    return st.session_state.get(pending_key(item_id))


def consequences(item: dict, action: str, reason: str | None, department: str) -> list[str]:
    """What the confirmation says will happen: the state change, then what the action sets off."""
    from core.config import load_scoring

    out = [t("sup.confirm.change", item=item["item_id"], action=action_label(action),
             before=state_label(item["state"]), after=state_label(RULES[action][2]))]
    if action == "notify":
        cfg = load_scoring().supervision
        out.append(t("sup.confirm.notify", department=department, ack=cfg.ack_workdays, fix=cfg.fix_workdays))
    elif action == "close":
        out.append(t("sup.confirm.close", reason=c.label("sup_reason", reason)))
    else:
        out.append(t(f"sup.confirm.{action}"))
    out.append(t("sup.confirm.recorded"))
    return out


def cancel(item_id: int) -> None:
    """The cancel button's callback: the waiting action is dropped, the item is not touched."""
    asked = st.session_state.pop(pending_key(item_id), None)
    if asked:
        st.session_state[FLASH] = ("info", t("sup.cancelled", action=action_label(asked["action"])))


def confirm(s: Store, a: Actor, item_id: int) -> None:
    """The confirm button's callback: take the waiting action as it was asked (its note, reason and the
    version the person saw when asking)."""
    asked = st.session_state.pop(pending_key(item_id), None)
    if asked:
        do_action(s, a, item_id, asked["action"], note=asked["note"], reason=asked["reason"], seen=asked["version"])


def do_action(s: Store, a: Actor, item_id: int, action: str, *, note: str, reason: str | None, seen: int | None
              ) -> None:
    """Act with the version the person saw; the PDFs the transition makes are rendered at once."""
    try:
        after = act(s, item_id, action, a, note, reason, expected_version=seen)
    except Stale:
        latest = get_item(s, item_id) or {}
        st.session_state[FLASH] = ("stale", t("sup.stale", who=who(latest.get("updated_by")),
                                              at=fmt_time(latest.get("updated_at")),
                                              state=state_label(latest.get("state")), action=action_label(action)))
        return
    except Refused:
        st.session_state[FLASH] = ("error", t("sup.refused", action=action_label(action)))
        return
    st.session_state[note_key(item_id)] = ""
    st.session_state[FLASH] = ("success", t("sup.done", action=action_label(action), state=state_label(after["state"])))
    try:
        notices.issue(s.home, after, history(s, item_id), **_document_texts(after))
    except Exception:  # noqa: BLE001 — the transition stands; the item's view renders the PDF (or says it failed)
        pass


MANUAL_FIELDS = ("sup_manual_window", "sup_manual_case", "sup_manual_reason")


def open_by_hand(s: Store, a: Actor) -> None:
    """The manual item form's callback: open the item (workflow.open_manual) and show it."""
    window, case, reason = (str(st.session_state.get(k) or "").strip() for k in MANUAL_FIELDS)
    if not window or not reason:
        st.session_state[FLASH] = ("error", t("sup.manual.required"))
        return
    try:
        item = open_manual(s, a, window, reason, case or None)
    except Refused:
        st.session_state[FLASH] = ("error", t("sup.manual.refused"))
        return
    for k in MANUAL_FIELDS[1:]:
        st.session_state[k] = ""
    st.session_state[FLASH] = ("success", t("sup.manual.done", item=item["item_id"]))
    st.query_params["item"] = str(item["item_id"])


def _document_texts(item: dict) -> dict:
    """The rule and evidence as the documents print them (Chinese, the page's catalogue)."""
    from dashboards.i18n import catalogue

    rule = None
    if item["kind"] in ("off_book", "timeliness", "video_flag", "rating_integrity", "substantiated_complaint"):
        key = f"enum.flag.{str(item['rule']).lower()}" if item["kind"] == "video_flag" else f"enum.rule.{item['rule']}"
        rule = catalogue("zh").get(key)
    text = None
    if explained(item) and current_lang() != "en":
        text = ev.explain(item["rule"], str(item.get("evidence") or ""))  # the sentence, not the parameters
    return {"rule_label": rule, "evidence": text}


def pdfs(h: Home, snapshot: str | None, item: dict, hist: list[dict]) -> dict[str, Path]:
    """The item's PDFs (rendered the first time they are asked for), in Chinese whatever the UI language."""
    return notices.ensure(h, item, hist, notices.names_from_snapshot(snapshot, item), **_document_texts(item))


def load(s: Store, item_id: int) -> tuple[dict | None, list[dict]]:
    item = get_item(s, item_id)
    return item, (history(s, item_id) if item else [])

"""The PDFs of a supervision item (SPEC §4.11): the 督办通知书 a notify makes for the window's
department, and the 效能告诫书 draft of an escalated item.

WeasyPrint with Noto Sans CJK SC, as the monthly report (windowwatch/reports/render.py); the
templates are in `templates/`. A PDF is stored under the home
(`supervision/notices/<item_id>/notice-<notified_at>.pdf`, `warning-<escalated_at>.pdf`), so a
notify reopened and notified again gets a new one and the old one is kept. Rendering is idempotent:
`ensure_*` renders only when the file is not there yet. Everything in the documents is Chinese:
states, actions and kinds through model.py's names, the rule's and the evidence's text as the caller
(the 督办 page, in the reader's catalogue) hands them in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core import atomic
from core.faults import checkpoint
from core.feeds import FLAG_TYPES, WORK_ORDERS
from core.paths import Home
from windowwatch.supervision.model import ACTION_ZH, CLOSE_REASONS, KIND_ZH, STATE_ZH, SYSTEM_ACTOR

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_ISSUER = "政务服务中心管理办公室"
SUBJECT_ZH = {"bad_review_late": "评价", "video_flag": "视频巡查线索", "rating_integrity": "评价",
              "substantiated_complaint": "工单"}  # every other kind names a case (RI_TOO_PERFECT: a window-month)
CASE_KINDS = ("red_card", "legal_overdue", "off_book", "timeliness")


@dataclass(frozen=True)
class Names:
    """What the documents call the item's department, window and issuing office."""

    department_name: str
    window_name: str
    issuer: str


def folder(h: Home, item_id: int) -> Path:
    return h.root / "supervision" / "notices" / str(int(item_id))


def notice_path(h: Home, item: dict) -> Path | None:
    """Where the 督办通知书 of the item's current notification is (None: not notified)."""
    if item.get("notified_at") is None:
        return None
    return folder(h, item["item_id"]) / f"notice-{item['notified_at']:%Y%m%dT%H%M%S}.pdf"


def warning_path(h: Home, item: dict) -> Path | None:
    """Where the 效能告诫书 draft of the item's escalation is (None: not escalated)."""
    if item.get("state") != "escalated":
        return None
    at = item.get("escalated_at") or item.get("updated_at")
    return folder(h, item["item_id"]) / f"warning-{at:%Y%m%dT%H%M%S}.pdf"


def date_zh(t: dt.datetime | dt.date | None) -> str:
    return "—" if t is None else f"{t.year}年{t.month}月{t.day}日"


def time_zh(t: dt.datetime | None) -> str:
    return "—" if t is None else f"{date_zh(t)} {t:%H:%M}"


def evidence_zh(item: dict) -> str:
    """The trigger's evidence as stored, a video flag's type in Chinese (the sync writes its code), a
    查实投诉's codes as the sentence the page's catalogue says (`evidence.SUBSTANTIATED_COMPLAINT`)."""
    text = str(item.get("evidence") or "—")
    if item.get("kind") == "substantiated_complaint":
        p = dict(re.findall(r"(\w+)=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\S+)", text))
        if {"order", "channel", "received"} <= set(p):
            channel = next(c.enum for c in WORK_ORDERS.columns if c.name == "channel").get(p["channel"], ("",))[0]
            return f"{channel}工单 {p['order']} 于 {p['received']} 受理，经核查投诉属实（查实投诉）。"
    if item.get("kind") == "video_flag":
        for code, names in FLAG_TYPES.items():
            text = text.replace(f"：{code} ", f"：{names[-1]} ")
    return text


def names_from_snapshot(snapshot: Path | str | None, item: dict) -> Names:
    """The department's and window's names from the snapshot's dim_window, the issuer from the
    configured report.issuing_office, else the centre's name (`<centre>管理办公室`), or the ids and
    DEFAULT_ISSUER when it does not know them."""
    dept, window, centre = None, None, None
    if snapshot is not None:
        import duckdb

        con = duckdb.connect(str(snapshot), read_only=True)
        try:
            row = con.execute("select window_name, department_name, center_name from marts.dim_window "
                              "where window_id = ? limit 1", [item.get("window_id")]).fetchall()
            if row:
                window, dept, centre = row[0]
            if not dept and item.get("department_id"):
                row = con.execute("select department_name, center_name from marts.dim_window where department_id = ? "
                                  "limit 1", [item["department_id"]]).fetchall()
                if row:
                    dept, centre = row[0][0], centre or row[0][1]
        finally:
            con.close()
    return Names(department_name=dept or str(item.get("department_id") or "—"),
                 window_name=window or str(item.get("window_id") or "—"),
                 issuer=_configured_issuer(f"{centre}管理办公室" if centre else DEFAULT_ISSUER))


def _configured_issuer(default: str) -> str:
    """The issuing office of the monthly report's 落款 (report.issuing_office of the sources file,
    docs/configuration.md) when configured; else `default`. A broken sources file does not stop a
    notice: the default is used (publishing the report names the problem)."""
    from core.config import ConfigError, load_sources

    try:
        return load_sources().report.issuing_office or default
    except ConfigError:
        return default


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def _common(item: dict, names: Names, rule_label: str | None, evidence: str | None) -> dict:
    return {
        "item": item, "css": (TEMPLATES / "_base.css").read_text(encoding="utf-8"), "issuer": names.issuer,
        "department_name": names.department_name, "window_name": names.window_name,
        "kind_label": KIND_ZH.get(item["kind"], "督办事项"), "rule_label": rule_label,
        "subject_label": ("窗口月份" if item.get("rule") == "RI_TOO_PERFECT" else SUBJECT_ZH.get(item["kind"]))
        or ("窗口" if item["kind"] == "manual" and item["subject_id"] == item.get("window_id") else "办件"),
        "evidence": evidence if evidence is not None else evidence_zh(item),
        "trigger_at": time_zh(item.get("trigger_at")), "notified_at": time_zh(item.get("notified_at")),
        "reply_by": time_zh(item.get("reply_by")), "fix_by": time_zh(item.get("fix_by")),
        "escalated_at": time_zh(item.get("escalated_at")),
    }


STALE_TEMP_S = 60  # a temp file of a document this old was left by a killed writer (none renders that long)


def _write(html: str, path: Path) -> Path:
    """Render in memory, then write the file atomically: the temp file beside it lives only for the write
    (a kill -9 during the seconds of layout leaves nothing — the fault trials caught one left under
    supervision/notices/ while WeasyPrint rendered into it), and one a killed writer left is removed."""
    import time

    from weasyprint import HTML

    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    checkpoint("supervision.notice_rendered")
    if path.parent.is_dir():
        for old in path.parent.glob(f".{path.name}.*.tmp"):
            try:
                if time.time() - old.stat().st_mtime > STALE_TEMP_S:
                    old.unlink(missing_ok=True)
            except FileNotFoundError:  # its writer finished meanwhile
                continue
    with atomic.atomic_path(path) as tmp:
        tmp.write_bytes(pdf)
    return path


def _actor(name: str) -> str:
    return "系统" if name == SYSTEM_ACTOR else name


def actor_zh(name: str) -> str:
    """Who made a transition, `supervise sync` as 系统."""
    return _actor(name)


def note_zh(transition: dict) -> str:
    """A transition's note in Chinese: people's notes as typed, `supervise sync`'s (written for the
    log, with codes) by what the sync did."""
    note = str(transition.get("note") or "")
    if transition.get("actor") != SYSTEM_ACTOR:
        return note
    if transition.get("action") == "open":
        return "系统依已发布数据中的触发条件立项" + ("（超法定时限，立项即升级）" if transition.get("to_state") == "escalated" else "")
    if transition.get("action") == "recur":
        return "销号后触发条件再次出现，系统重新打开"
    if transition.get("action") == "auto_escalate":
        return note.split("（", 1)[0] if "（" in note else "逾期未回告或未整改，系统自动升级"
    return "系统处理"


def render_notice(h: Home, item: dict, history: list[dict], names: Names, *, rule_label: str | None = None,
                  evidence: str | None = None) -> Path:
    """Write the 督办通知书 of a notified item; returns its path."""
    path = notice_path(h, item)
    if path is None:
        raise ValueError(f"item {item['item_id']} was not notified: it has no 督办通知书")
    notify = [x for x in history if x["action"] == "notify"]
    ctx = _common(item, names, rule_label, evidence) | {
        "year": item["notified_at"].year, "issued_on": date_zh(item["notified_at"]),
        "note": notify[-1]["note"] if notify else "", "actor": _actor(notify[-1]["actor"]) if notify else "—"}
    return _write(_env().get_template("notice.html").render(**ctx), path)


def _why(item: dict, history: list[dict]) -> str:
    last = next((x for x in reversed(history) if x["to_state"] == "escalated"), None)
    if item["kind"] == "legal_overdue" and item.get("notified_at") is None:
        return "所涉办件已超过法定办结时限仍未办结"
    if last is not None and last["action"] == "auto_escalate":
        if item.get("acknowledged_at") is None:
            return "你单位未在回告期限内回告"
        return "你单位未在整改期限内整改到位"
    if last is not None and last.get("note"):
        return f"经督查，{last['note']}"
    return "经督查，问题未按要求整改"


def render_warning(h: Home, item: dict, history: list[dict], names: Names, *, rule_label: str | None = None,
                   evidence: str | None = None) -> Path:
    """Write the 效能告诫书 draft of an escalated item; returns its path."""
    path = warning_path(h, item)
    if path is None:
        raise ValueError(f"item {item['item_id']} is not escalated: it has no 效能告诫书")
    at = item.get("escalated_at") or item["updated_at"]
    rows = [{"at": time_zh(x["at"]), "actor": _actor(x["actor"]), "action": ACTION_ZH.get(x["action"], "—"),
             "change": f"{STATE_ZH.get(x['from_state'], '—')} → {STATE_ZH.get(x['to_state'], '—')}",
             "note": " ".join(filter(None, [CLOSE_REASONS.get(x.get("reason") or ""), note_zh(x)]))}
            for x in history]
    ctx = _common(item, names, rule_label, evidence) | {
        "year": at.year, "issued_on": date_zh(at), "why": _why(item, history), "history": rows}
    return _write(_env().get_template("warning.html").render(**ctx), path)


def ensure(h: Home, item: dict, history: list[dict], names: Names, **texts) -> dict[str, Path]:
    """The item's PDFs ({"notice": path, "warning": path} as they apply), rendered if missing."""
    out = {}
    for kind, where, render in (("notice", notice_path, render_notice), ("warning", warning_path, render_warning)):
        path = where(h, item)
        if path is None:
            continue
        out[kind] = path if path.exists() else render(h, item, history, names, **texts)
    return out


def rule_label_zh(item: dict) -> str | None:
    """The trigger's rule in Chinese for the documents: a signal's rule name, a video flag's type."""
    from windowwatch.reports.labels import RULES

    if item["kind"] == "video_flag":
        names = FLAG_TYPES.get(str(item["rule"]).lower())
        return names[-1] if names else None
    if item["kind"] in ("off_book", "timeliness", "rating_integrity"):
        return RULES.get(item["rule"], (None,))[0]
    if item["kind"] == "substantiated_complaint":
        return "查实投诉"
    return None


def issue(h: Home, item: dict, history: list[dict], *, rule_label: str | None = None, evidence: str | None = None
          ) -> dict[str, Path]:
    """The PDFs the item's latest transition makes (a notify's 督办通知书, an escalation's 效能告诫书
    draft), rendered at the transition by whoever took it (`supervise act`, the 督办 page, the demo),
    always in Chinese: the department's and window's names from the published snapshot when there is
    one, the rule in Chinese unless the caller names it."""
    from windowwatch.snapshot import NoSnapshot, current_snapshot

    try:
        snapshot = current_snapshot(h)
    except NoSnapshot:
        snapshot = None
    names = names_from_snapshot(snapshot, item)
    return ensure(h, item, history, names, rule_label=rule_label or rule_label_zh(item), evidence=evidence)

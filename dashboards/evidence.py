"""A signal's evidence in the reader's language.

The timeliness rules (fct_timeliness_signal) and the rating-integrity rules (fct_rating_signal, RI_*)
publish their evidence as codes and `key=value` parameters (dbt_project/models/intermediate/timeliness/int_timeliness__case_signals.sql and the
elapsed-time rule models): the event id and date, the working days counted, the limit. Here each
rule's parameters fill a sentence of the catalogue (`evidence.<RULE>`), so an inspector reads
"第 2 次延期 … 不计" rather than `extend=… seq=2`. Evidence of other rules, or parameters a sentence
cannot be filled from, is shown as published (nothing is hidden). The off-book rules' evidence
(fixed phrases around the values) is read back by a pattern per rule and said the same way.
"""

from __future__ import annotations

import re

from core.feeds import PAUSE_REASONS
from dashboards.i18n import current_lang, t

_PAIR = re.compile(r"(\w+)=(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\S+)")
_FLAGS = ("counted", "not_counted", "open")


def parameters(evidence: str) -> dict[str, str]:
    """`key=value` pairs of an evidence text (a timestamp value keeps its time), plus the bare
    words counted / not_counted / open as keys with the value "1"."""
    params = {k: v for k, v in _PAIR.findall(evidence or "")}
    rest = _PAIR.sub(" ", evidence or "").split()
    params.update({w: "1" for w in rest if w in _FLAGS})
    return params


def _reason(code: str) -> str:
    if code == "none":
        return t("evidence.reason_none")
    names = PAUSE_REASONS.get(code)
    if names is None:
        return code
    return names[0] if current_lang() != "en" else code.replace("_", " ")


def _event(name: str) -> str:
    text = t(f"enum.event.{name}")
    return name if text == f"enum.event.{name}" else text


def _share(value: str) -> str:
    try:
        return f"{float(value):.1%}"
    except ValueError:
        return value


def _probability(value: str) -> str:
    try:
        return format(float(value), ".3g")
    except ValueError:
        return value


def _rating_values(p: dict[str, str]) -> dict[str, str]:
    """The 评价真实性 rules' parameters (fct_rating_signal, docs/rules.md#rating-integrity) as the
    sentence needs them: the source of a burst, the hours of the day kind, c and p readable."""
    values = dict(p)
    if "device" in p:
        values["source_text"] = (t("evidence.ri_no_device", window=p.get("window", "")) if p["device"] == "none"
                                 else t("evidence.ri_device", device=p["device"]))
    if "day" in p:
        day_text = t(f"evidence.ri_{p['day']}") if p["day"] in ("workday", "non_workday") else p["day"]
        values["hours_text"] = (t("evidence.ri_closed", day_text=day_text) if p.get("hours") == "closed"
                                else t("evidence.ri_hours", day_text=day_text, open=p.get("open", ""), close=p.get("close", "")))
    if "c" in p:
        values["c_text"] = _share(p["c"])
    if "p" in p:
        values["p_text"] = _probability(p["p"])
    return values


# The off-book rules (fct_off_book_signal, docs/rules.md#off-book) publish their evidence as fixed
# phrases around the values (dbt_project/models/intermediate/off_book/int_off_book__*.sql, pinned by the
# dbt unit tests in _int_off_book.yml): each rule's pattern reads the values back, one part per
# offending event (parts joined by the separator), and the catalogue's `evidence.<RULE>` says it.
_TS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?"
_OFF_BOOK = {
    "OB_BACKFILL": ("; ", rf"(?P<event>\w+) (?P<event_id>\S+) (?P<at>{_TS}) 录入 (?P<recorded>{_TS}) \(\+(?P<hours>-?[\d.]+) h\)"),
    "OB_OFF_HOURS": ("; ", rf"(?P<event>\w+) (?P<event_id>\S+) (?P<at>{_TS}) at (?P<window>\S+) "
                           rf"\((?P<day>\w+) (?:closed|(?P<open>[\d:]+)–(?P<close>[\d:]+))\)"),
    "OB_INSTANT": (None, rf"accept (?P<accepted>{_TS}) complete (?P<completed>{_TS}) \((?P<minutes>[\d.]+) min; "
                         rf"item (?P<item>\S+) promised limit (?P<limit>\S+)\)"),
    "OB_RUNAROUND": ("; ", rf"evaluation (?P<evaluation_id>\S+) (?P<at>{_TS}) reasons (?P<reasons>\S*)"),
    "OB_HANDOVER": (" | ", rf"video flag (?P<flag_id>\S+) (?P<flag>\w+) confirmed (?P<at>{_TS}) at (?P<window>\S+); "
                           rf"case events within (?P<minutes>\d+) min: (?P<events>.*)"),
    "OB_REACCEPT": (" | ", rf"accepted (?P<accepted>{_TS}) after earlier case (?P<earlier>\S+) (?P<event>\w+) "
                           rf"(?P<event_id>\S+) (?P<at>{_TS}) \(same applicant and item, (?P<days>\d+) days\)"),
    "OB_VOLUME_GAP": (None, r"department (?P<dept>\S+) (?P<month>\d{4}-\d\d)-\d\d: reported (?P<reported>\d+) cases, "
                            r"centre recorded (?P<recorded>\d+)(?: \((?P<share>[\d.]+) %\))? > (?P<threshold>[\d.]+) % threshold"),
}
_CASE_EVENT = re.compile(rf"(\w+) (\S+) ({_TS})")
_WORD = re.compile(r"[A-Za-z_]+")


def _label(kind: str, code: str) -> str:
    text = t(f"enum.{kind}.{code}")
    return code if text == f"enum.{kind}.{code}" else text


def _off_book_values(p: dict[str, str]) -> dict[str, str]:
    values = {k: v or "" for k, v in p.items()}
    if p.get("event"):
        values["event"] = _event(p["event"])
    if p.get("day"):
        day_text = t(f"evidence.ri_{p['day']}") if p["day"] in ("workday", "non_workday") else p["day"]
        values["hours_text"] = (t("evidence.ri_hours", day_text=day_text, open=p["open"], close=p["close"])
                                if p.get("open") else t("evidence.ri_closed", day_text=day_text))
    if "reasons" in p:
        values["reasons"] = t("evidence.list_sep").join(_label("reason", r) for r in p["reasons"].split(";") if r)
    if p.get("flag"):
        values["flag"] = _label("flag", p["flag"])
    if "events" in p:
        values["events"] = t("evidence.list_sep").join(
            t("evidence.event_at", event=_event(e), event_id=i, at=at) for e, i, at in _CASE_EVENT.findall(p["events"]))
    values["share_text"] = t("evidence.OB_share", share=p["share"]) if p.get("share") else ""
    return values


def _off_book(rule_id: str, evidence: str) -> str:
    """An off-book rule's evidence in words; evidence of another shape keeps its text, with any event type
    or enum word in it named through the catalogue."""
    sep, pattern = _OFF_BOOK[rule_id]
    parts = evidence.split(sep) if sep else [evidence]
    matches = [re.fullmatch(pattern, part.strip()) for part in parts]
    if all(matches):
        texts = [_fill(rule_id, part, _off_book_values(m.groupdict())) for part, m in zip(parts, matches)]
        return t("evidence.part_sep").join(texts)
    return _WORD.sub(lambda m: _event(m.group(0)), evidence)


def explain(rule_id: str, evidence: str) -> str:
    """The sentence of `evidence.<rule_id>` filled from the evidence's parameters, else the evidence."""
    if str(rule_id) in _OFF_BOOK:
        return _off_book(str(rule_id), str(evidence or ""))
    if str(rule_id).startswith("RI_"):
        return _fill(rule_id, evidence, _rating_values(parameters(evidence)))
    if str(rule_id) == "SUBSTANTIATED_COMPLAINT":  # supervision sync (windowwatch/supervision/sync.py)
        p = parameters(evidence)
        return _fill(rule_id, evidence, {**p, "channel_text": _label("wo_channel", p.get("channel", "other"))})
    if not str(rule_id).startswith("TL_"):
        return evidence
    p = parameters(evidence)
    values = dict(p)
    if "reason" in p:
        values["reason"] = _reason(p["reason"])
    values["counted_text"] = t("evidence.counted" if "counted" in p else "evidence.not_counted")
    if "completed" in p:
        values["status_text"] = t("evidence.completed_at", at=p["completed"])
    elif "as_of" in p:
        values["status_text"] = t("evidence.open_as_of", as_of=p["as_of"])
    if "step" in p and ">" in p["step"]:
        first, second = p["step"].split(">", 1)
        values["step"] = f"{_event(first)} → {_event(second)}"
    if "to" in p:
        values["end_text"] = p["to"]
    elif "as_of" in p:
        values["end_text"] = t("evidence.until_as_of", as_of=p["as_of"])
    if "deliver" in p:
        values["deliver_text"] = t("evidence.delivered_at", at=p["deliver"])
    elif "as_of" in p:
        values["deliver_text"] = t("evidence.not_delivered", as_of=p["as_of"])
    if p.get("deadline_without") == "none":
        values["deadline_without"] = "—"
    return _fill(rule_id, evidence, values)


def _fill(rule_id: str, evidence: str, values: dict[str, str]) -> str:
    key = f"evidence.{rule_id}"
    template = t(key)
    if template == key:
        return evidence
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return evidence

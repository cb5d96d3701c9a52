"""A signal's evidence in the reader's language.

The timeliness rules (fct_timeliness_signal) and the rating-integrity rules (fct_rating_signal, RI_*)
publish their evidence as codes and `key=value` parameters (dbt_project/models/intermediate/timeliness/int_timeliness__case_signals.sql and the
elapsed-time rule models): the event id and date, the working days counted, the limit. Here each
rule's parameters fill a sentence of the catalogue (`evidence.<RULE>`), so an inspector reads
"第 2 次延期 … 不计" rather than `extend=… seq=2`. Evidence of other rules, or parameters a sentence
cannot be filled from, is shown as published (nothing is hidden).
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


def explain(rule_id: str, evidence: str) -> str:
    """The sentence of `evidence.<rule_id>` filled from the evidence's parameters, else the evidence."""
    if str(rule_id).startswith("RI_"):
        return _fill(rule_id, evidence, _rating_values(parameters(evidence)))
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

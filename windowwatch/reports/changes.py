"""What changed between two versions of a month's ranking (changes.json / changes.md).

changes.json keeps the ids (machine-readable); changes.md — shown in 月度报告's changes expander —
is in Chinese and names windows and departments (a reader of the 通报 knows names, not codes);
changes.en.md is its English rendering, shown when the dashboard is switched to English.
"""

from __future__ import annotations

from typing import Any

from windowwatch.reports.labels import COLUMNS, veto_text

TRACKED = ("score", "stars", "rank", "is_eligible", "is_red_flag", "is_bottom", "veto_reason")
LABELS = {  # field -> (zh, en)
    "score": ("得分", "Score"),
    "stars": ("星级", "Stars"),
    "rank": ("名次", "Rank"),
    "is_eligible": ("参评", "Eligible"),
    "is_red_flag": ("红旗窗口", "Red flag"),
    "is_bottom": ("末位窗口", "Bottom"),
    "veto_reason": ("一票否决", "Veto"),
}
TEXT = {  # key -> (zh, en)
    "title": ("# {month} 第 {version} 版相对第 {prev} 版的变更", "# {month} version {version}: changes against version {prev}"),
    "scoring": ("- 评分规则文件已变更", "- The scoring file changed"),
    "added": ("- 新增窗口：{names}", "- Windows added: {names}"),
    "removed": ("- 移除窗口：{names}", "- Windows removed: {names}"),
    "departments": ("- 部门指标有变化：{names}", "- Department figures changed: {names}"),
    "departments_any": ("- 部门指标有变化", "- Department figures changed"),
    "other": ("- 其他指标有变化：{names}", "- Other figures changed: {names}"),
    "head": ("| 窗口 | 所属部门 | 指标 | 原值 | 新值 |", "| Window | Department | Figure | Before | After |"),
    "none": ("- 无排名变化", "- No change in the ranking"),
    "sep": ("、", ", "),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}


def _tx(key: str, lang: str, **kw: Any) -> str:
    return TEXT[key][0 if lang == "zh" else 1].format(**kw)


def diff(prev: dict[str, Any], cur: dict[str, Any], prev_version: int) -> dict[str, Any]:
    before = {w["window_id"]: w for w in prev["windows"]}
    after = {w["window_id"]: w for w in cur["windows"]}
    changed = []
    for wid in sorted(before.keys() & after.keys()):
        fields = {
            f: {"from": before[wid].get(f), "to": after[wid].get(f)}
            for f in TRACKED
            if before[wid].get(f) != after[wid].get(f)
        }
        if fields:
            changed.append({"window_id": wid, "window_name": after[wid].get("window_name"),
                            "department_name": after[wid].get("department_name"), "changes": fields})
    other = sorted(
        {k for wid in before.keys() & after.keys() for k in after[wid] if before[wid].get(k) != after[wid].get(k)}
        - set(TRACKED)
    )
    dept_changed = prev["departments"] != cur["departments"]
    d_before = {d.get("department_id"): d for d in prev["departments"]}
    d_after = {d.get("department_id"): d for d in cur["departments"]}
    depts = sorted((k for k in d_before.keys() | d_after.keys() if d_before.get(k) != d_after.get(k)), key=str)
    return {
        "against_version": prev_version,
        "windows_changed": changed,
        "windows_added": sorted(after.keys() - before.keys()),
        "windows_removed": sorted(before.keys() - after.keys()),
        "other_columns_changed": other,
        "departments_changed": dept_changed,
        # the departments whose rows changed, with their names (the report names departments)
        "departments_changed_ids": depts,
        "department_names": {k: (d_after.get(k) or d_before.get(k) or {}).get("department_name") for k in depts},
        "scoring_changed": prev["scoring"] != cur["scoring"],
        # the names of the windows added or removed, for the report (it names windows, not codes)
        "window_names": {wid: (after.get(wid) or before.get(wid) or {}).get("window_name")
                         for wid in sorted(after.keys() ^ before.keys())},
    }


def _cell(v: Any) -> str:
    """A value for a Markdown table cell: names from the feeds may hold '|' or line breaks."""
    return " ".join(str(v).split()).replace("|", "｜")


def _fmt(field: str, v: Any, lang: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return _tx("yes" if v else "no", lang)
    if field == "veto_reason":
        return veto_text(str(v), lang) or str(v)
    if field == "score" and isinstance(v, (int, float)):
        return f"{v:.2f}"
    return str(v)


def to_markdown(month: str, version: int, ch: dict[str, Any], lang: str = "zh") -> str:
    """changes.md (lang "zh", the default) or its English rendering (lang "en"): windows and
    departments by name (the id only when the data has no name)."""
    i = 0 if lang == "zh" else 1
    sep = _tx("sep", lang)
    wnames = ch.get("window_names") or {}
    lines = [_tx("title", lang, month=month, version=version, prev=ch["against_version"]), ""]
    if ch["scoring_changed"]:
        lines.append(_tx("scoring", lang))
    if ch["windows_added"]:
        lines.append(_tx("added", lang, names=sep.join(_cell(wnames.get(w) or w) for w in ch["windows_added"])))
    if ch["windows_removed"]:
        lines.append(_tx("removed", lang, names=sep.join(_cell(wnames.get(w) or w) for w in ch["windows_removed"])))
    if ch["departments_changed"]:
        dnames = ch.get("department_names") or {}
        ids = ch.get("departments_changed_ids") or []
        lines.append(_tx("departments", lang, names=sep.join(_cell(dnames.get(d) or d) for d in ids)) if ids
                     else _tx("departments_any", lang))
    if ch["other_columns_changed"]:
        lines.append(_tx("other", lang, names=sep.join(COLUMNS.get(c, (c, c))[i] for c in ch["other_columns_changed"])))
    if ch["windows_changed"]:
        lines += ["", _tx("head", lang), "|---|---|---|---|---|"]
        for w in ch["windows_changed"]:
            name = _cell(w.get("window_name") or w["window_id"])
            dept = _cell(w.get("department_name") or "—")
            for f, v in w["changes"].items():
                lines.append(f"| {name} | {dept} | {LABELS[f][i]} | {_cell(_fmt(f, v['from'], lang))} | "
                             f"{_cell(_fmt(f, v['to'], lang))} |")
    if len(lines) == 2:
        lines.append(_tx("none", lang))
    return "\n".join(lines) + "\n"

"""What changed between two versions of a month's ranking (changes.json / changes.md)."""

from __future__ import annotations

from typing import Any

TRACKED = ("score", "stars", "rank", "is_eligible", "is_red_flag", "is_bottom", "veto_reason")
LABELS = {
    "score": "得分 score",
    "stars": "星级 stars",
    "rank": "名次 rank",
    "is_eligible": "参评 eligible",
    "is_red_flag": "红旗 red flag",
    "is_bottom": "末位 bottom",
    "veto_reason": "否决 veto",
}


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
            changed.append({"window_id": wid, "window_name": after[wid].get("window_name"), "changes": fields})
    other = sorted(
        {k for wid in before.keys() & after.keys() for k in after[wid] if before[wid].get(k) != after[wid].get(k)}
        - set(TRACKED)
    )
    dept_changed = prev["departments"] != cur["departments"]
    return {
        "against_version": prev_version,
        "windows_changed": changed,
        "windows_added": sorted(after.keys() - before.keys()),
        "windows_removed": sorted(before.keys() - after.keys()),
        "other_columns_changed": other,
        "departments_changed": dept_changed,
        "scoring_changed": prev["scoring"] != cur["scoring"],
    }


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def to_markdown(month: str, version: int, ch: dict[str, Any]) -> str:
    lines = [f"# {month} v{version} 相对 v{ch['against_version']} 的变更 / changes against v{ch['against_version']}", ""]
    if ch["scoring_changed"]:
        lines.append("- 评分规则文件已变更 (the scoring file changed)")
    if ch["windows_added"]:
        lines.append(f"- 新增窗口 added: {', '.join(ch['windows_added'])}")
    if ch["windows_removed"]:
        lines.append(f"- 移除窗口 removed: {', '.join(ch['windows_removed'])}")
    if ch["departments_changed"]:
        lines.append("- 部门指标有变化 (department rows changed)")
    if ch["other_columns_changed"]:
        lines.append(f"- 其他指标有变化 (other indicators changed): {', '.join(ch['other_columns_changed'])}")
    if ch["windows_changed"]:
        lines += ["", "| 窗口 window | 指标 field | 原值 from | 新值 to |", "|---|---|---|---|"]
        for w in ch["windows_changed"]:
            for f, v in w["changes"].items():
                lines.append(f"| {w['window_id']} {w.get('window_name') or ''} | {LABELS[f]} | {_fmt(v['from'])} | {_fmt(v['to'])} |")
    if len(lines) == 2:
        lines.append("- 无排名变化 (no ranking change)")
    return "\n".join(lines) + "\n"


def summary_lines(ch: dict[str, Any]) -> list[str]:
    """Short sentences for the report itself (本版变更说明)."""
    out = []
    if ch["scoring_changed"]:
        out.append("评分规则文件已变更。")
    for w in ch["windows_changed"]:
        parts = [f"{LABELS[f].split()[0]} {_fmt(v['from'])} → {_fmt(v['to'])}" for f, v in w["changes"].items()]
        out.append(f"{w['window_id']} {w.get('window_name') or ''}：{'，'.join(parts)}")
    if ch["windows_added"]:
        out.append("新增窗口：" + "、".join(ch["windows_added"]))
    if ch["windows_removed"]:
        out.append("移除窗口：" + "、".join(ch["windows_removed"]))
    if not out:
        out.append("排名无变化，其他指标有更新。")
    return out

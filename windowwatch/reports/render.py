"""Render a frozen month: ranking.html, ranking.pdf (WeasyPrint, Noto Sans CJK SC embedded)
and ranking.xlsx (formula-neutralised through windowwatch.spreadsheets).

Charts are inline SVG drawn here: no browser (kaleido) is needed to print the report.
"""

from __future__ import annotations

import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from windowwatch.spreadsheets import write_xlsx

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT = "Noto Sans CJK SC"
STAR_COLORS = {5: "#b40000", 4: "#d4380d", 3: "#d48806", 2: "#7c8b9a", 1: "#a8b1bb"}


def pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def fmt_score(v: Any) -> str:
    return "—" if v is None else f"{v:.2f}"


def stars(n: Any) -> str:
    if n is None:
        return "—"
    n = int(n)
    return "★" * n + "☆" * (5 - n)


def month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月"


def center_name(windows: list[dict[str, Any]]) -> str:
    names = Counter(w.get("center_name") for w in windows if w.get("center_name"))
    return names.most_common(1)[0][0] if names else "政务服务中心"


def weighted(windows: list[dict[str, Any]], rate: str, weight: str) -> float | None:
    pairs = [(w.get(rate), w.get(weight) or 0) for w in windows if w.get(rate) is not None]
    total = sum(n for _, n in pairs)
    return sum(r * n for r, n in pairs) / total if total else None


def kpis(content: dict[str, Any]) -> list[dict[str, str]]:
    ws = content["windows"]
    eligible = [w for w in ws if w.get("is_eligible")]
    scores = [w["score"] for w in eligible if w.get("score") is not None]
    good = sum(w.get("good_reviews") or 0 for w in ws)
    evals = sum(w.get("evaluations") or 0 for w in ws)
    return [
        {"label": "考核窗口 / 参评窗口 windows / eligible", "value": f"{len(ws)} / {len(eligible)}"},
        {"label": "受理 / 办结件数 accepted / completed",
         "value": f"{sum(w.get('cases_accepted') or 0 for w in ws)} / {sum(w.get('cases_completed') or 0 for w in ws)}"},
        {"label": "按时办结率 on-time rate", "value": pct(weighted(ws, "on_time_rate", "cases_completed"))},
        {"label": "好评率 satisfaction", "value": pct(good / evals) if evals else "—"},
        {"label": "参评平均分 mean score", "value": f"{sum(scores) / len(scores):.2f}" if scores else "—"},
        {"label": "体外循环疑似件 off-book cases", "value": str(sum(w.get("off_book_cases") or 0 for w in ws))},
        {"label": "视频违规(已确认) confirmed flags", "value": str(sum(w.get("video_flags_confirmed") or 0 for w in ws))},
        {"label": "红旗 / 末位窗口 red flag / bottom",
         "value": f"{sum(1 for w in ws if w.get('is_red_flag'))} / {sum(1 for w in ws if w.get('is_bottom'))}"},
    ]


def score_chart(windows: list[dict[str, Any]]) -> str:
    """Horizontal bars of the eligible windows' scores, coloured by stars."""
    rows = [w for w in windows if w.get("is_eligible") and w.get("score") is not None]
    rows.sort(key=lambda w: -w["score"])
    if not rows:
        return ""
    bar_h, gap, left, width = 13, 3, 150, 520
    lo = max(0, math.floor(min(w["score"] for w in rows) / 10) * 10 - 10)
    height = len(rows) * (bar_h + gap) + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
        f'font-family="{FONT}" font-size="9">',
        f'<text x="0" y="11" font-size="10" font-weight="bold">图1 参评窗口得分（横轴 {lo}–100）Scores of eligible windows</text>',
    ]
    for i, w in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        frac = (w["score"] - lo) / (100 - lo)
        color = STAR_COLORS.get(int(w.get("stars") or 1), "#888")
        name = escape(str(w.get("window_name") or w["window_id"])[:14])
        out.append(f'<text x="{left - 4}" y="{y + bar_h - 3}" text-anchor="end">{name}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{max(1.0, frac * width):.1f}" height="{bar_h}" fill="{color}"/>')
        out.append(f'<text x="{left + frac * width + 3:.1f}" y="{y + bar_h - 3}">{w["score"]:.2f}</text>')
    out.append(f'<line x1="{left}" y1="18" x2="{left}" y2="{height - 12}" stroke="#333" stroke-width="0.6"/>')
    out.append("</svg>")
    return "".join(out)


def star_chart(windows: list[dict[str, Any]]) -> str:
    counts = Counter(int(w["stars"]) for w in windows if w.get("is_eligible") and w.get("stars") is not None)
    if not counts:
        return ""
    top = max(counts.values())
    bw, gap, base, h = 60, 24, 120, 90
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{5 * (bw + gap) + 40}" height="{base + 34}" '
        f'font-family="{FONT}" font-size="9">',
        '<text x="0" y="11" font-size="10" font-weight="bold">图2 星级分布 Windows per star level</text>',
    ]
    for i, s in enumerate(range(5, 0, -1)):
        n = counts.get(s, 0)
        bh = h * n / top
        x = 20 + i * (bw + gap)
        out.append(f'<rect x="{x}" y="{base - bh:.1f}" width="{bw}" height="{bh:.1f}" fill="{STAR_COLORS[s]}"/>')
        out.append(f'<text x="{x + bw / 2}" y="{base - bh - 3:.1f}" text-anchor="middle">{n}</text>')
        out.append(f'<text x="{x + bw / 2}" y="{base + 13}" text-anchor="middle" fill="#d48806">{"★" * s}</text>')
    out.append(f'<line x1="14" y1="{base}" x2="{5 * (bw + gap) + 20}" y2="{base}" stroke="#333" stroke-width="0.6"/>')
    out.append("</svg>")
    return "".join(out)


def weak_points(w: dict[str, Any]) -> str:
    parts = []
    if (w.get("on_time_rate") or 1) < 0.95:
        parts.append(f"按时办结率 {pct(w.get('on_time_rate'))}")
    if (w.get("adjusted_satisfaction") or 1) < 0.9:
        parts.append(f"满意度 {pct(w.get('adjusted_satisfaction'))}")
    if (w.get("off_book_rate") or 0) > 0:
        parts.append(f"体外循环率 {pct(w.get('off_book_rate'))}")
    if (w.get("video_flags_confirmed") or 0) > 0:
        parts.append(f"视频违规 {w['video_flags_confirmed']} 次")
    if (w.get("rectification_rate") if w.get("rectification_rate") is not None else 1) < 1:
        parts.append(f"差评整改率 {pct(w.get('rectification_rate'))}")
    if w.get("veto_reason"):
        parts.append(f"一票否决：{w['veto_reason']}")
    return "；".join(parts) or "—"


DEPT_COLUMNS = [
    ("department_name", "部门"),
    ("department_id", "编码"),
    ("cases_accepted", "受理"),
    ("cases_completed", "办结"),
    ("on_time_rate", "按时办结率"),
    ("satisfaction_rate", "好评率"),
    ("off_book_rate", "体外循环率"),
    ("rectification_rate", "整改率"),
    ("reported_cases", "部门自报件数"),
    ("volume_gap", "应进未进"),
    ("score", "得分"),
]


def dept_cell(d: dict[str, Any], k: str) -> str:
    v = d.get(k)
    if v is None:
        return "—"
    if k.endswith("_rate"):
        return pct(v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def context(content: dict[str, Any], manifest: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    from windowwatch.reports.changes import summary_lines

    ws = content["windows"]
    cname = center_name(ws)
    departments = content["departments"]
    present = {k for d in departments for k, v in d.items() if v is not None}
    return {
        "title": f"{cname}{month_label(content['month'])}窗口服务质量考核通报",
        "center_name": cname,
        "month": content["month"],
        "month_label": month_label(content["month"]),
        "version": manifest["version"],
        "created_at": manifest["created_at"][:16].replace("T", " "),
        "watermark": manifest["watermark"],
        "snapshot": manifest["snapshot"],
        "content_hash": manifest["content_hash"],
        "scoring_hash": manifest["scoring_hash"],
        "audit_chain_head": manifest.get("audit_chain_head"),
        "scoring": content["scoring"],
        "kpis": kpis(content),
        "windows": ws,
        "red_flags": [w for w in ws if w.get("is_red_flag")],
        "bottoms": sorted((w for w in ws if w.get("is_bottom")), key=lambda w: w.get("score") or 0),
        "departments": departments,
        "dept_columns": [(k, label) for k, label in DEPT_COLUMNS if k in present or k == "department_id"],
        "score_chart": score_chart(ws),
        "star_chart": star_chart(ws),
        "assumed_calendar": [w["window_id"] for w in ws if w.get("uses_assumed_calendar")],
        "changes": changes,
        "change_lines": summary_lines(changes) if changes else [],
    }


def render_html(ctx: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(pct=pct, fmt_score=fmt_score, stars=stars, weak_points=weak_points, dept_cell=dept_cell)
    return env.get_template("ranking.html").render(**ctx)


def write_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))


def write_ranking_xlsx(content: dict[str, Any], path: Path, manifest: dict[str, Any] | None = None) -> None:
    sc = content["scoring"]["score"]
    ranking = [
        {
            "名次 rank": w.get("rank"),
            "窗口编号 window_id": w["window_id"],
            "窗口名称 window_name": w.get("window_name"),
            "部门 department": w.get("department_name") or w.get("department_id"),
            "得分 score": w.get("score"),
            "星级 stars": w.get("stars"),
            "参评 eligible": w.get("is_eligible"),
            "红旗窗口 red_flag": w.get("is_red_flag"),
            "末位 bottom": w.get("is_bottom"),
            "一票否决 veto_reason": w.get("veto_reason"),
        }
        for w in content["windows"]
    ]
    components = []
    for w in content["windows"]:
        # the mart's component_* columns when it has them (what the score used), else derived
        other_flags = (w.get("video_flags_confirmed") or 0) - (w.get("handover_flags_confirmed") or 0)
        obr = w.get("off_book_rate") or 0.0
        d_derived = max(0.0, 1 - sc["discipline_penalty_per_flag"] * max(0, other_flags))
        i_derived = max(0.0, 1 - sc["off_book_penalty"] * obr)
        components.append(
            {
                "窗口编号 window_id": w["window_id"],
                "窗口名称 window_name": w.get("window_name"),
                "T 按时办结率": w["component_t"] if "component_t" in w else w.get("on_time_rate"),
                "S 调整满意度": w["component_s"] if "component_s" in w else w.get("adjusted_satisfaction"),
                "D 纪律": w["component_d"] if "component_d" in w else d_derived,
                "I 体外循环": w["component_i"] if "component_i" in w else i_derived,
                "R 整改率": w["component_r"] if "component_r" in w else w.get("rectification_rate"),
                "办结 cases_completed": w.get("cases_completed"),
                "受理 cases_accepted": w.get("cases_accepted"),
                "体外循环件 off_book_cases": w.get("off_book_cases"),
                "体外循环率 off_book_rate": w.get("off_book_rate"),
                "评价数 evaluations": w.get("evaluations"),
                "好评 good_reviews": w.get("good_reviews"),
                "差评 bad_reviews": w.get("bad_reviews"),
                "好评率 satisfaction_rate": w.get("satisfaction_rate"),
                "视频违规 video_flags_confirmed": w.get("video_flags_confirmed"),
                "私下收件 handover_flags_confirmed": w.get("handover_flags_confirmed"),
                "当日办结率 same_day_rate": w.get("same_day_rate"),
                "即办率 immediate_on_time_rate": w.get("immediate_on_time_rate"),
                "评价率 evaluation_rate": w.get("evaluation_rate"),
                "得分 score": w.get("score"),
            }
        )
    departments = content["departments"]
    dept_cols = list(dict.fromkeys(k for d in departments for k in d)) or ["department_id"]
    about = [
        ["版本 version", (manifest or {}).get("version")],
        ["内容哈希 content hash", (manifest or {}).get("content_hash")],
        ["评分文件哈希 scoring hash", (manifest or {}).get("scoring_hash")],
        ["审计日志链头 audit log chain head", (manifest or {}).get("audit_chain_head")],
    ]
    write_xlsx(
        path,
        {"ranking": ranking, "components": components, "departments": departments, "数据说明": about},
        columns={
            "ranking": list(ranking[0].keys()) if ranking else ["window_id"],
            "components": list(components[0].keys()) if components else ["window_id"],
            "departments": dept_cols,
            "数据说明": ["项目 field", "值 value"],
        },
    )

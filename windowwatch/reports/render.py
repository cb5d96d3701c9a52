"""Render a frozen month: ranking.html and ranking.pdf (WeasyPrint, Noto Sans CJK SC embedded)
— the 通报 a centre posts, in Chinese (SPEC §4.8 v2) —, ranking.en.html (the same document in
English) and ranking.xlsx (formula-neutralised through windowwatch.spreadsheets, Chinese headers,
names, percentage and date formats, frozen header row).

The body names everything (windows, departments, veto reasons, rules: labels.py) and ends with
the 落款 (report.issuing_office of windowwatch.yaml, the publication date); the hashes, the
snapshot's file name, the audit log's chain head and the scoring file's parameters are in the
closing annex 数据说明. Windows are listed in rank order as published (the marts rank a vetoed
window after every eligible window without a veto; an ineligible one has no rank, no stars).

Charts are inline SVG drawn here: no browser (kaleido) is needed to print the report.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from windowwatch.reports.labels import (
    ADJUST_HEAD,
    BOTTOM_HEAD,
    COLUMNS,
    DEDUCTION_SOURCES,
    KPI,
    RANKING_HEAD,
    score_note_text,
    scoring_rows,
    tr,
    veto_text,
)
from windowwatch.spreadsheets import write_xlsx

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT = "Noto Sans CJK SC"
STAR_COLORS = {5: "#b40000", 4: "#d4380d", 3: "#d48806", 2: "#7c8b9a", 1: "#a8b1bb"}
PAGE_PX = 680  # A4 less the margins, in CSS px: a chart is scaled down to it
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]


class ReportConfigError(ValueError):
    pass


def pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def fmt_score(v: Any) -> str:
    return "—" if v is None else f"{v:.2f}"


def stars(n: Any) -> str:
    if n is None:
        return "—"
    n = int(n)
    return "★" * n + "☆" * (5 - n)


def month_label(month: str, lang: str = "zh") -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月" if lang == "zh" else f"{MONTHS_EN[int(m) - 1]} {y}"


def date_label(d: dt.date, lang: str = "zh") -> str:
    return tr("signoff.date", lang, y=d.year, m=d.month, d=d.day, month_name=MONTHS_EN[d.month - 1])


def center_name(windows: list[dict[str, Any]]) -> str:
    names = Counter(w.get("center_name") for w in windows if w.get("center_name"))
    return names.most_common(1)[0][0] if names else "政务服务中心"


def window_name(w: dict[str, Any]) -> str:
    """The full name, never cut: a window without one (a foreign snapshot) shows its id."""
    return str(w.get("window_name") or w["window_id"])


def dept_name(d: dict[str, Any]) -> str:
    return str(d.get("department_name") or d.get("department_id") or "—")


def issuing_office(default: str, lang: str = "zh") -> str:
    """The 落款's office: report.issuing_office of the sources file (docs/configuration.md)."""
    from core.config import ConfigError, load_sources

    try:
        opts = load_sources().report
    except ConfigError as exc:
        raise ReportConfigError(str(exc)) from None
    if lang == "en":
        return opts.issuing_office_en or opts.issuing_office or default
    return opts.issuing_office or default


def weighted(windows: list[dict[str, Any]], rate: str, weight: str) -> float | None:
    pairs = [(w.get(rate), w.get(weight) or 0) for w in windows if w.get(rate) is not None]
    total = sum(n for _, n in pairs)
    return sum(r * n for r, n in pairs) / total if total else None


def kpis(content: dict[str, Any], lang: str = "zh") -> list[dict[str, str]]:
    ws = content["windows"]
    eligible = [w for w in ws if w.get("is_eligible")]
    scores = [w["score"] for w in eligible if w.get("score") is not None]
    good = sum(w.get("good_reviews") or 0 for w in ws)
    evals = sum(w.get("evaluations") or 0 for w in ws)
    values = {
        "windows": f"{len(ws)} / {len(eligible)}",
        "cases": f"{sum(w.get('cases_accepted') or 0 for w in ws)} / {sum(w.get('cases_completed') or 0 for w in ws)}",
        "on_time": pct(weighted(ws, "on_time_rate", "cases_completed")),
        "satisfaction": pct(good / evals) if evals else "—",
        "mean_score": f"{sum(scores) / len(scores):.2f}" if scores else "—",
        "off_book": str(sum(w.get("off_book_cases") or 0 for w in ws)),
        "video": str(sum(w.get("video_flags_confirmed") or 0 for w in ws)),
        "red_bottom": f"{sum(1 for w in ws if w.get('is_red_flag'))} / {sum(1 for w in ws if w.get('is_bottom'))}",
    }
    return [{"label": KPI[k][lang], "value": v} for k, v in values.items()]


def _ratio(num: int, den: int) -> str:
    """A rate whose denominator is due items: 1.0 (100.0%) when none are due, as the marts count it."""
    return pct(num / den) if den else pct(1.0)


def loop_line(content: dict[str, Any], lang: str = "zh") -> str | None:
    """The 好差评 follow-up of the month in one sentence (SPEC v2 §4.4), when the snapshot has it."""
    loop = content.get("satisfaction_loop")
    if not loop:
        return None
    return tr("loop", lang, active=pct(weighted(content["windows"], "active_evaluation_rate", "cases_completed")),
              verify=_ratio(loop["verified_on_time"], loop["verification_due"]), vdue=loop["verification_due"],
              callback=_ratio(loop["called_back_on_time"], loop["callback_due"]), cdue=loop["callback_due"],
              defaults=loop["default_ratings"], overturned=loop["appeals_overturned"])


def hall_line(content: dict[str, Any], lang: str = "zh") -> str | None:
    """大厅运行 in one sentence (SPEC v2 §4.10, §4.11): only the parts whose feed covers the month."""
    ws = content["windows"]

    def total(key: str) -> int | None:
        values = [w[key] for w in ws if w.get(key) is not None]
        return sum(values) if values else None

    parts = []
    scheduled, covered, staffed = total("days_scheduled"), total("days_covered"), total("days_staffed")
    if scheduled is not None:
        den = scheduled - (covered or 0)
        parts.append(tr("hall.attendance", lang, rate=pct(staffed / den) if den else "—", absent=total("absent_days") or 0,
                        late=total("late_arrivals") or 0, early=total("early_leaves") or 0))
    queued = [w for w in ws if w.get("p90_wait_minutes") is not None]
    if queued:
        worst = max(queued, key=lambda w: (w["p90_wait_minutes"], w["window_id"]))
        parts.append(tr("hall.queue", lang, window=window_name(worst), worst=f"{worst['p90_wait_minutes']:.1f}"))
    if total("substantiated_complaints") is not None:
        parts.append(tr("hall.complaints", lang, n=total("substantiated_complaints")))
    if total("inspection_findings") is not None:
        parts.append(tr("hall.findings", lang, n=total("inspection_findings")))
    if total("supervision_items_opened"):
        parts.append(tr("hall.supervision", lang, opened=total("supervision_items_opened"),
                        acked=total("supervision_acknowledged_on_time") or 0,
                        escalated=total("supervision_escalated") or 0))
    return tr("hall", lang, parts=tr("sep", lang).join(parts)) if parts else None


def deduction_text(w: dict[str, Any], content: dict[str, Any] | None, lang: str = "zh") -> str:
    """扣分 of a window with its sources (SPEC v2 §4.6: each deduction is listed with its source)."""
    points = f"{w['deductions']:g}"
    rows = [d for d in (content or {}).get("deductions", []) if d["window_id"] == w["window_id"]]
    if not rows:
        return tr("deductions", lang, points=points)
    parts = [f"{DEDUCTION_SOURCES.get(d['source'], (d['source'],) * 2)[0 if lang == 'zh' else 1]} {d['points']:g}"
             for d in rows]
    return tr("deductions.by_source", lang, points=points, parts=tr("list_sep", lang).join(parts))


def adjustment_rows(content: dict[str, Any], lang: str = "zh") -> list[list[str]]:
    """The month's window adjustment proposals (SPEC v2 §4.10), as table cells."""
    out = []
    for a in content.get("adjustments", []):
        out.append([
            str(a.get("business_type") or "—"),
            str(a.get("current_windows") if a.get("current_windows") is not None else "—"),
            str(a.get("tickets") if a.get("tickets") is not None else "—"),
            "—" if a.get("p90_wait_minutes") is None else f"{a['p90_wait_minutes']:.1f}",
            "—" if a.get("served_per_window_hour") is None else f"{a['served_per_window_hour']:.2f}",
            tr("adjust.add" if (a.get("proposal") or 0) > 0 else "adjust.merge", lang),
            str(a.get("evidence") or ""),
        ])
    return out


def rank_order(w: dict[str, Any]) -> tuple:
    return (w.get("rank") is None, w.get("rank") or 0, -(w.get("score") or 0), w["window_id"])


def text_px(s: str, size: float) -> float:
    """Width of a label in the chart font: a CJK character is one em, other characters about half."""
    return sum(size if ord(ch) > 0x2E80 else 0.58 * size for ch in s)


def _svg(width: float, height: float, body: list[str]) -> str:
    shown = min(width, PAGE_PX)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{shown:.0f}" height="{height * shown / width:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" font-size="9">' + "".join(body) + "</svg>")


def score_chart(windows: list[dict[str, Any]], lang: str = "zh") -> str:
    """Horizontal bars of the eligible windows' scores in rank order, coloured by stars, each
    labelled with the window's full name."""
    rows = sorted((w for w in windows if w.get("is_eligible") and w.get("score") is not None), key=rank_order)
    if not rows:
        return ""
    bar_h, gap, width = 13, 3, 480
    left = max(text_px(window_name(w), 9) for w in rows) + 10
    lo = max(0, math.floor(min(w["score"] for w in rows) / 10) * 10 - 10)
    height = len(rows) * (bar_h + gap) + 34
    veto = "一票否决" if lang == "zh" else "veto"
    out = [f'<text x="0" y="11" font-size="10" font-weight="bold">{escape(tr("chart.scores", lang, lo=lo))}</text>']
    for i, w in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        frac = (w["score"] - lo) / (100 - lo)
        color = STAR_COLORS.get(int(w.get("stars") or 1), "#888")
        label = f'{w["score"]:.2f}' + (f" {veto}" if w.get("veto_reason") else "")
        out.append(f'<text x="{left - 4:.1f}" y="{y + bar_h - 3}" text-anchor="end">{escape(window_name(w))}</text>')
        out.append(f'<rect x="{left:.1f}" y="{y}" width="{max(1.0, frac * width):.1f}" height="{bar_h}" fill="{color}"/>')
        out.append(f'<text x="{left + frac * width + 3:.1f}" y="{y + bar_h - 3}">{label}</text>')
    out.append(f'<line x1="{left:.1f}" y1="18" x2="{left:.1f}" y2="{height - 12}" stroke="#333" stroke-width="0.6"/>')
    return _svg(left + width + 70, height, out)


def star_chart(windows: list[dict[str, Any]], lang: str = "zh") -> str:
    counts = Counter(int(w["stars"]) for w in windows if w.get("is_eligible") and w.get("stars") is not None)
    if not counts:
        return ""
    top = max(counts.values())
    bw, gap, base, h = 60, 24, 120, 90
    out = [f'<text x="0" y="11" font-size="10" font-weight="bold">{escape(tr("chart.stars", lang))}</text>']
    for i, s in enumerate(range(5, 0, -1)):
        n = counts.get(s, 0)
        bh = h * n / top
        x = 20 + i * (bw + gap)
        out.append(f'<rect x="{x}" y="{base - bh:.1f}" width="{bw}" height="{bh:.1f}" fill="{STAR_COLORS[s]}"/>')
        out.append(f'<text x="{x + bw / 2}" y="{base - bh - 3:.1f}" text-anchor="middle">{n}</text>')
        out.append(f'<text x="{x + bw / 2}" y="{base + 13}" text-anchor="middle" fill="#d48806">{"★" * s}</text>')
    out.append(f'<line x1="14" y1="{base}" x2="{5 * (bw + gap) + 20}" y2="{base}" stroke="#333" stroke-width="0.6"/>')
    return _svg(5 * (bw + gap) + 40, base + 34, out)


def weak_points(w: dict[str, Any], lang: str = "zh", content: dict[str, Any] | None = None) -> str:
    L = {k: v[0 if lang == "zh" else 1] for k, v in COLUMNS.items()}
    parts = []
    if (w.get("on_time_rate") or 1) < 0.95:
        parts.append(f"{L['on_time_rate']} {pct(w.get('on_time_rate'))}")
    if (w.get("adjusted_satisfaction") or 1) < 0.9:
        parts.append(f"{L['adjusted_satisfaction']} {pct(w.get('adjusted_satisfaction'))}")
    if (w.get("off_book_rate") or 0) > 0:
        parts.append(f"{L['off_book_rate']} {pct(w.get('off_book_rate'))}")
    if (w.get("video_flags_confirmed") or 0) > 0:
        parts.append(f"{L['video_flags_confirmed']} {tr('times', lang, n=w['video_flags_confirmed'])}")
    if (w.get("rectification_rate") if w.get("rectification_rate") is not None else 1) < 1:
        parts.append(f"{L['rectification_rate']} {pct(w.get('rectification_rate'))}")
    if (w.get("deductions") or 0) > 0:
        parts.append(deduction_text(w, content, lang))
    if w.get("veto_reason"):
        parts.append(tr("veto", lang, reason=veto_text(w["veto_reason"], lang)))
    return tr("sep", lang).join(parts) or "—"


def remarks(w: dict[str, Any], min_cases: int, lang: str = "zh",
            content: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The 备注 of a window's row: (text, css class) pieces."""
    out = []
    if w.get("is_red_flag"):
        out.append({"text": tr("red", lang), "cls": "red"})
    if w.get("is_bottom"):
        out.append({"text": tr("bottom", lang), "cls": ""})
    if w.get("is_bottom_repeat"):
        out.append({"text": tr("bottom_repeat", lang), "cls": "red"})
    if not w.get("is_eligible"):
        out.append({"text": tr("too_few", lang, n=w.get("cases_completed") or 0, min=min_cases), "cls": "muted"})
    if w.get("veto_reason"):
        out.append({"text": tr("veto", lang, reason=veto_text(w["veto_reason"], lang)), "cls": "red"})
    if (w.get("deductions") or 0) > 0:
        out.append({"text": deduction_text(w, content, lang), "cls": ""})
    if w.get("score_note"):
        out.append({"text": score_note_text(w["score_note"], lang), "cls": "muted"})
    return out


def window_rows(ws: list[dict[str, Any]], min_cases: int, lang: str,
                content: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rows = []
    for w in sorted(ws, key=rank_order):
        rows.append({
            "red": bool(w.get("is_red_flag")),
            "rank": w["rank"] if w.get("rank") is not None else "—",
            "name": window_name(w),
            "department": dept_name(w),
            "score": fmt_score(w.get("score")),
            "stars": stars(w.get("stars")) if w.get("is_eligible") else tr("not_ranked", lang),
            "ranked": bool(w.get("is_eligible")),
            "rates": [pct(w.get(k)) for k in ("on_time_rate", "adjusted_satisfaction", "rectification_rate", "off_book_rate")],
            "flags": w["video_flags_confirmed"] if w.get("video_flags_confirmed") is not None else "—",
            "completed": w["cases_completed"] if w.get("cases_completed") is not None else "—",
            "remarks": remarks(w, min_cases, lang, content),
            "weak": weak_points(w, lang, content),
        })
    return rows


DEPT_COLUMNS = ["department_name", "cases_accepted", "cases_completed", "on_time_rate", "satisfaction_rate",
                "off_book_rate", "rectification_rate", "reported_cases", "volume_gap", "score"]


def dept_cell(d: dict[str, Any], k: str, lang: str = "zh") -> str:
    if k == "department_name":
        return dept_name(d)
    if k == "score_note":
        return score_note_text(d.get(k), lang) or "—"
    v = d.get(k)
    if v is None:
        return "—"
    if k.endswith("_rate"):
        return pct(v)
    if isinstance(v, bool):
        return tr("yes" if v else "no", lang)
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def rules(scoring: dict[str, Any], lang: str = "zh") -> list[tuple[str, str]]:
    sc, sat = scoring["score"], scoring["satisfaction"]
    w = sc["weights"]
    st = [f"{x:g}" for x in sc["stars"]]
    formula = f"100 × ({w['T']:g} T + {w['S']:g} S + {w['D']:g} D + {w['I']:g} I + {w['R']:g} R)"
    red_share = f"{sc['red_flag_share'] * 100:.1f}%"
    bottom_share = f"{sc['bottom_share'] * 100:.1f}%"
    if lang == "zh":
        return [
            ("得分公式", f"得分 = {formula} − 扣分，最低为 0，保留两位小数"),
            ("T 按时办结率", "按办结月份统计的按时办结率；当月无办结件的窗口不计得分"),
            ("S 满意度", (f"贝叶斯调整满意度 (v·r + m·c)/(v + m)，m = {sat['prior_weight']:g}；窗口无评价时取全中心好评率；"
                         "全中心当月无评价时不计入，其余权重按比例折算")),
            ("D 纪律", f"1 − {sc['discipline_penalty_per_flag']:g} × 经确认的视频违规次数（私下收件除外），最低为 0"),
            ("I 体外循环", f"1 − {sc['off_book_penalty']:g} × 体外循环率，最低为 0，按受理月份统计"),
            ("R 差评整改率", f"差评须在 {sat['rectify_workdays']} 个工作日内整改；当月无到期差评时取 1"),
            ("扣分", "评分文件所列扣分事项逐项扣减"),
            ("参评条件", f"当月办结不少于 {sc['min_completed_cases']} 件；不参评窗口不排名次、不评星级（样本不足）"),
            ("星级", f"≥{st[0]} 五星，≥{st[1]} 四星，≥{st[2]} 三星，≥{st[3]} 二星，其余一星"),
            ("一票否决", ("当月经视频确认的私下收件/递件，或当月受理办件存在事后补录：最高一星，"
                          "名次列于所有未被否决的参评窗口之后，不得评为红旗窗口")),
            ("红旗窗口", (f"参评、不少于 {sc['red_flag_min_stars']} 星且未被否决的窗口中，得分最高的 "
                          f"⌈{red_share} × 参评窗口数⌉ 个（边界并列均入选）")),
            ("末位窗口", f"按名次最后的 ⌈{bottom_share} × 参评窗口数⌉ 个参评窗口（边界并列均列入）"),
        ]
    return [
        ("Score", f"score = max(0, {formula} − deductions), two decimals"),
        ("T on time", "on-time rate by completion month; a window that completed nothing has no score"),
        ("S satisfaction", (f"Bayesian-adjusted satisfaction (v·r + m·c)/(v + m), m = {sat['prior_weight']:g}; the centre's "
                            "rate for a window without ratings; left out, the other weights rescaled, when the whole "
                            "centre had no rating that month")),
        ("D discipline", f"max(0, 1 − {sc['discipline_penalty_per_flag']:g} × confirmed video flags other than private handover)"),
        ("I integrity", f"max(0, 1 − {sc['off_book_penalty']:g} × off-book rate), by acceptance month"),
        ("R rectification", f"bad reviews rectified within {sat['rectify_workdays']} working days; 1 when none was due"),
        ("Deductions", "each deduction of the scoring file is taken off; the score is at least 0"),
        ("Eligibility", (f"at least {sc['min_completed_cases']} cases completed in the month; other windows get no rank "
                         "and no stars (too few cases)")),
        ("Stars", f"≥{st[0]} five, ≥{st[1]} four, ≥{st[2]} three, ≥{st[3]} two, else one"),
        ("Veto", ("a private handover confirmed on video, or backfilled records on a case accepted that month: at most "
                  "one star, ranked after every eligible window without a veto, never a red-flag window")),
        ("Red-flag windows", (f"among eligible windows with at least {sc['red_flag_min_stars']} stars and no veto, the best "
                              f"⌈{red_share} × eligible windows⌉ by score (boundary ties all in)")),
        ("Bottom windows", f"the last ⌈{bottom_share} × eligible windows⌉ eligible windows in rank order (boundary ties all in)"),
    ]


FIELD_LABELS = {"score": ("得分", "score"), "stars": ("星级", "stars"), "rank": ("名次", "rank"),
                "is_eligible": ("参评", "eligible"), "is_red_flag": ("红旗窗口", "red flag"),
                "is_bottom": ("末位窗口", "bottom"), "veto_reason": ("一票否决", "veto")}


def change_lines(ch: dict[str, Any], content: dict[str, Any], lang: str = "zh") -> list[str]:
    """本版变更说明: what changed against the previous version, by window name."""
    i = 0 if lang == "zh" else 1
    names = {w["window_id"]: window_name(w) for w in content["windows"]}
    names.update({k: v for k, v in (ch.get("window_names") or {}).items() if v})

    def val(f: str, v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, bool):
            return tr("yes" if v else "no", lang)
        if f == "veto_reason":
            return veto_text(v, lang) or "—"
        return str(v)

    out = []
    if ch["scoring_changed"]:
        out.append(tr("changes.scoring", lang))
    for w in ch["windows_changed"]:
        parts = [f"{FIELD_LABELS.get(f, (f, f))[i]} {val(f, v['from'])} → {val(f, v['to'])}" for f, v in w["changes"].items()]
        out.append(f"{w.get('window_name') or names.get(w['window_id'], w['window_id'])}："
                   if lang == "zh" else f"{w.get('window_name') or names.get(w['window_id'], w['window_id'])}: ")
        out[-1] += ("，" if lang == "zh" else ", ").join(parts)
    sep = tr("list_sep", lang)
    if ch["windows_added"]:
        out.append(tr("changes.added", lang, names=sep.join(names.get(x, x) for x in ch["windows_added"])))
    if ch["windows_removed"]:
        out.append(tr("changes.removed", lang, names=sep.join(names.get(x, x) for x in ch["windows_removed"])))
    if not out:
        out.append(tr("changes.other", lang))
    return out


def context(content: dict[str, Any], manifest: dict[str, Any], changes: dict[str, Any] | None,
            lang: str = "zh") -> dict[str, Any]:
    ws = content["windows"]
    cname = center_name(ws)
    mlabel = month_label(content["month"], lang)
    departments = content["departments"]
    present = {k for d in departments for k, v in d.items() if v is not None}
    dept_cols = [k for k in DEPT_COLUMNS if k in present or k == "department_name"]
    if "score_note" in present:
        dept_cols.append("score_note")
    published = dt.date.fromisoformat(manifest["created_at"][:10])
    wm = manifest["watermark"]
    eligible = sorted((w for w in ws if w.get("is_eligible")), key=rank_order)
    min_cases = content["scoring"]["score"]["min_completed_cases"]
    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "tr": lambda key, **kw: tr(key, lang, **kw),
        "title": tr("title", lang, center=cname, month=mlabel),
        "center_name": cname,
        "month": content["month"],
        "month_label": mlabel,
        "version": manifest["version"],
        "sub": tr("sub", lang, version=manifest["version"], created=manifest["created_at"][:16].replace("T", " "),
                  as_of=wm.get("as_of_date") or "—", max_event=wm.get("max_event_time") or "—"),
        "intro": tr("intro", lang, center=cname, month=mlabel),
        "footer": tr("footer", lang, month=mlabel, version=manifest["version"]),
        "watermark": wm,
        "snapshot": manifest["snapshot"],
        "content_hash": manifest["content_hash"],
        "scoring_hash": manifest["scoring_hash"],
        "audit_chain_head": manifest.get("audit_chain_head"),
        "created_at": manifest["created_at"],
        "scoring": content["scoring"],
        "scoring_rows": scoring_rows(content["scoring"], lang),
        "rules": rules(content["scoring"], lang),
        "kpis": kpis(content, lang),
        "rows": window_rows(ws, min_cases, lang, content),
        "loop_line": loop_line(content, lang),
        "hall_line": hall_line(content, lang),
        "adjust_head": [h[1] if lang == "zh" else h[2] for h in ADJUST_HEAD],
        "adjustments": adjustment_rows(content, lang),
        "has_adjustment_data": "adjustments" in content or any(w.get("p90_wait_minutes") is not None for w in ws),
        "ranking_head": [(h[0], h[1] if lang == "zh" else h[2]) for h in RANKING_HEAD],
        "bottom_head": [h[1] if lang == "zh" else h[2] for h in BOTTOM_HEAD],
        "red_flags": [{"line": tr("red.line", lang, name=window_name(w), dept=dept_name(w), score=fmt_score(w.get("score")),
                                  rank=w.get("rank") if w.get("rank") is not None else "—")}
                      for w in eligible if w.get("is_red_flag")],
        "bottoms": window_rows([w for w in ws if w.get("is_bottom")], min_cases, lang, content),
        "departments": [[dept_cell(d, k, lang) for k in dept_cols] for d in departments],
        "dept_head": [COLUMNS.get(k, (k, k))[0 if lang == "zh" else 1] if k != "department_name"
                      else ("部门" if lang == "zh" else "Department") for k in dept_cols],
        "score_chart": score_chart(ws, lang),
        "star_chart": star_chart(ws, lang),
        "assumed_calendar": [window_name(w) for w in ws if w.get("uses_assumed_calendar")],
        "changes": changes,
        "change_lines": change_lines(changes, content, lang) if changes else [],
        "office": issuing_office(cname, lang),
        "signoff_date": date_label(published, lang),
    }


def render_html(ctx: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return env.get_template("ranking.html").render(**ctx)


def write_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))


# ---------------------------------------------------------------- ranking.xlsx

PERCENT = "0.0%"
SCORE = "0.00"
MONTH = 'yyyy"年"m"月"'
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"


def _yes_no(v: Any) -> str | None:
    return None if v is None else ("是" if v else "否")


def _date(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return dt.datetime.fromisoformat(v) if len(v) > 10 else dt.date.fromisoformat(v)
        except ValueError:
            return v
    return v


def _formats(cols: list[str], keys: list[str]) -> dict[str, str]:
    """num_format per header: rates as percentages, scores with two decimals, months and dates."""
    out = {}
    for header, k in zip(cols, keys):
        if k.endswith("_rate") or k.startswith("component_") or k in ("adjusted_satisfaction",):
            out[header] = PERCENT
        elif k in ("score", "deductions"):
            out[header] = SCORE
        elif k == "month":
            out[header] = MONTH
    return out


def _sheet(rows: list[dict[str, Any]], keys: list[str], headers: dict[str, str] | None = None,
           ) -> tuple[list[str], list[dict[str, Any]], dict[str, str]]:
    """(Chinese headers, rows keyed by them, number formats) of `rows` restricted to `keys`; a
    column without a Chinese name (one the marts added since) keeps its own."""
    headers = [(headers or {}).get(k) or COLUMNS.get(k, (k, k))[0] for k in keys]
    out = []
    for r in rows:
        row = {}
        for h, k in zip(headers, keys):
            v = r.get(k)
            if k == "month":
                v = _date(v)
            elif k == "veto_reason":
                v = veto_text(v, "zh")
            elif k == "score_note":
                v = score_note_text(v, "zh")
            elif isinstance(v, bool):
                v = _yes_no(v)
            row[h] = v
        out.append(row)
    return headers, out, _formats(headers, keys)


RANKING_KEYS = ["month", "rank", "window_name", "department_name", "score", "stars", "is_eligible", "is_red_flag",
                "is_bottom", "is_bottom_repeat", "veto_reason", "deductions", "score_note", "window_id"]
COMPONENT_KEYS = ["window_name", "department_name", "component_t", "component_s", "component_d", "component_i",
                  "component_r", "cases_accepted", "cases_completed", "on_time_rate", "off_book_cases", "off_book_rate", "evaluations",
                  "good_reviews", "bad_reviews", "satisfaction_rate", "adjusted_satisfaction", "rectification_rate",
                  "video_flags_confirmed", "handover_flags_confirmed", "same_day_rate", "immediate_on_time_rate",
                  "evaluation_rate", "deductions", "score", "window_id"]
OPTIONAL = {"is_bottom_repeat", "deductions", "score_note"}  # columns the marts may not have (yet)


def write_ranking_xlsx(content: dict[str, Any], path: Path, manifest: dict[str, Any] | None = None) -> None:
    sc = content["scoring"]["score"]
    ws = sorted(content["windows"], key=rank_order)
    have = {k for w in ws for k in w}
    windows = []
    for w in ws:
        row = dict(w)
        row["window_name"] = window_name(w)
        row["department_name"] = dept_name(w)
        row["stars"] = w.get("stars") if w.get("is_eligible") else "不参评（样本不足）"
        # the mart's component_* columns when it has them (what the score used), else derived
        other_flags = (w.get("video_flags_confirmed") or 0) - (w.get("handover_flags_confirmed") or 0)
        row.setdefault("component_t", w.get("on_time_rate"))
        row.setdefault("component_s", w.get("adjusted_satisfaction"))
        row.setdefault("component_d", max(0.0, 1 - sc["discipline_penalty_per_flag"] * max(0, other_flags)))
        row.setdefault("component_i", max(0.0, 1 - sc["off_book_penalty"] * (w.get("off_book_rate") or 0.0)))
        row.setdefault("component_r", w.get("rectification_rate"))
        windows.append(row)
    ranking_keys = [k for k in RANKING_KEYS if k not in OPTIONAL or k in have]
    component_keys = [k for k in COMPONENT_KEYS if k not in OPTIONAL or k in have]
    r_cols, r_rows, r_fmt = _sheet(windows, ranking_keys)
    c_cols, c_rows, c_fmt = _sheet(windows, component_keys)

    departments = content["departments"]
    skip = {"department_id", "month"}
    dept_keys = ["department_name"] + [k for k in dict.fromkeys(k for d in departments for k in d)
                                       if k not in skip and k != "department_name"]
    d_rows_in = [{**d, "department_name": dept_name(d)} for d in departments]
    d_cols, d_rows, d_fmt = _sheet(d_rows_in, dept_keys, {"department_name": "部门"})

    m = manifest or {}
    wm = m.get("watermark") or {}
    about = [
        ["月份", month_label(content["month"])],
        ["版本", m.get("version")],
        ["发布时间", _date((m.get("created_at") or "")[:19]) or None],
        ["落款单位", issuing_office(center_name(ws))],
        ["数据截至", _date(wm.get("as_of_date"))],
        ["最新业务时间", _date(wm.get("max_event_time"))],
        ["快照文件", (m.get("snapshot") or {}).get("file")],
        ["快照哈希", (m.get("snapshot") or {}).get("sha256")],
        ["内容哈希", m.get("content_hash")],
        ["评分文件版本", content["scoring"].get("version")],
        ["评分文件哈希", m.get("scoring_hash")],
        ["审计日志链头", m.get("audit_chain_head")],
    ] + [[f"评分参数：{label}", value] for label, _key, value in scoring_rows(content["scoring"], "zh")]
    sheets = {"排名": r_rows, "评分构成": c_rows, "部门": d_rows}
    columns = {"排名": r_cols, "评分构成": c_cols, "部门": d_cols}
    formats = {"排名": r_fmt, "评分构成": c_fmt, "部门": d_fmt}
    names = {w["window_id"]: window_name(w) for w in ws}
    if content.get("deductions"):  # SPEC v2 §4.6: each deduction with its source
        heads = ["窗口名称", "窗口编号", "扣分来源", "条数", "扣分"]
        sheets["扣分明细"] = [dict(zip(heads, (names.get(d["window_id"], d["window_id"]), d["window_id"],
                                                DEDUCTION_SOURCES.get(d["source"], (d["source"],))[0], d["items"],
                                                d["points"])))
                              for d in content["deductions"]]
        columns["扣分明细"], formats["扣分明细"] = heads, {"扣分": SCORE}
    if content.get("adjustments"):  # SPEC v2 §4.10: the month's proposals
        heads = [h[1] for h in ADJUST_HEAD]
        sheets["窗口增减建议"] = [dict(zip(heads, cells)) for cells in adjustment_rows(content, "zh")]
        columns["窗口增减建议"] = heads
    sheets["数据说明"] = about
    columns["数据说明"] = ["项目", "值"]
    write_xlsx(
        path,
        sheets,
        columns=columns,
        formats=formats,
        widths={"排名": {COLUMNS["window_name"][0]: 30, COLUMNS["department_name"][0]: 18,
                         COLUMNS["veto_reason"][0]: 40, "得分说明": 40},
                "评分构成": {COLUMNS["window_name"][0]: 30, COLUMNS["department_name"][0]: 18},
                "部门": {"部门": 18}, "数据说明": {"项目": 30, "值": 68}},
    )
